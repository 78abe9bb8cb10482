"""GET /api/districts, /api/districts/{id} and /api/districts/{id}/similar over real HTTP.

Expectations come from ad-hoc SPARQL written here (not the named queries) and from the article:
a district's mechanisms and themes are recomputed from the asserted data with ``skos:broader*``,
so these tests check the materialised inference too.
"""

import re
from html import unescape

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from app.config import ROOT
from tests.helpers import PREFIXES, idf_similarity, mechanism_reach, select

CHINESE_NUMERALS = {1: "一", 2: "二两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def written(value: float, quote: str) -> bool:
    """Whether the quote states the number, in Arabic digits or (up to ten) as a Chinese numeral."""
    return str(value) in quote or any(c in quote for c in CHINESE_NUMERALS.get(value, ""))


def closure(graph: KnowledgeGraph, prop: str) -> dict[str, set[str]]:
    """district id -> the concepts its practices assert for ``prop``, plus every broader one."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?d ?c WHERE {{
          GRAPH <{graph.names.data}> {{ ?p bjrd:district ?d ; {prop} ?asserted }}
          ?asserted skos:broader* ?c .
        }}""")
    sets: dict[str, set[str]] = {}
    for row in rows:
        sets.setdefault(slug(row["d"]), set()).add(slug(row["c"]))
    return sets


@pytest.fixture(scope="module")
def districts(graph: KnowledgeGraph) -> list[dict]:
    return select(graph, PREFIXES + """
        SELECT ?d ?code ?zh ?en WHERE {
          ?d a bjrd:District ; bjrd:divisionCode ?code ; rdfs:label ?zh , ?en .
          FILTER(lang(?zh) = "zh" && lang(?en) = "en")
        }""")


def test_districts_lists_all_16_in_code_order(client: httpx.Client, districts: list[dict],
                                              district_paragraphs: dict[str, tuple[int, int]]) -> None:
    response = client.get("/api/districts")
    assert response.status_code == 200
    body = response.json()
    expected = sorted(districts, key=lambda r: r["code"])
    assert len(body) == 16 == len(expected)
    assert [d["id"] for d in body] == [slug(r["d"]) for r in expected]
    assert [d["code"] for d in body] == sorted(d["code"] for d in body)
    for item, row in zip(body, expected, strict=True):
        assert item == {"id": slug(row["d"]), "iri": row["d"], "label": {"zh": row["zh"], "en": row["en"]},
                        "code": row["code"]}
    # Every district's Chinese name heads its paragraph of the article.
    assert {d["label"]["zh"] for d in body} == set(district_paragraphs)
    assert response.headers["X-Total-Count"] == "16"


@pytest.mark.parametrize("path", ["/api/districts/nowhere", "/api/districts/Atlantis",
                                  "/api/districts/nowhere/similar"])
def test_district_unknown_id_is_404(client: httpx.Client, path: str, districts: list[dict]) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert repr(path.split("/")[3]) in detail
    for row in districts:
        assert slug(row["d"]) in detail


def test_district_haidian_practices_match_the_asserted_data(client: httpx.Client, graph: KnowledgeGraph,
                                                            source_text: str,
                                                            district_paragraphs: dict[str, tuple[int, int]]) -> None:
    body = client.get("/api/districts/haidian").json()
    rows = select(graph, PREFIXES + f"""
        SELECT ?p ?kind ?c WHERE {{
          GRAPH <{graph.names.data}> {{
            ?p a bjrd:Practice ; bjrd:district <{graph.iri("district", "haidian")}> .
            OPTIONAL {{
              {{ ?p bjrd:usesMechanism ?c BIND("m" AS ?kind) }} UNION {{ ?p bjrd:theme ?c BIND("t" AS ?kind) }}
            }}
          }}
        }}""")
    expected: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        entry = expected.setdefault(slug(row["p"]), {"m": set(), "t": set()})
        if "c" in row:
            entry[row["kind"]].add(slug(row["c"]))
    practices = body["practices"]
    assert {p["id"] for p in practices} == set(expected)
    assert len(practices) == len(expected)
    start, end = district_paragraphs[body["label"]["zh"]]
    for p in practices:
        assert set(p["mechanisms"]) == expected[p["id"]]["m"]
        assert set(p["themes"]) == expected[p["id"]]["t"]
        assert source_text[p["quote_start"]:p["quote_end"]] == p["quote"]
        assert start <= p["quote_start"] < p["quote_end"] <= end
        assert p["iri"] == graph.iri("practice", p["id"])
    assert [p["quote_start"] for p in practices] == sorted(p["quote_start"] for p in practices)
    assert body["paragraph"] == source_text[start:end]


