"""What districts have in common: /api/compare and the district × mechanism matrix.

Both follow the one meaning of "shared" (data/README.md): a named mechanism each district uses,
directly or through a narrower one. Umbrella categories are listed apart (``shared_umbrellas``,
``umbrellas``) and never counted; pairs are ranked by the similarity of ``answers.similarity``
(rare mechanisms weigh more), and every answer says how many mechanisms are shared. An item may be a
district in one year (``id@year``, app.api.across.years): it counts only the practices dated to that year.
"""

from itertools import combinations
from typing import Any

from app.api.across.years import (
    AloneInYear,
    ComparedDistrict,
    FactsInYear,
    Item,
    YearComparison,
    item_key,
    practices_of,
    year_problem,
)
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
from app.build.graph import KnowledgeGraph
from app.errors import NotFound

#: One compared item as compare_items reads it: its key (the district id, or id@year), the district, its year
#: (None: every year) and the practices it counts (None: all the district's).
Compared = tuple[str, str, int | None, frozenset[str] | None]
#: What an item uses: named mechanisms, umbrella categories, themes.
Sets = tuple[frozenset[str], frozenset[str], frozenset[str]]


def counted(item: Compared, u: Usage) -> bool:
    return u.district == item[1] and (item[3] is None or u.practice in item[3])


def concept_evidence(catalog: Catalog, concepts: dict[str, Concept], usage: tuple[Usage, ...], ids: frozenset[str],
                     items: tuple[Compared, ...]) -> list[ConceptEvidence]:
    """The concepts ``ids`` by id, with, per item using each (keyed as the item), the quotes of its practices
    that do."""
    quotes: dict[tuple[str, str], list[str]] = {}
    for u in usage:
        if u.concept in ids:
            for item in items:
                if counted(item, u):
                    quotes.setdefault((u.concept, item[0]), []).append(u.practice)
    listed = []
    for cid in sorted(ids):
        evidence = {}
        for key, *_ in items:
            practices = sorted(set(quotes.get((cid, key), [])), key=lambda p: (catalog.practices[p].start, p))
            if practices:
                evidence[key] = list(dict.fromkeys(catalog.practices[p].quote for p in practices))
        listed.append(ConceptEvidence(id=cid, label=label(concepts[cid].label),
                                      kind=concept_kind(concepts[cid]), evidence=evidence))
    return listed


def mechanism_evidence(catalog: Catalog, ids: frozenset[str], items: tuple[Compared, ...]) -> list[ConceptEvidence]:
    return concept_evidence(catalog, catalog.mechanisms, catalog.mechanism_usage, ids, items)


def item_sets(catalog: Catalog, item: Compared) -> Sets:
    """The named mechanisms, umbrella categories and themes an item uses (direct or through a narrower one)."""
    d, practices = item[1], item[3]
    if practices is None:
        return catalog.district_named[d], umbrellas_of(catalog, d), catalog.district_themes[d]
    reached = frozenset(u.concept for u in catalog.mechanism_usage if counted(item, u))
    named = frozenset(m for m in reached if catalog.mechanisms[m].kind == "named")
    return named, reached - named, frozenset(u.concept for u in catalog.theme_usage if counted(item, u))


def compare_pair(catalog: Catalog, a: Compared, b: Compared, sets: dict[str, Sets]
                 ) -> PairComparison:
    (named_a, umbrellas_a, themes_a), (named_b, umbrellas_b, themes_b) = sets[a[0]], sets[b[0]]
    return PairComparison(
        districts=[a[0], b[0]], shared_mechanisms=mechanism_refs(catalog, named_a & named_b),
        shared_umbrellas=mechanism_refs(catalog, umbrellas_a & umbrellas_b),
        shared_themes=concept_refs(catalog.themes, themes_a & themes_b),
        shared_count=len(named_a & named_b), jaccard_mechanisms=jaccard(named_a, named_b),
        similarity=similarity(catalog, named_a, named_b),
    )


