"""A mechanism or a supervision topic across sources and years (``/api/mechanisms/{id}/timeline``,
``/api/topics/{id}/timeline``, CONTRACT.md).

A practice is dated by its source (the year of the issue its quote comes from) unless the text
gives it a date of its own (dcterms:date, or the start of a period: 2014年成立…, 2023年-2026年).
Each year lists the sources that report the concept in it and the districts using it then
(directly or through a narrower concept); ``first`` is the earliest year, its earliest source and
its districts. With one source there is one source id; the shape is the same for many.
"""

from collections import defaultdict
from typing import Any

from pydantic import Field

from app.api.across.dating import year_of
from app.api.across.years import practice_years
from app.api.catalog import Catalog, slug
from app.api.models import ApiModel, DistrictId, Label, MechanismId
from app.build.graph import KnowledgeGraph

TopicId = str

SourceId = str


class TimelineYear(ApiModel):
    year: int = Field(description="The year the practices are dated to (their source's, unless the text says)")
    sources: list[SourceId] = Field(description="The sources reporting it in that year, earliest first")
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


class TopicTimeline(ApiModel):
    """One supervision topic over the years: where and when it was reported, and where first."""

    id: TopicId
    label: Label
    years: list[TimelineYear]
    first: TimelineFirst | None = Field(description="Null when no practice supervises the topic")


def timeline_years(catalog: Catalog, rows: list[dict[str, Any]]) -> tuple[list[TimelineYear], TimelineFirst | None]:
    """``rows``: a ``*_timeline`` query bound to one concept (one per practice and date)."""
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
    return years, first


def read_timeline(catalog: Catalog, mechanism_id: str, rows: list[dict[str, Any]]) -> MechanismTimeline:
    """``rows``: queries/mechanism_timeline.rq bound to the mechanism (one per practice and date)."""
    years, first = timeline_years(catalog, rows)
    m = catalog.mechanisms[mechanism_id]
    return MechanismTimeline(id=m.id, label=Label(zh=m.label.zh, en=m.label.en), years=years, first=first)


def read_topic_timeline(catalog: Catalog, topic_id: str, rows: list[dict[str, Any]]) -> TopicTimeline:
    """``rows``: queries/topic_timeline.rq bound to the topic (one per practice and date)."""
    years, first = timeline_years(catalog, rows)
    t = catalog.topics[topic_id]
    return TopicTimeline(id=t.id, label=Label(zh=t.label.zh, en=t.label.en), years=years, first=first)


def local_path(graph: KnowledgeGraph, iri: str) -> str:
    return iri.removeprefix(graph.settings.base_iri) or "/"


def timeline_page(graph: KnowledgeGraph, catalog: Catalog, kind: str, entity_id: str, lang: str) -> dict[str, Any]:
    """What a mechanism, topic or district page shows over the years (``timeline`` or ``by_year``; empty for an
    id the catalog does not know). Labels in ``lang`` (else the other language); links as local paths."""
    other = "en" if lang == "zh" else "zh"

    def district(d: str) -> dict[str, str]:
        known = catalog.districts.get(d)
        text = (getattr(known.label, lang) or getattr(known.label, other)) if known else d
        return {"id": d, "label": text}

    if kind in ("mechanism", "topic"):
        concepts = catalog.mechanisms if kind == "mechanism" else catalog.topics
        if entity_id not in concepts:
            return {}
        rows = graph.run(f"{kind}_timeline", **{kind: concepts[entity_id].iri})
        sources = {slug(r["source"]): {"id": slug(r["source"]), "href": local_path(graph, r["source"]),
                                       "issued": str(r.get("issued") or "")} for r in rows}
        years, first = timeline_years(catalog, rows)
        return {"timeline": {
            "api": f"/api/{kind}s/{entity_id}/timeline",
            "years": [{"year": y.year, "sources": [sources[s] for s in y.sources],
                       "districts": [district(d) for d in y.districts]} for y in years],
            "first": {"year": first.year, "source": sources[first.source],
                      "districts": [district(d) for d in first.districts]} if first else None}}
    if kind == "district" and entity_id in catalog.districts:
        by_year = []
        for year, dates in practice_years(catalog, graph, entity_id).items():
            known = [(catalog.practices[p], d) for p, d in dates.items() if p in catalog.practices]
            if known:
                by_year.append({"year": year, "practices": [{
                    "id": practice.id, "href": local_path(graph, practice.iri),
                    "label": getattr(practice.label, lang) or getattr(practice.label, other),
                    "dated": d.dated, "source": d.source} for practice, d in known]})
        return {"by_year": by_year}
    return {}
