"""/sparql answers are bounded by KG_MAX_RESULT_ROWS, and a truncated answer always says so: when it
is first computed and when it is answered again from memory."""

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
import rdflib

from app.config import Settings
from tests.helpers import PREFIXES, LiveServer, serve_in_thread

LIMIT = 5
DISTRICTS = PREFIXES + "SELECT ?d WHERE { ?d a bjrd:District } ORDER BY ?d"
LABELS = PREFIXES + "CONSTRUCT { ?d rdfs:label ?l } WHERE { ?d a bjrd:District ; rdfs:label ?l }"


@pytest.fixture(scope="module")
def limited() -> Iterator[httpx.Client]:
    server: LiveServer
    for server in serve_in_thread(Settings(max_result_rows=LIMIT, query_workers=1)):
        with httpx.Client(base_url=server.url, timeout=30) as c:
            yield c


def test_truncated_json_says_so(limited: httpx.Client) -> None:
    r = limited.get("/sparql", params={"query": DISTRICTS})
    assert r.headers["x-result-truncated"] == f"true; limit={LIMIT}"
    body = r.json()
    assert body["truncated"] is True
    assert len(body["results"]["bindings"]) == LIMIT


def test_truncated_xml_and_csv_say_so(limited: httpx.Client) -> None:
    xml = limited.get("/sparql", params={"query": DISTRICTS}, headers={"Accept": "application/sparql-results+xml"})
    root = ET.fromstring(xml.content)
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert root.find(f"{ns}head/{ns}link") is not None
    assert len(root.findall(f"{ns}results/{ns}result")) == LIMIT
    table = limited.get("/sparql", params={"query": DISTRICTS}, headers={"Accept": "text/csv"})
    assert "x-result-truncated" in table.headers
    assert len(list(csv.reader(io.StringIO(table.text)))) == LIMIT + 1


def test_truncated_construct_says_so(limited: httpx.Client) -> None:
    r = limited.get("/sparql", params={"query": LABELS}, headers={"Accept": "application/n-triples"})
    assert "x-result-truncated" in r.headers
    assert len(rdflib.Graph().parse(data=r.text, format="nt")) == LIMIT


def test_short_answer_is_not_marked(limited: httpx.Client) -> None:
    r = limited.get("/sparql", params={"query": DISTRICTS + " LIMIT 3"})
    assert "x-result-truncated" not in r.headers
    assert "truncated" not in r.json()
    ask = limited.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert ask.json()["boolean"] is True and "x-result-truncated" not in ask.headers


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values"])
def test_answer_of_exactly_the_cap_is_not_marked(limited: httpx.Client, accept: str) -> None:
    r = limited.get("/sparql", params={"query": DISTRICTS + f" LIMIT {LIMIT}"}, headers={"Accept": accept})
    assert r.status_code == 200
    assert "x-result-truncated" not in r.headers
    one_more = limited.get("/sparql", params={"query": DISTRICTS + f" LIMIT {LIMIT + 1}"}, headers={"Accept": accept})
    assert one_more.headers["x-result-truncated"] == f"true; limit={LIMIT}"


def test_truncated_tsv_says_so(limited: httpx.Client) -> None:
    r = limited.get("/sparql", params={"query": DISTRICTS}, headers={"Accept": "text/tab-separated-values"})
    assert r.headers["x-result-truncated"] == f"true; limit={LIMIT}"
    assert len(r.text.splitlines()) == LIMIT + 1


def test_short_answer_with_braces_in_its_literals_is_whole(limited: httpx.Client) -> None:
    # Braces in literals look like rows to the cheap count: the exact count must still find 3 rows.
    query = 'SELECT ?x WHERE { VALUES ?x { "{{{" "}{" "{\\"type\\":\\"uri\\"}" } }'
    r = limited.post("/sparql", data={"query": query})
    assert r.status_code == 200, r.text
    assert "x-result-truncated" not in r.headers
    assert [b["x"]["value"] for b in r.json()["results"]["bindings"]] == ["{{{", "}{", '{"type":"uri"}']


def test_repeated_truncated_answer_still_says_so(limited: httpx.Client) -> None:
    for _ in range(2):
        got = limited.get("/sparql", params={"query": DISTRICTS})
        posted = limited.post("/sparql", data={"query": DISTRICTS})
        for r in (got, posted):
            assert r.headers["x-result-truncated"] == f"true; limit={LIMIT}"
            assert r.json()["truncated"] is True
            assert len(r.json()["results"]["bindings"]) == LIMIT
