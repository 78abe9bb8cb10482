"""A reviewed draft -> the statements to publish (``POST /api/drafts/publish``, the /curate page).

The request holds the article's text and only what the curator kept: practices (each with its
district, Chinese and English labels, themes) and, inside each, the mechanism and topic links, facts
and dates accepted or edited, and those the curator added by selecting text. Before any triple is
made, every quote is checked against the text at its offsets (``text[start:end] == quote``, code
points; a link's, fact's or date's must lie inside its practice's), and every id named is looked up
in the graph served now; what fails is a 422 listing each problem with the ``key`` of the
proposal it concerns, so the page can show it there.

The statements are those of the ontology (as ``kg draft --format turtle`` writes them), plus the
source itself (title, issue, and its text with its SHA-256, so quotes stay checkable against it) and
PROV: every statement ``prov:wasGeneratedBy`` a drafting activity naming its rule and confidence
(``curator`` for what the curator added), ``prov:wasAttributedTo`` the writer (the token's id, as
the write audit trail names it) and ``dcterms:dateAccepted`` when; a review activity associates the
writer with the publication. The SHACL gate of the write path then decides (app/routers/curate.py).
"""

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from pydantic import BaseModel, Field

from app.config import Settings
from app.draft.model import SourceInfo
from app.rdf.namespaces import BJRD, DCTERMS, OA, PROV, RDF, RDF_TYPE, RDFS, SCHEMA, SKOS, XSD
from app.rdf.source_text import text_sha256
from app.review.drafts import SourceMeta, Unprocessable, check_source, check_text, max_text_bytes

