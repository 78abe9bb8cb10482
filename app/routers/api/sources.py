"""/api/sources: the articles the graph quotes, and one of them with its practices per district."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api.catalog import catalog_for
from app.api.sources import SourceDetail, SourceSummary, list_sources, read_source
from app.deps import GraphDep
from app.routers.api.common import ANY, JSON, documented, off_loop

router = APIRouter(prefix="/api/sources", tags=["sources"])

#: Real answers (tests/test_api_sources.py holds them to the live ones).
SOURCE_EXAMPLE = {
    "id": "article",
    "iri": "https://bjrd-kg.example.org/id/source/article",
    "title": "在新起点上开创地方人大工作新局面——市委第六次人大工作会议以来各区人大工作亮点扫描",
    "title_en": "Opening a new chapter of local people's congress work from a new starting point: highlights of the "
                "district people's congresses' work since the Sixth Municipal Party Committee Conference on People's "
                "Congress Work",
    "issued": "2023-07",
    "issue": "《北京人大》2023年第7期",
    "sha256": "37166980590d603f4dad61d19a25ced184ed392324e23e4a4159aa1699b5a36d",
    "districts": ["dongcheng", "xicheng", "…"],
}


@router.get("", summary="来源列表 · List of sources", response_model=list[SourceSummary],
            responses=documented([SOURCE_EXAMPLE]))
async def get_sources(graph: GraphDep) -> Response:
    """图谱引用的各篇文章：标题、期号、日期、原文的 SHA-256，以及有做法引自该文的区，按日期排序。

    Every article the graph quotes, earliest first: its title, magazine issue, date, the SHA-256 of the text its
    quotes' offsets point into, and the districts with a practice quoted from it (GB/T 2260 code order). A
    source's id is the last segment of its IRI, the id the timelines name it by."""
    catalog = await catalog_for(graph)
    answer = await off_loop(lambda: list_sources(catalog, graph))
    return Response(ANY.dump_json(answer), media_type=JSON)


@router.get("/{id}", summary="一个来源 · One source", response_model=SourceDetail,
            responses=documented({**SOURCE_EXAMPLE, "practices": {"dongcheng": 7, "xicheng": 6, "…": 0}},
                                 not_found="source"))
async def get_source(
    graph: GraphDep,
    id: Annotated[str, Path(description="Source id (the last segment of its IRI)", examples=["article"])],
) -> Response:
    """一篇文章，并列出各区引自该文的做法数。

    One source as in the list, adding per district how many of its practices are quoted from it."""
    catalog = await catalog_for(graph)
    answer = await off_loop(lambda: read_source(catalog, graph, id))
    return Response(ANY.dump_json(answer), media_type=JSON)
