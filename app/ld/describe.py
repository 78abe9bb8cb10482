"""Entity descriptions: the triples an entity IRI dereferences to, and a small index over them.

A description is the union of three named CONSTRUCT queries run with ``?entity`` bound:

* ``ld_describe`` — the entity's own triples (asserted **and** inferred: the default graph is the
  union of the data, ontology and inferred graphs), the labels of everything it links to, the
  full triples of the quotes and blank nodes it links to, and the paragraph of its district;
* ``ld_describe_inverse`` — the links that point to it (a district's practices and facts, the
  practices using a mechanism or theme, a practice's facts, what a quote is evidence for, …);
* ``ld_describe_related`` — what those practices and facts say (quotes with offsets, districts
  and their paragraphs, mechanisms, themes, values, units);
* ``ld_describe_citations`` — for a source (the article): every quote citing it, with its text and
  offsets, and what each is evidence for.

The HTML page of an entity renders exactly these triples; which of them are asserted is known
from :func:`asserted_triples` (everything else is inferred).
"""

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.rdf.namespaces import DCTERMS, RDF, RDFS, SCHEMA, SKOS

#: The path segment of every kind of entity IRI, {base}/id/{kind}/{slug}.
ENTITY_KINDS = ("district", "congress", "practice", "fact", "quote", "mechanism", "theme", "topic", "scheme",
                "source", "person")
DESCRIBE_QUERIES = ("ld_describe", "ld_describe_inverse", "ld_describe_related", "ld_describe_citations")

LABEL_PROPERTIES = (SKOS + "prefLabel", RDFS + "label", DCTERMS + "title", SCHEMA + "name")

Node = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal


def describe(graph: KnowledgeGraph, iri: str) -> list[ox.Triple]:
    """The description of ``iri`` (empty when the graph says nothing about it), sorted."""

    def build() -> list[ox.Triple]:
        triples: set[ox.Triple] = set()
        for name in DESCRIBE_QUERIES:
            triples.update(graph.construct(name, entity=iri))
        if not any(t.subject == ox.NamedNode(iri) for t in triples):
            return []
        return sorted(triples, key=str)

    return graph.memo.get(("describe", iri), build, size=2048)


def asserted_triples(graph: KnowledgeGraph) -> frozenset[ox.Triple]:
    """The triples of the data and ontology graphs (the rest of a description is inferred)."""
    return graph.memo.get(("asserted",), lambda: frozenset(q.triple for q in graph.loaded.data + graph.loaded.ontology))


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
            if isinstance(t.subject, ox.Triple) or isinstance(t.object, ox.Triple):
                continue  # RDF-star: no page shows quoted triples
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
