"""The /api answers, shaped from the catalog into response models.

Conventions (documented in the OpenAPI descriptions too):
- districts are listed in GB/T 2260 code order, mechanisms and themes by id, practices,
  facts and evidence in article order;
- a practice's own ``mechanisms`` / ``themes`` are the asserted, most specific ones; every
  set of mechanisms or themes above the practice (a district's, a theme's, what districts
  share, the matrix) is the inferred closure: the asserted ones plus every broader one.

Every function is a pure function of the catalog and its arguments, so answers are cached
per catalog (that is, per graph version).
"""

from functools import lru_cache
from itertools import combinations

from app.api_catalog import Catalog, Concept, District, LabelText
from app.errors import NotFound
from app.models import (
    Comparison,
    ConceptRef,
    DistrictDetail,
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
    SimilarDistrict,
    ThemeDetail,
)


def label(text: LabelText) -> Label:
    return Label(zh=text.zh, en=text.en)


def district_ref(district: District) -> DistrictRef:
    return DistrictRef(id=district.id, label=label(district.label))


def concept_refs(concepts: dict[str, Concept], ids: frozenset[str] | set[str]) -> list[ConceptRef]:
    return [ConceptRef(id=c, label=label(concepts[c].label)) for c in sorted(ids)]


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def require(kind: str, known: dict, wanted: str) -> None:
    """Raise NotFound naming the valid ids unless ``wanted`` is one of ``known``."""
    if wanted not in known:
        raise NotFound(f"Unknown {kind} id {wanted!r}. Valid {kind} ids: {', '.join(known)}")


# ---------------------------------------------------------------- districts


@lru_cache(maxsize=8)
def list_districts(catalog: Catalog) -> list[DistrictSummary]:
    return [DistrictSummary(id=d.id, iri=d.iri, label=label(d.label), code=d.code) for d in catalog.districts.values()]


@lru_cache(maxsize=64)
def read_district(catalog: Catalog, district_id: str) -> DistrictDetail:
    require("district", catalog.districts, district_id)
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


@lru_cache(maxsize=64)
def list_similar(catalog: Catalog, district_id: str) -> list[SimilarDistrict]:
    require("district", catalog.districts, district_id)
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


@lru_cache(maxsize=8)
def list_mechanisms(catalog: Catalog) -> list[MechanismSummary]:
    return [mechanism_summary(catalog, m) for m in catalog.mechanisms.values()]


@lru_cache(maxsize=64)
def list_shared_mechanisms(catalog: Catalog, min_districts: int) -> list[MechanismSummary]:
    """Mechanisms used by at least ``min_districts`` districts, most shared first (tie: id)."""
    shared = [m for m in list_mechanisms(catalog) if m.count >= min_districts]
    return sorted(shared, key=lambda m: (-m.count, m.id))


@lru_cache(maxsize=256)
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


@lru_cache(maxsize=8)
def list_themes(catalog: Catalog) -> list[ThemeDetail]:
    return [theme_detail(catalog, t) for t in catalog.themes.values()]


@lru_cache(maxsize=64)
def read_theme(catalog: Catalog, theme_id: str) -> ThemeDetail:
    require("theme", catalog.themes, theme_id)
    return theme_detail(catalog, catalog.themes[theme_id])


# ---------------------------------------------------------------- compare and matrix


@lru_cache(maxsize=512)
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
    return Comparison(
        districts=[district_ref(catalog.districts[d]) for d in district_ids],
        shared_mechanisms=concept_refs(catalog.mechanisms, mechanisms),
        shared_themes=concept_refs(catalog.themes, themes),
        pairs=pairs,
    )


@lru_cache(maxsize=8)
def read_matrix(catalog: Catalog) -> Matrix:
    columns = list_shared_mechanisms(catalog, 0)
    rows = list(catalog.districts.values())
    return Matrix(
        districts=[district_ref(d) for d in rows],
        mechanisms=[MatrixMechanism(id=m.id, label=m.label, count=m.count) for m in columns],
        matrix=[[int(m.id in catalog.district_mechanisms[d.id]) for m in columns] for d in rows],
    )


@lru_cache(maxsize=8)
def matrix_csv(catalog: Catalog) -> str:
    """The matrix as CSV: header ``district,<mechanism ids…>``, one row per district id."""
    matrix = read_matrix(catalog)
    lines = [",".join(["district", *(m.id for m in matrix.mechanisms)])]
    for district, row in zip(matrix.districts, matrix.matrix, strict=True):
        lines.append(",".join([district.id, *map(str, row)]))
    return "\r\n".join(lines) + "\r\n"
