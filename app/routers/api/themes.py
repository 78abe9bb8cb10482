"""/api/themes: the themes of congress work, the districts and mechanisms under each."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api import answers as service
from app.api.catalog import catalog_for
from app.api.examples import example
from app.api.models import ThemeDetail, ThemeWithPractices
from app.deps import GraphDep
from app.routers.api.common import PageDep, TableFormatDep, documented, respond

router = APIRouter(prefix="/api/themes", tags=["themes"])

#: One theme: the list entry's example, plus its first practices.
THEME_EXAMPLE = {**example("theme"), "practices": [
    {"id": "dongcheng-station-full-coverage", "iri": "https://bjrd-kg.example.org/id/practice/dongcheng-station-full-coverage",
     "label": {"zh": "全覆盖建立家站", "en": "Set up deputies' homes and liaison stations with full coverage"},
     "district": "dongcheng"},
]}


@router.get("", summary="主题列表 · List of themes",
            response_model=list[ThemeDetail], responses=documented([example("theme")], paged=True, table=True))
async def get_themes(graph: GraphDep, page: PageDep, format: TableFormatDep) -> Response:
    """每个主题、有相关做法的区及其使用的工作机制。

    Every theme (by id) with the districts that have practices on it and the mechanisms they use."""
    return await respond(service.list_themes, await catalog_for(graph), page=page, fmt=format, row=ThemeDetail)


@router.get("/{id}", summary="一个主题 · One theme",
            response_model=ThemeWithPractices, responses=documented(THEME_EXAMPLE, not_found="theme"))
async def get_theme(
    graph: GraphDep,
    id: Annotated[str, Path(description="Theme id (slug)", examples=["station-building"])],
) -> Response:
    """一个主题、相关的区及其做法使用的工作机制。

    One theme with its districts, the mechanisms used by its practices, and those practices (id, label,
    district; article order)."""
    return await respond(service.read_theme, await catalog_for(graph), id)
