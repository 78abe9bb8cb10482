"""What a write changes, graph by graph: the triples each graph gains and loses.

A :class:`Delta` is exact: an added triple was not in its graph before, a removed one was. It is
all a commit needs: the SPARQL Update operations that apply it (:func:`transaction`), the provenance (how
many triples each graph gained and lost), the new version (:func:`next_version`) and the new
triple count (:func:`count_after`), each in time proportional to the change, not to the graph.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain

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


def holds_node(store: ox.Store, node: ox.BlankNode) -> bool:
    """Whether a triple of ``store`` (in any graph) has ``node`` as subject or object."""
    return any(next(iter(store.quads_for_pattern(*pattern)), None) is not None
               for pattern in ((node, None, None, None), (None, None, node, None)))


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


def names_blank_node(triples: Iterable[ox.Triple]) -> bool:
    return any(isinstance(term, ox.BlankNode) for t in triples for term in (t.subject, t.object))


def blank_nodes(delta: Delta) -> set[ox.BlankNode]:
    """The blank nodes ``delta`` names (as subject or object)."""
    return {term for part in (delta.added, delta.removed) for triples in part.values() for t in triples
            for term in (t.subject, t.object) if isinstance(term, ox.BlankNode)}


def exact_by_update(delta: Delta, before: Callable[[ox.BlankNode], bool]) -> bool:
    """Whether :func:`transaction` applies ``delta`` exactly to the store it was staged from:
    SPARQL Update cannot name a blank node the store holds (``INSERT DATA`` makes fresh ones, and
    ``DELETE DATA`` allows none), so it is exact unless ``delta`` removes a triple with a blank node
    or adds one about a blank node ``before`` (the store held it before the change)."""
    if any(names_blank_node(triples) for triples in delta.removed.values()):
        return False
    return not any(before(b) for b in blank_nodes(delta))


def transaction(delta: Delta, after: ox.Store) -> list[str]:
    """The SPARQL Update operations that apply ``delta`` to a store. ``after`` holds the content
    after the change (the scratch store of app.writes.scratch): a graph it no longer has is dropped.
    SPARQL Update cannot name a blank node the store holds (DELETE DATA allows none, INSERT DATA
    makes fresh ones): a graph that loses a triple with a blank node, or gains one about a blank node
    that was there before, is written whole from ``after``, and so is every graph that shares a
    blank node with a graph written whole. Every insertion is one ``INSERT DATA``, so a blank node
    it names is one fresh node in every graph (in separate operations it would be a different node
    in each, and Oxigraph refuses that). Exact up to the renaming of blank nodes; app.writes.writes
    applies a change that names blank nodes the store holds to an embedded store by its API instead."""
    held = held_before(delta, after)
    whole = {name for name in delta.graphs() if after.contains_named_graph(ox.NamedNode(name))
             and (names_blank_node(delta.removed.get(name, ()))
                  or any(term in held for t in delta.added.get(name, ()) for term in (t.subject, t.object)))}
    whole = sharing_blank_nodes(after, whole)
    operations, inserts = [], []
    for name in sorted(whole):
        content = sorted((q.triple for q in after.quads_for_pattern(None, None, None, ox.NamedNode(name))), key=str)
        operations.append(f"DROP SILENT GRAPH <{name}>")
        inserts.append(f"GRAPH <{name}> {{\n{ntriples(content)}\n}}")
    for name in delta.graphs():
        removed, added = delta.removed.get(name, set()), delta.added.get(name, set())
        if not after.contains_named_graph(ox.NamedNode(name)):
            operations.append(f"DROP SILENT GRAPH <{name}>")
        elif name not in whole:
            if removed:
                operations.append(f"DELETE DATA {{ GRAPH <{name}> {{\n{ntriples(sorted(removed, key=str))}\n}} }}")
            if added:
                inserts.append(f"GRAPH <{name}> {{\n{ntriples(sorted(added, key=str))}\n}}")
    if inserts:
        operations.append("INSERT DATA {\n" + "\n".join(inserts) + "\n}")
    return operations


def held_before(delta: Delta, after: ox.Store) -> set[ox.BlankNode]:
    """The blank nodes ``delta`` names that were there before it: in a triple it removes, or in a
    triple of ``after`` it did not add."""
    added = {(g, t) for g, triples in delta.added.items() for t in triples}
    held = {term for triples in delta.removed.values() for t in triples
            for term in (t.subject, t.object) if isinstance(term, ox.BlankNode)}
    for node in blank_nodes(delta) - held:
        quads = chain(after.quads_for_pattern(node, None, None, None), after.quads_for_pattern(None, None, node, None))
        if any(isinstance(q.graph_name, ox.NamedNode) and (q.graph_name.value, q.triple) not in added for q in quads):
            held.add(node)
    return held


def sharing_blank_nodes(store: ox.Store, graphs: set[str]) -> set[str]:
    """``graphs`` and every graph of ``store`` that shares a blank node with one of them, transitively."""
    if not graphs:
        return graphs
    nodes: dict[str, set[ox.BlankNode]] = {}
    for g in store.named_graphs():
        if isinstance(g, ox.NamedNode):
            nodes[g.value] = {term for q in store.quads_for_pattern(None, None, None, g)
                              for term in (q.subject, q.object) if isinstance(term, ox.BlankNode)}
    found, shared = set(graphs), set().union(*(nodes.get(g, set()) for g in graphs))
    while more := {g for g, held in nodes.items() if g not in found and held & shared}:
        found |= more
        shared = shared.union(*(nodes[g] for g in more))
    return found
