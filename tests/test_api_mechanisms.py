"""GET /api/mechanisms, /api/mechanisms/shared and /api/mechanisms/{id} over real HTTP.

Which districts use a mechanism is recomputed here from the asserted data with
``skos:broader*`` (a district uses a mechanism when one of its practices names it or a narrower
one); the evidence is checked against the article and against the mechanism's names, which
data/mechanisms.ttl records as skos:prefLabel and skos:altLabel.
"""

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, LiveServer, select


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def users(graph: KnowledgeGraph) -> dict[str, dict[str, set[str]]]:
    """mechanism id -> district id -> ids of its practices that name the mechanism or a narrower one."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?m ?d ?p WHERE {{
          ?m a bjrd:Mechanism .
          OPTIONAL {{
            GRAPH <{graph.names.data}> {{ ?p bjrd:usesMechanism ?named ; bjrd:district ?d }}
            ?named skos:broader* ?m .
          }}
        }}""")
    result: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        by_district = result.setdefault(slug(row["m"]), {})
        if "p" in row:
            by_district.setdefault(slug(row["d"]), set()).add(slug(row["p"]))
    return result


@pytest.fixture(scope="module")
def code_order(graph: KnowledgeGraph) -> list[str]:
    rows = select(graph, PREFIXES + "SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code }")
    return [slug(r["d"]) for r in sorted(rows, key=lambda r: r["code"])]


@pytest.fixture(scope="module")
def mechanisms(server: LiveServer) -> list[dict]:
    with httpx.Client(base_url=server.url) as c:
        return c.get("/api/mechanisms").json()


def test_mechanisms_lists_every_mechanism_with_its_districts(mechanisms: list[dict], graph: KnowledgeGraph,
                                                             users: dict[str, dict[str, set[str]]],
                                                             code_order: list[str]) -> None:
    assert [m["id"] for m in mechanisms] == sorted(users)
    for m in mechanisms:
        expected = [d for d in code_order if d in users[m["id"]]]
        assert m["districts"] == expected, m["id"]
        assert m["count"] == len(expected)
        assert m["iri"] == graph.iri("mechanism", m["id"])


def test_mechanisms_broader_and_narrower_match_the_scheme(mechanisms: list[dict], graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + f"""
        SELECT ?m ?b WHERE {{ GRAPH <{graph.names.data}> {{ ?m a bjrd:Mechanism ; skos:broader ?b }} }}""")
    broader = {(slug(r["m"]), slug(r["b"])) for r in rows}
    assert {(m["id"], b) for m in mechanisms for b in m["broader"]} == broader
    assert {(n, m["id"]) for m in mechanisms for n in m["narrower"]} == broader
    tops = {slug(r["m"]) for r in select(graph, PREFIXES + """
        SELECT ?m WHERE { ?scheme skos:hasTopConcept ?m . ?m a bjrd:Mechanism }""")}
    assert {m["id"] for m in mechanisms if m["top"]} == tops


def test_mechanisms_kind_is_named_or_umbrella_as_the_scheme_says(mechanisms: list[dict], graph: KnowledgeGraph,
                                                                  client: httpx.Client) -> None:
    rows = select(graph, PREFIXES + """
        SELECT ?m ?kind WHERE { ?m a bjrd:Mechanism ; bjrd:mechanismKind/skos:notation ?kind }""")
    kinds = {slug(r["m"]): r["kind"] for r in rows}
    assert {m["id"]: m["kind"] for m in mechanisms} == kinds
    assert set(kinds.values()) == {"named", "umbrella"}
    umbrella = next(m for m in mechanisms if m["kind"] == "umbrella")
    assert client.get(f"/api/mechanisms/{umbrella['id']}").json()["kind"] == "umbrella"


def test_mechanism_evidence_is_verbatim_and_names_the_mechanism(client: httpx.Client, graph: KnowledgeGraph,
                                                                 mechanisms: list[dict], source_text: str,
                                                                 users: dict[str, dict[str, set[str]]]) -> None:
    rows = select(graph, PREFIXES + """
        SELECT ?m ?name WHERE {
          ?m a bjrd:Mechanism .
          ?n skos:broader* ?m .
          { ?n skos:prefLabel ?name } UNION { ?n skos:altLabel ?name }
          FILTER(lang(?name) = "zh")
        }""")
    names: dict[str, set[str]] = {}
    for row in rows:
        names.setdefault(slug(row["m"]), set()).add(row["name"])
    for summary in mechanisms:
        body = client.get(f"/api/mechanisms/{summary['id']}").json()
        assert [d["id"] for d in body["districts"]] == summary["districts"]
        for district in body["districts"]:
            assert set(district["practices"]) == users[summary["id"]][district["id"]]
            assert len(district["evidence"]) == len(district["practices"])
            for quote in district["evidence"]:
                assert source_text.count(quote) >= 1
            assert any(name in quote for quote in district["evidence"] for name in names[summary["id"]]), (
                summary["id"], district["id"])


