"""The scratch store a write is staged in (app.writes.scratch): the same content as the store served,
blank nodes named alike, whichever way each graph was copied."""

from pathlib import Path

import pyoxigraph as ox
import pytest

from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.writes import scratch
from app.writes.scratch import Scratch, may_name_blank_node


@pytest.mark.parametrize("kind", ["memory", "disk"])
def test_the_scratch_store_holds_every_content_graph_as_served(kind: str, tmp_path: Path) -> None:
    store = "memory" if kind == "memory" else f"disk:{tmp_path / 'store'}"
    graph = KnowledgeGraph.build(Settings(store=store))
    served = graph.store.store  # type: ignore[attr-defined]
    copy = Scratch(graph).store
    for name in graph.names.all():
        node = ox.NamedNode(name)
        assert set(copy.quads_for_pattern(None, None, None, node)) == set(served.quads_for_pattern(None, None, None,
                                                                                                    node)), name
    blank = {q.subject for q in copy if isinstance(q.subject, ox.BlankNode)}
    assert blank, "the ontology has blank nodes: copied with their names"
    assert ox.NamedNode(graph.store.meta) not in set(copy.named_graphs())
    graph.close()


def test_a_file_that_may_name_a_blank_node_is_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scratch, "CHUNK", 8)  # '_:' across a block boundary too
    for text, expected in [('<urn:x:a> <urn:x:p> "1" .\n', False), ("<urn:x:a> <urn:x:p> _:b1 .\n", True),
                           ('<urn:x:a> <urn:x:p> "x_:y" .\n', True), ("<urn:x:abcde_> <urn:x:p> <urn:x:c> .\n", False)]:
        for shift in range(8):
            path = tmp_path / "g.nt"
            path.write_text(" " * shift + text, encoding="utf-8")
            assert may_name_blank_node(path) == expected, (text, shift)
