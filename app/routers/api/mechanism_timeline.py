"""/api/mechanisms/{id}/timeline and /api/topics/{id}/timeline: a mechanism or a supervision topic across
sources and years (one shape, app.api.timeline)."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api.answers import require
from app.api.catalog import catalog_for
from app.api.timeline import MechanismTimeline, TopicTimeline, read_timeline, read_topic_timeline
from app.deps import GraphDep
from app.routers.api.common import JSON, documented, off_loop

router = APIRouter()

#: Real answers (tests/test_api_timeline.py holds them to the live ones).
TIMELINE_EXAMPLE = {
    "id": "theory-research",
    "label": {"zh": "人大制度理论研究", "en": "Research on the people's congress system"},
    "years": [{"year": 2014, "sources": ["article"], "districts": ["changping"]},
              {"year": 2023, "sources": ["article"], "districts": ["shijingshan", "changping"]}],
    "first": {"year": 2014, "source": "article", "districts": ["changping"]},
}
TOPIC_TIMELINE_EXAMPLE = {
    "id": "zhongguancun",
    "label": {"zh": "中关村园区发展", "en": "Development of the Zhongguancun parks"},
    "years": [{"year": 2022, "sources": ["article"], "districts": ["chaoyang"]},
              {"year": 2023, "sources": ["article"], "districts": ["haidian"]}],
    "first": {"year": 2022, "source": "article", "districts": ["chaoyang"]},
}


@router.get("/api/mechanisms/{id}/timeline", summary="工作机制的时间线 · A mechanism over the years",
            tags=["mechanisms"], response_model=MechanismTimeline,
            responses=documented(TIMELINE_EXAMPLE, not_found="mechanism"))
async def get_mechanism_timeline(
    graph: GraphDep,
    id: Annotated[str, Path(description="Mechanism id (slug)", examples=["theory-research"])],
) -> Response:
    """一个工作机制按年份：各年报道它的来源、使用它的区，以及最早见于何时何处。

    One mechanism by year: the sources that report it and the districts that use it (directly or through a
    narrower mechanism) in each year, and where and when it was first reported. A practice is dated by its
    source's issue unless the text gives it a date of its own (e.g. 2014年成立)."""
    catalog = await catalog_for(graph)
    require("mechanism", catalog.mechanisms, id, catalog)
    iri = catalog.mechanisms[id].iri
    answer = await off_loop(lambda: read_timeline(catalog, id, graph.run("mechanism_timeline", mechanism=iri)))
    return Response(answer.model_dump_json().encode("utf-8"), media_type=JSON)


@router.get("/api/topics/{id}/timeline", summary="监督议题的时间线 · A supervision topic over the years",
            tags=["topics"], response_model=TopicTimeline,
            responses=documented(TOPIC_TIMELINE_EXAMPLE, not_found="topic"))
async def get_topic_timeline(
    graph: GraphDep,
    id: Annotated[str, Path(description="Supervision topic id (slug)", examples=["zhongguancun"])],
) -> Response:
    """一个监督议题按年份：各年报道它的来源、监督它的区，以及最早见于何时何处。

    One supervision topic by year, in the shape of /api/mechanisms/{id}/timeline: the sources that report it
    and the districts that supervise it (directly or through a narrower topic) in each year, and where and when
    it was first reported. A practice is dated by its source's issue unless the text gives it a date of its
    own."""
    catalog = await catalog_for(graph)
    require("topic", catalog.topics, id, catalog)
    iri = catalog.topics[id].iri
    answer = await off_loop(lambda: read_topic_timeline(catalog, id, graph.run("topic_timeline", topic=iri)))
    return Response(answer.model_dump_json().encode("utf-8"), media_type=JSON)
