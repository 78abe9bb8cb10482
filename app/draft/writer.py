"""The draft printed for review: JSON in the shape CONTRACT.md fixes ("Sources and drafts"), or a
Turtle graph in the ontology's terms (practices, quotes, facts, typed dates, new mechanisms and
topics as concepts of their scheme, marked as drafts with the rule and confidence that made them)."""

from typing import Any

import pyoxigraph as ox

from app.draft.model import ConceptProposal, DateProposal, Draft, FactProposal, Span
from app.rdf.namespaces import BJRD, DCTERMS, OA, PREFIXES, RDF_TYPE, RDFS, SCHEMA, SKOS, XSD


def concept_json(p: ConceptProposal) -> dict[str, Any]:
    return {"id": p.id, "label": p.label, "new": p.new, "quote": p.span.quote, "start": p.span.start,
            "end": p.span.end, "rule": p.rule, "confidence": p.confidence}


def fact_json(f: FactProposal) -> dict[str, Any]:
    return {"value": f.value, "unit": f.unit, "counts": f.counts, "quote": f.span.quote, "start": f.span.start,
            "end": f.span.end, "rule": f.rule, "confidence": f.confidence}


def date_json(d: DateProposal) -> dict[str, Any]:
    return {"value": d.value, "datatype": d.datatype, "quote": d.span.quote, "start": d.span.start,
            "end": d.span.end}


def to_json(draft: Draft) -> dict[str, Any]:
    s = draft.source
    return {"source": {"id": s.id, "title": s.title, "issued": s.issued},
            "districts": [{"id": d.id, "start": d.start, "end": d.end, "practices": [
                {"quote": p.span.quote, "start": p.span.start, "end": p.span.end,
                 "mechanisms": [concept_json(m) for m in p.mechanisms],
                 "topics": [concept_json(t) for t in p.topics],
                 "facts": [fact_json(f) for f in p.facts],
                 "dates": [date_json(x) for x in p.dates]} for p in d.practices]} for d in draft.districts]}


