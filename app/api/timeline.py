"""A mechanism across sources and years (``/api/mechanisms/{id}/timeline``, CONTRACT.md).

A practice is dated by its source (the year of the issue its quote comes from) unless the text
gives it a date of its own (dcterms:date, or the start of a period: 2014年成立…, 2023年-2026年).
Each year lists the sources that report the mechanism in it and the districts using it then
(directly or through a narrower mechanism); ``first`` is the earliest year, its earliest source and
its districts. With one source there is one source id; the shape is the same for many.
"""

from collections import defaultdict
from typing import Any

from pydantic import Field

from app.api.catalog import Catalog, slug
from app.api.models import ApiModel, DistrictId, Label, MechanismId

SourceId = str


class TimelineYear(ApiModel):
    year: int = Field(description="The year the practices are dated to (their source's, unless the text says)")
    sources: list[SourceId] = Field(description="The sources reporting the mechanism in that year, earliest first")
    districts: list[DistrictId] = Field(description="The districts using it in that year (GB/T 2260 code order)")


class TimelineFirst(ApiModel):
    year: int
    source: SourceId = Field(description="The earliest source of the first year")
    districts: list[DistrictId]


class MechanismTimeline(ApiModel):
    """One mechanism over the years: where and when it was reported, and where first."""

    id: MechanismId
    label: Label
    years: list[TimelineYear]
    first: TimelineFirst | None = Field(description="Null when no practice uses the mechanism")


def year_of(row: dict[str, Any]) -> int | None:
    written = row.get("dated") or row.get("issued")
    return int(str(written)[:4]) if written and str(written)[:4].isdigit() else None


def read_timeline(catalog: Catalog, mechanism_id: str, rows: list[dict[str, Any]]) -> MechanismTimeline:
    """``rows``: queries/mechanism_timeline.rq bound to the mechanism (one per practice and date)."""
    order = {d: i for i, d in enumerate(catalog.districts)}
    issued: dict[str, str] = {}
    sources: dict[int, set[str]] = defaultdict(set)
    districts: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        year = year_of(row)
        if year is None:
            continue
        source = slug(row["source"])
        issued.setdefault(source, str(row.get("issued", "")))
        sources[year].add(source)
        districts[year].add(slug(row["district"]))

    def by_issue(ids: set[str]) -> list[str]:
        return sorted(ids, key=lambda s: (issued.get(s, ""), s))

    years = [TimelineYear(year=y, sources=by_issue(sources[y]),
                          districts=sorted(districts[y], key=lambda d: order.get(d, len(order))))
             for y in sorted(sources)]
    first = TimelineFirst(year=years[0].year, source=years[0].sources[0], districts=years[0].districts) \
        if years else None
    m = catalog.mechanisms[mechanism_id]
    return MechanismTimeline(id=m.id, label=Label(zh=m.label.zh, en=m.label.en), years=years, first=first)
