"""/api/mechanisms/{id}/timeline: a mechanism across sources and years."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api.answers import require
from app.api.catalog import catalog_for
from app.api.timeline import MechanismTimeline, read_timeline
from app.deps import GraphDep
from app.routers.api_common import JSON, documented, off_loop

router = APIRouter(prefix="/api/mechanisms", tags=["mechanisms"])

#: A real answer (tests/test_api_timeline.py holds it to the live one).
TIMELINE_EXAMPLE = {
    "id": "theory-research",
    "label": {"zh": "人大制度理论研究", "en": "Research on the people's congress system"},
    "years": [{"year": 2014, "sources": ["article"], "districts": ["changping"]},
              {"year": 2023, "sources": ["article"], "districts": ["shijingshan", "changping"]}],
    "first": {"year": 2014, "source": "article", "districts": ["changping"]},
}


@router.get("/{id}/timeline", summary="工作机制的时间线 · A mechanism over the years",
            response_model=MechanismTimeline, responses=documented(TIMELINE_EXAMPLE, not_found="mechanism"))
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
