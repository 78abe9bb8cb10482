"""GET /api/mechanisms/{id}/timeline and /api/topics/{id}/timeline over real HTTP (CONTRACT.md, "Sources and drafts").

The expected years are recomputed here from the asserted data: a district uses a mechanism (supervises a
topic) when one of its practices names it or a narrower one (``skos:broader*``); a practice is dated by its
own dcterms:date or schema:startDate when it has one, else by the issue of the source its quote
comes from.
"""

from collections import defaultdict

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from app.routers.api.mechanism_timeline import TIMELINE_EXAMPLE, TOPIC_TIMELINE_EXAMPLE
from tests.helpers import PREFIXES, LiveServer, select

Expected = dict[str, dict[int, tuple[set[str], set[str]]]]


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def expected_years(graph: KnowledgeGraph, kind: str, uses: str) -> Expected:
    """concept id -> year -> (source ids, district ids), for the concepts of class ``kind`` that practices
    link to by ``uses`` (directly or through a narrower concept)."""
    rows = select(graph, PREFIXES + f"""
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX schema: <https://schema.org/>
        SELECT DISTINCT ?m ?p ?d ?source ?issued ?date ?start WHERE {{
          ?m a bjrd:{kind} .
          OPTIONAL {{
            GRAPH <{graph.names.data}> {{
              ?p bjrd:{uses} ?named ; bjrd:district ?d ; bjrd:evidence ?e .
              ?e dcterms:source ?source .
              OPTIONAL {{ ?source dcterms:issued ?issued }}
              OPTIONAL {{ ?p dcterms:date ?date }}
              OPTIONAL {{ ?p schema:startDate ?start }}
            }}
            ?named skos:broader* ?m .
          }}
        }}""")
    years: Expected = defaultdict(dict)
    for row in rows:
        m = slug(str(row["m"]))
        years.setdefault(m, {})
        if row.get("p") is None:
            continue
        written = str(row.get("date") or row.get("start") or row["issued"])
        sources, districts = years[m].setdefault(int(written[:4]), (set(), set()))
        sources.add(slug(str(row["source"])))
        districts.add(slug(str(row["d"])))
    return years


@pytest.fixture(scope="module")
def expected(graph: KnowledgeGraph) -> Expected:
    """mechanism id -> year -> (source ids, district ids)."""
    return expected_years(graph, "Mechanism", "usesMechanism")


@pytest.fixture(scope="module")
def expected_topics(graph: KnowledgeGraph) -> Expected:
    """topic id -> year -> (source ids, district ids)."""
    return expected_years(graph, "SupervisionTopic", "supervisesTopic")


@pytest.fixture(scope="module")
def code_order(server: LiveServer) -> list[str]:
    return [d["id"] for d in httpx.get(f"{server.url}/api/districts", timeout=30).json()]


@pytest.mark.parametrize("kind", ["mechanisms", "topics"])
def test_timeline_of_every_concept_is_its_years_sources_and_districts(
        client: httpx.Client, expected: Expected, expected_topics: Expected, code_order: list[str], kind: str) -> None:
    concepts = expected if kind == "mechanisms" else expected_topics
    assert len(concepts) > 50
    for mechanism, years in concepts.items():
        response = client.get(f"/api/{kind}/{mechanism}/timeline")
        assert response.status_code == 200, mechanism
        answer = response.json()
        assert set(answer) == {"id", "label", "years", "first"}
        assert answer["id"] == mechanism and set(answer["label"]) == {"zh", "en"}
        assert [y["year"] for y in answer["years"]] == sorted(years), mechanism
        for y in answer["years"]:
            assert set(y) == {"year", "sources", "districts"}
            sources, districts = years[y["year"]]
            assert set(y["sources"]) == sources
            assert y["districts"] == [d for d in code_order if d in districts], (mechanism, y["year"])
        if years:
            first = min(years)
            assert answer["first"] == {"year": first, "source": answer["years"][0]["sources"][0],
                                       "districts": answer["years"][0]["districts"]}
        else:
            assert answer["first"] is None


@pytest.mark.parametrize("kind", ["mechanisms", "topics"])
def test_timeline_dates_a_practice_by_its_own_year_before_its_source(
        client: httpx.Client, expected: Expected, expected_topics: Expected, kind: str) -> None:
    """A concept with a practice dated before the issue (2014年成立…) is first reported then."""
    dated = {m: y for m, y in (expected if kind == "mechanisms" else expected_topics).items() if len(y) > 1}
    assert dated
    for mechanism, years in dated.items():
        answer = client.get(f"/api/{kind}/{mechanism}/timeline").json()
        assert answer["first"]["year"] == min(years) < max(years)


@pytest.mark.parametrize(("kind", "typo", "known"), [("mechanisms", "theory-reserch", "theory-research"),
                                                      ("topics", "zhongguancum", "zhongguancun")])
def test_timeline_unknown_concept_is_404_naming_close_ids(client: httpx.Client, kind: str, typo: str,
                                                          known: str) -> None:
    response = client.get(f"/api/{kind}/{typo}/timeline")
    assert response.status_code == 404
    assert f"Did you mean: {known}" in response.json()["detail"]


@pytest.mark.parametrize(("kind", "example"), [("mechanisms", TIMELINE_EXAMPLE), ("topics", TOPIC_TIMELINE_EXAMPLE)])
def test_timeline_is_documented_with_a_true_example(client: httpx.Client, kind: str, example: dict) -> None:
    operation = client.get("/openapi.json").json()["paths"][f"/api/{kind}/{{id}}/timeline"]["get"]
    assert "·" in operation["summary"] and operation["description"]
    assert operation["tags"] == [kind]
    assert operation["responses"]["200"]["content"]["application/json"]["example"] == example
    assert "404" in operation["responses"]
    live = client.get(f"/api/{kind}/{example['id']}/timeline").json()
    assert live == example
