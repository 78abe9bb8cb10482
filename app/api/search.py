"""/api/search: find entities by their labels, definitions, quotes and district paragraphs.

The index is SQLite's FTS5 (in the standard library's ``sqlite3``): one row per entity, a column per
field (label and synonyms, definition, quote, district paragraph) and one for its context (the
district's names; a fact's value and unit), built once per graph version, off the event loop, in
memory. FTS5 does the retrieval (boolean queries, phrases, prefixes) and the relevance (bm25); this
module only cuts texts into tokens and builds a query from the words of the search text:

- Chinese has no spaces: each run of CJK characters is indexed as its overlapping bigrams plus its
  last character, and a Chinese term matches as a substring (a phrase of its bigrams; one character:
  a prefix). The query is folded from traditional to simplified characters first (OpenCC ``t2s``:
  預算 finds 预算, 代表之傢 finds 代表之家).
- Latin words and numbers are indexed by word form (``stem``: plural, -ing, -ed, final -e), and a
  term matches a word starting with it (``inspec`` finds inspection; numbers and terms of one or two
  letters match whole words only).
- Every term must match (AND, any order): ``deputy liaison station`` finds "Deputies' homes and
  liaison stations", ``代表 预算`` the practices naming both. At least one term must match the
  entity's own texts (the context only narrows: ``海淀`` alone does not list every Haidian practice).
  When no entity has every term, those with some are listed, most terms first, and ``every_term``
  is false (``月进站 海淀``: the article never names the visits in Haidian).
- A text that is a Chinese label of a mechanism, theme or topic also finds that concept's other
  Chinese names (街道 also finds 街乡 and 镇街; 代表之家 finds 家站): ``variants``.
- Nothing found: a Latin word no indexed word starts is replaced by the closest (difflib, ratio ≥ 0.75;
  ``budjet`` → budget), a Chinese term found nowhere by the closest name of a district or concept
  (ratio ≥ 0.65; 代表连络站 → 代表联络站), and the result, named in ``did_you_mean``, searched instead.

Each literal is indexed and searched up to ``MAX_INDEXED`` characters (a huge label costs no more than
a long one). Ranking, one hit per entity: exact label (the label equals the text searched), then the
field of the best match (label, definition, quote, paragraph), type (district, mechanism, theme, topic,
practice, fact), bm25 and id. The snippet is the matching text with the first match marked
«like this» and at most ``CONTEXT`` characters either side, cuts marked with ….
"""

import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import get_close_matches

from app.api.answers import label
from app.api.catalog import Catalog, Fact, LabelText, Text, memoized
from app.api.search_models import BestMatch, SearchHit, SearchResults
from app.api.search_text import (  # noqa: F401  (WORD, stem: the search page's too)
    CJK,
    LATIN,
    MAX_INDEXED,
    TERM,
    WORD,
    find_span,
    simplified,
    stem,
    term_query,
    terms_of,
    tokens,
)

CONTEXT = 30
FIELDS = ("label", "definition", "quote", "paragraph")
FIELD_RANK = {"label": 1, "definition": 2, "quote": 3, "paragraph": 4}
TYPE_RANK = {"district": 0, "mechanism": 1, "theme": 2, "topic": 3, "practice": 4, "fact": 5}
QUOTES = "“”‘’\"'《》「」"
#: bm25 weights of the columns: label, definition, quote, paragraph, context.
WEIGHTS = (10.0, 4.0, 2.0, 1.0, 0.5)

@dataclass(frozen=True)
class Entity:
    iri: str
    label: LabelText
    district: str | None


@dataclass
class Index:
    """The FTS5 index of one catalog: entity keys by row, their texts by field, the words of the index."""

    db: sqlite3.Connection
    keys: list[tuple[str, str]]
    texts: dict[tuple[str, str], list[Text]]
    words: dict[str, str]  # stem -> a word of the texts with that stem (lower case)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def match(self, expression: str) -> list[tuple[int, float]]:
        with self.lock:
            return self.db.execute("SELECT rowid, bm25(docs, ?, ?, ?, ?, ?) FROM docs WHERE docs MATCH ?",
                                   (*WEIGHTS, expression)).fetchall()


