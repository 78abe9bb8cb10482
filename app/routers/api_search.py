"""/api/search: find districts, mechanisms, themes, practices and facts by text (Chinese or English)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator

from app.api.catalog import catalog_for
from app.api.examples import example
from app.api.models import SearchHit, SearchResults, SearchType
from app.api.search import search, search_page
from app.deps import GraphDep
from app.routers.api_common import CSV, JSON, TOTAL_HEADER, PageDep, TableFormatDep, documented, render, render_csv

router = APIRouter(prefix="/api", tags=["search"])


def not_blank(q: str) -> str:
    if not q.strip():
        raise ValueError("q must contain something other than spaces")
    return q


SearchText = Annotated[
    str,
    Query(min_length=1, max_length=200, description="Text to find: Chinese matches as a substring (with the other "
          "Chinese names of the mechanism, theme or topic it names: 街道 also finds 街乡 and 镇街), English as whole "
          "words in any form (case-insensitive; plural, -ing, -ed: subdistricts finds what subdistrict finds)",
          examples=["月进站", "special inquiry"]),
    AfterValidator(not_blank),
]


@router.get("/search", summary="搜索 · Search",
            response_model=SearchResults, responses=documented(example("search"), paged=True, table=True))
async def get_search(
    graph: GraphDep,
    q: SearchText,
    page: PageDep,
    format: TableFormatDep,
    type: Annotated[SearchType | None, Query(description="Only hits of this type")] = None,
) -> Response:
    """按名称（或同义词）、定义或原文引文查找实体，中文或英文。

    Find entities by label (or synonym), definition or quote, Chinese or English; exact label matches first.

    The HTML page `/search?q=` shows the same hits grouped by type; `format=csv` gives the hits as a table."""
    catalog = await catalog_for(graph)
    total = {TOTAL_HEADER: str(len(search(catalog, q, type)))}
    if format == "csv":
        body = await render_csv(search, catalog, (q, type), page, SearchHit)
        return Response(body, media_type=CSV, headers=total)
    body = await render(search_page, catalog, (q, type, page.limit, page.offset), None)
    return Response(body, media_type=JSON, headers=total)
