"""The view model of an entity page, built from its RDF description.

Everything an entity page shows comes from its description (:mod:`app.ld.describe`), so the
page and the Turtle at the same IRI say the same thing; quotes are shown inside their paragraph.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.ld.describe import Description, asserted_triples, split_entity_iri
from app.ld.links import Linker, Ref, Text, curie
from app.rdf.namespaces import BJRD, DCTERMS, OA, RDF, SCHEMA, SKOS, XSD

SENTENCE_ENDS = "。！？；"
MAX_CONTEXT = 160  # characters of context either side of a quote, at most


@dataclass(frozen=True)
class Passage:
    """A quote inside its paragraph: the text around it and the quote itself (to ``<mark>``)."""

    quote: Ref | None
    exact: str
    before: str = ""
    after: str = ""
    clipped_start: bool = False
    clipped_end: bool = False
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Statement:
    """One triple of a description as a table row."""

    subject: Ref
    predicate: Ref
    value: Ref | Text
    datatype: str | None = None
    inferred: bool = False


@dataclass
class PracticeItem:
    ref: Ref
    passages: list[Passage]
    district: Ref | None = None
    mechanisms: list[Ref] = field(default_factory=list)
    themes: list[Ref] = field(default_factory=list)
    via: list[Ref] = field(default_factory=list)
    via_kind: str | None = None
    facts: list["FactItem"] = field(default_factory=list)
    order: int = 0


@dataclass
class FactItem:
    ref: Ref
    value: str
    unit: Text | None
    passages: list[Passage]


@dataclass(frozen=True)
class Citation:
    """A quote that cites a source, and what it is evidence for."""

    ref: Ref
    exact: str
    start: int | None
    end: int | None
    evidence_for: list[Ref]


@dataclass
class DistrictGroup:
    district: Ref
    practices: list[PracticeItem]


def literal_text(value: ox.Literal) -> tuple[Text, str | None]:
    datatype = value.datatype.value if value.datatype else None
    shown = None if value.language or datatype in (None, XSD + "string") else curie(datatype)
    return Text(value.value, value.language), shown


def _int(term: object) -> int | None:
    return int(term.value) if isinstance(term, ox.Literal) else None


def make_passage(desc: Description, linker: Linker, quote: ox.NamedNode, paragraph: ox.NamedNode | None) -> Passage:
    """The quote with the sentence(s) of its paragraph around it (the quote itself verbatim)."""
    exact = desc.literal(quote, OA + "exact")
    start, end = _int(desc.value(quote, OA + "start")), _int(desc.value(quote, OA + "end"))
    ref = linker.ref(quote)
    if exact is None:
        return Passage(ref, "")
    text = paragraph and desc.literal(paragraph, OA + "exact")
    offset = paragraph and _int(desc.value(paragraph, OA + "start"))
    if not text or offset is None or start is None or end is None:
        return Passage(ref, exact.value, start=start, end=end)
    body, lo, hi = text.value, start - offset, end - offset
    if lo < 0 or hi > len(body) or body[lo:hi] != exact.value:
        return Passage(ref, exact.value, start=start, end=end)
    left = max((body.rfind(c, 0, lo) for c in SENTENCE_ENDS), default=-1) + 1
    ends = [i for i in (body.find(c, max(hi - 1, 0)) for c in SENTENCE_ENDS) if i >= 0]
    right = min(ends) + 1 if ends else len(body)
    left, right = max(left, lo - MAX_CONTEXT), min(right, hi + MAX_CONTEXT)
    return Passage(ref, exact.value, body[left:lo], body[hi:right], left > 0, right < len(body), start, end)


def marked_segments(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` cut into (segment, is_marked) with the union of ``spans`` marked."""
    merged: list[list[int]] = []
    for lo, hi in sorted((max(lo, 0), min(hi, len(text))) for lo, hi in spans):
        if lo >= hi:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    segments, cursor = [], 0
    for lo, hi in merged:
        if lo > cursor:
            segments.append((text[cursor:lo], False))
        segments.append((text[lo:hi], True))
        cursor = hi
    if cursor < len(text):
        segments.append((text[cursor:], False))
    return segments


