"""A write's delta (app.writes.delta): exact per graph, applied to a store it gives the content the
change made, and the version and triple count that come from it agree with the content."""

import random

import pyoxigraph as ox
import pytest

from app.writes.delta import Delta, count_after, exact_by_update, holds_node, next_version, transaction

G1, G2, G3 = "urn:x:g1", "urn:x:g2", "urn:x:g3"


def t(s: int, o: int) -> ox.Triple:
    return ox.Triple(ox.NamedNode(f"urn:x:s{s}"), ox.NamedNode("urn:x:p"), ox.Literal(str(o)))


def content(store: ox.Store) -> dict[str, set[ox.Triple]]:
    out: dict[str, set[ox.Triple]] = {}
    for q in store:
        assert isinstance(q.graph_name, ox.NamedNode)
        out.setdefault(q.graph_name.value, set()).add(q.triple)
    return out


def distinct(store: ox.Store) -> int:
    return len({q.triple for q in store})


def fill(graphs: dict[str, set[ox.Triple]]) -> ox.Store:
    store = ox.Store()
    store.extend([ox.Quad(x.subject, x.predicate, x.object, ox.NamedNode(g)) for g, ts in graphs.items() for x in ts])
    return store


def random_change(rng: random.Random, before: dict[str, set[ox.Triple]]) -> dict[str, set[ox.Triple]]:
    after = {g: set(ts) for g, ts in before.items()}
    for g in (G1, G2, G3):
        for _ in range(rng.randint(0, 6)):
            x = t(rng.randint(0, 8), rng.randint(0, 2))
            (after.setdefault(g, set()).discard if rng.random() < 0.5 else after.setdefault(g, set()).add)(x)
    return {g: ts for g, ts in after.items() if ts}


def delta_between(before: dict[str, set[ox.Triple]], after: dict[str, set[ox.Triple]]) -> Delta:
    delta = Delta()
    for g in set(before) | set(after):
        delta.record(g, added=after.get(g, set()) - before.get(g, set()),
                     removed=before.get(g, set()) - after.get(g, set()))
    return delta


def test_a_triple_added_then_removed_cancels_out() -> None:
    delta = Delta()
    delta.record(G1, added=[t(1, 1)])
    delta.record(G1, removed=[t(1, 1)])
    delta.record(G2, removed=[t(2, 2)])
    delta.record(G2, added=[t(2, 2)])
    assert not delta and delta.graphs() == [] and delta.counts() == {}


@pytest.mark.parametrize("seed", range(25))
def test_applied_by_store_or_by_update_the_delta_gives_the_content_and_the_count(seed: int) -> None:
    rng = random.Random(seed)
    before = random_change(rng, {})
    after = random_change(rng, before)
    delta = delta_between(before, after)
    assert delta.counts() == {g: (len(after.get(g, set()) - before.get(g, set())),
                                  len(before.get(g, set()) - after.get(g, set())))
                              for g in sorted(set(before) | set(after)) if before.get(g) != after.get(g)}
    by_store = fill(before)
    delta.apply(by_store)
    assert content(by_store) == after
    assert {g.value for g in by_store.named_graphs()} == set(after)  # a graph left empty is dropped
    by_update = fill(before)
    operations = transaction(delta, by_store)
    if operations:
        by_update.update(" ;\n".join(operations))
    assert content(by_update) == after
    old = fill(before)
    holds = lambda x, g: ox.Quad(x.subject, x.predicate, x.object, ox.NamedNode(g)) in by_store  # noqa: E731
    assert count_after(distinct(old), delta, list(after), holds) == distinct(by_store)


def test_a_graph_that_loses_a_blank_node_is_written_whole() -> None:
    b = ox.BlankNode("b1")
    kept = ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("kept"))
    gone = ox.Triple(b, ox.NamedNode("urn:x:p"), ox.Literal("gone"))
    before = {G1: {kept, gone}}
    after = {G1: {kept}}
    delta = delta_between(before, after)
    operations = transaction(delta, fill(after))
    assert operations[0] == f"DROP SILENT GRAPH <{G1}>"
    store = fill(before)
    store.update(" ;\n".join(operations))
    assert content(store) == after


