"""What a write changes, graph by graph: the triples each graph gains and loses.

A :class:`Delta` is exact: an added triple was not in its graph before, a removed one was. It is
all a commit needs: the SPARQL Update operations that apply it (:func:`transaction`), the provenance (how
many triples each graph gained and lost), the new version (:func:`next_version`) and the new
triple count (:func:`count_after`), each in time proportional to the change, not to the graph.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from app.store.graphs import ntriples


@dataclass
class Delta:
    """Graph name -> triples added, and graph name -> triples removed (both exact)."""

    added: dict[str, set[ox.Triple]] = field(default_factory=dict)
    removed: dict[str, set[ox.Triple]] = field(default_factory=dict)

    def record(self, graph: str, added: Iterable[ox.Triple] = (), removed: Iterable[ox.Triple] = ()) -> None:
        """Add one change of ``graph`` to this delta (a triple added then removed again cancels out)."""
        plus, minus = self.added.setdefault(graph, set()), self.removed.setdefault(graph, set())
        for t in removed:
            if t in plus:
                plus.discard(t)
            else:
                minus.add(t)
        for t in added:
            if t in minus:
                minus.discard(t)
            else:
                plus.add(t)

    def graphs(self) -> list[str]:
        """The graphs that change, sorted."""
        return sorted(g for g in set(self.added) | set(self.removed) if self.added.get(g) or self.removed.get(g))

    def counts(self) -> dict[str, tuple[int, int]]:
        """Graph -> (triples added, triples removed), for the graphs that change (the provenance's words)."""
        return {g: (len(self.added.get(g, ())), len(self.removed.get(g, ()))) for g in self.graphs()}

    def __bool__(self) -> bool:
        return bool(self.graphs())

    def apply(self, store: ox.Store) -> None:
        """Make ``store`` hold the change (removals first, then additions; empty graphs dropped)."""
        for graph in self.graphs():
            node = ox.NamedNode(graph)
            for t in self.removed.get(graph, ()):
                store.remove(ox.Quad(t.subject, t.predicate, t.object, node))
            store.extend([ox.Quad(t.subject, t.predicate, t.object, node) for t in self.added.get(graph, ())])
            if store.contains_named_graph(node) and is_empty(store, graph):
                store.remove_graph(node)


def is_empty(store: ox.Store, graph: str) -> bool:
    return next(iter(store.quads_for_pattern(None, None, None, ox.NamedNode(graph))), None) is None


def next_version(before: str, delta: Delta) -> str:
    """The version after ``delta``: SHA-256 of the version before and the sorted change, so it costs
    what the change costs. A build names its version by the content (app.store.graphs.content_hash);
    each write chains from it. The same change gives the same version; no change keeps the version."""
    if not delta:
        return before
    h = hashlib.sha256(f"{before}\n".encode())
    for graph in delta.graphs():
        for sign, triples in (("-", delta.removed.get(graph, ())), ("+", delta.added.get(graph, ()))):
            for line in sorted(f"{sign} <{graph}> {t}" for t in triples):
                h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


def count_after(before: int, delta: Delta, graphs: Iterable[str], holds: Callable[[ox.Triple, str], bool]) -> int:
    """Distinct triples of the union of ``graphs`` after ``delta``, from ``before`` (the count before)
    and ``holds(triple, graph)`` (whether the graph holds the triple after the change)."""
    names = sorted(set(graphs) | set(delta.graphs()))
    count = before
    for t in {t for g in delta.graphs() for part in (delta.added, delta.removed) for t in part.get(g, ())}:
        after = {g for g in names if holds(t, g)}
        was = {g for g in names if (g in after and t not in delta.added.get(g, ())) or t in delta.removed.get(g, ())}
        count += bool(after) - bool(was)
    return count


def transaction(delta: Delta, after: ox.Store) -> list[str]:
    """The SPARQL Update operations that apply ``delta`` to a store. ``after`` holds the content
    after the change (the scratch store of app.store.scratch): a graph it no longer has is dropped,
    and a graph that loses a blank node is written whole from it (DELETE DATA cannot name blank nodes)."""
    operations = []
    for name in delta.graphs():
        node = ox.NamedNode(name)
        removed, added = delta.removed.get(name, set()), delta.added.get(name, set())
        if not after.contains_named_graph(node):
            operations.append(f"DROP SILENT GRAPH <{name}>")
        elif any(isinstance(term, ox.BlankNode) for t in removed for term in (t.subject, t.object)):
            content = sorted((q.triple for q in after.quads_for_pattern(None, None, None, node)), key=str)
            operations.append(f"DROP SILENT GRAPH <{name}>")
            operations.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{ntriples(content)}\n}} }}")
        else:
            if removed:
                operations.append(f"DELETE DATA {{ GRAPH <{name}> {{\n{ntriples(sorted(removed, key=str))}\n}} }}")
            if added:
                operations.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{ntriples(sorted(added, key=str))}\n}} }}")
    return operations
