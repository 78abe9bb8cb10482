"""Materialise the entailments of the asserted graphs (RDFS, the OWL 2 RL rules we use).

The rules are the CONSTRUCT queries in ``queries/rules/``; they are applied to the union of
ontology and data until nothing new follows. Only triples not already asserted go into the
inferred graph, so the asserted data stays separate and exportable alone.
"""

from pathlib import Path

import pyoxigraph as ox

MAX_ROUNDS = 20


def read_rules(queries_dir: Path) -> list[tuple[str, str]]:
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((queries_dir / "rules").glob("*.rq"))]


def infer(asserted: list[ox.Quad], rules: list[tuple[str, str]], graph: str) -> list[ox.Quad]:
    """The quads (in ``graph``) entailed by ``asserted`` under ``rules``, minus the asserted ones."""
    store = ox.Store()
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in asserted)
    known = {q.triple for q in asserted}
    inferred: set[ox.Triple] = set()
    for _ in range(MAX_ROUNDS):
        new: set[ox.Triple] = set()
        for _name, rule in rules:
            result = store.query(rule)
            assert isinstance(result, ox.QueryTriples), f"rule {_name} is not a CONSTRUCT query"
            for triple in result:
                if triple not in known and triple not in inferred:
                    new.add(triple)
        if not new:
            break
        inferred |= new
        store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in new)
    else:
        raise RuntimeError(f"inference did not reach a fixpoint in {MAX_ROUNDS} rounds")
    name = ox.NamedNode(graph)
    return [ox.Quad(t.subject, t.predicate, t.object, name) for t in sorted(inferred, key=str)]
