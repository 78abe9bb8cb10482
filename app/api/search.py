"""/api/search: match a text against labels, definitions and quotes (queries/search_texts.rq).

Matching: a query containing a CJK character matches as a substring (Chinese has no spaces to
find words by). When the query is one of the Chinese labels (preferred or ``skos:altLabel``)
of a mechanism, theme or topic, every other Chinese label of that concept matches too, as a substring
(街道 also finds 街乡 and 镇街; 12345 also finds 接诉即办 if a concept has both names). Any other
query matches as whole words, by word form: text and query are cut into runs of ASCII letters
and digits, and each word is reduced by a light stemmer (``stem``: plural ``-s``/``-es``/``-ies``, ``-ing``, ``-ed``, a
final ``-e``), so ``subdistricts`` finds what ``subdistrict`` finds, ``inspec`` finds nothing,
and ``12345`` still matches inside ``12345热线``.

Ranking, one hit per entity at its best match: exact label (the whole label, or synonym, equals
the query), then label, definition, quote, district paragraph; then by type (district,
mechanism, theme, topic, practice, fact) and id. The snippet is the matching text with the first match
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
TYPE_RANK = {"district": 0, "mechanism": 1, "theme": 2, "topic": 3, "practice": 4, "fact": 5}
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]")
WORD = re.compile(r"[A-Za-z0-9]+")
VOWEL = re.compile(r"[aeiouy]")
LATIN = re.compile(r"[A-Za-z]")
QUOTES = "“”‘’\"'《》「」"

Matcher = Callable[[str], tuple[int, int] | None]


@dataclass(frozen=True)
class Entity:
    iri: str
    label: LabelText
    district: str | None


def stem(word: str) -> str:
    """A light English stemmer: the same stem for the plural, -ing and -ed forms of a word.

    Applied to both the text and the query, so it only has to be consistent, not linguistic.
    """
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "y"
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and VOWEL.search(w[:-len(suffix)]):
            w = w[:-len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # planned -> plan
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


Words = tuple[tuple[int, int, str], ...]


def words_of(text: str) -> Words:
    """Every ASCII word of ``text``: (start, end, stem)."""
    return tuple((m.start(), m.end(), stem(m.group())) for m in WORD.finditer(text))


@memoized(8)
def stemmed_texts(catalog: Catalog) -> dict[str, Words]:
    """The words of every searchable text of the catalog, stemmed once per graph version."""
    return {text.text: words_of(text.text) for text in catalog.texts}


def find_substrings(needles: list[str]) -> Matcher:
    """The first needle (in the order given) found in a text, at its first occurrence."""

    def find(text: str) -> tuple[int, int] | None:
        folded = text.casefold()
        for needle in needles:
            # Offsets into the folded text are offsets into the text only if folding kept the length.
            same = len(folded) == len(text) and len(needle.casefold()) == len(needle)
            at = folded.find(needle.casefold()) if same else text.find(needle)
            if at >= 0:
                return at, at + len(needle)
        return None

    return find


def find_words(q: str, known: dict[str, Words] | None = None) -> Matcher:
    stems = [stem(w) for w in WORD.findall(q)]

    def find(text: str) -> tuple[int, int] | None:
        if not stems:
            return None
        tokens = known.get(text) if known is not None else None
        if tokens is None:
            tokens = words_of(text)
        for i in range(len(tokens) - len(stems) + 1):
            if all(tokens[i + k][2] == s for k, s in enumerate(stems)):
                return tokens[i][0], tokens[i + len(stems) - 1][1]
        return None

    return find


def matcher(q: str, variants: tuple[str, ...] = (), known: dict[str, Words] | None = None) -> Matcher:
    """A function giving the span of the first match of ``q`` in a text, else of a variant, else None
    (``known``: the words of texts already stemmed)."""
    if CJK.search(q):
        return find_substrings([q, *variants])
    by_words = find_words(q, known)
    if not variants:
        return by_words
    by_substrings = find_substrings(list(variants))

    def find_either(text: str) -> tuple[int, int] | None:
        return by_words(text) or by_substrings(text)

    return find_either


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
    """The other Chinese names of ``q`` (sorted): the labels of every concept labelled ``q``, except
    ``q`` itself in quotation marks (“月进站” is found wherever 月进站 is)."""
    names = concept_labels(catalog).get(q.casefold(), frozenset())
    return tuple(sorted(n for n in names if n.strip(QUOTES) != q))


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
    index.update({("topic", t.id): Entity(t.iri, t.label, None) for t in catalog.topics.values()})
    index.update({("practice", p.id): Entity(p.iri, p.label, p.district) for p in catalog.practices.values()})
    index.update({("fact", f.id): Entity(f.iri, f.label, f.district) for f in catalog.facts})
    return index


@memoized(1024)
def search(catalog: Catalog, q: str, kind: str | None = None) -> tuple[SearchHit, ...]:
    """Every entity matching ``q`` (optionally only of type ``kind``), best first."""
    q = q.strip()
    find = matcher(q, variants_of(catalog, q), stemmed_texts(catalog))
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
