"""/api/topics: the supervision topics (监督议题) and the districts that supervise each, with evidence.

Answers come from the named queries ``topics`` and ``topic_practices`` (and ``districts`` for
labels and order), computed once per graph version off the event loop. A district supervises a
topic when one of its practices names the topic or a narrower one (老旧小区综合整治 counts for 城市更新),
as districts share mechanisms (data/README.md, "Shared").
"""

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Response
from pydantic import Field, TypeAdapter

from app.api.models import ApiModel, Label
from app.deps import GraphDep
from app.errors import NotFound
from app.routers.api_common import ANY, JSON, TOTAL_HEADER, PageDep, documented
from app.store.graph import KnowledgeGraph

router = APIRouter(prefix="/api/topics", tags=["topics"])


class TopicSummary(ApiModel):
    """A supervision topic and the districts that supervise it."""

    id: str = Field(description="Topic id (slug), the tail of its IRI")
    iri: str
    label: Label
    districts: list[str] = Field(description="Districts with a practice that names the topic or a narrower one, "
                                             "in GB/T code order")
    count: int = Field(description="Number of districts, len(districts)")
    broader: list[str] = Field(description="Asserted broader topics (skos:broader)")
    narrower: list[str] = Field(description="Topics directly narrower than this one")


class TopicDistrict(ApiModel):
    """A district that supervises a topic, with its evidence."""

    id: str
    label: Label
    evidence: list[str] = Field(description="The verbatim quote of every practice of the district that names the "
                                            "topic (or a narrower one), in article order")
    practices: list[str] = Field(description="Ids of those practices; evidence[i] is the quote of practices[i]")


class TopicDetail(ApiModel):
    """A supervision topic and the districts that supervise it, with their evidence."""

    id: str
    iri: str
    label: Label
    definition: Label | None = Field(None, description="skos:definition")
    broader: list[str]
    narrower: list[str]
    count: int = Field(description="Number of districts that supervise it")
    districts: list[TopicDistrict] = Field(description="The districts that supervise it, in GB/T code order")


@dataclass(frozen=True)
class TopicAnswers:
    summaries: list[dict[str, Any]]  # JSON-ready, for paging
    details: dict[str, bytes]  # rendered once


EXAMPLE_SUMMARY = {
    "id": "urban-renewal",
    "iri": "https://bjrd-kg.example.org/id/topic/urban-renewal",
    "label": {"zh": "城市更新", "en": "Urban renewal"},
    "districts": ["shijingshan", "haidian", "huairou"],
    "count": 3,
    "broader": [],
    "narrower": ["old-compound-renovation"],
}
EXAMPLE_DETAIL = {
    **{k: v for k, v in EXAMPLE_SUMMARY.items() if k != "districts"},
    "definition": {"zh": "城市更新行动，包括老旧小区综合整治。",
                   "en": "Urban renewal, including the comprehensive renovation of old residential compounds."},
    "districts": [{
        "id": "huairou", "label": {"zh": "怀柔区", "en": "Huairou District"},
        "evidence": ["督办“加大老旧小区综合整治力度,提升小区物业管理水平”议案"],
        "practices": ["huairou-old-compound-bill"],
    }],
}

_answers: dict[str, TopicAnswers] = {}
_lock = threading.Lock()


def slug(iri: Any) -> str:
    return str(iri).rsplit("/", 1)[-1]


def build_answers(graph: KnowledgeGraph) -> TopicAnswers:
    """Every topic's summary and detail, as JSON, from the named queries."""
    districts = {slug(r["district"]): r for r in graph.run("districts")}
    order = {d: i for i, d in enumerate(sorted(districts, key=lambda d: str(districts[d]["code"])))}
    topics: dict[str, dict[str, Any]] = {}
    broader: dict[str, set[str]] = defaultdict(set)
    narrower: dict[str, set[str]] = defaultdict(set)
    for row in graph.run("topics"):
        topics.setdefault(slug(row["topic"]), row)
        if row.get("broader"):
            broader[slug(row["topic"])].add(slug(row["broader"]))
            narrower[slug(row["broader"])].add(slug(row["topic"]))
    evidence: dict[str, dict[str, list[tuple[int, str, str]]]] = defaultdict(lambda: defaultdict(list))
    for row in graph.run("topic_practices"):
        evidence[slug(row["topic"])][slug(row["district"])].append((int(row["start"]), slug(row["practice"]),
                                                                    str(row["quote"])))
    summaries, details = [], {}
    for tid, row in sorted(topics.items()):
        label = Label(zh=row["label_zh"], en=row["label_en"])
        used = sorted(evidence[tid], key=order.__getitem__)
        summary = TopicSummary(id=tid, iri=str(row["topic"]), label=label, districts=used, count=len(used),
                               broader=sorted(broader[tid]), narrower=sorted(narrower[tid]))
        summaries.append(summary)
        definition = (Label(zh=row["definition_zh"], en=row["definition_en"])
                      if row.get("definition_zh") and row.get("definition_en") else None)
        per_district = []
        for d in used:
            cited = sorted(set(evidence[tid][d]))
            per_district.append(TopicDistrict(
                id=d, label=Label(zh=districts[d]["label_zh"], en=districts[d]["label_en"]),
                evidence=[quote for _, _, quote in cited], practices=[practice for _, practice, _ in cited]))
        details[tid] = TypeAdapter(TopicDetail).dump_json(TopicDetail(
            id=tid, iri=str(row["topic"]), label=label, definition=definition, broader=summary.broader,
            narrower=summary.narrower, count=len(used), districts=per_district), exclude_none=True)
    return TopicAnswers([s.model_dump() for s in summaries], details)


def _build_once(graph: KnowledgeGraph) -> TopicAnswers:
    with _lock:
        answers = _answers.get(graph.version)
        if answers is None:
            answers = build_answers(graph)
            _answers.clear()  # a service holds one graph version at a time
            _answers[graph.version] = answers
        return answers


async def answers_for(graph: KnowledgeGraph) -> TopicAnswers:
    answers = _answers.get(graph.version)
    return answers if answers is not None else await anyio.to_thread.run_sync(_build_once, graph)


@router.get("", summary="监督议题列表 · List of supervision topics",
            response_model=list[TopicSummary], responses=documented([EXAMPLE_SUMMARY], paged=True))
async def get_topics(graph: GraphDep, page: PageDep) -> Response:
    """每个监督议题及监督它的区。

    Every supervision topic (by id) with the districts that supervise it."""
    answers = await answers_for(graph)
    return Response(ANY.dump_json(page.slice(answers.summaries)), media_type=JSON,
                    headers={TOTAL_HEADER: str(len(answers.summaries))})


@router.get("/{id}", summary="一个监督议题 · One supervision topic",
            response_model=TopicDetail, responses=documented(EXAMPLE_DETAIL, not_found="topic"))
async def get_topic(
    graph: GraphDep,
    id: Annotated[str, Path(description="Topic id (slug)", examples=["urban-renewal"])],
) -> Response:
    """一个监督议题、监督它的区及逐字引文。

    One supervision topic with the districts that supervise it and their verbatim evidence."""
    answers = await answers_for(graph)
    if id not in answers.details:
        raise NotFound(f"Unknown topic id {id!r}. Valid topic ids: {', '.join(sorted(answers.details))}")
    return Response(answers.details[id], media_type=JSON)
