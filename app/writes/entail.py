"""A write's entailments, worked out under the caps a query runs under.

What a write entails can grow far faster than the write: a chain of N ``skos:broader`` links is
22 KB for N = 600 and entails ~N² triples (``skos:broaderTransitive`` and its inverse). So the
inference of a write (app.writes.increment, or afresh by app.build.plan when the change touches the
schema) never runs in the service's process: it runs in a throw-away
process (app.writes.isolate: confined like a query worker, ``KG_QUERY_MEMORY_MB`` of memory, killed
at ``KG_UPDATE_TIMEOUT_S``), which refuses a change of more than ``KG_MAX_WRITE_ENTAILMENTS``
triples (422). Near the change, the service's process only looks up what the affected nodes'
entailments follow from (bounded: app.writes.increment's limits) and sends that; afresh (a change
to the schema), the whole staged dataset, as N-Triples. The write lock is released whatever the
outcome, and nothing is written: the scratch store is the only thing the change ever touched.
"""

from pathlib import Path

import pyoxigraph as ox

from app.build import plan, reason
from app.errors import RequestError
from app.writes import increment, isolate
from app.writes.delta import Delta


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


def _nquads(graph: str, triples: set[ox.Triple]) -> bytes:
    node = ox.NamedNode(graph)
    return ox.serialize([ox.Quad(t.subject, t.predicate, t.object, node) for t in triples],
                        format=ox.RdfFormat.N_QUADS) or b""


def _cap(more: int, fewer: int, cap: int) -> None:
    if more + fewer > cap:
        raise TooManyEntailments(
            f"The write changes {more + fewer:,} entailed triples ({more:,} new, {fewer:,} gone), over the limit "
            f"of {cap:,} per write (KG_MAX_WRITE_ENTAILMENTS); nothing was written. Split it, or shorten what "
            "it chains (skos:broader links entail every ancestor).")


def local_entailments(local: bytes, asserted: list[str], inferred: str, queries_dir: str, before: int,
                      cap: int) -> bytes:
    """In the child: the premises of the affected nodes (N-Quads) -> what they entail (N-Quads, in
    ``inferred``). Refuses more than ``before`` (the affected nodes' entailments before) + ``cap``."""
    store = ox.Store()
    store.extend(isolate.quads_of(local))
    plan.materialise(store, asserted, inferred, reason.read_rules(Path(queries_dir)))
    node = ox.NamedNode(inferred)
    found = list(store.quads_for_pattern(None, None, None, node))
    if len(found) > before + cap:  # at least len(found) - before new ones
        _cap(len(found) - before, 0, cap)
    return ox.serialize(found, format=ox.RdfFormat.N_QUADS) or b""


def afresh_change(graphs: list[tuple[str, bytes]], asserted: list[str], inferred: str, queries_dir: str,
                  cap: int) -> tuple[bytes, bytes]:
    """In the child: the staged dataset (``graphs``: name, N-Triples; the inferred graph still the old
    one) -> the inferred graph's change made afresh (added, removed, as N-Quads); refused above ``cap``."""
    store = _load(graphs)
    node = ox.NamedNode(inferred)
    old = {q.triple for q in store.quads_for_pattern(None, None, None, node)}
    if store.contains_named_graph(node):
        store.remove_graph(node)
    plan.materialise(store, asserted, inferred, reason.read_rules(Path(queries_dir)))
    new = {q.triple for q in store.quads_for_pattern(None, None, None, node)}
    more, fewer = new - old, old - new
    _cap(len(more), len(fewer), cap)
    return _nquads(inferred, more), _nquads(inferred, fewer)


def bounded_change(store: ox.Store, asserted: list[str], inferred: str, delta: Delta, *, queries_dir: Path,
                   cap: int, timeout_s: float, memory_mb: int) -> tuple[set[ox.Triple], set[ox.Triple], bool]:
    """(added, removed, afresh) in the ``inferred`` graph of ``store`` (the scratch store, holding
    ``delta`` already), inferred in a confined child under ``timeout_s`` and ``memory_mb``. Near the
    change (app.writes.increment) only the premises of the affected nodes go to the child (looked up
    here, bounded); afresh (a change to the schema, or one reaching too far), the whole dataset."""
    rules = reason.read_rules(queries_dir)
    what = "inference of the write"
    problem = increment.local_problem(store, asserted, inferred, rules, delta)
    if problem is not None:
        local = ox.serialize(problem.local, format=ox.RdfFormat.N_QUADS) or b""
        found = isolate.run("app.writes.entail:local_entailments",
                            (local, asserted, inferred, str(queries_dir), len(problem.before), cap),
                            timeout_s=timeout_s, memory_mb=memory_mb, what=what)
        materialised = ox.Store()
        materialised.extend(isolate.quads_of(found))
        more, fewer = problem.change(materialised)
        _cap(len(more), len(fewer), cap)
        return more, fewer, False
    graphs = [(name, store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name)) or b"")
              for name in [*asserted, inferred] if store.contains_named_graph(ox.NamedNode(name))]
    added, removed = isolate.run("app.writes.entail:afresh_change",
                                 (graphs, asserted, inferred, str(queries_dir), cap),
                                 timeout_s=timeout_s, memory_mb=memory_mb, what=what)
    return {q.triple for q in isolate.quads_of(added)}, {q.triple for q in isolate.quads_of(removed)}, True
