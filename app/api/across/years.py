"""A district across years: the years its practices are dated to (``/api/districts/{id}/years``), and the
practices of one year, which ``/api/compare`` counts for an item ``id@year``.

A practice is dated as the timelines date it (app.api.timeline, queries/district_timeline.rq): by its
source's issue year unless the text gives it a date of its own. The years of a district are read once per
graph version (the catalog's memo).
"""

import re
from collections import defaultdict

from pydantic import Field

from app.api.across.dating import PracticeDate, year_of
from app.api.answers import label, require
from app.api.catalog import Catalog, slug
from app.api.models import ApiModel, Comparison, DistrictAlone, DistrictFacts, DistrictId, DistrictRef, Label
from app.build.graph import KnowledgeGraph

#: An item of /api/compare and /compare: a district id, or a district in one year (``dongcheng@2023``).
ITEM = re.compile(r"([^@]+)@([0-9]{4})")

Item = tuple[str, int | None]


class SourcePractices(ApiModel):
    id: str = Field(description="Source id (/api/sources)")
    practices: int = Field(description="The district's practices from this source dated to the year")


class DistrictYear(ApiModel):
    year: int
    practices: int = Field(description="The district's practices dated to the year")
    sources: list[SourcePractices] = Field(description="The sources reporting them, earliest issue first")


class DistrictYears(ApiModel):
    """The years a district's practices are dated to, earliest first."""

    id: DistrictId
    label: Label
    years: list[DistrictYear]


class ComparedDistrict(DistrictRef):
    year: int | None = Field(description="The year the item names (id@year); null: every year")
    item: str = Field(description="The item as asked (id or id@year): the key of pairs, evidence and counts")


def parse_item(text: str) -> Item:
    """``id`` or ``id@YYYY`` as (id, year); ValueError saying what is wrong otherwise."""
    if "@" not in text:
        return text, None
    match = ITEM.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a district id or id@year with a four-digit year (e.g. dongcheng@2023)")
    return match[1], int(match[2])


def item_key(item: Item) -> str:
    return item[0] if item[1] is None else f"{item[0]}@{item[1]}"


def practice_years(catalog: Catalog, graph: KnowledgeGraph, district_id: str) -> dict[int, dict[str, PracticeDate]]:
    """Year -> the district's practices dated to it -> the source of each and whether the text dates it (years
    ascending, practices in text order); unknown ids are 404 naming the valid ones. The district page's
    practices by year (app.api.timeline.timeline_page) are these."""
    require("district", catalog.districts, district_id, catalog)

    def build() -> dict[int, dict[str, PracticeDate]]:
        by_year: dict[int, dict[str, PracticeDate]] = defaultdict(dict)
        for row in graph.run("district_timeline", district=catalog.districts[district_id].iri):
            year = year_of(row)
            if year is not None:
                dated = PracticeDate(slug(row["source"]), bool(row.get("dated")))
                by_year[year].setdefault(slug(row["practice"]), dated)
        return {y: by_year[y] for y in sorted(by_year)}

    value = catalog.memo.get(("district-years", district_id), build, size=64)
    assert isinstance(value, dict)
    return value


def read_years(catalog: Catalog, graph: KnowledgeGraph, district_id: str) -> DistrictYears:
    years = practice_years(catalog, graph, district_id)
    issued = {slug(r["source"]): str(r.get("issued") or "") for r in graph.run("sources")}
    listed = []
    for year, practices in years.items():
        counts: dict[str, int] = defaultdict(int)
        for dated in practices.values():
            counts[dated.source] += 1
        listed.append(DistrictYear(year=year, practices=len(practices), sources=[
            SourcePractices(id=s, practices=n) for s, n in sorted(counts.items(), key=lambda kv: (issued.get(kv[0], ""),
                                                                                                   kv[0]))]))
    d = catalog.districts[district_id]
    return DistrictYears(id=d.id, label=label(d.label), years=listed)


def year_problem(catalog: Catalog, graph: KnowledgeGraph, item: Item) -> dict[str, str] | None:
    """What is wrong with a known district's item ``id@year`` (in en and zh): a year none of its practices is
    dated to, naming the years it has; None when it is fine."""
    district, year = item
    if year is None:
        return None
    years = practice_years(catalog, graph, district)
    if year in years:
        return None
    has = ", ".join(str(y) for y in years) or "none"
    return {"en": f"District {district!r} has no practice dated {year}; its years: {has} "
                  f"(e.g. {district}@{next(iter(years), year)}).",
            "zh": f"{catalog.districts[district].label.zh}没有{year}年的做法；它有的年份：{has}。"}


def practices_of(catalog: Catalog, graph: KnowledgeGraph, item: Item) -> frozenset[str] | None:
    """The practices an item counts: None for a plain id (all of them), else those dated to its year."""
    district, year = item
    return None if year is None else frozenset(practice_years(catalog, graph, district).get(year, {}))


class AloneInYear(DistrictAlone):
    year: int | None = Field(description="The item's year; null: every year")
    item: str = Field(description="The item as asked (id or id@year)")


class FactsInYear(DistrictFacts):
    year: int | None = Field(description="The item's year; null: every year. A year counts the facts of its "
                                         "practices")
    item: str = Field(description="The item as asked (id or id@year)")


class YearComparison(Comparison):
    """A comparison with a district in one year among its items (``id@year``): each item says its year and
    its key, which ``pairs``, the evidence and the counts are keyed by. (Each field narrows Comparison's: its
    items are those of Comparison with the year and key added.)"""

    districts: list[ComparedDistrict] = Field(  # type: ignore[assignment]
        description="The compared items, in the order asked")
    only: list[AloneInYear] = Field(  # type: ignore[assignment]
        default_factory=list, description="For each item: what none of the others uses")
    facts: list[FactsInYear] = Field(  # type: ignore[assignment]
        default_factory=list, description="Each item's facts")