@memoized(8)
def entities(catalog: Catalog) -> dict[tuple[str, str], Entity]:
    index: dict[tuple[str, str], Entity] = {}
    index.update({("district", d.id): Entity(d.iri, d.label, d.id) for d in catalog.districts.values()})
    index.update({("mechanism", m.id): Entity(m.iri, m.label, None) for m in catalog.mechanisms.values()})
    index.update({("theme", t.id): Entity(t.iri, t.label, None) for t in catalog.themes.values()})
    index.update({("topic", t.id): Entity(t.iri, t.label, None) for t in catalog.topics.values()})
    index.update({("practice", p.id): Entity(p.iri, p.label, p.district) for p in catalog.practices.values()})
    index.update({("fact", f.id): Entity(f.iri, f.label, f.district) for f in catalog.facts})
    return index


def context_of(catalog: Catalog, kind: str, entity: Entity, fact: Fact | None) -> str:
    """What narrows an entity without being its own text: its district's names; a fact's value and unit."""
    parts = []
    if entity.district is not None and kind != "district" and entity.district in catalog.districts:
        district = catalog.districts[entity.district]
        parts += [district.label.zh, district.label.en]
    if fact is not None:
        parts += [str(fact.value), fact.unit.zh, fact.unit.en]
    return " ".join(parts)


@memoized(1)
def search_index(catalog: Catalog) -> Index:
    """The FTS5 index of the catalog's texts (built once per graph version, by the first search)."""
    known = entities(catalog)
    texts: dict[tuple[str, str], list[Text]] = {}
    for text in catalog.texts:
        key = (text.type, text.entity)
        if key in known and text.field in FIELD_RANK:
            texts.setdefault(key, []).append(text)
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(label, definition, quote, paragraph, context, "
               "tokenize = 'unicode61 remove_diacritics 2')")
    keys = sorted(texts)
    facts = {f.id: f for f in catalog.facts}
    words: dict[str, str] = {}
    rows = []
    for key in keys:
        by_field = {f: " ".join(tokens(t.text) for t in texts[key] if t.field == f) for f in FIELDS}
        fact = facts.get(key[1]) if key[0] == "fact" else None
        rows.append((*(by_field[f] for f in FIELDS), tokens(context_of(catalog, key[0], known[key], fact))))
        for t in texts[key]:
            for w in WORD.findall(t.text[:MAX_INDEXED]):
                if LATIN.search(w):
                    words.setdefault(stem(w), w.lower())
    db.executemany("INSERT INTO docs (rowid, label, definition, quote, paragraph, context) VALUES (?, ?, ?, ?, ?, ?)",
                   [(i, *row) for i, row in enumerate(rows)])
    return Index(db, keys, texts, words)


#: The name the build of a write's derived answers calls (app.ld.staged).
stemmed_texts = search_index


@memoized(8)
def concept_labels(catalog: Catalog) -> dict[str, frozenset[str]]:
    """Chinese label -> every Chinese label (no Latin letter in it) of the mechanisms, themes and topics that have
    it."""
    labels: dict[tuple[str, str], set[str]] = {}
    for text in catalog.texts:
        if text.type in ("mechanism", "theme", "topic") and text.field == "label" and not LATIN.search(text.text):
            labels.setdefault((text.type, text.entity), set()).add(text.text.strip())
    variants: dict[str, set[str]] = {}
    for names in labels.values():
        for name in names:
            variants.setdefault(name.casefold(), set()).update(names)
    return {name: frozenset(found) for name, found in variants.items()}


def variants_of(catalog: Catalog, q: str) -> tuple[str, ...]:
    """The other Chinese names of ``q`` (in simplified characters; sorted): the labels of every concept
    labelled ``q``, except ``q`` itself in quotation marks (“月进站” is found wherever 月进站 is)."""
    q = simplified(q.strip())
    names = concept_labels(catalog).get(q.casefold(), frozenset())
    return tuple(sorted(n for n in names if n.strip(QUOTES) != q))


