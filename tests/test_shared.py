"""One meaning of "shared" on every surface (issue 14; data/README.md, "Shared").

Two districts share a mechanism when each has a practice that uses it, directly or through a
narrower mechanism, and it is a named one. The expectation is computed here by ad-hoc SPARQL
from the asserted links, ``skos:broader*`` and ``bjrd:mechanismKind``; for all 16 districts (all
120 pairs) the district page, ``/api/districts/{id}``, ``/api/compare``, ``/similar`` and the
example query ``district_pairs_shared_mechanisms.rq`` (run through ``/sparql``) must agree with it.
"""

import re
from itertools import combinations

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from app.config import ROOT
from tests.helpers import PREFIXES, mechanism_reach, select

Pair = tuple[str, str]


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def district_ids(graph: KnowledgeGraph) -> list[str]:
    rows = select(graph, PREFIXES + "SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code }")
    return [slug(r["d"]) for r in sorted(rows, key=lambda r: r["code"])]


@pytest.fixture(scope="module")
def named(graph: KnowledgeGraph, district_ids: list[str]) -> dict[str, set[str]]:
    reach = mechanism_reach(graph, "Named")
    return {d: reach.get(d, set()) for d in district_ids}


@pytest.fixture(scope="module")
def expected(named: dict[str, set[str]], district_ids: list[str]) -> dict[Pair, set[str]]:
    """Every pair of districts (in GB/T code order) and the named mechanisms they share."""
    return {(a, b): named[a] & named[b] for a, b in combinations(district_ids, 2)}


def pairwise(sets: dict[str, set[str]], district_ids: list[str]) -> dict[Pair, set[str]]:
    return {(a, b): sets[a] & sets[b] for a, b in combinations(district_ids, 2)}


def test_shared_definition_is_not_trivial(expected: dict[Pair, set[str]], graph: KnowledgeGraph) -> None:
    umbrellas = {slug(r["m"]) for r in select(graph, PREFIXES + "SELECT ?m { ?m bjrd:mechanismKind bjrd:Umbrella }")}
    assert len(expected) == 120
    assert any(expected.values())
    assert umbrellas and not umbrellas & set().union(*expected.values())


def test_shared_api_district_detail_agrees(client: httpx.Client, district_ids: list[str],
                                          named: dict[str, set[str]], expected: dict[Pair, set[str]]) -> None:
    sets = {}
    for d in district_ids:
        body = client.get(f"/api/districts/{d}").json()
        assert {m["kind"] for m in body["mechanisms"]} <= {"named"}
        sets[d] = {m["id"] for m in body["mechanisms"]}
    assert sets == named
    assert pairwise(sets, district_ids) == expected


def test_shared_district_page_agrees(client: httpx.Client, district_ids: list[str],
                                    named: dict[str, set[str]], expected: dict[Pair, set[str]]) -> None:
    sets, similar = {}, {}
    for d in district_ids:
        html = client.get(f"/id/district/{d}", headers={"Accept": "text/html"}).text
        section = html[html.index('id="mechanisms"'):]
        section = section[:section.index("</section>")]
        sets[d] = set(re.findall(r'data-mechanism="([^"]+)"', section))
        similar[d] = re.findall(r'<li data-district="([^"]+)">.*?data-shared="([^"]*)"', html, re.S)
        assert similar[d], d
    assert sets == named
    assert pairwise(sets, district_ids) == expected
    for d, rows in similar.items():
        for other, shared in rows:
            assert set(shared.split()) == expected[tuple(sorted((d, other), key=district_ids.index))]


def test_shared_compare_of_all_16_agrees(client: httpx.Client, district_ids: list[str],
                                        named: dict[str, set[str]], expected: dict[Pair, set[str]]) -> None:
    body = client.get("/api/compare", params={"districts": ",".join(district_ids)}).json()
    pairs = {tuple(p["districts"]): p for p in body["pairs"]}
    assert set(pairs) == set(expected)
    for pair, shared in expected.items():
        assert {m["id"] for m in pairs[pair]["shared_mechanisms"]} == shared, pair
        assert pairs[pair]["shared_count"] == len(shared)
    assert body["counts"]["mechanisms"] == {d: len(named[d]) for d in district_ids}


def test_shared_similar_agrees(client: httpx.Client, district_ids: list[str],
                               expected: dict[Pair, set[str]]) -> None:
    for d in district_ids:
        for s in client.get(f"/api/districts/{d}/similar").json():
            pair = tuple(sorted((d, s["id"]), key=district_ids.index))
            assert {m["id"] for m in s["shared_mechanisms"]} == expected[pair]
            assert s["shared_count"] == len(expected[pair])


def test_shared_example_query_agrees(client: httpx.Client, district_ids: list[str],
                                    expected: dict[Pair, set[str]]) -> None:
    text = (ROOT / "queries" / "examples" / "district_pairs_shared_mechanisms.rq").read_text(encoding="utf-8")
    response = client.post("/sparql", data={"query": text}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    found = {}
    for row in response.json()["results"]["bindings"]:
        pair = tuple(sorted((slug(row["a"]["value"]), slug(row["b"]["value"])), key=district_ids.index))
        found[pair] = set(row["mechanism_ids"]["value"].split())
        assert int(row["shared"]["value"]) == len(found[pair])
    assert found == {pair: shared for pair, shared in expected.items() if shared}


def test_shared_matrix_and_mechanisms_shared_agree(client: httpx.Client, named: dict[str, set[str]]) -> None:
    matrix = client.get("/api/matrix").json()
    columns = [m["id"] for m in matrix["mechanisms"]]
    rows = {d["id"]: {m for m, cell in zip(columns, row, strict=True) if cell}
            for d, row in zip(matrix["districts"], matrix["matrix"], strict=True)}
    assert rows == named
    users: dict[str, set[str]] = {}
    for d, ms in named.items():
        for m in ms:
            users.setdefault(m, set()).add(d)
    shared = client.get("/api/mechanisms/shared").json()
    assert {m["id"]: set(m["districts"]) for m in shared} == {m: ds for m, ds in users.items() if len(ds) >= 2}


def test_shared_home_page_count_agrees(client: httpx.Client, named: dict[str, set[str]]) -> None:
    users: dict[str, int] = {}
    for ms in named.values():
        for m in ms:
            users[m] = users.get(m, 0) + 1
    count = sum(1 for n in users.values() if n >= 2)
    html = client.get("/", headers={"Accept-Language": "en"}).text
    assert re.search(r'data-stat="shared_mechanisms">(\d+)<', html)[1] == str(count)
    stats = client.get("/sparql", params={"query": (ROOT / "queries" / "stats.rq").read_text(encoding="utf-8")},
                       headers={"Accept": "application/sparql-results+json"}).json()
    assert int(stats["results"]["bindings"][0]["shared_mechanisms"]["value"]) == count