#: At most this many practices in one publication (a district paragraph has a dozen).
MAX_PRACTICES = 5_000
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
DATE_LEXICAL = {XSD + "gYear": r"\d{4}", XSD + "gYearMonth": r"\d{4}-(0[1-9]|1[0-2])",
                XSD + "date": r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", XSD + "time": r"([01]\d|2[0-3]):[0-5]\d"}


class Quoted(BaseModel):
    key: str = Field(max_length=200, description="The page's name for this proposal, echoed in errors")
    quote: str
    start: int
    end: int
    rule: str = Field("curator", max_length=100, description="The drafting rule, or curator for one added")
    confidence: float | None = None  # checked in Publication: a validation error echoing NaN cannot be sent
    note: str = Field("", max_length=2000, description="What the curator changed, in words")


class ConceptDecision(Quoted):
    id: str | None = Field(None, description="An existing mechanism/topic id, or null for a new one")
    label: str = Field("", max_length=200, description="zh label (a new concept's preferred label)")
    label_en: str = Field("", max_length=200)
    definition_zh: str = Field("", max_length=2000)
    definition_en: str = Field("", max_length=2000)
    broader: str | None = None


class FactDecision(Quoted):
    value: int | float = Field(description="The number, as the text means it")
    unit: str = Field(max_length=20, description="The measure word, one of the ontology's units (个, 名, 项 …)")
    counts: str = Field("", max_length=200, description="What it counts, zh")
    counts_en: str = Field("", max_length=200)


class DateDecision(Quoted):
    value: str = Field(max_length=20)
    datatype: str
    role: str = Field("date", pattern="^(date|start|end)$")


class PracticeDecision(Quoted):
    district: str
    label_zh: str = Field("", max_length=2000)
    label_en: str = Field("", max_length=2000)
    themes: list[str] = Field(default_factory=list, max_length=20)
    mechanisms: list[ConceptDecision] = Field(default_factory=list, max_length=100)
    topics: list[ConceptDecision] = Field(default_factory=list, max_length=100)
    facts: list[FactDecision] = Field(default_factory=list, max_length=100)
    dates: list[DateDecision] = Field(default_factory=list, max_length=20)


class PublishRequest(BaseModel):
    source: SourceMeta
    text: str = Field(description="The article's text, as drafted (at most KG_MAX_LITERAL_BYTES bytes as UTF-8, "
                                  "413 above: it is written as one literal)")
    practices: list[PracticeDecision] = Field(max_length=MAX_PRACTICES)


class Refused(Unprocessable):
    """Problems found before the write: each with the ``key`` of the proposal it concerns."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the reviewed draft; nothing was written")
        self.problems = problems


@dataclass(frozen=True)
class Vocabulary:
    """What the graph served now holds, that a publication may point at."""

    districts: frozenset[str]
    mechanisms: frozenset[str]
    topics: frozenset[str]
    themes: frozenset[str]
    #: a unit's zh labels -> (its IRI, its en label)
    units: dict[str, tuple[str, str]] = field(default_factory=dict)


def stamp(when: datetime) -> str:
    """``when`` (UTC) as xsd:dateTime in its canonical form: 2021-01-05T09:30:00Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def source_graph(base_iri: str, source_id: str) -> str:
    return f"{base_iri}/graph/source/{source_id}"


def _literal(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


def _number(value: int | float) -> ox.Literal:
    if isinstance(value, int):
        return _literal(str(value), XSD + "integer")
    return _literal(format(Decimal(repr(value)), "f"), XSD + "decimal")


class Publication:
    """The triples of one publication, and which proposal each node came from (for the 422)."""

    def __init__(self, request: PublishRequest, vocabulary: Vocabulary, settings: Settings, writer: str,
                 when: datetime) -> None:
        self.request, self.vocabulary, self.base = request, vocabulary, settings.base_iri.rstrip("/")
        self.text = check_text(request.text, max_text_bytes(settings))
        self.info: SourceInfo = check_source(request.source)
        self.writer = ox.NamedNode(writer)
        self.when = _literal(stamp(when), XSD + "dateTime")
        self.triples: list[ox.Triple] = []
        self.keys: dict[str, str] = {}  # node IRI -> proposal key
        self.problems: list[dict[str, str]] = []
        self.source = self.iri("source", self.info.id)
        self.text_node = self.iri("source", f"{self.info.id}-text")
        self.review = self.iri("review", self.info.id)
        self.new_concepts: dict[tuple[str, str], ox.NamedNode] = {}

    def iri(self, kind: str, slug: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}/id/{kind}/{slug}")

    def add(self, s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        self.triples.append(ox.Triple(s, ox.NamedNode(p), o))

    def problem(self, key: str, what: str) -> None:
        self.problems.append({"key": key, "message": what})

    # -- checks ---------------------------------------------------------------------------------

    def inside(self, q: Quoted, practice: Quoted) -> bool:
        """A link's, fact's or date's quote lies in its practice's: the practice's own evidence."""
        if practice.start <= q.start and q.end <= practice.end:
            return self.verbatim(q)
        self.problem(q.key, f"the quote at {q.start}–{q.end} lies outside its practice ({practice.start}–"
                            f"{practice.end}): select it inside the practice, or add a practice for it")
        return False

    def numbers(self, q: Quoted) -> bool:
        """A fact's value a finite number, a confidence one between 0 and 1."""
        value = getattr(q, "value", 0)
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(q.key, f"value {value}: not a number a fact can state")
            return False
        if q.confidence is not None and not 0 <= q.confidence <= 1:  # NaN fails this too
            self.problem(q.key, f"confidence {q.confidence}: expected a number from 0 to 1")
            return False
        return True

    def verbatim(self, q: Quoted) -> bool:
        if not self.numbers(q):
            return False
        if not 0 <= q.start < q.end <= len(self.text):
            self.problem(q.key, f"offsets {q.start}–{q.end} are outside the text (0–{len(self.text)})")
            return False
        found = self.text[q.start:q.end]
        if found != q.quote:
            self.problem(q.key, f"the quote is not the text at {q.start}–{q.end}: the text there is "
                                f"“{found[:60]}”, the quote “{q.quote[:60]}”")
            return False
        return True

    # -- statements -----------------------------------------------------------------------------

    def build(self) -> list[ox.Triple]:
        """Every statement, or :class:`Refused` listing what cannot be published as sent."""
        self.write_source()
        numbers: dict[str, int] = defaultdict(int)
        for p in sorted(self.request.practices, key=lambda p: (p.start, p.end)):
            if p.district not in self.vocabulary.districts:
                self.problem(p.key, f"district {p.district!r} is not a district of the graph")
                continue
            numbers[p.district] += 1
            self.practice(p, f"{self.info.id}-{p.district}-{numbers[p.district]}")
        if self.problems:
            raise Refused(self.problems)
        return self.triples

    def write_source(self) -> None:
        i, text = self.info, self.text
        self.add(self.source, RDF_TYPE, ox.NamedNode(SCHEMA + "Article"))
        self.add(self.source, RDF_TYPE, ox.NamedNode(DCTERMS + "BibliographicResource"))
        self.add(self.source, RDF_TYPE, ox.NamedNode(PROV + "Entity"))
        self.add(self.source, DCTERMS + "title", ox.Literal(i.title, language="zh"))
        self.add(self.source, DCTERMS + "issued", _literal(i.issued, XSD + "gYearMonth"))
        self.add(self.source, DCTERMS + "language", ox.Literal("zh"))
        self.add(self.source, SCHEMA + "encoding", self.text_node)
        t = self.text_node
        self.add(t, RDF_TYPE, ox.NamedNode(SCHEMA + "MediaObject"))
        self.add(t, RDF_TYPE, ox.NamedNode(PROV + "Entity"))
        self.add(t, DCTERMS + "format", ox.Literal("text/plain; charset=utf-8"))
        self.add(t, SCHEMA + "text", ox.Literal(text))
        self.add(t, SCHEMA + "sha256", ox.Literal(text_sha256(text)))
        self.add(t, SCHEMA + "contentSize", ox.Literal(f"{len(text)} characters"))
        self.add(t, PROV + "wasDerivedFrom", self.source)
        r = self.review
        self.add(r, RDF_TYPE, ox.NamedNode(PROV + "Activity"))
        self.add(r, RDFS + "label", ox.Literal(f"审阅并发布 {i.id}", language="zh"))
        self.add(r, RDFS + "label", ox.Literal(f"review and publication of {i.id} on /curate", language="en"))
        self.add(r, PROV + "used", t)
        self.add(r, PROV + "wasAssociatedWith", self.writer)
        self.add(r, PROV + "endedAtTime", self.when)
        self.add(self.writer, RDF_TYPE, ox.NamedNode(PROV + "Agent"))

    def provenance(self, node: ox.NamedNode, q: Quoted, slug: str) -> None:
        """``node`` was drafted by ``q.rule`` (with its confidence), accepted by the writer, now."""
        self.keys[node.value] = q.key
        activity = self.iri("drafting", slug)
        self.add(node, PROV + "wasGeneratedBy", activity)
        self.add(node, PROV + "wasAttributedTo", self.writer)
        self.add(node, DCTERMS + "dateAccepted", self.when)
        self.add(activity, RDF_TYPE, ox.NamedNode(PROV + "Activity"))
        self.add(activity, PROV + "used", self.text_node)
        self.add(activity, PROV + "wasInformedBy", self.review)
        if q.rule == "curator":
            self.add(activity, RDFS + "label", ox.Literal("added by the curator", language="en"))
        else:
            sure = "" if q.confidence is None else f", confidence {round(q.confidence, 3)}"
            self.add(activity, RDFS + "label", ox.Literal(f"kg draft rule {q.rule}{sure}", language="en"))
        self.add(activity, SKOS + "notation", ox.Literal(q.rule))  # the rule, as the draft names it
        if q.confidence is not None:
            self.add(activity, RDF + "value", _number(round(q.confidence, 3)))  # the rule's confidence
        if q.note.strip():
            self.add(node, SKOS + "editorialNote", ox.Literal(q.note.strip(), language="en"))

    def quote(self, slug: str, q: Quoted) -> ox.NamedNode:
        node = self.iri("quote", slug)
        self.add(node, RDF_TYPE, ox.NamedNode(BJRD + "Quote"))
        self.add(node, OA + "exact", ox.Literal(q.quote))
        self.add(node, OA + "start", _literal(str(q.start), XSD + "integer"))
        self.add(node, OA + "end", _literal(str(q.end), XSD + "integer"))
        self.add(node, DCTERMS + "source", self.source)
        self.provenance(node, q, slug)
        return node

    def practice(self, p: PracticeDecision, slug: str) -> None:
        if not self.verbatim(p):
            return
        node = self.iri("practice", slug)
        self.add(node, RDF_TYPE, ox.NamedNode(BJRD + "Practice"))
        self.add(node, RDFS + "label", ox.Literal((p.label_zh or p.quote).strip(), language="zh"))
        if p.label_en.strip():
            self.add(node, RDFS + "label", ox.Literal(p.label_en.strip(), language="en"))
        self.add(node, BJRD + "district", self.iri("district", p.district))
        self.add(node, BJRD + "evidence", self.quote(slug, p))
        self.provenance(node, p, slug)
        for theme in p.themes:
            if theme in self.vocabulary.themes:
                self.add(node, BJRD + "theme", self.iri("theme", theme))
            else:
                self.problem(p.key, f"theme {theme!r} is not a theme of the graph")
        for kind, prop, links in (("mechanism", "usesMechanism", p.mechanisms), ("topic", "supervisesTopic", p.topics)):
            for i, c in enumerate(links, 1):
                target = self.concept(c, kind)
                if target is None or not self.inside(c, p):
                    continue
                self.add(node, BJRD + prop, target)
                self.add(node, BJRD + "evidence", self.quote(f"{slug}-{kind}-{i}", c))
        for i, f in enumerate(p.facts, 1):
            if self.inside(f, p):
                self.fact(f"{slug}-fact-{i}", f, node, p.district)
        for d in p.dates:
            if self.inside(d, p):
                self.date(node, d)

    def concept(self, c: ConceptDecision, kind: str) -> ox.NamedNode | None:
        known = self.vocabulary.mechanisms if kind == "mechanism" else self.vocabulary.topics
        if c.id is not None:
            if c.id not in known:
                self.problem(c.key, f"{kind} {c.id!r} is not a {kind} of the graph (leave the id empty for a new one)")
                return None
            return self.iri(kind, c.id)
        label = c.label.strip()
        if not label:
            self.problem(c.key, f"a new {kind} needs its Chinese label")
            return None
        key = (kind, label)
        if key not in self.new_concepts:
            slug = f"{self.info.id}-{kind}-{len([k for k in self.new_concepts if k[0] == kind]) + 1}"
            node = self.iri(kind, slug)
            self.new_concepts[key] = node
            scheme, cls, kind_prop = (("mechanisms", "Mechanism", "mechanismKind") if kind == "mechanism"
                                      else ("topics", "SupervisionTopic", "topicKind"))
            self.add(node, RDF_TYPE, ox.NamedNode(BJRD + cls))
            self.add(node, SKOS + "prefLabel", ox.Literal(label, language="zh"))
            if c.label_en.strip():
                self.add(node, SKOS + "prefLabel", ox.Literal(c.label_en.strip(), language="en"))
            for text, lang in ((c.definition_zh, "zh"), (c.definition_en, "en")):
                if text.strip():
                    self.add(node, SKOS + "definition", ox.Literal(text.strip(), language=lang))
            self.add(node, SKOS + "inScheme", self.iri("scheme", scheme))
            self.add(node, BJRD + kind_prop, ox.NamedNode(BJRD + "Named"))
            if c.broader:
                if c.broader in known:
                    self.add(node, SKOS + "broader", self.iri(kind, c.broader))
                else:
                    self.problem(c.key, f"broader {kind} {c.broader!r} is not a {kind} of the graph")
            self.provenance(node, c, slug)
        return self.new_concepts[key]

    def fact(self, slug: str, f: FactDecision, practice: ox.NamedNode, district: str) -> None:
        node = self.iri("fact", slug)
        self.add(node, RDF_TYPE, ox.NamedNode(BJRD + "Fact"))
        self.add(node, RDFS + "label", ox.Literal((f.counts or f.quote).strip(), language="zh"))
        if f.counts_en.strip():
            self.add(node, RDFS + "label", ox.Literal(f.counts_en.strip(), language="en"))
        self.add(node, SCHEMA + "value", _number(f.value))
        unit = self.vocabulary.units.get(f.unit.strip())
        self.add(node, SCHEMA + "unitText", ox.Literal(f.unit.strip(), language="zh"))
        if unit is not None:  # else the shapes say the unit is not one of the list (S05)
            self.add(node, BJRD + "unit", ox.NamedNode(unit[0]))
            self.add(node, SCHEMA + "unitText", ox.Literal(unit[1], language="en"))
        self.add(node, BJRD + "ofPractice", practice)
        self.add(node, BJRD + "district", self.iri("district", district))
        self.add(node, BJRD + "evidence", self.quote(slug, f))
        self.provenance(node, f, slug)

    def date(self, practice: ox.NamedNode, d: DateDecision) -> None:
        pattern = DATE_LEXICAL.get(d.datatype)
        if pattern is None or not re.fullmatch(pattern, d.value):
            self.problem(d.key, f"date {d.value!r}: expected YYYY (xsd:gYear), YYYY-MM, YYYY-MM-DD or HH:MM")
            return
        if d.datatype == XSD + "time":
            self.add(practice, SCHEMA + "startTime", _literal(d.value + ":00", d.datatype))
            return
        prop = {"start": SCHEMA + "startDate", "end": SCHEMA + "endDate"}.get(d.role, DCTERMS + "date")
        self.add(practice, prop, _literal(d.value, d.datatype))


def publication(request: PublishRequest, vocabulary: Vocabulary, settings: Settings, writer: str,
                when: datetime) -> tuple[list[ox.Triple], dict[str, str]]:
    """The triples to write into the source's graph, and node IRI -> proposal key; or :class:`Refused`
    (413 for a text over :func:`~app.review.drafts.max_text_bytes`, before anything is made)."""
    pub = Publication(request, vocabulary, settings, writer, when)
    return pub.build(), pub.keys


def violations(results: list[dict[str, str]], keys: dict[str, str]) -> list[dict[str, Any]]:
    """The SHACL report's results in plain words, each with the key of the proposal it concerns."""
    return [{"key": keys.get(r["focus"]), "focus": r["focus"], "path": r["path"],
             "message": r["message_en"], "message_zh": r["message_zh"]} for r in results]
