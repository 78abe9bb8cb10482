"""The /api answers, shaped from the catalog into response models.

Conventions (documented in the OpenAPI descriptions too):
- districts are listed in GB/T 2260 code order, mechanisms and themes by id, practices,
  facts and evidence in article order;
- a practice's own ``mechanisms`` / ``themes`` are the asserted, most specific ones; every
  set of mechanisms or themes above the practice (a district's, a theme's, what districts
  share, the matrix) is the inferred closure: the asserted ones plus every broader one.

Every function is a pure function of the catalog and its arguments, so answers are kept in
the catalog's memo (that is, once per graph version).
"""

from difflib import get_close_matches
from itertools import combinations

from app.api.catalog import Catalog, Concept, District, LabelText, Usage, memoized
from app.api.models import (
    Comparison,
    ComparisonCounts,
    ConceptEvidence,
    ConceptRef,
    DistrictAlone,
    DistrictDetail,
    DistrictFacts,
    DistrictRef,
    DistrictSummary,
    FactSummary,
    Label,
    Matrix,
    MatrixMechanism,
    MechanismDetail,
    MechanismDistrict,
    MechanismSummary,
    PairComparison,
    PracticeSummary,
    SharedConcepts,
    SimilarDistrict,
    ThemeDetail,
)
from app.errors import NotFound


def label(text: LabelText) -> Label:
    return Label(zh=text.zh, en=text.en)


def district_ref(district: District) -> DistrictRef:
    return DistrictRef(id=district.id, label=label(district.label))


def concept_refs(concepts: dict[str, Concept], ids: frozenset[str] | set[str]) -> list[ConceptRef]:
    return [ConceptRef(id=c, label=label(concepts[c].label)) for c in sorted(ids)]


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


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
                        quote_end=p.end, mechanisms=list(p.mechanisms), themes=list(p.themes))
        for p in catalog.practices.values() if p.district == district_id
    ]
    facts = [
        FactSummary(id=f.id, iri=f.iri, label=label(f.label), value=f.value, min_value=f.min_value, unit=f.unit.zh,
                    unit_label=label(f.unit), quote=f.quote, practice=f.practice)
        for f in catalog.facts if f.district == district_id
    ]
    return DistrictDetail(
        id=d.id, iri=d.iri, label=label(d.label), code=d.code, paragraph=d.paragraph, practices=practices,
        mechanisms=concept_refs(catalog.mechanisms, catalog.district_mechanisms[district_id]),
        themes=concept_refs(catalog.themes, catalog.district_themes[district_id]),
        facts=facts,
    )


@memoized(64)
def list_similar(catalog: Catalog, district_id: str) -> list[SimilarDistrict]:
    require("district", catalog.districts, district_id, catalog)
    mine_m, mine_t = catalog.district_mechanisms[district_id], catalog.district_themes[district_id]
    scored = []
    for other in catalog.districts.values():
        if other.id == district_id:
            continue
        theirs_m, theirs_t = catalog.district_mechanisms[other.id], catalog.district_themes[other.id]
        scored.append(SimilarDistrict(
            id=other.id, label=label(other.label), jaccard_mechanisms=jaccard(mine_m, theirs_m),
            jaccard_themes=jaccard(mine_t, theirs_t),
            shared_mechanisms=concept_refs(catalog.mechanisms, mine_m & theirs_m),
        ))
    return sorted(scored, key=lambda s: (-s.jaccard_mechanisms, -s.jaccard_themes, s.id))


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
def list_shared_mechanisms(catalog: Catalog, min_districts: int) -> list[MechanismSummary]:
    """Mechanisms used by at least ``min_districts`` districts, most shared first (tie: id)."""
    shared = [m for m in list_mechanisms(catalog) if m.count >= min_districts]
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
def read_theme(catalog: Catalog, theme_id: str) -> ThemeDetail:
    require("theme", catalog.themes, theme_id)
    return theme_detail(catalog, catalog.themes[theme_id])


# ---------------------------------------------------------------- compare and matrix


def concept_kind(concept: Concept) -> str:
    """named or umbrella: the mechanism's own bjrd:mechanismKind; a theme with narrower ones is an umbrella."""
    return concept.kind or ("umbrella" if concept.narrower else "named")