class TurtleWriter:
    def __init__(self, draft: Draft, base_iri: str) -> None:
        self.draft, self.base = draft, base_iri.rstrip("/")
        self.triples: list[ox.Triple] = []
        self.source = self.iri("source", draft.source.id)
        self.new_concepts: dict[tuple[str, str], ox.NamedNode] = {}

    def iri(self, kind: str, slug: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}/id/{kind}/{slug}")

    def add(self, s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        self.triples.append(ox.Triple(s, ox.NamedNode(p), o))

    def quote(self, slug: str, span: Span, note: str | None = None) -> ox.NamedNode:
        q = self.iri("quote", slug)
        self.add(q, RDF_TYPE, ox.NamedNode(BJRD + "Quote"))
        self.add(q, OA + "exact", ox.Literal(span.quote))
        self.add(q, OA + "start", ox.Literal(str(span.start), datatype=ox.NamedNode(XSD + "integer")))
        self.add(q, OA + "end", ox.Literal(str(span.end), datatype=ox.NamedNode(XSD + "integer")))
        self.add(q, DCTERMS + "source", self.source)
        if note:
            self.add(q, SKOS + "editorialNote", ox.Literal(note))
        return q

    def concept(self, p: ConceptProposal, kind: str) -> ox.NamedNode:
        scheme = "mechanism" if kind == "mechanism" else "topic"
        if p.id is not None:
            return self.iri(scheme, p.id)
        key = (scheme, p.label)
        if key not in self.new_concepts:
            node = self.iri(scheme, f"draft-{self.draft.source.id}-{len(self.new_concepts) + 1}")
            self.new_concepts[key] = node
            self.add(node, RDF_TYPE, ox.NamedNode(BJRD + ("Mechanism" if kind == "mechanism" else "SupervisionTopic")))
            self.add(node, SKOS + "prefLabel", ox.Literal(p.label, language="zh"))
            self.add(node, SKOS + "inScheme", self.iri("scheme", scheme + "s"))
            self.add(node, SKOS + "editorialNote", ox.Literal(f"new, proposed by rule {p.rule} "
                                                              f"(confidence {p.confidence}); to be reviewed"))
            if kind == "mechanism":
                self.add(node, BJRD + "mechanismKind", ox.NamedNode(BJRD + "Named"))
            if p.broader:
                self.add(node, SKOS + "broader", self.iri(scheme, p.broader))
        return self.new_concepts[key]

    def write(self) -> bytes:
        s = self.draft.source
        self.add(self.source, RDF_TYPE, ox.NamedNode(SCHEMA + "Article"))
        self.add(self.source, DCTERMS + "title", ox.Literal(s.title, language="zh"))
        self.add(self.source, DCTERMS + "issued", ox.Literal(s.issued, datatype=ox.NamedNode(XSD + "gYearMonth")))
        self.add(self.source, SKOS + "editorialNote", ox.Literal("a draft made by kg draft, for a person to review"))
        for d in self.draft.districts:
            district = self.iri("district", d.id)
            for n, p in enumerate(d.practices, 1):
                slug = f"{s.id}-{d.id}-{n}"
                practice = self.iri("practice", slug)
                self.add(practice, RDF_TYPE, ox.NamedNode(BJRD + "Practice"))
                self.add(practice, RDFS + "label", ox.Literal(p.span.quote, language="zh"))
                self.add(practice, BJRD + "district", district)
                self.add(practice, BJRD + "evidence", self.quote(slug, p.span))
                for kind, prop, props in (("mechanism", "usesMechanism", p.mechanisms),
                                          ("topic", "supervisesTopic", p.topics)):
                    for i, c in enumerate(props, 1):
                        self.add(practice, BJRD + prop, self.concept(c, kind))
                        note = f"{kind} {c.label}: rule {c.rule}, confidence {c.confidence}"
                        self.add(practice, BJRD + "evidence", self.quote(f"{slug}-{kind}-{i}", c.span, note))
                for i, f in enumerate(p.facts, 1):
                    self.fact(f"{slug}-fact-{i}", f, practice, district)
                for date in p.dates:
                    self.date(practice, date)
        grouped = sorted(self.triples, key=lambda t: str(t.subject))  # stable: each node's triples together
        body = ox.serialize(grouped, format=ox.RdfFormat.TURTLE, prefixes=self.prefixes())
        assert body is not None  # no output file given: the bytes are returned
        return body

    def fact(self, slug: str, f: FactProposal, practice: ox.NamedNode, district: ox.NamedNode) -> None:
        node = self.iri("fact", slug)
        value = ox.Literal(str(f.value), datatype=ox.NamedNode(XSD + ("integer" if isinstance(f.value, int)
                                                                     else "decimal")))
        self.add(node, RDF_TYPE, ox.NamedNode(BJRD + "Fact"))
        self.add(node, RDFS + "label", ox.Literal(f.counts or f.span.quote, language="zh"))
        self.add(node, SCHEMA + "value", value)
        if f.min_value:
            self.add(node, SCHEMA + "minValue", value)
        self.add(node, SCHEMA + "unitText", ox.Literal(f.unit, language="zh"))
        if not f.unit_listed:
            self.add(node, SKOS + "editorialNote", ox.Literal(f"measure word {f.unit} is not one of the ontology's "
                                                              "units: pick a listed unit before publishing"))
        self.add(node, BJRD + "ofPractice", practice)
        self.add(node, BJRD + "district", district)
        self.add(node, BJRD + "evidence", self.quote(slug, f.span, f"rule {f.rule}, confidence {f.confidence}"))

    def date(self, practice: ox.NamedNode, d: DateProposal) -> None:
        prop = {"start": SCHEMA + "startDate", "end": SCHEMA + "endDate"}.get(d.role, DCTERMS + "date")
        value = d.value
        if d.datatype == XSD + "time":
            prop, value = SCHEMA + "startTime", value + ":00"
        self.add(practice, prop, ox.Literal(value, datatype=ox.NamedNode(d.datatype)))

    def prefixes(self) -> dict[str, str]:
        short = {"dist": "district", "fact": "fact", "mech": "mechanism", "prac": "practice", "quote": "quote",
                 "scheme": "scheme", "src": "source", "topic": "topic"}
        return {**PREFIXES, **{k: f"{self.base}/id/{v}/" for k, v in short.items()}}


def to_turtle(draft: Draft, base_iri: str) -> bytes:
    return TurtleWriter(draft, base_iri).write()
