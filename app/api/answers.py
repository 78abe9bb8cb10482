"""The /api answers, shaped from the catalog into response models.

Conventions (documented in the OpenAPI descriptions too):
- districts are listed in GB/T 2260 code order, mechanisms and themes by id, practices,
  facts and evidence in article order;
- a practice's own ``mechanisms`` / ``themes`` are the asserted, most specific ones; every
  set of mechanisms or themes above the practice (a district's, a theme's, what districts
  share, the matrix) is the inferred closure: the asserted ones plus every broader one;
- "shared" has one meaning (data/README.md): two districts share a mechanism when each uses
  it, directly or through a narrower one, and it is a named one; umbrella categories are
  listed apart and never counted in overlaps, pairs or similarity; similarity weights each
  shared mechanism by its inverse district frequency, so rare ones count more.

Every function is a pure function of the catalog and its arguments, so answers are kept in
the catalog's memo (that is, once per graph version).
"""

from difflib import get_close_matches

from app.api.catalog import Catalog, Concept, District, LabelText, Usage, memoized
from app.api.models import (
    ConceptRef,
    DistrictDetail,
    DistrictMechanism,
    DistrictRef,
    DistrictSummary,
    ExcludedNumber,
    FactSummary,
    Label,
    MechanismDetail,
    MechanismDistrict,
    MechanismRef,
    MechanismSummary,
    PracticeSummary,
    SimilarDistrict,
    ThemeDetail,
    ThemePractice,
    ThemeWithPractices,
)
from app.errors import NotFound


def label(text: LabelText) -> Label:
    return Label(zh=text.zh, en=text.en)


def district_ref(district: District) -> DistrictRef:
    return DistrictRef(id=district.id, label=label(district.label))


def concept_refs(concepts: dict[str, Concept], ids: frozenset[str] | set[str]) -> list[ConceptRef]:
    return [ConceptRef(id=c, label=label(concepts[c].label)) for c in sorted(ids)]


def mechanism_refs(catalog: Catalog, ids: frozenset[str] | set[str]) -> list[MechanismRef]:
    return [MechanismRef(id=c, label=label(catalog.mechanisms[c].label), kind=concept_kind(catalog.mechanisms[c]))
            for c in sorted(ids)]