def test_mechanism_monthly_station_visit_evidence_matches_practice_quotes(client: httpx.Client,
                                                                         graph: KnowledgeGraph) -> None:
    body = client.get("/api/mechanisms/monthly-station-visit").json()
    rows = select(graph, PREFIXES + f"""
        SELECT ?d ?quote ?start WHERE {{
          GRAPH <{graph.names.data}> {{ ?p bjrd:usesMechanism ?n ; bjrd:district ?d ; bjrd:evidence ?q }}
          ?n skos:broader* <{graph.iri("mechanism", "monthly-station-visit")}> .
          ?q oa:exact ?quote ; oa:start ?start .
        }}""")
    expected: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        expected.setdefault(slug(row["d"]), []).append((row["start"], row["quote"]))
    assert {d["id"]: d["evidence"] for d in body["districts"]} == {
        d: [q for _, q in sorted(quotes)] for d, quotes in expected.items()}
    assert body["label"]["zh"] in {r["l"] for r in select(graph, PREFIXES + f"""
        SELECT ?l WHERE {{ <{graph.iri("mechanism", "monthly-station-visit")}> skos:prefLabel ?l }}""")}
    assert body["definition"] is not None and set(body["definition"]) == {"zh", "en"}


def test_mechanism_themes_are_those_of_its_practices(client: httpx.Client, graph: KnowledgeGraph) -> None:
    body = client.get("/api/mechanisms/deputy-stations").json()
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?t WHERE {{
          GRAPH <{graph.names.data}> {{ ?p bjrd:usesMechanism ?n ; bjrd:theme ?asserted }}
          ?n skos:broader* <{graph.iri("mechanism", "deputy-stations")}> .
          ?asserted skos:broader* ?t .
        }}""")
    assert [t["id"] for t in body["themes"]] == sorted(slug(r["t"]) for r in rows)


@pytest.mark.parametrize("min_districts", [None, 1, 2, 3, 5, 16, 17])
def test_mechanisms_shared_filters_and_orders_by_district_count(client: httpx.Client, mechanisms: list[dict],
                                                                min_districts: int | None) -> None:
    params = {} if min_districts is None else {"min_districts": min_districts}
    response = client.get("/api/mechanisms/shared", params=params)
    assert response.status_code == 200
    body = response.json()
    n = 2 if min_districts is None else min_districts
    expected = sorted((m for m in mechanisms if len(m["districts"]) >= n and m["kind"] == "named"),
                      key=lambda m: (-m["count"], m["id"]))
    assert body == expected
    assert response.headers["X-Total-Count"] == str(len(expected))
    umbrellas = client.get("/api/mechanisms/shared", params={**params, "kind": "umbrella"}).json()
    assert umbrellas == sorted((m for m in mechanisms if len(m["districts"]) >= n and m["kind"] == "umbrella"),
                               key=lambda m: (-m["count"], m["id"]))


def test_mechanisms_shared_agrees_with_matrix_and_compare(client: httpx.Client) -> None:
    shared = client.get("/api/mechanisms/shared").json()
    matrix = client.get("/api/matrix").json()
    rows = [d["id"] for d in matrix["districts"]]
    columns = {m["id"]: j for j, m in enumerate(matrix["mechanisms"])}
    from_matrix = {m: [rows[i] for i, row in enumerate(matrix["matrix"]) if row[j]] for m, j in columns.items()}
    assert {m["id"]: m["districts"] for m in shared} == {m: ds for m, ds in from_matrix.items() if len(ds) >= 2}
    for m in shared:
        comparison = client.get("/api/compare", params={"districts": ",".join(m["districts"])}).json()
        assert m["id"] in {s["id"] for s in comparison["shared_mechanisms"]}


@pytest.mark.parametrize("value", ["0", "-1", "two", ""])
def test_mechanisms_shared_bad_min_districts_is_422(client: httpx.Client, value: str) -> None:
    response = client.get("/api/mechanisms/shared", params={"min_districts": value})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "min_districts"]]


def test_mechanisms_limit_offset_and_total(client: httpx.Client, mechanisms: list[dict]) -> None:
    response = client.get("/api/mechanisms", params={"limit": 10, "offset": 5})
    assert response.json() == mechanisms[5:15]
    assert response.headers["X-Total-Count"] == str(len(mechanisms))
    shared = client.get("/api/mechanisms/shared").json()
    page = client.get("/api/mechanisms/shared", params={"limit": 3, "offset": 1})
    assert page.json() == shared[1:4]
    assert page.headers["X-Total-Count"] == str(len(shared))


def test_mechanism_if_none_match_is_304(client: httpx.Client) -> None:
    etag = client.get("/api/mechanisms/shared").headers["etag"]
    response = client.get("/api/mechanisms/shared", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert client.get("/api/mechanisms/shared", params={"min_districts": 3},
                      headers={"If-None-Match": etag}).status_code == 200
