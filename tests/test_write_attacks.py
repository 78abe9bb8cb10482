"""Attacks by a token holder (issue 13): LOAD however spelled never connects, deep updates and
bodies, billion laughs and runaway updates cost one request, never the server."""

import json
from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from app.errors import MemoryLimit
from app.rdf.sparql_guard import MAX_DEPTH
from app.writes import isolate
from tests.helpers import SUITE_LIMITS, LiveServer, serve_in_thread
from tests.test_sparql_attacks import Listener

TOKEN = "attack-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {**AUTH, "Content-Type": "application/sparql-update"}
GRAPH = "urn:x-test:attack"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"> <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"> <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"> <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
 <rdf:Description rdf:about="http://example.org/s"><ex:p>&i;</ex:p></rdf:Description>
</rdf:RDF>
"""


def deep_jsonld(depth: int, shape: str = "objects") -> bytes:
    if shape == "objects":
        return ('{"@id": "http://example.org/s", "http://example.org/p": ' * depth + '"x"' + "}" * depth).encode()
    return ('{"@id": "http://example.org/s", "http://example.org/p": ' + "[" * depth + '"x"' + "]" * depth
            + "}").encode()


@pytest.fixture(scope="module")
def writable() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=5,
                                        update_timeout_s=3, query_memory_mb=256, **SUITE_LIMITS))


@pytest.fixture()
def w(writable: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=writable.url, timeout=60) as client:
        yield client


def assert_alive(client: httpx.Client, version: str) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/ready").json()["graph_version"] == version  # and nothing was written


@pytest.mark.parametrize("spelling", [
    "LOAD <{url}>", "load silent <{url}> into graph <urn:g>", "# c\rLOAD <{url}>", "\\u004cOAD <{url}>",
    "PREFIX : <{url}> LOAD:x", "INSERT DATA {{ <urn:a> <urn:b> 1 }} ;\rLOAD <{url}>",
    "INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}",
])
def test_update_load_spelling_is_400_and_never_connects(w: httpx.Client, spelling: str) -> None:
    listener = Listener()
    try:
        text = spelling.format(url=listener.url)
        if "SERVICE:x" in text:
            text = f"PREFIX : <{listener.url}> " + text
        version = w.get("/ready").json()["graph_version"]
        response = w.post("/update", content=text.encode(), headers=UPDATE)
        assert response.status_code == 400
        assert response.text.split(" at line ")[0] in ("LOAD", "SERVICE")
        assert listener.connections == 0
        assert_alive(w, version)
    finally:
        listener.close()


def test_update_nested_30000_braces_is_400(w: httpx.Client) -> None:
    version = w.get("/ready").json()["graph_version"]
    response = w.post("/update", content=("INSERT DATA " + "{" * 30_000 + "}" * 30_000).encode(), headers=UPDATE)
    assert response.status_code == 400
    assert f"more than {MAX_DEPTH} levels deep" in response.text
    assert_alive(w, version)


@pytest.mark.parametrize("shape", ["objects", "arrays"])
def test_jsonld_body_nested_20000_levels_is_400(w: httpx.Client, shape: str) -> None:
    version = w.get("/ready").json()["graph_version"]
    response = w.put("/graph-store", params={"graph": GRAPH}, content=deep_jsonld(20_000, shape),
                     headers={**AUTH, "Content-Type": "application/ld+json"})
    assert response.status_code == 400
    assert f"more than {MAX_DEPTH} levels deep" in response.text
    assert_alive(w, version)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, BILLION_LAUGHS.replace(b"DOCTYPE", b"doctype"),
                                  BILLION_LAUGHS.decode().encode("utf-16")])
def test_rdfxml_with_entities_is_400(w: httpx.Client, body: bytes) -> None:
    version = w.get("/ready").json()["graph_version"]
    response = w.put("/graph-store", params={"graph": GRAPH}, content=body,
                     headers={**AUTH, "Content-Type": "application/rdf+xml"})
    assert response.status_code == 400
    assert "DOCTYPE" in response.text or "UTF-8" in response.text
    assert_alive(w, version)


@pytest.mark.slow
def test_update_runaway_stops_at_deadline_with_503(w: httpx.Client) -> None:
    version = w.get("/ready").json()["graph_version"]
    runaway = ("INSERT { <urn:a> <urn:b> ?n } WHERE { SELECT (COUNT(*) AS ?n) "
               "WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } }")
    response = w.post("/update", content=runaway.encode(), headers=UPDATE)
    assert response.status_code == 503
    assert "stopped after 3 s (KG_UPDATE_TIMEOUT_S)" in response.text or "256 MB" in response.text
    assert_alive(w, version)


@pytest.mark.slow
def test_update_memory_bomb_is_503_naming_the_limit(w: httpx.Client) -> None:
    version = w.get("/ready").json()["graph_version"]
    chain = " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(26))
    bomb = f'INSERT {{ <urn:a> <urn:b> ?s26 }} WHERE {{ BIND("{"x" * 64}" AS ?s0) {chain} }}'
    response = w.post("/update", content=bomb.encode(), headers=UPDATE)
    assert response.status_code == 503
    assert "256 MB (KG_QUERY_MEMORY_MB)" in response.text
    assert_alive(w, version)


@pytest.mark.slow  # two validated commits
def test_turtle_body_still_parsed(w: httpx.Client) -> None:
    body = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> ."
    response = w.put("/graph-store", params={"graph": GRAPH}, content=body,
                     headers={**AUTH, "Content-Type": "text/turtle"})
    assert response.status_code == 201, response.text  # a new graph
    read = w.get("/graph-store", params={"graph": GRAPH}, headers={"Accept": "application/n-triples"})
    assert read.text.strip() == body.decode()
    assert w.delete("/graph-store", params={"graph": GRAPH}, headers=AUTH).status_code == 204


@pytest.mark.slow
def test_isolated_parse_of_deep_jsonld_is_stopped_in_the_child() -> None:
    # Past the depth check (called directly) the parser runs for minutes and grows: the child
    # hits its memory cap or its deadline, and the caller gets an answer either way.
    with pytest.raises((isolate.WriteTimeout, MemoryLimit), match="stopped after 2 s|256 MB"):
        isolate.run("parse_body", (deep_jsonld(20_000), "application/ld+json", "http://example.org/"),
                    timeout_s=2, memory_mb=256, what="parse")


def test_json_depth_skips_strings() -> None:
    assert isolate.json_depth(json.dumps({"a": "[[[{{{", "b": [[1]]}).encode()) == 3


@pytest.mark.slow
def test_reads_during_writes_all_answered(writable: LiveServer) -> None:
    # Issue 13: old workers' pipes were closed under readers (500, late 503, no answer).
    import threading

    statuses: list[int] = []
    done = threading.Event()
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 50"

    def read() -> None:
        with httpx.Client(base_url=writable.url, timeout=30) as reader:
            while not done.is_set() and len(statuses) < 2_000:
                statuses.append(reader.get("/sparql", params={"query": query}).status_code)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    with httpx.Client(base_url=writable.url, timeout=60) as writer:
        body = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> ."
        put = writer.put("/graph-store", params={"graph": GRAPH}, content=body,
                         headers={**AUTH, "Content-Type": "application/n-triples"})
        assert put.status_code == 201
        assert writer.delete("/graph-store", params={"graph": GRAPH}, headers=AUTH).status_code == 204
    done.set()
    for thread in readers:
        thread.join(60)
    assert len(statuses) > 20
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
