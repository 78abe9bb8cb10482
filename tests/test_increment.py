"""Inference for a write (app.writes.increment): over random writes to the article's graph — links
added to and taken from the mechanism, theme and topic hierarchies, practices given or stripped of
mechanisms, themes and topics, typings, labels — the inferred graph's change is exactly what
inference afresh over the new asserted graphs gives."""

import random
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from app.build import plan, reason
from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.writes import increment
from app.writes.delta import Delta

BJRD = "https://bjrd-kg.example.org/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LINKS = {  # a practice's link -> the class of what it links to
    BJRD + "usesMechanism": BJRD + "Mechanism",
    BJRD + "theme": BJRD + "Theme",
    BJRD + "supervisesTopic": BJRD + "SupervisionTopic",
}


@pytest.fixture(scope="module")
def article() -> Iterator[KnowledgeGraph]:
    yield KnowledgeGraph.build(Settings(), check=False)


def instances(store: ox.Store, cls: str) -> list[ox.NamedNode]:
    return sorted({q.subject for q in store.quads_for_pattern(None, TYPE, ox.NamedNode(cls), None)
                   if isinstance(q.subject, ox.NamedNode)}, key=str)


def random_delta(rng: random.Random, store: ox.Store, data: str) -> Delta:
    graph = ox.NamedNode(data)
    practices = instances(store, BJRD + "Practice")
    concepts = {cls: instances(store, cls) for cls in LINKS.values()}
    existing = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
    hierarchy = [t for t in existing if t.predicate.value in (SKOS + "broader", *LINKS)]
    added: set[ox.Triple] = set()
    removed: set[ox.Triple] = set()
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["broader", "narrower", "link", "unlink", "type", "label", "drop"])
        cls = rng.choice(list(LINKS.values()))
        a, b = rng.choice(concepts[cls]), rng.choice(concepts[cls])
        if kind == "broader" and a != b:
            added.add(ox.Triple(a, ox.NamedNode(SKOS + "broader"), b))
        elif kind == "narrower" and a != b:
            added.add(ox.Triple(a, ox.NamedNode(SKOS + "narrower"), b))
        elif kind == "link":
            link = rng.choice(list(LINKS))
            added.add(ox.Triple(rng.choice(practices), ox.NamedNode(link), rng.choice(concepts[LINKS[link]])))
        elif kind == "unlink" and hierarchy:
            removed.add(rng.choice(hierarchy))
        elif kind == "type":
            added.add(ox.Triple(ox.NamedNode(f"urn:x:new-{rng.randint(0, 3)}"), TYPE, ox.NamedNode(cls)))
        elif kind == "label":
            added.add(ox.Triple(a, ox.NamedNode(RDFS + "label"), ox.Literal(f"x{rng.randint(0, 9)}", language="en")))
        elif kind == "drop":
            removed.add(rng.choice(existing))
    delta = Delta()
    present = set(existing)
    delta.record(data, added={t for t in added if t not in present}, removed=removed - added)
    return delta


@pytest.mark.parametrize("seed", range(40))
def test_the_inferred_change_is_inference_afresh(article: KnowledgeGraph, seed: int) -> None:
    names = article.names
    asserted = [names.ontology, names.data]
    rules = reason.read_rules(article.settings.queries_dir)
    scratch = ox.Store()
    for name in [*asserted, names.inferred]:
        scratch.bulk_extend(article.store.store.quads_for_pattern(None, None, None, ox.NamedNode(name)))  # type: ignore[attr-defined]
    delta = random_delta(random.Random(seed), scratch, names.data)
    delta.apply(scratch)
    old = {q.triple for q in scratch.quads_for_pattern(None, None, None, ox.NamedNode(names.inferred))}

    got = increment.inferred_change(scratch, asserted, names.inferred, rules, delta)

    fresh = ox.Store()
    for name in asserted:
        fresh.bulk_extend(scratch.quads_for_pattern(None, None, None, ox.NamedNode(name)))
    plan.materialise(fresh, asserted, names.inferred, rules)
    new = {q.triple for q in fresh.quads_for_pattern(None, None, None, ox.NamedNode(names.inferred))}
    assert got is not None, delta.counts()
    added, removed = got
    assert added == new - old
    assert removed == old - new


def test_a_change_to_the_schema_is_inferred_afresh(article: KnowledgeGraph) -> None:
    names = article.names
    delta = Delta()
    delta.record(names.data, added=[ox.Triple(ox.NamedNode(BJRD + "theme"), ox.NamedNode(RDFS + "subPropertyOf"),
                                              ox.NamedNode(BJRD + "usesMechanism"))])
    rules = reason.read_rules(article.settings.queries_dir)
    assert increment.inferred_change(ox.Store(), [names.ontology, names.data], names.inferred, rules, delta) is None