def expression(q: str, variants: Iterable[str], every: bool = True) -> str | None:
    """The FTS5 query for ``q`` (every term, or with ``every`` false any) or any of its variants, at least one
    term in the entity's own texts."""
    alternatives = [terms_of(text) for text in (q, *variants)]
    alternatives = [terms for terms in alternatives if terms]
    if not alternatives:
        return None
    joined = " AND " if every else " OR "
    each = " OR ".join("(" + joined.join(term_query(t) for t in terms) + ")" for terms in alternatives)
    some = " OR ".join(term_query(t) for terms in alternatives for t in terms)
    return f"({each}) AND ({{{' '.join(FIELDS)}}} : ({some}))"


def snippet(text: str, start: int, end: int) -> str:
    before = text[max(0, start - CONTEXT):start]
    after = text[end:end + CONTEXT]
    head = "…" if start > CONTEXT else ""
    tail = "…" if end + CONTEXT < len(text) else ""
    return f"{head}{before}«{text[start:end]}»{after}{tail}"


@dataclass(frozen=True)
class Found:
    hits: tuple[SearchHit, ...]
    query: str
    every_term: bool
    did_you_mean: str | None
    variants: tuple[str, ...]
    best_match: BestMatch | None


def hits_for(catalog: Catalog, q: str, variants: tuple[str, ...], every: bool = True) -> tuple[SearchHit, ...]:
    """The hits of ``q`` (or a variant): of every term, or with ``every`` false of some, most terms first."""
    index, known = search_index(catalog), entities(catalog)
    query = expression(q, variants, every)
    if query is None:
        return ()
    terms = terms_of(q) + [t for v in variants for t in terms_of(v)]
    needles = [q, *variants, *(t for t in terms if CJK.match(t))]
    stems = [stem(t) for t in terms if not CJK.match(t)]
    facts = {f.id: f for f in catalog.facts}
    ranked = []
    for row, score in index.match(query):
        key = index.keys[row]
        best: tuple[int, Text, tuple[int, int]] | None = None
        for text in sorted(index.texts[key], key=lambda t: FIELD_RANK[t.field]):
            short = text.field == "label" and len(text.text) <= MAX_INDEXED
            rank = 0 if short and text.text.strip().casefold() == q.casefold() else FIELD_RANK[text.field]
            if best is not None and best[0] <= rank:
                continue
            span = find_span(text.text, needles, stems)
            if span is not None:
                best = (rank, text, span)
        if best is not None:
            missing = 0 if every else sum(1 for t in terms_of(q) if not any(
                find_span(x.text, [t] if CJK.match(t) else [], [] if CJK.match(t) else [stem(t)])
                for x in index.texts[key]))
            ranked.append(((missing, best[0], TYPE_RANK[key[0]], score, key[1]), key, best))
    hits = []
    for _, (kind, entity_id), (_rank, text, (start, end)) in sorted(ranked, key=lambda r: r[0]):
        entity = known[(kind, entity_id)]
        fact = facts.get(entity_id) if kind == "fact" else None
        hits.append(SearchHit.model_validate({
            "type": kind, "id": entity_id, "iri": entity.iri, "label": label(entity.label),
            "district": entity.district, "field": text.field, "snippet": snippet(text.text[:MAX_INDEXED], start, end),
            "value": fact.value if fact else None, "unit": label(fact.unit) if fact else None,
        }))
    return tuple(hits)


