"""/api/districts: the 16 districts, one district with its evidence, and districts like it."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api import answers as service
from app.api.catalog import catalog_for
from app.api.examples import example
from app.api.models import DistrictDetail, DistrictSummary, SimilarDistrict
from app.deps import GraphDep
from app.routers.api_common import PageDep, documented, respond

router = APIRouter(prefix="/api/districts", tags=["districts"])

DistrictIdPath = Annotated[str, Path(description="District id (slug)", examples=["haidian"])]


@router.get("", response_model=list[DistrictSummary], responses=documented(example("districts"), paged=True))
async def get_districts(graph: GraphDep, page: PageDep) -> Response:
    """The 16 districts with their GB/T 2260 codes, in code order."""
    return respond(service.list_districts, await catalog_for(graph), page=page)


@router.get("/{id}", response_model=DistrictDetail, responses=documented(example("district"), not_found="district"))
async def get_district(graph: GraphDep, id: DistrictIdPath) -> Response:
    """One district: its practices with their quotes, the mechanisms and themes it uses, and its facts."""
    return respond(service.read_district, await catalog_for(graph), id)


@router.get("/{id}/similar", response_model=list[SimilarDistrict],
            responses=documented(example("similar"), not_found="district"))
async def get_district_similar(graph: GraphDep, id: DistrictIdPath) -> Response:
    """The other 15 districts, most similar first: Jaccard of mechanisms, then of themes, then id."""
    return respond(service.list_similar, await catalog_for(graph), id)