def umbrellas_of(catalog: Catalog, district_id: str) -> frozenset[str]:
    """The umbrella categories a district reaches (listed apart, never counted as shared)."""
    return catalog.district_mechanisms[district_id] - catalog.district_named[district_id]


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def similarity(catalog: Catalog, a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard of two named mechanism sets, each mechanism weighted by its inverse district frequency
    (rounded to 6 decimals, so that equal sums compare equal)."""
    union = sum(catalog.weights[m] for m in sorted(a | b))
    return round(sum(catalog.weights[m] for m in sorted(a & b)) / union, 6) if union else 0.0


def descendants(catalog: Catalog, mechanism_id: str) -> set[str]:
    """Every mechanism narrower than ``mechanism_id``, at any depth."""
    found: set[str] = set()
    todo = list(catalog.mechanisms[mechanism_id].narrower)
    while todo:
        m = todo.pop()
        if m not in found:
            found.add(m)
            todo.extend(catalog.mechanisms[m].narrower)
    return found


def district_mechanisms(catalog: Catalog, district_id: str, ids: frozenset[str]) -> list[DistrictMechanism]:
    """The mechanisms ``ids`` of a district, each saying whether a practice names it (direct) or through which
    narrower mechanisms its practices use it."""
    usage: dict[str, list[Usage]] = {}
    for u in catalog.mechanism_usage:
        if u.district == district_id and u.concept in ids:
            usage.setdefault(u.concept, []).append(u)
    listed = []
    for m in sorted(ids):
        via: str | list[str] = "direct"
        if not any(u.asserted for u in usage[m]):
            narrower = descendants(catalog, m)
            via = sorted({n for u in usage[m] for n in catalog.practices[u.practice].mechanisms if n in narrower})
        listed.append(DistrictMechanism(id=m, label=label(catalog.mechanisms[m].label),
                                        kind=concept_kind(catalog.mechanisms[m]), via=via))
    return listed


def close_ids(known: dict, wanted: str, catalog: Catalog | None = None) -> list[str]:
    """Ids of ``known`` that look like ``wanted``: close spellings, and districts whose name contains it."""
    close = get_close_matches(wanted.strip().lower(), list(known), n=3, cutoff=0.6)
    if catalog is not None and known is catalog.districts and wanted.strip():
        close += [d.id for d in catalog.districts.values()
                  if wanted.strip() in d.label.zh or wanted.strip().lower() in d.label.en.lower() or
                  (wanted.strip().isdigit() and d.code.startswith(wanted.strip()[:4]) and len(wanted.strip()) >= 4)]
    return list(dict.fromkeys(close))[:5]


def require(kind: str, known: dict, wanted: str, catalog: Catalog | None = None) -> None:
    """Raise NotFound naming the valid ids (and the close ones first) unless ``wanted`` is one of ``known``."""
    if wanted not in known:
        close = close_ids(known, wanted, catalog)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise NotFound(f"Unknown {kind} id {wanted!r}.{hint} Valid {kind} ids: {', '.join(known)}")


def find_district(catalog: Catalog, text: str) -> str | None:
    """The id of the district ``text`` names: its id in any case, its Chinese name with or without 区
    (海淀区, 海淀), its English name (Haidian District, haidian) or its GB/T 2260 code (110108)."""
    key = text.strip()
    lowered = key.lower()
    if lowered in catalog.districts:
        return lowered
    for d in catalog.districts.values():
        english = d.label.en.lower()
        chinese = (d.code, d.label.zh, d.label.zh.removesuffix("区"))
        if key in chinese or lowered in (english, english.removesuffix(" district")):
            return d.id
    return None


# ---------------------------------------------------------------- districts


@memoized(8)
def list_districts(catalog: Catalog) -> list[DistrictSummary]:
    return [DistrictSummary(id=d.id, iri=d.iri, label=label(d.label), code=d.code) for d in catalog.districts.values()]


@memoized(64)
def read_district(catalog: Catalog, district_id: str) -> DistrictDetail:
    require("district", catalog.districts, district_id, catalog)
    d = catalog.districts[district_id]
    practices = [
        PracticeSummary(id=p.id, iri=p.iri, label=label(p.label), quote=p.quote, quote_start=p.start,
                        quote_end=p.end, mechanisms=list(p.mechanisms), themes=list(p.themes), date=p.date,
                        start_time=p.start_time, start_date=p.start_date, end_date=p.end_date)
        for p in catalog.practices.values() if p.district == district_id
    ]
    facts = [
        FactSummary(id=f.id, iri=f.iri, label=label(f.label), value=f.value, min_value=f.min_value, unit=f.unit.zh,
                    unit_label=label(f.unit), quote=f.quote, practice=f.practice)
        for f in catalog.facts if f.district == district_id
    ]
    return DistrictDetail(
        id=d.id, iri=d.iri, label=label(d.label), code=d.code, paragraph=d.paragraph, practices=practices,
        mechanisms=district_mechanisms(catalog, district_id, catalog.district_named[district_id]),
        umbrellas=district_mechanisms(catalog, district_id, umbrellas_of(catalog, district_id)),
        themes=concept_refs(catalog.themes, catalog.district_themes[district_id]),
        topics=concept_refs(catalog.topics, catalog.district_topics.get(district_id, frozenset())),
        facts=facts,
        excluded_numbers=[ExcludedNumber(text=x.text, reason=x.reason, reason_zh=x.reason_zh)
                          for x in catalog.exclusions if x.district == district_id],
    )


@memoized(64)
def list_similar(catalog: Catalog, district_id: str) -> list[SimilarDistrict]:
    """The other districts, most similar first: weighted similarity of named mechanisms, then how many they
    share, then Jaccard of themes, then id."""
    require("district", catalog.districts, district_id, catalog)
    mine_m, mine_t = catalog.district_named[district_id], catalog.district_themes[district_id]
    scored = []
    for other in catalog.districts.values():
        if other.id == district_id:
            continue
        theirs_m, theirs_t = catalog.district_named[other.id], catalog.district_themes[other.id]
        scored.append(SimilarDistrict(
            id=other.id, label=label(other.label), similarity=similarity(catalog, mine_m, theirs_m),
            shared_count=len(mine_m & theirs_m), jaccard_mechanisms=jaccard(mine_m, theirs_m),
            jaccard_themes=jaccard(mine_t, theirs_t),
            shared_mechanisms=mechanism_refs(catalog, mine_m & theirs_m),
            shared_umbrellas=mechanism_refs(catalog, umbrellas_of(catalog, district_id) & umbrellas_of(catalog,
                                                                                               other.id)),
        ))
    return sorted(scored, key=lambda s: (-s.similarity, -s.shared_count, -s.jaccard_themes, s.id))


# ---------------------------------------------------------------- mechanisms


def mechanism_summary(catalog: Catalog, mechanism: Concept) -> MechanismSummary:
    districts = catalog.mechanism_districts[mechanism.id]
    return MechanismSummary(id=mechanism.id, iri=mechanism.iri, label=label(mechanism.label), districts=list(districts),
                            count=len(districts), broader=list(mechanism.broader), narrower=list(mechanism.narrower),
                            top=mechanism.top, kind=mechanism.kind)


@memoized(8)
def list_mechanisms(catalog: Catalog) -> list[MechanismSummary]:
    return [mechanism_summary(catalog, m) for m in catalog.mechanisms.values()]


@memoized(64)
def list_shared_mechanisms(catalog: Catalog, min_districts: int, kind: str = "named") -> list[MechanismSummary]:
    """Mechanisms of ``kind`` (named: what is shared; umbrella: the categories apart) used by at least
    ``min_districts`` districts, most shared first (tie: id)."""
    shared = [m for m in list_mechanisms(catalog) if m.count >= min_districts and m.kind == kind]
    return sorted(shared, key=lambda m: (-m.count, m.id))


@memoized(256)
def read_mechanism(catalog: Catalog, mechanism_id: str) -> MechanismDetail:
    require("mechanism", catalog.mechanisms, mechanism_id)
    m = catalog.mechanisms[mechanism_id]
    practices: dict[str, list[str]] = {}
    for u in catalog.mechanism_usage:
        if u.concept == mechanism_id:
            practices.setdefault(u.district, []).append(u.practice)
    districts = []
    for district_id in catalog.mechanism_districts[mechanism_id]:
        ids = sorted(practices[district_id], key=lambda p: (catalog.practices[p].start, p))
        districts.append(MechanismDistrict(id=district_id, label=label(catalog.districts[district_id].label),
                                           evidence=[catalog.practices[p].quote for p in ids], practices=ids))
    users = {p for ids in practices.values() for p in ids}
    themes = {u.concept for u in catalog.theme_usage if u.practice in users}
    return MechanismDetail(
        id=m.id, iri=m.iri, label=label(m.label), definition=label(m.definition) if m.definition else None,
        broader=list(m.broader), narrower=list(m.narrower), top=m.top, kind=m.kind, count=len(districts),
        districts=districts,
        themes=concept_refs(catalog.themes, themes),
    )


# ---------------------------------------------------------------- themes


def theme_detail(catalog: Catalog, theme: Concept) -> ThemeDetail:
    practices = {u.practice for u in catalog.theme_usage if u.concept == theme.id}
    mechanisms = {u.concept for u in catalog.mechanism_usage if u.practice in practices}
    return ThemeDetail(
        id=theme.id, iri=theme.iri, label=label(theme.label),
        definition=label(theme.definition) if theme.definition else None,
        broader=list(theme.broader), narrower=list(theme.narrower), top=theme.top,
        districts=[district_ref(catalog.districts[d]) for d in catalog.theme_districts[theme.id]],
        mechanisms=concept_refs(catalog.mechanisms, mechanisms),
    )


@memoized(8)
def list_themes(catalog: Catalog) -> list[ThemeDetail]:
    return [theme_detail(catalog, t) for t in catalog.themes.values()]


@memoized(64)
def read_theme(catalog: Catalog, theme_id: str) -> ThemeWithPractices:
    """One theme with its practices (those naming it or a narrower theme), in article order."""
    require("theme", catalog.themes, theme_id)
    on_theme = {u.practice for u in catalog.theme_usage if u.concept == theme_id}
    practices = [ThemePractice(id=p.id, iri=p.iri, label=label(p.label), district=p.district)
                 for p in catalog.practices.values() if p.id in on_theme]
    detail = theme_detail(catalog, catalog.themes[theme_id])
    return ThemeWithPractices(**dict(detail), practices=practices)


def concept_kind(concept: Concept) -> str:
    """named or umbrella: the mechanism's own bjrd:mechanismKind; a theme with narrower ones is an umbrella."""
    return concept.kind or ("umbrella" if concept.narrower else "named")
