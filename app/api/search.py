"""/api/search: match a text against labels, definitions and quotes (queries/search_texts.rq).

Matching: a query containing a CJK character matches as a substring (Chinese has no spaces to
find words by); any other query matches case-insensitively as whole words, i.e. not preceded or
followed by an ASCII letter or digit (so ``inspection`` does not match ``inspections``, and
``12345`` still matches inside ``12345热线``). Runs of spaces in the query match any whitespace.

Ranking, one hit per entity at its best match: exact label (the whole label, or synonym, equals
the query), then label, definition, quote, district paragraph; then by type (district,
mechanism, theme, practice, fact) and id. The snippet is the matching text with the first match
marked «like this» and at most ``CONTEXT`` characters either side, cuts marked with ….
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from app.api.answers import label
from app.api.catalog import Catalog, LabelText, Text, memoized
from app.api.models import SearchHit, SearchResults

CONTEXT = 30
FIELD_RANK = {"label": 1, "definition": 2, "quote": 3, "paragraph": 4}
TYPE_RANK = {"district": 0, "mechanism": 1, "theme": 2, "practice": 3, "fact": 4}
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]")

Matcher = Callable[[str], tuple[int, int] | None]


@dataclass(frozen=True)
class Entity:
    iri: str
    label: LabelText
    district: str | None


def matcher(q: str) -> Matcher:
    """A function giving the span of the first match of ``q`` in a text, or None."""
    if CJK.search(q):
        needle = q.casefold()

        def find_substring(text: str) -> tuple[int, int] | None:
            folded = text.casefold()
            # Offsets into the folded text are offsets into the text only if folding kept the length.
            at = folded.find(needle) if len(folded) == len(text) and len(needle) == len(q) else text.find(q)
            return (at, at + len(q)) if at >= 0 else None

        return find_substring
    words = r"\s+".join(re.escape(w) for w in q.split())
    pattern = re.compile(rf"(?<![A-Za-z0-9]){words}(?![A-Za-z0-9])", re.IGNORECASE)

    def find_words(text: str) -> tuple[int, int] | None:
        match = pattern.search(text)
        return match.span() if match else None

    return find_words


def snippet(text: str, start: int, end: int) -> str:
    before = text[max(0, start - CONTEXT):start]
    after = text[end:end + CONTEXT]
    head = "…" if start > CONTEXT else ""
    tail = "…" if end + CONTEXT < len(text) else ""
    return f"{head}{before}«{text[start:end]}»{after}{tail}"


@memoized(8)
def entities(catalog: Catalog) -> dict[tuple[str, str], Entity]:
    index: dict[tuple[str, str], Entity] = {}
    index.update({("district", d.id): Entity(d.iri, d.label, d.id) for d in catalog.districts.values()})
    index.update({("mechanism", m.id): Entity(m.iri, m.label, None) for m in catalog.mechanisms.values()})
    index.update({("theme", t.id): Entity(t.iri, t.label, None) for t in catalog.themes.values()})
    index.update({("practice", p.id): Entity(p.iri, p.label, p.district) for p in catalog.practices.values()})
    index.update({("fact", f.id): Entity(f.iri, f.label, f.district) for f in catalog.facts})
    return index


@memoized(1024)
def search(catalog: Catalog, q: str, kind: str | None = None) -> tuple[SearchHit, ...]:
    """Every entity matching ``q`` (optionally only of type ``kind``), best first."""
    q = q.strip()
    find = matcher(q)
    index = entities(catalog)
    best: dict[tuple[str, str], tuple[int, Text, tuple[int, int]]] = {}
    for text in catalog.texts:
        if kind is not None and text.type != kind:
            continue
        key = (text.type, text.entity)
        if key not in index:
            continue
        rank = FIELD_RANK[text.field]
        if rank == FIELD_RANK["label"] and text.text.strip().casefold() == q.casefold():
            rank = 0
        if key in best and best[key][0] <= rank:
            continue
        span = find(text.text)
        if span is not None:
            best[key] = (rank, text, span)
    ordered = sorted(best.items(), key=lambda item: (item[1][0], TYPE_RANK[item[0][0]], item[0][1]))
    hits = []
    for (kind_, entity_id), (_rank, text, (start, end)) in ordered:
        entity = index[(kind_, entity_id)]
        hits.append(SearchHit.model_validate({
            "type": kind_, "id": entity_id, "iri": entity.iri, "label": label(entity.label),
            "district": entity.district, "field": text.field, "snippet": snippet(text.text, start, end),
        }))
    return tuple(hits)


def search_page(catalog: Catalog, q: str, kind: str | None, limit: int | None, offset: int) -> SearchResults:
    """One page of the hits, with their total."""
    hits = search(catalog, q, kind)
    end = None if limit is None else offset + limit
    return SearchResults(total=len(hits), results=list(hits[offset:end]))