def concept_evidence(catalog: Catalog, concepts: dict[str, Concept], usage: tuple[Usage, ...], ids: frozenset[str],
                     district_ids: tuple[str, ...]) -> list[ConceptEvidence]:
    """The concepts ``ids`` with, per district of ``district_ids`` using each, the quotes of its practices
    that do; named (no narrower concept) before umbrella, then by id."""
    quotes: dict[tuple[str, str], list[str]] = {}
    for u in usage:
        if u.concept in ids and u.district in district_ids:
            quotes.setdefault((u.concept, u.district), []).append(u.practice)
    listed = []
    for cid in sorted(ids, key=lambda c: (concept_kind(concepts[c]) == "umbrella", c)):
        evidence = {}
        for d in district_ids:
            practices = sorted(set(quotes.get((cid, d), [])), key=lambda p: (catalog.practices[p].start, p))
            if practices:
                evidence[d] = list(dict.fromkeys(catalog.practices[p].quote for p in practices))
        listed.append(ConceptEvidence(id=cid, label=label(concepts[cid].label),
                                      kind=concept_kind(concepts[cid]), evidence=evidence))
    return listed


@memoized(512)
def compare_districts(catalog: Catalog, district_ids: tuple[str, ...]) -> Comparison:
    """What the districts (2 or more, distinct, in the order asked) have in common."""
    for district_id in district_ids:
        require("district", catalog.districts, district_id)
    mechanisms = frozenset.intersection(*(catalog.district_mechanisms[d] for d in district_ids))
    themes = frozenset.intersection(*(catalog.district_themes[d] for d in district_ids))
    pairs = []
    for a, b in combinations(district_ids, 2):
        ma, mb = catalog.district_mechanisms[a], catalog.district_mechanisms[b]
        pairs.append(PairComparison(
            districts=[a, b], shared_mechanisms=concept_refs(catalog.mechanisms, ma & mb),
            shared_themes=concept_refs(catalog.themes, catalog.district_themes[a] & catalog.district_themes[b]),
            jaccard_mechanisms=jaccard(ma, mb),
        ))
    only = []
    for d in district_ids:
        others = [o for o in district_ids if o != d]
        alone_m = catalog.district_mechanisms[d].difference(*(catalog.district_mechanisms[o] for o in others))
        alone_t = catalog.district_themes[d].difference(*(catalog.district_themes[o] for o in others))
        only.append(DistrictAlone(
            id=d, label=label(catalog.districts[d].label),
            mechanisms=concept_evidence(catalog, catalog.mechanisms, catalog.mechanism_usage, alone_m, (d,)),
            themes=concept_evidence(catalog, catalog.themes, catalog.theme_usage, alone_t, (d,)),
        ))
    facts = [DistrictFacts(id=d, label=label(catalog.districts[d].label), facts=read_district(catalog, d).facts)
             for d in district_ids]
    return Comparison(
        districts=[district_ref(catalog.districts[d]) for d in district_ids],
        shared_mechanisms=concept_refs(catalog.mechanisms, mechanisms),
        shared_themes=concept_refs(catalog.themes, themes),
        pairs=pairs,
        shared=SharedConcepts(
            mechanisms=concept_evidence(catalog, catalog.mechanisms, catalog.mechanism_usage, mechanisms, district_ids),
            themes=concept_evidence(catalog, catalog.themes, catalog.theme_usage, themes, district_ids),
        ),
        only=only,
        facts=facts,
        counts=ComparisonCounts(
            shared_mechanisms=len(mechanisms), shared_themes=len(themes),
            mechanisms={d: len(catalog.district_mechanisms[d]) for d in district_ids},
            themes={d: len(catalog.district_themes[d]) for d in district_ids},
            only_mechanisms={a.id: len(a.mechanisms) for a in only},
            only_themes={a.id: len(a.themes) for a in only},
            facts={f.id: len(f.facts) for f in facts},
        ),
    )


@memoized(8)
def read_matrix(catalog: Catalog) -> Matrix:
    columns = list_shared_mechanisms(catalog, 0)
    rows = list(catalog.districts.values())
    return Matrix(
        districts=[district_ref(d) for d in rows],
        mechanisms=[MatrixMechanism(id=m.id, label=m.label, count=m.count) for m in columns],
        matrix=[[int(m.id in catalog.district_mechanisms[d.id]) for m in columns] for d in rows],
    )


@memoized(8)
def matrix_csv(catalog: Catalog) -> str:
    """The matrix as CSV: header ``district,<mechanism ids…>``, one row per district id."""
    matrix = read_matrix(catalog)
    lines = [",".join(["district", *(m.id for m in matrix.mechanisms)])]
    for district, row in zip(matrix.districts, matrix.matrix, strict=True):
        lines.append(",".join([district.id, *map(str, row)]))
    return "\r\n".join(lines) + "\r\n"
