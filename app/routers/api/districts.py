"""/api/districts: the 16 districts, one district with its evidence, districts like it, and its years."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse

from app.api import answers as service
from app.api.across.years import DistrictYears, read_years
from app.api.catalog import catalog_for
from app.api.examples import example
from app.api.models import DistrictDetail, DistrictSummary, SimilarDistrict
from app.deps import GraphDep
from app.routers.api.common import JSON, PageDep, TableFormatDep, documented, off_loop, respond

router = APIRouter(prefix="/api/districts", tags=["districts"])

DistrictIdPath = Annotated[str, Path(description="District id (slug)", examples=["haidian"])]
AnyDistrictPath = Annotated[str, Path(
    description="District id (slug); the id in another case, the Chinese name (海淀区 or 海淀), the English name "
    "or the GB/T 2260 code (110108) answers 301 to the id's URL", examples=["haidian", "海淀", "110108"])]


def canonical_redirect(request: Request, path: str) -> RedirectResponse:
    """301 to ``path`` (the canonical URL), keeping the query string."""
    query = request.url.query
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=301)


@router.get("", summary="区列表 · List of districts",
            response_model=list[DistrictSummary], responses=documented(example("districts"), paged=True, table=True))
async def get_districts(graph: GraphDep, page: PageDep, format: TableFormatDep) -> Response:
    """16个区及其 GB/T 2260 行政区划代码，按代码排序。

    The 16 districts with their GB/T 2260 codes, in code order."""
    return await respond(service.list_districts, await catalog_for(graph), page=page, fmt=format, row=DistrictSummary)


@router.get("/{id}", summary="一个区 · One district", response_model=DistrictDetail,
            responses={**documented(example("district"), not_found="district"),
                       301: {"description": "Another name of a district: Location is its id's URL"}})
async def get_district(request: Request, graph: GraphDep, id: AnyDistrictPath) -> Response:
    """一个区：各项做法及其原文引文、工作机制、主题与数据事实；中文名、英文名或区划代码 301 跳转到区 id。

    One district: its practices with their quotes, the named mechanisms it uses (each `via` "direct" or the
    narrower mechanisms it is used through), the umbrella categories apart, its themes, topics and facts, and the
    numbers of its paragraph left out as facts (`excluded_numbers`, with the reason).
    Another name of a district (海淀, 海淀区, Haidian, 110108) is redirected (301) to its id."""
    catalog = await catalog_for(graph)
    canonical = service.find_district(catalog, id)
    if canonical is not None and canonical != id:
        return canonical_redirect(request, f"/api/districts/{canonical}")
    return await respond(service.read_district, catalog, id)


@router.get("/{id}/similar", summary="相似的区 · Similar districts", response_model=list[SimilarDistrict],
            responses=documented(example("similar"), not_found="district", table=True))
async def get_district_similar(graph: GraphDep, id: DistrictIdPath, format: TableFormatDep) -> Response:
    """其余15个区，按相似度排序（先比工作机制，再比主题）。

    The other 15 districts, most similar first by `similarity`: the weighted Jaccard of their named mechanisms,
    each weighing ln(16 / districts using it), so rare shared mechanisms count more; then how many they share
    (`shared_count`), Jaccard of themes, id. Two districts share a mechanism when each uses it, directly or through
    a narrower mechanism, and it is a named one; umbrella categories come apart (`shared_umbrellas`), uncounted."""
    return await respond(service.list_similar, await catalog_for(graph), id, fmt=format, row=SimilarDistrict)


#: A real answer's shape (tests/test_compare_years.py reads the live ones).
YEARS_EXAMPLE = {"id": "dongcheng", "label": {"zh": "东城区", "en": "Dongcheng District"},
                 "years": [{"year": 2023, "practices": 7, "sources": [{"id": "article", "practices": 7}]}]}


@router.get("/{id}/years", summary="一个区的年份 · The years of a district", response_model=DistrictYears,
            responses=documented(YEARS_EXAMPLE, not_found="district"))
async def get_district_years(graph: GraphDep, id: DistrictIdPath) -> Response:
    """一个区的做法所属的年份：每年的做法数及报道它们的来源。

    The years a district's practices are dated to (by their source's issue, unless the text gives a date of its
    own), earliest first: per year how many practices, and the sources reporting them with their count. Any two
    of them compare with `/api/compare?districts=id@YEAR,id@YEAR` (what the district kept, added and dropped)."""
    catalog = await catalog_for(graph)
    answer = await off_loop(lambda: read_years(catalog, graph, id))
    return Response(answer.model_dump_json().encode("utf-8"), media_type=JSON)
