"""/api/mechanisms: the named mechanisms, which districts share them, with evidence."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from app.api import answers as service
from app.api.catalog import catalog_for
from app.api.examples import example
from app.api.models import MechanismDetail, MechanismSummary
from app.deps import GraphDep
from app.routers.api.common import PageDep, TableFormatDep, documented, respond

router = APIRouter(prefix="/api/mechanisms", tags=["mechanisms"])


@router.get("", summary="工作机制列表 · List of mechanisms",
            response_model=list[MechanismSummary], responses=documented(example("mechanisms"), paged=True, table=True))
async def get_mechanisms(graph: GraphDep, page: PageDep, format: TableFormatDep) -> Response:
    """每个工作机制及使用它的区（直接使用或经由更具体的机制）。

    Every mechanism (by id) with the districts that use it, directly or through a narrower mechanism."""
    return await respond(service.list_mechanisms, await catalog_for(graph), page=page, fmt=format,
                         row=MechanismSummary)


# Declared before /{id}: otherwise "shared" would be taken for a mechanism id.
@router.get("/shared", summary="多区共用的机制 · Mechanisms shared by several districts",
            response_model=list[MechanismSummary], responses=documented(example("shared"), paged=True, table=True))
async def get_mechanisms_shared(
    graph: GraphDep,
    page: PageDep,
    format: TableFormatDep,
    min_districts: Annotated[int, Query(ge=1, description="Only mechanisms used by at least this many districts")] = 2,
    kind: Annotated[Literal["named", "umbrella"], Query(
        description="named (default): the mechanisms districts share; umbrella: the analyst's categories, "
        "listed apart and never counted as shared")] = "named",
) -> Response:
    """至少被 min_districts 个区使用的工作机制，共用最多的在前。

    The named mechanisms used by at least min_districts districts, most shared first (tie: id). Two districts
    share a mechanism when each uses it, directly or through a narrower mechanism, and it is a named one;
    umbrella categories are never counted (ask for them apart with kind=umbrella)."""
    return await respond(service.list_shared_mechanisms, await catalog_for(graph), min_districts, kind, page=page,
                         fmt=format, row=MechanismSummary)


@router.get("/{id}", summary="一个工作机制 · One mechanism",
            response_model=MechanismDetail, responses=documented(example("mechanism"), not_found="mechanism"))
async def get_mechanism(
    graph: GraphDep,
    id: Annotated[str, Path(description="Mechanism id (slug)", examples=["monthly-station-visit"])],
) -> Response:
    """一个工作机制、使用它的区及逐字引文、相关主题。

    One mechanism, the districts that share it with the verbatim quotes as evidence, and its themes."""
    return await respond(service.read_mechanism, await catalog_for(graph), id)
