"""A write's entailments, worked out under the caps a query runs under.

What a write entails can grow far faster than the write: a chain of N ``skos:broader`` links is
22 KB for N = 600 and entails ~N² triples (``skos:broaderTransitive`` and its inverse). So the
inference of a write (app.store.increment, or afresh by app.store.plan when the change touches the
schema) never runs in the service's process: the staged dataset goes, as N-Triples, to a throw-away
process (app.store.isolate: confined like a query worker, ``KG_QUERY_MEMORY_MB`` of memory, killed
at ``KG_UPDATE_TIMEOUT_S``), which sends back only the inferred graph's change, and refuses a change
of more than ``KG_MAX_WRITE_ENTAILMENTS`` triples (422). The write lock is released whatever the
outcome, and nothing is written: the scratch store is the only thing the change ever touched.
"""

from pathlib import Path

import pyoxigraph as ox

from app.errors import RequestError
from app.store import increment, isolate, plan, reason
from app.store.delta import Delta


class TooManyEntailments(RequestError):
    """The write entails more new or removed triples than ``KG_MAX_WRITE_ENTAILMENTS`` (422)."""

    status_code = 422


def _load(graphs: list[tuple[str, bytes]]) -> ox.Store:
    """The graphs, parsed (not bulk-loaded: that would rename the blank nodes)."""
    store = ox.Store()
    for name, body in graphs:
        node = ox.NamedNode(name)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, node)
                     for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
    return store


def _triples(nquads: bytes) -> dict[str, set[ox.Triple]]:
    out: dict[str, set[ox.Triple]] = {}
    for quad in isolate.quads_of(nquads):
        assert isinstance(quad.graph_name, ox.NamedNode)
        out.setdefault(quad.graph_name.value, set()).add(quad.triple)
    return out


def _nquads(graph: str, triples: set[ox.Triple]) -> bytes:
    node = ox.NamedNode(graph)
    return ox.serialize([ox.Quad(t.subject, t.predicate, t.object, node) for t in triples],
                        format=ox.RdfFormat.N_QUADS) or b""


def inferred_change(graphs: list[tuple[str, bytes]], asserted: list[str], inferred: str, added: bytes,
                    removed: bytes, queries_dir: str, cap: int) -> tuple[bytes, bytes, bool]:
    """In the child: the staged dataset (``graphs``: name, N-Triples; the inferred graph still the old
    one) and the asserted change (N-Quads) -> (inferred triples added, removed, as N-Quads; whether
    inference ran afresh). Raises TooManyEntailments above ``cap``."""
    store = _load(graphs)
    delta = Delta(_triples(added), _triples(removed))
    rules = reason.read_rules(Path(queries_dir))
    change = increment.inferred_change(store, asserted, inferred, rules, delta)
    afresh = change is None
    if change is None:
        node = ox.NamedNode(inferred)
        old = {q.triple for q in store.quads_for_pattern(None, None, None, node)}
        if store.contains_named_graph(node):
            store.remove_graph(node)
        plan.materialise(store, asserted, inferred, rules)
        new = {q.triple for q in store.quads_for_pattern(None, None, None, node)}
        change = (new - old, old - new)
    more, fewer = change
    if len(more) + len(fewer) > cap:
        raise TooManyEntailments(
            f"The write changes {len(more) + len(fewer):,} entailed triples ({len(more):,} new, {len(fewer):,} "
            f"gone), over the limit of {cap:,} per write (KG_MAX_WRITE_ENTAILMENTS); nothing was written. "
            "Split it, or shorten what it chains (skos:broader links entail every ancestor).")
    return _nquads(inferred, more), _nquads(inferred, fewer), afresh


def bounded_change(store: ox.Store, asserted: list[str], inferred: str, delta: Delta, *, queries_dir: Path,
                   cap: int, timeout_s: float, memory_mb: int) -> tuple[set[ox.Triple], set[ox.Triple], bool]:
    """(added, removed, afresh) in the ``inferred`` graph of ``store`` (the scratch store, holding
    ``delta`` already), worked out in a confined child under ``timeout_s`` and ``memory_mb``."""
    names = [*asserted, inferred]
    graphs = [(name, store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name)) or b"")
              for name in names if store.contains_named_graph(ox.NamedNode(name))]

    def nquads(part: dict[str, set[ox.Triple]]) -> bytes:
        return b"".join(_nquads(g, triples) for g, triples in part.items() if triples)

    more, fewer, afresh = isolate.run(
        "app.store.entail:inferred_change",
        (graphs, asserted, inferred, nquads(delta.added), nquads(delta.removed), str(queries_dir), cap),
        timeout_s=timeout_s, memory_mb=memory_mb, what="inference of the write")
    return ({q.triple for q in isolate.quads_of(more)}, {q.triple for q in isolate.quads_of(fewer)}, afresh)