def correction(catalog: Catalog, q: str) -> str | None:
    """``q`` with each Latin word no indexed word starts with replaced by the closest one (ratio ≥ 0.75), and
    each Chinese term found nowhere by the closest name of a district or concept (ratio ≥ 0.65: 代表连络站 ->
    代表联络站); None if nothing changed."""
    index = search_index(catalog)
    words, vocabulary = index.words, list(index.words)
    chinese = [n for n in names(catalog) if CJK.match(n) and not LATIN.search(n)]
    changed = False

    def fix(m: re.Match[str]) -> str:
        nonlocal changed
        term = m.group()
        if CJK.match(term):
            close = [] if len(term) < 2 or index.match(term_query(term)) else get_close_matches(
                term, chinese, n=1, cutoff=0.65)
            fixed = close[0] if close else term
        else:
            s = stem(term)
            known = not LATIN.search(s) or any(w.startswith(s) for w in vocabulary)
            close = [] if known else get_close_matches(s, vocabulary, n=1, cutoff=0.75)
            fixed = words[close[0]] if close else term
        changed = changed or fixed != term
        return fixed

    fixed = TERM.sub(fix, q)
    return fixed if changed else None


@memoized(1)
def names(catalog: Catalog) -> dict[str, tuple[str, str]]:
    """Each label of a district, mechanism, theme or topic (quotation marks aside, case folded; at most
    ``MAX_INDEXED`` characters) -> the (type, id) it names first (districts, then mechanisms, themes, topics)."""
    named: dict[str, tuple[int, str, str]] = {}
    for t in catalog.texts:
        if t.field == "label" and t.type in ("district", "mechanism", "theme", "topic") and len(t.text) <= MAX_INDEXED:
            key, value = t.text.strip().strip(QUOTES).casefold(), (TYPE_RANK[t.type], t.type, t.entity)
            named[key] = min(named.get(key, value), value)
    return {key: (kind, entity_id) for key, (_, kind, entity_id) in named.items()}


def best_match(catalog: Catalog, q: str) -> BestMatch | None:
    """The district, mechanism, theme or topic one of whose labels is ``q`` (quotation marks aside)."""
    named = names(catalog).get(q.strip().strip(QUOTES).casefold())
    if named is None:
        return None
    kind, entity_id = named
    concept = {"mechanism": catalog.mechanisms, "theme": catalog.themes, "topic": catalog.topics}.get(kind, {})
    users = {"mechanism": catalog.mechanism_districts, "theme": catalog.theme_districts,
             "topic": catalog.topic_districts}.get(kind, {entity_id: (entity_id,)})
    entity = entities(catalog)[(kind, entity_id)]
    definition = concept[entity_id].definition if entity_id in concept else None
    return BestMatch(type=kind, id=entity_id, iri=entity.iri, label=label(entity.label),
                     definition=label(definition) if definition else None, districts=list(users.get(entity_id, ())))


@memoized(1024)
def found(catalog: Catalog, q: str) -> Found:
    """Everything a search for ``q`` answers, of every type (``q``: as given)."""
    text = simplified(q.strip())
    variants = variants_of(catalog, text)
    hits = hits_for(catalog, text, variants)
    did_you_mean, every = None, True
    fixed = None if hits else correction(catalog, text)
    if fixed is not None:
        hits = hits_for(catalog, fixed, variants_of(catalog, fixed))
    if not hits and len(terms_of(text)) > 1:  # some of the terms (corrected, if any was)
        every = False
        hits = hits_for(catalog, fixed or text, variants if fixed is None else (), every=False)
    if hits and fixed is not None:
        did_you_mean = text = fixed
        variants = variants_of(catalog, fixed)
    return Found(hits, text, every, did_you_mean, variants, best_match(catalog, text))


@memoized(1024)
def search(catalog: Catalog, q: str, kind: str | None = None) -> tuple[SearchHit, ...]:
    """Every entity matching ``q`` (optionally only of type ``kind``), best first."""
    hits = found(catalog, q).hits
    return hits if kind is None else tuple(h for h in hits if h.type == kind)


def search_page(catalog: Catalog, q: str, kind: str | None, limit: int | None, offset: int) -> SearchResults:
    """One page of the hits, with their total, the text searched, a correction, variants and the best match."""
    result = found(catalog, q)
    hits = search(catalog, q, kind)
    end = None if limit is None else offset + limit
    return SearchResults(total=len(hits), results=list(hits[offset:end]), query=result.query,
                         every_term=result.every_term, did_you_mean=result.did_you_mean, variants=list(result.variants),
                         best_match=result.best_match)