def test_the_version_follows_the_change_not_the_order_it_was_told_in() -> None:
    one, two = Delta(), Delta()
    one.record(G1, added=[t(1, 1), t(2, 2)], removed=[t(3, 3)])
    two.record(G1, removed=[t(3, 3)])
    two.record(G1, added=[t(2, 2)])
    two.record(G1, added=[t(1, 1)])
    assert next_version("v0", one) == next_version("v0", two) != "v0"
    assert next_version("v1", one) != next_version("v0", one)  # chained from the version before
    other = Delta()
    other.record(G2, added=[t(1, 1), t(2, 2)], removed=[t(3, 3)])
    assert next_version("v0", other) != next_version("v0", one)  # the graph is part of the change
    assert next_version("v0", Delta()) == "v0"  # no change, no new version


def test_a_new_blank_node_is_one_node_in_every_graph_it_is_added_to() -> None:
    b = ox.BlankNode("new")
    in_data = ox.Triple(b, ox.NamedNode("urn:x:p"), ox.Literal("1"))
    in_inferred = ox.Triple(b, ox.NamedNode("urn:x:type"), ox.NamedNode("urn:x:C"))
    after = {G1: {t(1, 1), in_data}, G2: {in_inferred}}
    delta = delta_between({G1: {t(1, 1)}}, after)
    store = fill({G1: {t(1, 1)}})
    assert exact_by_update(delta, lambda node: holds_node(store, node))
    store.update(" ;\n".join(transaction(delta, fill(after))))
    nodes = {q.subject for q in store if isinstance(q.subject, ox.BlankNode)}
    assert len(nodes) == 1 and len(store) == 3  # fresh, but the same node in both graphs


def test_a_blank_node_the_store_holds_cannot_be_named_by_an_update() -> None:
    b = ox.BlankNode("old")
    held = ox.Triple(b, ox.NamedNode("urn:x:p"), ox.Literal("1"))
    store = fill({G1: {held}})
    about_it = delta_between({G1: {held}}, {G1: {held}, G2: {ox.Triple(b, ox.NamedNode("urn:x:q"), ox.Literal("2"))}})
    assert not exact_by_update(about_it, lambda node: holds_node(store, node))
    losing_it = delta_between({G1: {held, t(1, 1)}}, {G1: {t(1, 1)}})
    assert not exact_by_update(losing_it, lambda node: holds_node(store, node))
    assert exact_by_update(delta_between({G1: {held}}, {G1: {held, t(2, 2)}}), lambda node: holds_node(store, node))


def test_a_graph_sharing_a_blank_node_with_one_written_whole_is_written_whole_too() -> None:
    b = ox.BlankNode("shared")
    gone = ox.Triple(b, ox.NamedNode("urn:x:p"), ox.Literal("gone"))
    kept = ox.Triple(b, ox.NamedNode("urn:x:p"), ox.Literal("kept"))
    about = ox.Triple(b, ox.NamedNode("urn:x:type"), ox.NamedNode("urn:x:C"))
    before = {G1: {gone, kept}, G2: {about}, G3: {t(1, 1)}}
    after = {G1: {kept}, G2: {about}, G3: {t(1, 1)}}
    operations = transaction(delta_between(before, after), fill(after))
    assert sorted(o for o in operations if o.startswith("DROP")) == [f"DROP SILENT GRAPH <{G1}>",
                                                                   f"DROP SILENT GRAPH <{G2}>"]
    store = fill(before)
    store.update(" ;\n".join(operations))
    nodes = {q.subject for q in store if isinstance(q.subject, ox.BlankNode)}
    assert len(nodes) == 1 and len(store) == 3  # the node kept in G1 is still the one G2 is about


def test_a_triple_added_about_a_blank_node_held_before_keeps_it_one_node() -> None:
    """Over SPARQL Update (a remote store) the graphs that name it are written whole, in one INSERT DATA."""
    b = ox.BlankNode("held")
    there = ox.Triple(b, ox.NamedNode("urn:x:p"), ox.Literal("1"))
    about = ox.Triple(b, ox.NamedNode("urn:x:type"), ox.NamedNode("urn:x:C"))
    before = {G1: {there, t(1, 1)}}
    after = {G1: {there, t(1, 1)}, G2: {about}}
    operations = transaction(delta_between(before, after), fill(after))
    store = fill(before)
    store.update(" ;\n".join(operations))
    nodes = {q.subject for q in store if isinstance(q.subject, ox.BlankNode)}
    assert len(nodes) == 1 and len(store) == 3  # G2 is about the node G1 holds, not a fresh one