@memoized(512)
def compare_districts(catalog: Catalog, district_ids: tuple[str, ...]) -> Comparison:
    """What the districts (2 or more, distinct, in the order asked) have in common."""
    for district_id in district_ids:
        require("district", catalog.districts, district_id)
    return compare_items(catalog, tuple((d, d, None, None) for d in district_ids))


def compared_items(catalog: Catalog, graph: KnowledgeGraph, items: list[Item]) -> tuple[Compared, ...]:
    """The items as compare_items reads them; an unknown district, or a year none of a district's practices is
    dated to, is 404 (naming the valid ids, or the district's years)."""
    for district, _ in items:
        require("district", catalog.districts, district)
    for item in items:
        problem = year_problem(catalog, graph, item)
        if problem is not None:
            raise NotFound(problem["en"])
    return tuple((item_key(i), i[0], i[1], practices_of(catalog, graph, i)) for i in items)


@memoized(512)
def compare_items(catalog: Catalog, items: tuple[Compared, ...]) -> Comparison:
    """What the items (districts in every year, or in one: ``Compared``; distinct, in the order asked) have in
    common. With a year among them the answer says each item's year and key (``YearComparison``)."""
    dated = any(item[2] is not None for item in items)

    def extra(item: Compared) -> dict[str, Any]:
        return {"year": item[2], "item": item[0]} if dated else {}

    sets = {item[0]: item_sets(catalog, item) for item in items}
    named, umbrellas, themes = (frozenset.intersection(*(s[i] for s in sets.values())) for i in range(3))
    pairs = [compare_pair(catalog, a, b, sets) for a, b in combinations(items, 2)]
    pairs.sort(key=lambda p: (-p.similarity, -p.shared_count))  # stable: ties keep the order asked
    only = []
    for item in items:
        others = [sets[o[0]] for o in items if o[0] != item[0]]
        alone_m, alone_u, alone_t = (sets[item[0]][i].difference(*(o[i] for o in others)) for i in range(3))
        only.append((AloneInYear if dated else DistrictAlone)(
            id=item[1], label=label(catalog.districts[item[1]].label),
            mechanisms=mechanism_evidence(catalog, alone_m, (item,)),
            umbrellas=mechanism_evidence(catalog, alone_u, (item,)),
            themes=concept_evidence(catalog, catalog.themes, catalog.theme_usage, alone_t, (item,)), **extra(item),
        ))
    facts = [(FactsInYear if dated else DistrictFacts)(
        id=item[1], label=label(catalog.districts[item[1]].label),
        facts=[f for f in read_district(catalog, item[1]).facts if item[3] is None or f.practice in item[3]],
        **extra(item)) for item in items]
    return (YearComparison if dated else Comparison)(
        districts=[ComparedDistrict(**district_ref(catalog.districts[item[1]]).model_dump(), **extra(item)) if dated
                   else district_ref(catalog.districts[item[1]]) for item in items],
        shared_mechanisms=mechanism_refs(catalog, named),
        shared_umbrellas=mechanism_refs(catalog, umbrellas),
        shared_themes=concept_refs(catalog.themes, themes),
        pairs=pairs,
        shared=SharedConcepts(
            mechanisms=mechanism_evidence(catalog, named, items),
            umbrellas=mechanism_evidence(catalog, umbrellas, items),
            themes=concept_evidence(catalog, catalog.themes, catalog.theme_usage, themes, items),
        ),
        only=only,
        facts=facts,
        counts=ComparisonCounts(
            shared_mechanisms=len(named), shared_umbrellas=len(umbrellas), shared_themes=len(themes),
            mechanisms={k: len(s[0]) for k, s in sets.items()},
            umbrellas={k: len(s[1]) for k, s in sets.items()},
            themes={k: len(s[2]) for k, s in sets.items()},
            only_mechanisms={k: len(a.mechanisms) for k, a in zip(sets, only, strict=True)},
            only_themes={k: len(a.themes) for k, a in zip(sets, only, strict=True)},
            facts={k: len(f.facts) for k, f in zip(sets, facts, strict=True)},
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
