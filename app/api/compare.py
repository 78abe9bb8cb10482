"""What districts have in common: /api/compare and the district × mechanism matrix.

Both follow the one meaning of "shared" (data/README.md): a named mechanism each district uses,
directly or through a narrower one. Umbrella categories are listed apart (``shared_umbrellas``,
``umbrellas``) and never counted; pairs are ranked by the similarity of ``answers.similarity``
(rare mechanisms weigh more), and every answer says how many mechanisms are shared.
"""

from itertools import combinations

from app.api.answers import (
    concept_kind,
    concept_refs,
    district_ref,
    jaccard,
    label,
    list_mechanisms,
    mechanism_refs,
    read_district,
    require,
    similarity,
    umbrellas_of,
)
from app.api.catalog import Catalog, Concept, Usage, memoized
from app.api.models import (
    Comparison,
    ComparisonCounts,
    ConceptEvidence,
    DistrictAlone,
    DistrictFacts,
    Matrix,
    MatrixMechanism,
    MechanismSummary,
    PairComparison,
    SharedConcepts,
)


def concept_evidence(catalog: Catalog, concepts: dict[str, Concept], usage: tuple[Usage, ...], ids: frozenset[str],
                     district_ids: tuple[str, ...]) -> list[ConceptEvidence]:
    """The concepts ``ids`` by id, with, per district of ``district_ids`` using each, the quotes of its practices
    that do."""
    quotes: dict[tuple[str, str], list[str]] = {}
    for u in usage:
        if u.concept in ids and u.district in district_ids:
            quotes.setdefault((u.concept, u.district), []).append(u.practice)
    listed = []
    for cid in sorted(ids):
        evidence = {}
        for d in district_ids:
            practices = sorted(set(quotes.get((cid, d), [])), key=lambda p: (catalog.practices[p].start, p))
            if practices:
                evidence[d] = list(dict.fromkeys(catalog.practices[p].quote for p in practices))
        listed.append(ConceptEvidence(id=cid, label=label(concepts[cid].label),
                                      kind=concept_kind(concepts[cid]), evidence=evidence))
    return listed


def mechanism_evidence(catalog: Catalog, ids: frozenset[str], district_ids: tuple[str, ...]) -> list[ConceptEvidence]:
    return concept_evidence(catalog, catalog.mechanisms, catalog.mechanism_usage, ids, district_ids)


def compare_pair(catalog: Catalog, a: str, b: str) -> PairComparison:
    named_a, named_b = catalog.district_named[a], catalog.district_named[b]
    return PairComparison(
        districts=[a, b], shared_mechanisms=mechanism_refs(catalog, named_a & named_b),
        shared_umbrellas=mechanism_refs(catalog, umbrellas_of(catalog, a) & umbrellas_of(catalog, b)),
        shared_themes=concept_refs(catalog.themes, catalog.district_themes[a] & catalog.district_themes[b]),
        shared_count=len(named_a & named_b), jaccard_mechanisms=jaccard(named_a, named_b),
        similarity=similarity(catalog, named_a, named_b),
    )


@memoized(512)
def compare_districts(catalog: Catalog, district_ids: tuple[str, ...]) -> Comparison:
    """What the districts (2 or more, distinct, in the order asked) have in common."""
    for district_id in district_ids:
        require("district", catalog.districts, district_id)
    named = frozenset.intersection(*(catalog.district_named[d] for d in district_ids))
    umbrellas = frozenset.intersection(*(umbrellas_of(catalog, d) for d in district_ids))
    themes = frozenset.intersection(*(catalog.district_themes[d] for d in district_ids))
    pairs = [compare_pair(catalog, a, b) for a, b in combinations(district_ids, 2)]
    pairs.sort(key=lambda p: (-p.similarity, -p.shared_count))  # stable: ties keep the order asked
    only = []
    for d in district_ids:
        others = [o for o in district_ids if o != d]
        alone_m = catalog.district_named[d].difference(*(catalog.district_named[o] for o in others))
        alone_u = umbrellas_of(catalog, d).difference(*(umbrellas_of(catalog, o) for o in others))
        alone_t = catalog.district_themes[d].difference(*(catalog.district_themes[o] for o in others))
        only.append(DistrictAlone(
            id=d, label=label(catalog.districts[d].label),
            mechanisms=mechanism_evidence(catalog, alone_m, (d,)),
            umbrellas=mechanism_evidence(catalog, alone_u, (d,)),
            themes=concept_evidence(catalog, catalog.themes, catalog.theme_usage, alone_t, (d,)),
        ))
    facts = [DistrictFacts(id=d, label=label(catalog.districts[d].label), facts=read_district(catalog, d).facts)
             for d in district_ids]
    return Comparison(
        districts=[district_ref(catalog.districts[d]) for d in district_ids],
        shared_mechanisms=mechanism_refs(catalog, named),
        shared_umbrellas=mechanism_refs(catalog, umbrellas),
        shared_themes=concept_refs(catalog.themes, themes),
        pairs=pairs,
        shared=SharedConcepts(
            mechanisms=mechanism_evidence(catalog, named, district_ids),
            umbrellas=mechanism_evidence(catalog, umbrellas, district_ids),
            themes=concept_evidence(catalog, catalog.themes, catalog.theme_usage, themes, district_ids),
        ),
        only=only,
        facts=facts,
        counts=ComparisonCounts(
            shared_mechanisms=len(named), shared_umbrellas=len(umbrellas), shared_themes=len(themes),
            mechanisms={d: len(catalog.district_named[d]) for d in district_ids},
            umbrellas={d: len(umbrellas_of(catalog, d)) for d in district_ids},
            themes={d: len(catalog.district_themes[d]) for d in district_ids},
            only_mechanisms={a.id: len(a.mechanisms) for a in only},
            only_themes={a.id: len(a.themes) for a in only},
            facts={f.id: len(f.facts) for f in facts},
        ),
    )


def columns(catalog: Catalog, kind: str) -> list[MechanismSummary]:
    """The mechanisms of ``kind``, most used first (tie: id)."""
    return sorted((m for m in list_mechanisms(catalog) if m.kind == kind), key=lambda m: (-m.count, m.id))


@memoized(8)
def read_matrix(catalog: Catalog) -> Matrix:
    """Named mechanisms as the columns; the umbrella categories in a matrix of their own."""
    named, umbrellas = columns(catalog, "named"), columns(catalog, "umbrella")
    rows = list(catalog.districts.values())
    return Matrix(
        districts=[district_ref(d) for d in rows],
        mechanisms=[MatrixMechanism(id=m.id, label=m.label, count=m.count, kind=m.kind) for m in named],
        matrix=[[int(m.id in catalog.district_mechanisms[d.id]) for m in named] for d in rows],
        umbrellas=[MatrixMechanism(id=m.id, label=m.label, count=m.count, kind=m.kind) for m in umbrellas],
        umbrella_matrix=[[int(m.id in catalog.district_mechanisms[d.id]) for m in umbrellas] for d in rows],
    )