@pytest.mark.parametrize("district", ["dongcheng", "haidian", "pinggu", "yanqing"])
def test_district_mechanisms_are_named_ones_with_umbrellas_apart(client: httpx.Client, graph: KnowledgeGraph,
                                                                 district: str) -> None:
    body = client.get(f"/api/districts/{district}").json()
    named, umbrellas = mechanism_reach(graph, "Named"), mechanism_reach(graph, "Umbrella")
    assert [m["id"] for m in body["mechanisms"]] == sorted(named.get(district, set()))
    assert [m["id"] for m in body["umbrellas"]] == sorted(umbrellas.get(district, set()))
    assert {m["kind"] for m in body["mechanisms"]} == {"named"}
    assert {m["kind"] for m in body["umbrellas"]} <= {"umbrella"}
    assert [t["id"] for t in body["themes"]] == sorted(closure(graph, "bjrd:theme").get(district, set()))
    asserted = {m for p in body["practices"] for m in p["mechanisms"]}
    assert asserted <= {m["id"] for m in body["mechanisms"] + body["umbrellas"]}
    labels = {slug(r["m"]): r for r in select(graph, PREFIXES + """
        SELECT ?m ?zh ?en WHERE { ?m a bjrd:Mechanism ; skos:prefLabel ?zh , ?en
                                  FILTER(lang(?zh) = "zh" && lang(?en) = "en") }""")}
    for m in body["mechanisms"] + body["umbrellas"]:
        assert m["label"] == {"zh": labels[m["id"]]["zh"], "en": labels[m["id"]]["en"]}


