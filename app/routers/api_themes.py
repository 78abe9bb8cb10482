"""/api/themes: the themes of congress work, the districts and mechanisms under each."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api import answers as service
from app.api.catalog import catalog_for
from app.api.examples import example
from app.api.models import ThemeDetail
from app.deps import GraphDep
from app.routers.api_common import PageDep, documented, respond

router = APIRouter(prefix="/api/themes", tags=["themes"])


@router.get("", response_model=list[ThemeDetail], responses=documented([example("theme")], paged=True))
async def get_themes(graph: GraphDep, page: PageDep) -> Response:
    """Every theme (by id) with the districts that have practices on it and the mechanisms they use."""
    return respond(service.list_themes, await catalog_for(graph), page=page)


@router.get("/{id}", response_model=ThemeDetail, responses=documented(example("theme"), not_found="theme"))
async def get_theme(
    graph: GraphDep,
    id: Annotated[str, Path(description="Theme id (slug)", examples=["station-building"])],
) -> Response:
    """One theme with its districts and the mechanisms used by its practices."""
    return respond(service.read_theme, await catalog_for(graph), id)
