"""The practices of /api/districts/{id} say when the article places them (issue 24, dates): a researcher can
tell this year's activities from standing arrangements without SPARQL."""

import re

import httpx

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, select

#: What places a practice in the issue's year (data/README.md: “今年” is 2023).
THIS_YEAR = ("今年", "上半年")


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def practices(client: httpx.Client) -> dict[str, dict]:
    out = {}
    for district in client.get("/api/districts").json():
        for p in client.get(f"/api/districts/{district['id']}").json()["practices"]:
            out[p["id"]] = p
    return out


def test_practice_json_carries_the_graphs_dates(client: httpx.Client, graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + """SELECT ?p ?property ?value WHERE { ?p a bjrd:Practice ; ?property ?value .
        VALUES ?property { dcterms:date schema:startTime schema:startDate schema:endDate } }""")
    field = {"date": "date", "startTime": "start_time", "startDate": "start_date", "endDate": "end_date"}
    expected: dict[str, dict[str, str]] = {}
    for r in rows:
        expected.setdefault(slug(r["p"]), {})[field[r["property"].rsplit("/", 1)[-1]]] = str(r["value"])
    shown = practices(client)
    assert len(shown) == select(graph, PREFIXES + "SELECT (COUNT(?p) AS ?n) WHERE { ?p a bjrd:Practice }")[0]["n"]
    for pid, p in shown.items():
        assert {k: p[k] for k in field.values() if p.get(k) is not None} == expected.get(pid, {}), pid
    assert expected["mentougou-seven-oclock-action"] == {"start_time": "07:00:00"}


def test_this_years_practices_are_told_from_standing_ones(client: httpx.Client) -> None:
    """A practice whose quote says 今年 / 上半年 is dated 2023 (its month when the quote gives one); one with no time
    in its quote (a standing mechanism) has no date."""
    shown = practices(client)
    this_year = [p for p in shown.values() if any(w in p["quote"] for w in THIS_YEAR)]
    assert len(this_year) >= 15
    for p in this_year:
        month = re.search(r"今年(\d{1,2})月", p["quote"])
        assert p["date"] == (f"2023-{int(month.group(1)):02d}" if month else "2023"), p["id"]
    undated = [p for p in shown.values() if not re.search(r"今年|上半年|\d{4}年|\d{1,2}月", p["quote"])]
    assert undated and all(p["date"] is None for p in undated)
    assert [p["id"] for p in shown.values() if (p["date"] or "").startswith("2023")]
