"""The scratch store a write is staged in: a copy, in memory, of the dataset served.

The write is applied there, the entailments are brought up to date there, and the whole is
validated there (app.writes.writes). It holds the content graphs, not the meta graph: SPARQL over a
store that holds just the graphs of a dataset may use their union, which Oxigraph evaluates faster
(app.build.checks).

Each graph is dumped to a temporary N-Triples file and loaded from it, both inside the engine
without the GIL: copied quad by quad in Python, the copy held the GIL so much that every ``/api``
answer took 0.3–0.6 s while it ran (the event loop waited for the GIL at each I/O call). A graph
with a blank node is copied quad by quad instead (in batches), because a load names blank nodes
afresh, and the scratch store and the store served must name the same nodes alike. The copy of
the 1M-triple generated graph (1.2 million triples with its entailments) takes 7.5 s from a store
on disk (9 s quad by quad) and 3.2 s from one in memory (4.2–4.5 s). A checkpoint opened
read-write would cost nothing to make, but inference, validation and the comparison of the
entailments over RocksDB took 51 s at 1M triples, against 16 s in memory. Over a remote store
(``sparql:``) the copy is made of the content the service has read of it.
"""

import itertools
import logging
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.store.backends import EmbeddedStore, OxigraphBackend, reader_over

BATCH = 50_000
CHUNK = 1 << 20
logger = logging.getLogger(__name__)


class Scratch:
    """A writable copy, in memory, of ``graph``'s content graphs."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        source = graph.store
        self.store = ox.Store()
        meta = ox.NamedNode(source.meta)
        skip = {meta}
        if isinstance(source, EmbeddedStore):
            for g in source.store.named_graphs():
                if g not in skip and isinstance(g, ox.NamedNode):
                    self._copy_graph(source.store, g)
        else:
            self._copy(q for name, quads in graph.loaded.graphs.items() if ox.NamedNode(name) not in skip
                       for q in quads)

    def _copy_graph(self, source: ox.Store, graph: ox.NamedNode) -> None:
        """Copy ``graph`` of ``source``: through an N-Triples file if it has no blank node, else quad by quad."""
        try:
            with tempfile.NamedTemporaryFile(suffix=".nt") as dump:
                source.dump(output=dump.name, format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
                if not may_name_blank_node(Path(dump.name)):
                    self.store.load(path=dump.name, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
                    return
        except OSError as exc:  # no room for the file: the slower way
            logger.warning("copying %s quad by quad: %s", graph.value, exc)
            self.store.remove_graph(graph)
        self._copy(source.quads_for_pattern(None, None, None, graph))

    def _copy(self, quads: Iterable[ox.Quad]) -> None:
        """Bulk-insert ``quads`` in batches: one call over a million quads held the GIL the whole time
        (the event loop of the service stood still for 4.6 s at 1M triples)."""
        remaining = iter(quads)
        while batch := list(itertools.islice(remaining, BATCH)):
            self.store.bulk_extend(batch)

    def triples(self, graph: str) -> list[ox.Triple]:
        return [q.triple for q in self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]

    def ntriples(self, graph: str) -> bytes:
        return self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)) or b""

    def reader(self, query_base: str, meta: str) -> OxigraphBackend:
        """A backend over the staged dataset, for the new version's derived answers (app.api.catalog)."""
        return reader_over(self.store, query_base, meta)


def may_name_blank_node(path: Path) -> bool:
    """Whether the N-Triples file ``path`` has ``_:`` anywhere (a blank node, or those two
    characters inside an IRI or a literal: then it is copied the slower way, which is as right)."""
    with path.open("rb") as f:
        tail = b""
        while block := f.read(CHUNK):
            if b"_:" in tail + block[:1] or b"_:" in block:
                return True
            tail = block[-1:]
    return False
