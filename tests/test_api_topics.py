"""/api/topics: the supervision topics, the districts that supervise each, and their verbatim evidence."""

import re
from collections import defaultdict
from html import unescape

import httpx
import pytest

from app.api.examples import example
from app.api.models import TopicDetail, TopicSummary
from app.build.graph import KnowledgeGraph
from app.config import ROOT
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


# ---------------------------------------------------------------- kind, and what "shared" counts


@pytest.fixture(scope="module")
def kinds(graph: KnowledgeGraph) -> dict[str, str]:
    """topic → "named" or "umbrella", read from bjrd:topicKind in the graph."""
    rows = select(graph, PREFIXES + "SELECT ?t ?k WHERE { ?t a bjrd:SupervisionTopic ; bjrd:topicKind ?k }")
    return {slug(r["t"]): r["k"].rsplit("#", 1)[-1].lower() for r in rows}


def test_topics_say_their_kind_as_the_graph_does(client: httpx.Client, topics: list[dict],
                                                 kinds: dict[str, str], source_text: str) -> None:
    assert {t["id"]: t["kind"] for t in topics} == kinds
    assert set(kinds.values()) == {"named", "umbrella"}
    for topic in topics:
        detail = client.get(f"/api/topics/{topic['id']}").json()
        assert detail["kind"] == topic["kind"]
        if topic["kind"] == "umbrella":
            # an analyst's grouping: it groups narrower topics under a label the article does not use
            assert topic["narrower"] and topic["label"]["zh"] not in source_text, topic["id"]


def test_named_topics_use_the_articles_words(graph: KnowledgeGraph, kinds: dict[str, str], source_text: str) -> None:
    labels: dict[str, set[str]] = defaultdict(set)
    for r in select(graph, PREFIXES + """SELECT ?t ?l WHERE { ?t a bjrd:SupervisionTopic ;
            skos:prefLabel|skos:altLabel ?l FILTER (lang(?l) = "zh") }"""):
        labels[slug(r["t"])].add(r["l"])
    unsaid = [t for t, k in kinds.items() if k == "named" and not any(label in source_text for label in labels[t])]
    assert unsaid == []


def shared_named(supervisors: dict[str, set[str]], kinds: dict[str, str]) -> dict[str, set[str]]:
    """data/README.md, "Shared": named topics that practices of two or more districts supervise, directly or
    through a narrower topic; umbrella groupings are never counted."""
    return {t: ds for t, ds in supervisors.items() if len(ds) >= 2 and kinds[t] == "named"}


def test_shared_topics_count_named_ones_only_on_every_surface(client: httpx.Client, topics: list[dict],
                                                              supervisors: dict[str, set[str]],
                                                              kinds: dict[str, str]) -> None:
    expected = shared_named(supervisors, kinds)
    # The rule matters: an umbrella reaches several districts and would otherwise be counted.
    assert any(len(supervisors[t]) >= 2 for t, k in kinds.items() if k == "umbrella")
    assert {t["id"] for t in topics if t["kind"] == "named" and t["count"] >= 2} == set(expected)
    example = (ROOT / "queries" / "examples" / "shared_topics.rq").read_text(encoding="utf-8")
    rows = client.get("/sparql", params={"query": example}, headers={"Accept": "application/sparql-results+json"})
    assert {slug(b["topic"]["value"]): int(b["district_count"]["value"]) for b in rows.json()["results"]["bindings"]} \
        == {t: len(ds) for t, ds in expected.items()}
    stats = client.get("/sparql", params={"query": (ROOT / "queries" / "stats.rq").read_text(encoding="utf-8")},
                       headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"][0]
    assert int(stats["shared_topics"]["value"]) == len(expected)
    assert int(stats["named_topics"]["value"]) + int(stats["umbrella_topics"]["value"]) == len(kinds)
    for lang in ("zh", "en"):
        html = client.get(f"/?lang={lang}").text
        assert re.search(r'data-stat="shared_topics">(\d+)<', html)[1] == str(len(expected))
        assert re.search(r'data-stat="topics">(\d+)<', html)[1] == str(len(kinds))


def test_topic_pages_say_the_kind(client: httpx.Client, kinds: dict[str, str]) -> None:
    for topic, kind in kinds.items():
        html = client.get(f"/id/topic/{topic}", params={"lang": "en"}, headers={"Accept": "text/html"}).text
        shown = re.search(r'<dd class="ld-concept-kind">(.*?)</dd>', html, re.S)
        assert shown and f">{kind}<" in shown.group(1), topic
        assert ("not counted as shared" in shown.group(1)) == (kind == "umbrella"), topic


def test_hotline_response_is_a_topic_where_the_article_says_the_congress_works_on_it(
        client: httpx.Client, graph: KnowledgeGraph, source_text: str) -> None:
    """接诉即办 is a government mechanism and, in the paragraphs that say a congress researched, supervised or
    took part in it, a supervision topic: the districts whose paragraph says 接诉即办 supervise the topic."""
    rows = select(graph, PREFIXES + """SELECT ?d ?start ?end WHERE {
        ?d a bjrd:District ; bjrd:paragraph [ oa:start ?start ; oa:end ?end ] }""")
    saying = sorted(slug(r["d"]) for r in rows if "接诉即办" in source_text[r["start"]:r["end"]])
    assert len(saying) >= 3
    detail = client.get("/api/topics/hotline-response").json()
    assert detail["kind"] == "named"
    assert sorted(d["id"] for d in detail["districts"]) == saying
    assert all("接诉即办" in q for d in detail["districts"] for q in d["evidence"])
