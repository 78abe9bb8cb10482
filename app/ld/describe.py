"""Entity descriptions: the triples an entity IRI dereferences to, and a small index over them.

A description is the union of three named CONSTRUCT queries run with ``?entity`` bound:

* ``ld_describe`` — the entity's own triples (asserted **and** inferred: the default graph is the
  union of the data, ontology and inferred graphs), the labels of everything it links to, the
  full triples of the quotes and blank nodes it links to, and the paragraph of its district;
* ``ld_describe_inverse`` — the links that point to it (a district's practices and facts, the
  practices using a mechanism or theme, a practice's facts, what a quote is evidence for, …);
* ``ld_describe_related`` — what those practices and facts say (quotes with offsets, districts
  and their paragraphs, mechanisms, themes, values, units).

The HTML page of an entity renders exactly these triples; which of them are asserted is known
from :func:`asserted_triples` (everything else is inferred).
"""

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from threading import Lock
from typing import Generic, TypeVar

import pyoxigraph as ox

from app.store.engine import KnowledgeGraph

#: The path segment of every kind of entity IRI, {base}/id/{kind}/{slug}.
ENTITY_KINDS = ("district", "congress", "practice", "fact", "quote", "mechanism", "theme", "topic", "scheme",
                "source")
DESCRIBE_QUERIES = ("ld_describe", "ld_describe_inverse", "ld_describe_related")

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
OA = "http://www.w3.org/ns/oa#"
BJRD = "https://bjrd-kg.example.org/ontology#"

LABEL_PROPERTIES = (SKOS + "prefLabel", RDFS + "label", DCTERMS + "title", SCHEMA + "name")

V = TypeVar("V")
Node = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal


class LRU(Generic[V]):
    """A small thread-safe LRU cache (keys start with the graph version, so a write starts afresh)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, ...], V] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[str, ...]) -> V | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: tuple[str, ...], value: V) -> V:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


_descriptions: LRU[list[ox.Triple]] = LRU(2048)
_asserted: LRU[frozenset[ox.Triple]] = LRU(4)


def describe(graph: KnowledgeGraph, iri: str) -> list[ox.Triple]:
    """The description of ``iri`` (empty when the graph says nothing about it), sorted."""
    key = (graph.version, iri)
    cached = _descriptions.get(key)
    if cached is not None:
        return cached
    triples: set[ox.Triple] = set()
    for name in DESCRIBE_QUERIES:
        triples.update(graph.construct(name, entity=iri))
    if not any(t.subject == ox.NamedNode(iri) for t in triples):
        triples = set()
    return _descriptions.put(key, sorted(triples, key=str))


def asserted_triples(graph: KnowledgeGraph) -> frozenset[ox.Triple]:
    """The triples of the data and ontology graphs (the rest of a description is inferred)."""
    cached = _asserted.get((graph.version,))
    if cached is not None:
        return cached
    return _asserted.put((graph.version,), frozenset(q.triple for q in graph.loaded.data + graph.loaded.ontology))


def split_entity_iri(graph: KnowledgeGraph, iri: str) -> tuple[str, str] | None:
    """(kind, slug) of an entity IRI of this graph, None for any other IRI."""
    prefix = graph.settings.base_iri + "/id/"
    if not iri.startswith(prefix):
        return None
    kind, _, slug = iri[len(prefix):].partition("/")
    if kind not in ENTITY_KINDS or not slug or "/" in slug:
        return None
    return kind, slug


class Description:
    """Triples indexed both ways, with label lookup; what the HTML views read."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self.triples = list(triples)
        self.out: dict[Node, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        self.inn: dict[Term, dict[str, list[Node]]] = defaultdict(lambda: defaultdict(list))
        for t in self.triples:
            self.out[t.subject][t.predicate.value].append(t.object)
            self.inn[t.object][t.predicate.value].append(t.subject)

    def objects(self, subject: Node, predicate: str) -> list[Term]:
        if subject not in self.out:
            return []
        return sorted(self.out[subject].get(predicate, []), key=str)

    def subjects(self, predicate: str, obj: Term) -> list[Node]:
        if obj not in self.inn:
            return []
        return sorted(self.inn[obj].get(predicate, []), key=str)

    def value(self, subject: Node, predicate: str) -> Term | None:
        values = self.objects(subject, predicate)
        return values[0] if values else None

    def literal(self, subject: Node, predicate: str, lang: str | None = None) -> ox.Literal | None:
        """The first literal of ``predicate`` in ``lang`` (any language when None)."""
        for value in self.objects(subject, predicate):
            if isinstance(value, ox.Literal) and (lang is None or value.language == lang):
                return value
        return None

    def label(self, node: Term, lang: str) -> ox.Literal | None:
        """The best label of ``node`` in ``lang`` (prefLabel, then rdfs:label, title, name)."""
        if isinstance(node, ox.Literal):
            return None
        for predicate in LABEL_PROPERTIES:
            found = self.literal(node, predicate, lang)
            if found is not None:
                return found
        return None

    def is_a(self, node: Node, class_iri: str) -> bool:
        return ox.NamedNode(class_iri) in self.objects(node, RDF + "type")
