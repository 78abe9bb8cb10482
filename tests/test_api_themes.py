"""GET /api/themes and /api/themes/{id} over real HTTP, against ad-hoc SPARQL over the asserted data.

A theme's districts are those with a practice on it or a narrower theme; its mechanisms are the
mechanisms of those practices, plus every broader one (``skos:broader*`` here, not the inferred graph).
"""

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, LiveServer, select


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def themes(server: LiveServer) -> list[dict]:
    with httpx.Client(base_url=server.url) as c:
        response = c.get("/api/themes")
        assert response.status_code == 200
        return response.json()


@pytest.fixture(scope="module")
def expected(graph: KnowledgeGraph) -> dict[str, dict[str, set[str]]]:
    """theme id -> {"districts": ..., "mechanisms": ...} from the asserted data."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?t ?d ?m WHERE {{
          ?t a bjrd:Theme .
          OPTIONAL {{
            GRAPH <{graph.names.data}> {{ ?p bjrd:theme ?named ; bjrd:district ?d }}
            ?named skos:broader* ?t .
            OPTIONAL {{ GRAPH <{graph.names.data}> {{ ?p bjrd:usesMechanism ?used }} ?used skos:broader* ?m }}
          }}
        }}""")
    result: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        entry = result.setdefault(slug(row["t"]), {"districts": set(), "mechanisms": set()})
        if "d" in row:
            entry["districts"].add(slug(row["d"]))
        if "m" in row:
            entry["mechanisms"].add(slug(row["m"]))
    return result


def test_themes_lists_every_theme_with_districts_and_mechanisms(themes: list[dict], graph: KnowledgeGraph,
                                                               expected: dict[str, dict[str, set[str]]]) -> None:
    assert [t["id"] for t in themes] == sorted(expected)
    codes = {slug(r["d"]): r["code"] for r in select(graph, PREFIXES + """
        SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code }""")}
    for theme in themes:
        districts = [d["id"] for d in theme["districts"]]
        assert set(districts) == expected[theme["id"]]["districts"], theme["id"]
        assert districts == sorted(districts, key=codes.__getitem__)
        assert [m["id"] for m in theme["mechanisms"]] == sorted(expected[theme["id"]]["mechanisms"]), theme["id"]
        assert theme["iri"] == graph.iri("theme", theme["id"])


def test_themes_top_are_the_five_of_the_opening_paragraph(themes: list[dict], graph: KnowledgeGraph,
                                                          source_text: str) -> None:
    tops = {slug(r["t"]) for r in select(graph, PREFIXES + """
        SELECT ?t WHERE { ?t a bjrd:Theme ; skos:topConceptOf ?scheme }""")}
    assert {t["id"] for t in themes if t["top"]} == tops
    assert len(tops) == 5
    opening = source_text[:source_text.index("东城区人大")]
    for theme in themes:
        if theme["top"]:
            assert theme["broader"] == []
            assert theme["label"]["zh"] in opening or any(
                r["l"] in opening for r in select(graph, PREFIXES + f"""
                    SELECT ?l WHERE {{ <{theme["iri"]}> skos:altLabel ?l }}"""))
        else:
            assert theme["broader"] and set(theme["broader"]) <= tops


def test_theme_detail_equals_its_list_entry(client: httpx.Client, themes: list[dict]) -> None:
    for theme in themes:
        response = client.get(f"/api/themes/{theme['id']}")
        assert response.status_code == 200
        detail = response.json()
        assert detail.pop("practices")  # one theme adds its practices (CONTRACT)
        assert detail == theme