@pytest.mark.parametrize("district", ["dongcheng", "haidian", "miyun", "yanqing"])
def test_district_mechanism_says_direct_or_through_which_narrower(client: httpx.Client, graph: KnowledgeGraph,
                                                                  district: str) -> None:
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?asserted ?m WHERE {{
          GRAPH <{graph.names.data}> {{ ?p bjrd:district <{graph.iri("district", district)}> ;
                                           bjrd:usesMechanism ?asserted }}
          ?asserted skos:broader* ?m .
        }}""")
    through: dict[str, set[str]] = {}
    for row in rows:
        through.setdefault(slug(row["m"]), set()).add(slug(row["asserted"]))
    body = client.get(f"/api/districts/{district}").json()
    for m in body["mechanisms"] + body["umbrellas"]:
        expected = "direct" if m["id"] in through[m["id"]] else sorted(through[m["id"]])
        assert m["via"] == expected, m["id"]
    if district == "haidian":  # its 家站 comes only through 进站 and 延伸 (agencies-into-stations, station-extension)
        assert any(m["via"] != "direct" for m in body["mechanisms"])


@pytest.mark.parametrize("district", ["dongcheng", "mentougou", "tongzhou", "haidian"])
def test_district_lists_the_numbers_left_out_with_their_reason(client: httpx.Client, source_text: str,
                                                               district: str) -> None:
    lines = (ROOT / "data" / "number-exclusions.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    expected = [{"text": text, "reason": reason, "reason_zh": reason_zh} for d, text, reason, reason_zh in rows
                if d == district]
    body = client.get(f"/api/districts/{district}").json()
    assert body["excluded_numbers"] == expected
    paragraph = body["paragraph"]
    assert all(x["text"] in paragraph and x["text"] in source_text for x in body["excluded_numbers"])


@pytest.mark.parametrize("district", ["dongcheng", "haidian", "pinggu"])
def test_district_facts_state_their_number_verbatim(client: httpx.Client, graph: KnowledgeGraph, source_text: str,
                                                    district: str) -> None:
    body = client.get(f"/api/districts/{district}").json()
    rows = select(graph, PREFIXES + f"""
        SELECT ?f ?v ?unit WHERE {{
          ?f a bjrd:Fact ; bjrd:district <{graph.iri("district", district)}> ; schema:value ?v ;
             schema:unitText ?unit FILTER(lang(?unit) = "zh")
        }}""")
    expected = {slug(r["f"]): r for r in rows}
    assert {f["id"] for f in body["facts"]} == set(expected)
    practices = {p["id"] for p in body["practices"]}
    for fact in body["facts"]:
        assert fact["value"] == expected[fact["id"]]["v"]
        assert fact["unit"] == expected[fact["id"]]["unit"] == fact["unit_label"]["zh"]
        assert fact["quote"] in source_text
        assert written(fact["value"], fact["quote"])
        assert fact["practice"] in practices
        assert set(fact["label"]) == {"zh", "en"}


def test_district_similar_ranks_the_other_15_by_weighted_named_mechanisms(client: httpx.Client,
                                                                          graph: KnowledgeGraph) -> None:
    named, umbrellas, themes = mechanism_reach(graph), mechanism_reach(graph, "Umbrella"), closure(graph, "bjrd:theme")

    def jaccard(a: set[str], b: set[str]) -> float:
        return len(a & b) / len(a | b) if a | b else 0.0

    body = client.get("/api/districts/haidian/similar").json()
    others = [d["id"] for d in client.get("/api/districts").json() if d["id"] != "haidian"]
    assert sorted(s["id"] for s in body) == sorted(others)
    mine_m, mine_t = named.get("haidian", set()), themes.get("haidian", set())
    for s in body:
        theirs_m, theirs_t = named.get(s["id"], set()), themes.get(s["id"], set())
        assert s["similarity"] == pytest.approx(idf_similarity(named, "haidian", s["id"]), abs=1e-6)
        assert s["jaccard_mechanisms"] == pytest.approx(jaccard(mine_m, theirs_m))
        assert s["jaccard_themes"] == pytest.approx(jaccard(mine_t, theirs_t))
        assert [m["id"] for m in s["shared_mechanisms"]] == sorted(mine_m & theirs_m)
        assert s["shared_count"] == len(mine_m & theirs_m)
        assert [m["id"] for m in s["shared_umbrellas"]] == sorted(umbrellas["haidian"] & umbrellas.get(s["id"], set()))
    keys = [(-s["similarity"], -s["shared_count"], -s["jaccard_themes"], s["id"]) for s in body]
    assert keys == sorted(keys)
    # A mechanism every district uses would weigh nothing; a rarer shared one outweighs a commoner one.
    assert body[0]["similarity"] > 0


@pytest.mark.parametrize("district", ["dongcheng", "haidian", "tongzhou"])
def test_district_page_shows_via_and_the_numbers_left_out(client: httpx.Client, district: str) -> None:
    body = client.get(f"/api/districts/{district}").json()
    html = unescape(client.get(f"/id/district/{district}?lang=en", headers={"Accept": "text/html"}).text)
    section = html[html.index('id="mechanisms"'):]
    section = section[:section.index("</section>")]
    via = dict(re.findall(r'data-mechanism="([^"]+)".*?data-via="([^"]*)"', section, re.S))
    assert via == {m["id"]: m["via"] if m["via"] == "direct" else " ".join(m["via"]) for m in body["mechanisms"]}
    assert re.findall(r'data-umbrella="([^"]+)"', section) == [m["id"] for m in body["umbrellas"]]
    if body["excluded_numbers"]:
        excluded = html[html.index('id="excluded-numbers"'):]
        rows = re.findall(r'<tr class="excluded-number"><td lang="zh-Hans">(.*?)</td><td lang="en">(.*?)</td>',
                          excluded)
        assert rows == [(x["text"], x["reason"]) for x in body["excluded_numbers"]]
    else:
        assert 'id="excluded-numbers"' not in html
