"""/api/search: find districts, mechanisms, themes, practices and facts by text (Chinese or English)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator

from app.api.catalog import catalog_for
from app.api.examples import example
from app.api.search import search, search_page
from app.api.search_models import SearchHit, SearchResults, SearchType
from app.deps import GraphDep
from app.routers.api.common import CSV, JSON, TOTAL_HEADER, PageDep, TableFormatDep, documented, render, render_csv

router = APIRouter(prefix="/api", tags=["search"])


def not_blank(q: str) -> str:
    if not q.strip():
        raise ValueError("q must contain something other than spaces")
    return q


SearchText = Annotated[
    str,
    Query(min_length=1, max_length=200, description="Text to find. Every word, in any order (月进站 海淀, deputy "
          "liaison station); Chinese as a substring, traditional characters as simplified (預算 finds 预算), with the "
          "other Chinese names of the mechanism, theme or topic it names (街道 also finds 街乡 and 镇街); English "
          "words in any form and by their beginning (case-insensitive; subdistricts finds what subdistrict finds, "
          "inspec finds inspection); a misspelt English word is corrected when nothing is found (budjet: "
          "did_you_mean budget)", examples=["月进站", "deputy liaison station"]),
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
    """按名称（或同义词）、定义或原文引文查找实体，中文或英文；多个词须全部出现，顺序不限；繁体按简体查找。

    Find entities by label (or synonym), definition or quote, Chinese or English; exact label matches first.
    Every word must match (any order); when no entity has them all, the hits have some (`every_term`: false).
    A fact hit carries its `value` and `unit`; `best_match` is the district or concept the whole text names;
    `variants` the other names searched; `did_you_mean` the correction searched when the text finds nothing.
    The index is SQLite FTS5, built once per graph version.

    The HTML page `/search?q=` shows the same hits grouped by type; `format=csv` gives the hits as a table."""
    catalog = await catalog_for(graph)
    if format == "csv":
        body = await render_csv(search, catalog, (q, type), page, SearchHit)
        media_type = CSV
    else:
        body = await render(search_page, catalog, (q, type, page.limit, page.offset), None)
        media_type = JSON
    # Computed (off the event loop) by now: the index is built by the first search of a graph version.
    return Response(body, media_type=media_type, headers={TOTAL_HEADER: str(len(search(catalog, q, type)))})
