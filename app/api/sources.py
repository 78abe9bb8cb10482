"""The sources: each article the graph quotes (``/api/sources``, ``/api/sources/{id}``, CONTRACT.md).

A source is a ``schema:Article`` of the graph; its id is the last segment of its IRI
(``{base}/id/source/{id}``), the id the timelines name it by. Its districts are those with a
practice whose quote comes from it (``bjrd:evidence`` / ``dcterms:source``), in GB/T 2260 code order;
one source adds how many practices each of them has there. Answered from queries/sources.rq and
queries/source_districts.rq, once per graph version.
"""

from collections import defaultdict
from typing import Any

from pydantic import Field

from app.api.answers import require
from app.api.catalog import Catalog, slug
from app.api.models import ApiModel, DistrictId
from app.build.graph import KnowledgeGraph

SourceId = str


class SourceSummary(ApiModel):
    """One source: an article whose quotes the graph holds."""

    id: SourceId = Field(description="Source id: the last segment of its IRI ({base}/id/source/{id})")
    iri: str
    title: str = Field(description="The title in the article's language (Chinese)")
    title_en: str | None = Field(description="The title in English, when the graph has one")
    issued: str | None = Field(description="When it was published: YYYY-MM (the magazine issue's month) or YYYY")
    issue: str | None = Field(description="The magazine issue it is part of (Chinese), when known")
    sha256: str | None = Field(description="SHA-256 of the plain text its quotes' character offsets point into")
    districts: list[DistrictId] = Field(description="Districts with a practice quoted from it, GB/T 2260 code order")


class SourceDetail(SourceSummary):
    """One source, with its practice count per district."""

    practices: dict[DistrictId, int] = Field(
        description="Per district (GB/T 2260 code order), how many of its practices are quoted from this source")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def read_sources(catalog: Catalog, graph: KnowledgeGraph) -> list[SourceDetail]:
    """Every source with its practice counts (the list route leaves the counts out), in date order."""
    order = {d: i for i, d in enumerate(catalog.districts)}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in graph.run("source_districts"):
        counts[str(row["source"])][slug(str(row["district"]))] = int(row["practices"])
    sources = []
    for row in graph.run("sources"):
        iri = str(row["source"])
        per = dict(sorted(counts.get(iri, {}).items(), key=lambda kv: order.get(kv[0], len(order))))
        sources.append(SourceDetail(
            id=slug(iri), iri=iri, title=_text(row.get("title_zh")) or _text(row.get("title_en")) or slug(iri),
            title_en=_text(row.get("title_en")), issued=_text(row.get("issued")), issue=_text(row.get("issue")),
            sha256=_text(row.get("sha256")), districts=list(per), practices=per))
    return sorted(sources, key=lambda s: (s.issued or "", s.id))


def sources_of(catalog: Catalog, graph: KnowledgeGraph) -> list[SourceDetail]:
    """:func:`read_sources`, kept in the catalog's memo (one per graph version)."""
    value = catalog.memo.get(("sources",), lambda: read_sources(catalog, graph))
    assert isinstance(value, list)
    return value


def list_sources(catalog: Catalog, graph: KnowledgeGraph) -> list[dict[str, Any]]:
    return [SourceSummary.model_validate(s.model_dump(exclude={"practices"})).model_dump()
            for s in sources_of(catalog, graph)]


def pick_source(catalog: Catalog, graph: KnowledgeGraph, id: str | None) -> SourceDetail | None:
    """The source ``id`` (404 naming the valid ids when unknown); without an id the one source, with several
    the earliest; None when the graph has no source."""
    sources = sources_of(catalog, graph)
    if id is None:
        return sources[0] if sources else None
    known = {s.id: s for s in sources}
    require("source", known, id)
    return known[id]


def read_source(catalog: Catalog, graph: KnowledgeGraph, id: str) -> dict[str, Any]:
    known = {s.id: s for s in sources_of(catalog, graph)}
    require("source", known, id)
    return known[id].model_dump()
