"""/api/topics: the supervision topics, the districts that supervise each, and their verbatim evidence."""

import re
from collections import defaultdict
from html import unescape

import httpx
import pytest

from app.api.examples import example
from app.api.models import TopicDetail, TopicSummary
from app.store.graph import KnowledgeGraph
from tests.helpers import PREFIXES, LiveServer, select
from tests.test_api_docs import contained


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def topics(server: LiveServer) -> list[dict]:
    with httpx.Client(base_url=server.url) as c:
        response = c.get("/api/topics")
    assert response.status_code == 200
    assert response.headers["x-total-count"] == str(len(response.json()))
    return response.json()


@pytest.fixture(scope="module")
def supervisors(graph: KnowledgeGraph) -> dict[str, set[str]]:
    """topic → districts with a practice naming it or a narrower topic (asserted links, skos:broader*)."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?t ?d WHERE {{ GRAPH <{graph.names.data}> {{ ?p bjrd:supervisesTopic ?n ; bjrd:district ?d }}
                                      ?n skos:broader* ?t }}""")
    out: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        out[slug(r["t"])].add(slug(r["d"]))
    return out


def test_topics_list_every_topic_with_its_districts(topics: list[dict], graph: KnowledgeGraph,
                                                    supervisors: dict[str, set[str]]) -> None:
    ids = {slug(r["t"]) for r in select(graph, PREFIXES + "SELECT ?t WHERE { ?t a bjrd:SupervisionTopic }")}
    assert {t["id"] for t in topics} == ids
    for topic in topics:
        TopicSummary.model_validate(topic)
        assert set(topic["districts"]) == supervisors[topic["id"]], topic["id"]
        assert topic["count"] == len(topic["districts"])
        assert topic["iri"] == graph.iri("topic", topic["id"])
        assert topic["label"]["zh"] and topic["label"]["en"]


def test_topics_at_least_eight_shared_by_two_districts(topics: list[dict]) -> None:
    assert len([t for t in topics if len(t["districts"]) >= 2]) >= 8


def test_topic_detail_gives_verbatim_evidence_per_district(client: httpx.Client, topics: list[dict],
                                                           source_text: str) -> None:
    for topic in topics:
        if len(topic["districts"]) < 2:
            continue
        detail = client.get(f"/api/topics/{topic['id']}").json()
        TopicDetail.model_validate(detail)
        assert [d["id"] for d in detail["districts"]] == topic["districts"]
        for district in detail["districts"]:
            assert district["evidence"] and len(district["evidence"]) == len(district["practices"])
            assert all(quote in source_text for quote in district["evidence"])


def test_topic_unknown_id_is_404(client: httpx.Client) -> None:
    response = client.get("/api/topics/nowhere")
    assert response.status_code == 404
    assert "urban-renewal" in response.json()["detail"]


def test_topics_paging_keeps_the_total(client: httpx.Client, topics: list[dict]) -> None:
    response = client.get("/api/topics?limit=2&offset=1")
    assert response.json() == topics[1:3]
    assert response.headers["x-total-count"] == str(len(topics))


def test_topics_examples_are_true(client: httpx.Client) -> None:
    assert contained([example("topics")], client.get("/api/topics").json())
    assert contained(example("topic"), client.get("/api/topics/urban-renewal").json())
    openapi = client.get("/openapi.json").json()
    assert openapi["paths"]["/api/topics/{id}"]["get"]["responses"]["404"]


def test_topics_are_found_by_search_as_type_topic(client: httpx.Client, topics: list[dict]) -> None:
    for topic in topics[:10]:
        hits = client.get("/api/search", params={"q": topic["label"]["zh"], "type": "topic"}).json()["results"]
        assert topic["id"] in {h["id"] for h in hits if h["type"] == "topic"}, topic["id"]
    page = client.get("/search", params={"q": "城市更新", "lang": "en"}).text
    group = page[page.index('data-type="topic"'):]
    assert "/id/topic/urban-renewal" in group[:group.index("</section>")]


def test_topic_page_shows_each_district_with_its_evidence(client: httpx.Client, topics: list[dict],
                                                          source_text: str) -> None:
    for topic in (t for t in topics if len(t["districts"]) >= 2):
        detail = client.get(f"/api/topics/{topic['id']}").json()
        html = client.get(f"/id/topic/{topic['id']}", headers={"Accept": "text/html"}).text
        groups = unescape(html[html.index('class="ld-districts"'):])
        shown = re.findall(r'<h3><a href="/id/district/([^"?]+)', groups)
        assert shown and sorted(shown) == sorted(d["id"] for d in detail["districts"]), topic["id"]
        for district in detail["districts"]:
            assert all(quote in groups and quote in source_text for quote in district["evidence"])
    index = client.get("/id/topic/", headers={"Accept": "text/html"}).text
    assert all(f"/id/topic/{t['id']}" in index for t in topics)
