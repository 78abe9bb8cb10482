"""GET /api/compare and /api/matrix over real HTTP, against ad-hoc SPARQL over the asserted data.

A district's themes are those its practices name plus every broader one; its mechanisms are the
named ones its practices use directly or through a narrower one (the definition of "shared" in
data/README.md), umbrella categories apart. The comparison intersects those sets, the matrix marks them.
"""

from itertools import combinations

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, idf_similarity, mechanism_reach, select


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def closure(graph: KnowledgeGraph, prop: str) -> dict[str, set[str]]:
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?d ?c WHERE {{
          ?d a bjrd:District .
          OPTIONAL {{ GRAPH <{graph.names.data}> {{ ?p bjrd:district ?d ; {prop} ?named }} ?named skos:broader* ?c }}
        }}""")
    sets: dict[str, set[str]] = {}
    for row in rows:
        sets.setdefault(slug(row["d"]), set()).update([slug(row["c"])] if "c" in row else [])
    return sets


@pytest.fixture(scope="module")
def mechanisms(graph: KnowledgeGraph) -> dict[str, set[str]]:
    """district id -> its named mechanisms (direct or through a narrower one), for all 16 districts."""
    reach = mechanism_reach(graph, "Named")
    return {d: reach.get(d, set()) for d in closure(graph, "bjrd:theme")}


@pytest.fixture(scope="module")
def umbrellas(graph: KnowledgeGraph) -> dict[str, set[str]]:
    reach = mechanism_reach(graph, "Umbrella")
    return {d: reach.get(d, set()) for d in closure(graph, "bjrd:theme")}


@pytest.fixture(scope="module")
def themes(graph: KnowledgeGraph) -> dict[str, set[str]]:
    return closure(graph, "bjrd:theme")


@pytest.mark.parametrize("ids", [["haidian", "chaoyang"], ["fengtai", "dongcheng", "xicheng"],
                                 ["miyun", "yanqing", "pinggu", "huairou"]])
def test_compare_shares_what_all_districts_use(client: httpx.Client, ids: list[str], mechanisms: dict[str, set[str]],
                                               umbrellas: dict[str, set[str]], themes: dict[str, set[str]]) -> None:
    response = client.get("/api/compare", params={"districts": ",".join(ids)})
    assert response.status_code == 200
    body = response.json()
    assert [d["id"] for d in body["districts"]] == ids
    assert [m["id"] for m in body["shared_mechanisms"]] == sorted(set.intersection(*(mechanisms[d] for d in ids)))
    assert [m["id"] for m in body["shared_umbrellas"]] == sorted(set.intersection(*(umbrellas[d] for d in ids)))
    assert {m["kind"] for m in body["shared_mechanisms"]} <= {"named"}
    assert {m["kind"] for m in body["shared_umbrellas"]} <= {"umbrella"}
    assert [t["id"] for t in body["shared_themes"]] == sorted(set.intersection(*(themes[d] for d in ids)))
    asked = [[a, b] for a, b in combinations(ids, 2)]
    assert sorted(p["districts"] for p in body["pairs"]) == sorted(asked)
    keys = [(-p["similarity"], -p["shared_count"], asked.index(p["districts"])) for p in body["pairs"]]
    assert keys == sorted(keys), "pairs are ranked by similarity, then shared count, then the order asked"
    for pair in body["pairs"]:
        a, b = pair["districts"]
        assert [m["id"] for m in pair["shared_mechanisms"]] == sorted(mechanisms[a] & mechanisms[b])
        assert [m["id"] for m in pair["shared_umbrellas"]] == sorted(umbrellas[a] & umbrellas[b])
        assert pair["shared_count"] == len(mechanisms[a] & mechanisms[b])
        assert [t["id"] for t in pair["shared_themes"]] == sorted(themes[a] & themes[b])
        union = mechanisms[a] | mechanisms[b]
        assert pair["jaccard_mechanisms"] == pytest.approx(len(mechanisms[a] & mechanisms[b]) / len(union))
        assert pair["similarity"] == pytest.approx(idf_similarity(mechanisms, a, b), abs=1e-6)


def test_compare_accepts_repeated_parameters(client: httpx.Client) -> None:
    joined = client.get("/api/compare", params={"districts": "haidian,chaoyang,fengtai"}).json()
    repeated = client.get("/api/compare", params=[("districts", "haidian"), ("districts", "chaoyang,fengtai")]).json()
    assert joined == repeated


def test_compare_all_16_districts(client: httpx.Client, mechanisms: dict[str, set[str]]) -> None:
    ids = sorted(mechanisms)
    body = client.get("/api/compare", params={"districts": ",".join(ids)}).json()
    assert len(body["pairs"]) == 16 * 15 // 2
    assert [m["id"] for m in body["shared_mechanisms"]] == sorted(set.intersection(*mechanisms.values()))


@pytest.mark.parametrize(("value", "why"), [
    ("haidian", "2 to 16"), ("", "2 to 16"), (" , ", "2 to 16"),
    ("haidian,haidian", "once"), ("haidian,chaoyang,HAIDIAN,chaoyang", "once"),
])
def test_compare_bad_district_list_is_422(client: httpx.Client, value: str, why: str) -> None:
    response = client.get("/api/compare", params={"districts": value})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "districts"]
    assert why in error["msg"]


def test_compare_more_than_16_is_422(client: httpx.Client, mechanisms: dict[str, set[str]]) -> None:
    ids = [*sorted(mechanisms), "atlantis"]
    response = client.get("/api/compare", params={"districts": ",".join(ids)})
    assert response.status_code == 422
    assert "got 17" in response.json()["detail"][0]["msg"]


def test_compare_without_districts_is_422(client: httpx.Client) -> None:
    response = client.get("/api/compare")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "districts"]


def test_compare_unknown_district_is_404(client: httpx.Client, mechanisms: dict[str, set[str]]) -> None:
    response = client.get("/api/compare", params={"districts": "haidian,atlantis"})
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "'atlantis'" in detail
    assert all(d in detail for d in mechanisms)


def test_matrix_marks_which_district_uses_which_mechanism(client: httpx.Client, graph: KnowledgeGraph,
                                                          mechanisms: dict[str, set[str]],
                                                          umbrellas: dict[str, set[str]]) -> None:
    response = client.get("/api/matrix")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "accept" in response.headers["vary"].lower()
    body = response.json()
    codes = {slug(r["d"]): r["code"] for r in select(graph, PREFIXES + """
        SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code }""")}
    kinds = {slug(r["m"]): r["k"].rsplit("#", 1)[-1] for r in select(graph, PREFIXES + """
        SELECT ?m ?k WHERE { ?m a bjrd:Mechanism ; bjrd:mechanismKind ?k }""")}
    every = {m for m, k in kinds.items() if k == "Named"}
    rows = [d["id"] for d in body["districts"]]
    columns = [m["id"] for m in body["mechanisms"]]
    assert rows == sorted(codes, key=codes.__getitem__)
    assert sorted(columns) == sorted(every)
    assert len(body["matrix"]) == len(rows)
    for district, row in zip(rows, body["matrix"], strict=True):
        assert row == [int(m in mechanisms[district]) for m in columns]
    counts = [m["count"] for m in body["mechanisms"]]
    assert counts == [sum(row[j] for row in body["matrix"]) for j in range(len(columns))]
    assert [(-c, m) for c, m in zip(counts, columns, strict=True)] == sorted(
        (-c, m) for c, m in zip(counts, columns, strict=True))
    apart = [m["id"] for m in body["umbrellas"]]
    assert sorted(apart) == sorted(m for m, k in kinds.items() if k == "Umbrella")
    for district, row in zip(rows, body["umbrella_matrix"], strict=True):
        assert row == [int(m in umbrellas[district]) for m in apart]


def test_matrix_csv_has_the_same_cells(client: httpx.Client) -> None:
    matrix = client.get("/api/matrix").json()
    response = client.get("/api/matrix", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv; charset=utf-8")
    lines = response.text.splitlines()
    assert lines[0] == ",".join(["district", "district_zh", "district_en", *(m["id"] for m in matrix["mechanisms"])])
    assert lines[1:] == [",".join([d["id"], d["label"]["zh"], d["label"]["en"], *map(str, row)])
                         for d, row in zip(matrix["districts"], matrix["matrix"], strict=True)]


@pytest.mark.parametrize(("accept", "expected"), [
    ("application/json", "application/json"), ("*/*", "application/json"), ("text/*", "text/csv"),
    ("text/csv;q=0.9, application/json;q=0.5", "text/csv"),
])
def test_matrix_negotiates_json_or_csv(client: httpx.Client, accept: str, expected: str) -> None:
    response = client.get("/api/matrix", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


def test_matrix_unsupported_accept_is_406(client: httpx.Client) -> None:
    response = client.get("/api/matrix", headers={"Accept": "text/turtle"})
    assert response.status_code == 406
    assert "text/csv" in response.json()["detail"]


def test_matrix_if_none_match_is_304_per_representation(client: httpx.Client) -> None:
    json_etag = client.get("/api/matrix").headers["etag"]
    csv_etag = client.get("/api/matrix", headers={"Accept": "text/csv"}).headers["etag"]
    assert json_etag != csv_etag
    assert client.get("/api/matrix", headers={"If-None-Match": json_etag}).status_code == 304
    assert client.get("/api/matrix", headers={"If-None-Match": csv_etag, "Accept": "text/csv"}).status_code == 304


def umbrella_ids(graph: KnowledgeGraph) -> set[str]:
    """Ids of the analyst's umbrella categories (bjrd:mechanismKind bjrd:Umbrella), and of the themes
    some other theme is narrower than."""
    rows = select(graph, PREFIXES + """SELECT DISTINCT ?c WHERE {
        { ?c bjrd:mechanismKind bjrd:Umbrella } UNION { ?n skos:broader ?c ; skos:inScheme ?s .
          FILTER NOT EXISTS { ?c bjrd:mechanismKind [] } } }""")
    return {slug(r["c"]) for r in rows}


def practice_quotes(graph: KnowledgeGraph, prop: str) -> dict[tuple[str, str], set[str]]:
    """(concept, district) -> the quotes of the district's practices that use the concept (or a narrower one)."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?c ?d ?q WHERE {{
          GRAPH <{graph.names.data}> {{ ?p bjrd:district ?d ; {prop} ?named ; bjrd:evidence/oa:exact ?q }}
          ?named skos:broader* ?c }}""")
    quotes: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        quotes.setdefault((slug(r["c"]), slug(r["d"])), set()).add(r["q"])
    return quotes


@pytest.mark.parametrize("ids", [["daxing", "pinggu", "yanqing"], ["haidian", "chaoyang"]])
def test_compare_says_what_each_does_alone_with_evidence_and_counts(
        client: httpx.Client, graph: KnowledgeGraph, ids: list[str], mechanisms: dict[str, set[str]],
        umbrellas: dict[str, set[str]], themes: dict[str, set[str]], source_text: str) -> None:
    body = client.get("/api/compare", params={"districts": ",".join(ids)}).json()
    umbrella_kind = umbrella_ids(graph)
    quotes = practice_quotes(graph, "bjrd:usesMechanism")
    shared = set.intersection(*(mechanisms[d] for d in ids))
    listed = body["shared"]["mechanisms"]
    assert {m["id"] for m in listed} == shared == {m["id"] for m in body["shared_mechanisms"]}
    listed_umbrellas = body["shared"]["umbrellas"]
    assert {m["id"] for m in listed_umbrellas} == set.intersection(*(umbrellas[d] for d in ids))
    for m in listed + listed_umbrellas:
        assert m["kind"] == ("umbrella" if m["id"] in umbrella_kind else "named")
        assert set(m["evidence"]) == set(ids)
        for d, evidence in m["evidence"].items():
            assert set(evidence) == quotes[(m["id"], d)]
            assert all(q in source_text for q in evidence)
    assert [a["id"] for a in body["only"]] == ids
    for alone in body["only"]:
        others = set().union(*(mechanisms[o] for o in ids if o != alone["id"]))
        assert {m["id"] for m in alone["mechanisms"]} == mechanisms[alone["id"]] - others
        other_umbrellas = set().union(*(umbrellas[o] for o in ids if o != alone["id"]))
        assert {m["id"] for m in alone["umbrellas"]} == umbrellas[alone["id"]] - other_umbrellas
        other_themes = set().union(*(themes[o] for o in ids if o != alone["id"]))
        assert {t["id"] for t in alone["themes"]} == themes[alone["id"]] - other_themes
        for m in alone["mechanisms"]:
            assert set(m["evidence"]) == {alone["id"]}
    facts = {d: [slug(r["f"]) for r in select(graph, PREFIXES + f"""
        SELECT DISTINCT ?f WHERE {{ ?f a bjrd:Fact ; bjrd:district <{graph.iri('district', d)}> }}""")] for d in ids}
    assert [f["id"] for f in body["facts"]] == ids
    for group in body["facts"]:
        assert sorted(f["id"] for f in group["facts"]) == sorted(facts[group["id"]])
    counts = body["counts"]
    assert counts["shared_mechanisms"] == len(shared)
    assert counts["shared_themes"] == len(set.intersection(*(themes[d] for d in ids)))
    assert counts["mechanisms"] == {d: len(mechanisms[d]) for d in ids}
    assert counts["umbrellas"] == {d: len(umbrellas[d]) for d in ids}
    assert counts["shared_umbrellas"] == len(body["shared_umbrellas"])
    assert counts["only_mechanisms"] == {a["id"]: len(a["mechanisms"]) for a in body["only"]}
    assert counts["facts"] == {d: len(facts[d]) for d in ids}
