"""The example queries for spread and novelty (queries/examples/mechanism_spread.rq, new_in_source.rq), run
through /sparql as the query editor sends them, against answers derived from /api/mechanisms/{id}/timeline
(itself held to the asserted data by tests/test_api_timeline.py).

Spread: a named mechanism used by more districts in a later year than in its first. Novelty: the named
mechanisms a source reports that no earlier-issued source does; with the one source the graph holds, every
named mechanism some practice uses, with all its districts.
"""

import httpx
import pytest

from app.config import ROOT
from tests.helpers import LiveServer

EXAMPLES = ROOT / "queries" / "examples"


def run(client: httpx.Client, name: str) -> list[dict[str, str]]:
    text = (EXAMPLES / f"{name}.rq").read_text(encoding="utf-8")
    response = client.post("/sparql", data={"query": text}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def timelines(server: LiveServer) -> dict[str, dict]:
    """named mechanism id -> its /api timeline."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        named = [m["id"] for m in client.get("/api/mechanisms").json() if m["kind"] == "named"]
        return {m: client.get(f"/api/mechanisms/{m}/timeline").json() for m in named}


@pytest.fixture(scope="module")
def district_zh(server: LiveServer) -> dict[str, str]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        return {d["id"]: d["label"]["zh"] for d in client.get("/api/districts").json()}


def test_spread_lists_the_mechanisms_used_by_more_districts_later(
        client: httpx.Client, timelines: dict[str, dict], district_zh: dict[str, str]) -> None:
    expected = {}
    for m, timeline in timelines.items():
        if not timeline["years"]:
            continue
        first = timeline["years"][0]
        for later in timeline["years"][1:]:
            if len(later["districts"]) > len(first["districts"]):
                expected[(m, later["year"])] = (first, later)
    assert expected  # the article dates some practices before its issue (2014年成立…)
    rows = run(client, "mechanism_spread")
    assert {(slug(r["mechanism"]), int(r["later_year"])) for r in rows} == set(expected)
    for row in rows:
        first, later = expected[(slug(row["mechanism"]), int(row["later_year"]))]
        assert int(row["first_year"]) == first["year"]
        assert int(row["first_count"]) == len(first["districts"])
        assert int(row["later_count"]) == len(later["districts"])
        assert set(row["first_districts"].split("、")) == {district_zh[d] for d in first["districts"]}
        assert set(row["later_districts"].split("、")) == {district_zh[d] for d in later["districts"]}


def test_new_in_source_is_every_mechanism_the_one_source_reports(
        client: httpx.Client, timelines: dict[str, dict], district_zh: dict[str, str]) -> None:
    sources = {s for t in timelines.values() for y in t["years"] for s in y["sources"]}
    assert len(sources) == 1, "the product's data is the one article; a test with two is tests/test_curate.py's"
    (source,) = sources
    expected = {m: {d for y in t["years"] for d in y["districts"]} for m, t in timelines.items() if t["years"]}
    rows = run(client, "new_in_source")
    assert {slug(r["source"]) for r in rows} == {source}
    assert {slug(r["mechanism"]): set(r["districts"].split("、")) for r in rows} == {
        m: {district_zh[d] for d in districts} for m, districts in expected.items()}
    assert all(int(r["district_count"]) == len(expected[slug(r["mechanism"])]) for r in rows)
    firsts = {t["first"]["source"] for t in timelines.values() if t["first"]}
    assert firsts == {source}
