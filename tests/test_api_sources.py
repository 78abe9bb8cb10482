"""GET /api/sources and /api/sources/{id} over real HTTP (CONTRACT.md, "Sources and drafts").

Expectations come from the asserted data and the other routes: a source is a schema:Article, its districts
those with a practice whose quote comes from it, each district's count the practices /api/districts/{id}
lists; the text's SHA-256 is recomputed from the file its source.ttl names.
"""

import hashlib
from collections import Counter

import httpx

from app.build.graph import KnowledgeGraph
from app.routers.api.sources import SOURCE_EXAMPLE
from tests.helpers import PREFIXES, SOURCE, select


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def asserted_counts(graph: KnowledgeGraph) -> dict[str, Counter[str]]:
    rows = select(graph, PREFIXES + f"""
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX schema: <https://schema.org/>
        SELECT DISTINCT ?s ?p ?d WHERE {{
          GRAPH <{graph.names.data}> {{
            ?s a schema:Article .
            OPTIONAL {{ ?p a bjrd:Practice ; bjrd:district ?d ; bjrd:evidence/dcterms:source ?s . }}
          }}
        }}""")
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        c = counts.setdefault(slug(str(row["s"])), Counter())
        if row.get("p") is not None:
            c[slug(str(row["d"]))] += 1
    return counts


def test_sources_list_every_article_with_its_districts(client: httpx.Client, graph: KnowledgeGraph) -> None:
    expected = asserted_counts(graph)
    codes = [d["id"] for d in client.get("/api/districts").json()]
    answer = client.get("/api/sources").json()
    assert [s["id"] for s in answer] and {s["id"] for s in answer} == set(expected)
    for source in answer:
        assert source["iri"] == graph.iri("source", source["id"])
        assert "practices" not in source
        assert source["districts"] == [d for d in codes if expected[source["id"]][d]]


def test_one_source_counts_each_districts_practices(client: httpx.Client, graph: KnowledgeGraph) -> None:
    expected = asserted_counts(graph)
    listed = {s["id"]: s for s in client.get("/api/sources").json()}
    for id, counts in expected.items():
        answer = client.get(f"/api/sources/{id}").json()
        assert answer == {**listed[id], "practices": answer["practices"]}
        assert answer["practices"] == {d: counts[d] for d in answer["districts"]}
    if len(expected) == 1:  # one source: every practice of every district is quoted from it
        (only,) = expected
        practices = client.get(f"/api/sources/{only}").json()["practices"]
        for district in client.get("/api/districts").json():
            detail = client.get(f"/api/districts/{district['id']}").json()
            assert practices.get(district["id"], 0) == len(detail["practices"])


def test_the_article_is_described_with_the_text_it_quotes(client: httpx.Client) -> None:
    answer = client.get("/api/sources/article").json()
    assert answer["sha256"] == hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert answer["issued"] == "2023-07" and answer["issue"] == "《北京人大》2023年第7期"
    assert answer["title"] in SOURCE.read_text(encoding="utf-8")
    assert len(answer["districts"]) == 16
    shown = {k: v for k, v in SOURCE_EXAMPLE.items() if k != "districts"}
    assert {k: answer[k] for k in shown} == shown
    assert answer["districts"][:2] == SOURCE_EXAMPLE["districts"][:2]


def test_unknown_source_is_a_404_naming_the_valid_ids(client: httpx.Client) -> None:
    r = client.get("/api/sources/nowhere")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert "article" in r.json()["detail"] and "nowhere" in r.json()["detail"]


def test_openapi_documents_the_routes_in_chinese_and_english(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/sources", "/api/sources/{id}"):
        summary = paths[path]["get"]["summary"]
        assert " · " in summary and any("\u4e00" <= ch <= "\u9fff" for ch in summary)


def test_timelines_name_sources_by_these_ids(client: httpx.Client) -> None:
    ids = {s["id"] for s in client.get("/api/sources").json()}
    named: set[str] = set()
    for mechanism in client.get("/api/mechanisms").json():
        timeline = client.get(f"/api/mechanisms/{mechanism['id']}/timeline").json()
        named |= {s for year in timeline["years"] for s in year["sources"]}
    assert named and named <= ids