class EntityView:
    """Builds the template context of one entity page from its description."""

    def __init__(self, graph: KnowledgeGraph, iri: str, triples: list[ox.Triple], lang: str) -> None:
        self.graph = graph
        self.node = ox.NamedNode(iri)
        self.desc = Description(triples)
        self.link = Linker(graph, lang, self.desc)
        self.asserted = asserted_triples(graph)
        kind_slug = split_entity_iri(graph, iri)
        assert kind_slug is not None
        self.kind, self.slug = kind_slug

    # ---------------------------------------------------------------- shared parts

    def asserted_objects(self, subject: ox.NamedNode, predicate: str) -> list[ox.NamedNode]:
        return [o for o in self.desc.objects(subject, predicate)
                if isinstance(o, ox.NamedNode) and ox.Triple(subject, ox.NamedNode(predicate), o) in self.asserted]

    def refs(self, nodes: Iterable[object]) -> list[Ref]:
        return [self.link.ref(n) for n in nodes if isinstance(n, ox.NamedNode)]

    def paragraph_of(self, record: ox.NamedNode) -> ox.NamedNode | None:
        district = self.desc.value(record, BJRD + "district")
        if district is None and self.desc.is_a(record, BJRD + "District"):
            district = record
        if not isinstance(district, ox.NamedNode):
            return None
        paragraph = self.desc.value(district, BJRD + "paragraph")
        return paragraph if isinstance(paragraph, ox.NamedNode) else None

    def passages(self, record: ox.NamedNode) -> list[Passage]:
        paragraph = self.paragraph_of(record)
        quotes = [q for q in self.desc.objects(record, BJRD + "evidence") if isinstance(q, ox.NamedNode)]
        found = [make_passage(self.desc, self.link, q, paragraph) for q in quotes]
        return sorted(found, key=lambda p: (p.start if p.start is not None else 1 << 30, p.exact))

    def fact_item(self, fact: ox.NamedNode) -> FactItem:
        value = self.desc.value(fact, SCHEMA + "value")
        unit = (self.desc.literal(fact, SCHEMA + "unitText", self.link.lang)
                or self.desc.literal(fact, SCHEMA + "unitText"))
        return FactItem(self.link.ref(fact), value.value if value is not None else "",
                        Text(unit.value, unit.language) if unit else None, self.passages(fact))

    def practice_item(self, practice: ox.NamedNode, concept: ox.NamedNode | None = None,
                      concept_property: str | None = None) -> PracticeItem:
        passages = self.passages(practice)
        item = PracticeItem(
            self.link.ref(practice), passages,
            district=self.refs(self.desc.objects(practice, BJRD + "district"))[0]
            if self.desc.objects(practice, BJRD + "district") else None,
            mechanisms=self.refs(self.asserted_objects(practice, BJRD + "usesMechanism")),
            themes=self.refs(self.asserted_objects(practice, BJRD + "theme")),
            order=min((p.start for p in passages if p.start is not None), default=1 << 30),
        )
        if concept is not None and concept_property is not None:
            direct = ox.Triple(practice, ox.NamedNode(concept_property), concept) in self.asserted
            if not direct:
                item.via_kind = {BJRD + "usesMechanism": "mechanism", BJRD + "theme": "theme"}.get(
                    concept_property, "topic")
                named = {"mechanism": item.mechanisms, "theme": item.themes}.get(item.via_kind) or \
                    self.refs(self.asserted_objects(practice, concept_property))
                item.via = [r for r in named if r.iri != concept.value]
        facts = [f for f in self.desc.subjects(BJRD + "ofPractice", practice) if isinstance(f, ox.NamedNode)]
        item.facts = [self.fact_item(f) for f in facts]
        return item

    def statements(self) -> list[Statement]:
        rows = []
        for t in self.desc.triples:
            if t.subject != self.node:
                continue
            value: Ref | Text
            datatype = None
            if isinstance(t.object, ox.Literal):
                value, datatype = literal_text(t.object)
            else:
                value = self.link.ref(t.object)
            rows.append(Statement(self.link.ref(self.node), self.link.term(t.predicate.value), value, datatype,
                                  t not in self.asserted))
        return sorted(rows, key=lambda s: (s.predicate.iri != RDF + "type", s.predicate.label.value, str(s.value)))

    def referenced_by(self) -> list[Statement]:
        rows = []
        for t in self.desc.triples:
            if t.object == self.node and t.subject != self.node:
                rows.append(Statement(self.link.ref(t.subject), self.link.term(t.predicate.value),
                                      self.link.ref(self.node), inferred=t not in self.asserted))
        return sorted(rows, key=lambda s: (s.predicate.label.value, s.subject.label.value))

    def context(self) -> dict[str, object]:
        classes = [o for o in self.asserted_objects(self.node, RDF + "type")] or \
            [o for o in self.desc.objects(self.node, RDF + "type") if isinstance(o, ox.NamedNode)]
        base = {
            "kind": self.kind,
            "slug": self.slug,
            "entity": self.link.ref(self.node),
            "classes": [self.link.term(c.value) for c in classes],
            "statements": self.statements(),
            "referenced_by": self.referenced_by(),
        }
        build = getattr(self, f"_{self.kind}", None)
        if build is not None:
            base.update(build())
        return base

    # ---------------------------------------------------------------- one builder per kind

    def _district(self) -> dict[str, object]:
        members = [s for s in self.desc.subjects(BJRD + "district", self.node) if isinstance(s, ox.NamedNode)]
        practices = sorted((self.practice_item(p) for p in members if self.desc.is_a(p, BJRD + "Practice")),
                           key=lambda p: (p.order, p.ref.iri))
        facts = [self.fact_item(f) for f in members if self.desc.is_a(f, BJRD + "Fact")]
        facts.sort(key=lambda f: (min((p.start or 0 for p in f.passages), default=0), f.ref.iri))
        paragraph = self.desc.value(self.node, BJRD + "paragraph")
        segments: list[tuple[str, bool]] = []
        if isinstance(paragraph, ox.NamedNode):
            text = self.desc.literal(paragraph, OA + "exact")
            offset = _int(self.desc.value(paragraph, OA + "start")) or 0
            passages = [p for item in practices for p in item.passages] + [p for f in facts for p in f.passages]
            spans = [(p.start - offset, p.end - offset) for p in passages if p.start is not None and p.end is not None]
            segments = marked_segments(text.value, spans) if text else []
        code = self.desc.literal(self.node, BJRD + "divisionCode")
        congress = self.desc.value(self.node, BJRD + "congress")
        return {
            "code": code.value if code else None,
            "congress": self.link.ref(congress) if isinstance(congress, ox.NamedNode) else None,
            "paragraph": self.link.ref(paragraph) if isinstance(paragraph, ox.NamedNode) else None,
            "segments": segments,
            "practices": practices,
            "facts": facts,
            "mechanisms": self._tally(ref for p in practices for ref in p.mechanisms),
            "themes": self._tally(ref for p in practices for ref in p.themes),
        }

    def _tally(self, refs: Iterable[Ref]) -> list[tuple[Ref, int]]:
        counts: dict[str, int] = defaultdict(int)
        first: dict[str, Ref] = {}
        for ref in refs:
            counts[ref.iri] += 1
            first.setdefault(ref.iri, ref)
        return sorted(((first[i], n) for i, n in counts.items()), key=lambda x: (-x[1], x[0].label.value))

    def _concept(self, link_property: str) -> dict[str, object]:
        users = [s for s in self.desc.subjects(link_property, self.node)
                 if isinstance(s, ox.NamedNode) and self.desc.is_a(s, BJRD + "Practice")]
        items = [self.practice_item(p, self.node, link_property) for p in users]
        groups: dict[str, list[PracticeItem]] = defaultdict(list)
        districts: dict[str, Ref] = {}
        for item in items:
            if item.district is not None:
                groups[item.district.iri].append(item)
                districts[item.district.iri] = item.district
        ordered = sorted(groups, key=lambda d: min(i.order for i in groups[d]))
        desc, node = self.desc, self.node

        def texts(predicate: str) -> list[Text]:
            return [Text(v.value, v.language) for v in desc.objects(node, predicate) if isinstance(v, ox.Literal)]

        return {
            "pref": texts(SKOS + "prefLabel"),
            "alt": texts(SKOS + "altLabel"),
            "definitions": texts(SKOS + "definition"),
            "broader": self.refs(desc.objects(node, SKOS + "broader")),
            "narrower": self.refs(desc.objects(node, SKOS + "narrower")),
            "schemes": self.refs(desc.objects(node, SKOS + "inScheme")),
            "kinds": self.refs(o for p in (BJRD + "mechanismKind", BJRD + "topicKind") for o in desc.objects(node, p)),
            "groups": [DistrictGroup(districts[d], sorted(groups[d], key=lambda i: (i.order, i.ref.iri)))
                       for d in ordered],
            "practice_count": len(items),
            "co_mechanisms": self._tally(r for i in items for r in i.mechanisms if r.iri != node.value),
            "co_themes": self._tally(r for i in items for r in i.themes if r.iri != node.value),
        }

    def _mechanism(self) -> dict[str, object]:
        return self._concept(BJRD + "usesMechanism")

    def _theme(self) -> dict[str, object]:
        return self._concept(BJRD + "theme")

    def _topic(self) -> dict[str, object]:
        return self._concept(BJRD + "supervisesTopic")

    def _practice(self) -> dict[str, object]:
        item = self.practice_item(self.node)
        mechanisms = self.refs(self.desc.objects(self.node, BJRD + "usesMechanism"))
        themes = self.refs(self.desc.objects(self.node, BJRD + "theme"))
        asserted_m = {r.iri for r in item.mechanisms}
        asserted_t = {r.iri for r in item.themes}
        return {
            "practice": item,
            "broader_mechanisms": [r for r in mechanisms if r.iri not in asserted_m],
            "broader_themes": [r for r in themes if r.iri not in asserted_t],
        }

    def _fact(self) -> dict[str, object]:
        item = self.fact_item(self.node)
        practice = self.desc.value(self.node, BJRD + "ofPractice")
        district = self.desc.value(self.node, BJRD + "district")
        minimum = self.desc.value(self.node, SCHEMA + "minValue")
        return {
            "fact": item,
            "practice": self.link.ref(practice) if isinstance(practice, ox.NamedNode) else None,
            "district": self.link.ref(district) if isinstance(district, ox.NamedNode) else None,
            "min_value": minimum.value if minimum is not None else None,
        }

    def _quote(self) -> dict[str, object]:
        records = [s for s in self.desc.subjects(BJRD + "evidence", self.node) if isinstance(s, ox.NamedNode)]
        paragraph = next((p for p in (self.paragraph_of(r) for r in records) if p is not None), None)
        passage = make_passage(self.desc, self.link, self.node, paragraph)
        source = self.desc.value(self.node, DCTERMS + "source")
        excerpt = passage.exact if len(passage.exact) <= 40 else passage.exact[:40] + "…"
        entity = self.link.ref(self.node)
        if entity.label.lang is None and excerpt:
            wrapped = excerpt.startswith("“")  # opens with a quotation mark: another one would double it
            entity = Ref(entity.iri, entity.href, Text(excerpt if wrapped else f"“{excerpt}”", "zh"))
        return {"entity": entity, "passage": passage, "evidence_for": self.refs(records),
                "source": self.link.ref(source) if isinstance(source, ox.NamedNode) else None}

    def _source(self) -> dict[str, object]:
        """The article: its author, issue and text file, and every quote that cites it, in article order."""
        quotes = [q for q in self.desc.subjects(DCTERMS + "source", self.node) if isinstance(q, ox.NamedNode)]
        citations = []
        for quote in quotes:
            exact = self.desc.literal(quote, OA + "exact")
            users = [u for p in (BJRD + "evidence", BJRD + "paragraph")
                     for u in self.desc.subjects(p, quote) if isinstance(u, ox.NamedNode)]
            citations.append(Citation(self.link.ref(quote), exact.value if exact else "",
                                      _int(self.desc.value(quote, OA + "start")),
                                      _int(self.desc.value(quote, OA + "end")), self.refs(users)))
        citations.sort(key=lambda c: (c.start if c.start is not None else 1 << 30, c.ref.iri))
        return {
            "authors": self.refs(self.desc.objects(self.node, SCHEMA + "author")),
            "issues": self.refs(self.desc.objects(self.node, DCTERMS + "isPartOf")),
            "texts": self.refs(self.desc.objects(self.node, SCHEMA + "encoding")),
            "citations": citations,
            "cited_records": len({r.iri for c in citations for r in c.evidence_for}),
            # The quotes are listed above, with their text: not again as bare links.
            "referenced_by": [s for s in self.referenced_by() if s.predicate.iri != DCTERMS + "source"],
        }
