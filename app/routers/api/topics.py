"""/api/topics: the supervision topics (监督议题) and the districts that supervise each, with evidence."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api import topics as service
from app.api.catalog import catalog_for
from app.api.examples import example
from app.api.models import TopicDetail, TopicSummary
from app.deps import GraphDep
from app.routers.api.common import PageDep, TableFormatDep, documented, respond

router = APIRouter(prefix="/api/topics", tags=["topics"])


@router.get("", summary="监督议题列表 · List of supervision topics",
            response_model=list[TopicSummary], responses=documented([example("topics")], paged=True, table=True))
async def get_topics(graph: GraphDep, page: PageDep, format: TableFormatDep) -> Response:
    """每个监督议题及监督它的区。

    Every supervision topic (by id) with the districts that supervise it (a practice names it or a narrower
    topic), in GB/T code order."""
    return await respond(service.list_topics, await catalog_for(graph), page=page, fmt=format, row=TopicSummary)


@router.get("/{id}", summary="一个监督议题 · One supervision topic",
            response_model=TopicDetail, responses=documented(example("topic"), not_found="topic"))
async def get_topic(
    graph: GraphDep,
    id: Annotated[str, Path(description="Topic id (slug)", examples=["urban-renewal"])],
) -> Response:
    """一个监督议题、监督它的区及逐字引文。

    One supervision topic with the districts that supervise it and their verbatim evidence."""
    return await respond(service.read_topic, await catalog_for(graph), id)
