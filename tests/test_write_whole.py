"""A write commits whole or not at all (issue 23, item 4): the attacks that wrote what nothing
downstream can read, or made a write's inference unbounded, are refused before anything is written.

Each test sends the attack through the real service (token-authorised) and asserts the answer
(status, and a message naming the triple) and that nothing changed: the version, the /api answers
and the dumps read as before."""

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from tests.helpers import SUITE_LIMITS, LiveServer, serve_in_thread

TOKEN = "whole-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {**AUTH, "Content-Type": "application/sparql-update"}
BASE = "https://bjrd-kg.example.org"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
CAP = 2_000  # entailments per write, for this module's service
TIMEOUT_S = 4.0


@pytest.fixture(scope="module")
def writable() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=5,
                                        update_timeout_s=TIMEOUT_S, max_write_entailments=CAP, **SUITE_LIMITS))


@pytest.fixture()
def w(writable: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=writable.url, timeout=60) as client:
        yield client


def state(c: httpx.Client) -> tuple[str, str, str]:
    """What a reader sees: the version, one /api answer that reads the facts, the facts table."""
    version = c.get("/ready").json()["graph_version"]
    district = c.get("/api/districts/dongcheng")
    assert district.status_code == 200
    table = c.get("/export/facts.csv")
    assert table.status_code == 200
    return version, district.text, table.text


def assert_refused(response: httpx.Response, status: int, *named: str) -> None:
    assert response.status_code == status, response.text
    detail = response.text
    assert "nothing was written" in detail.lower()
    for part in named:
        assert part in detail, detail


def test_an_ill_typed_integer_on_a_read_predicate_is_422_and_nothing_is_written(w: httpx.Client) -> None:
    """The severe one: ``schema:minValue "abc"^^xsd:integer`` passed the shapes, then the new
    version's catalog failed (``int()``) after the store had written it (500, yet committed)."""
    before = state(w)
    fact = f"{BASE}/id/fact/dongcheng-104-work-rules"
    r = w.post("/update", headers=UPDATE,
               content=f'INSERT DATA {{ <{fact}> <http://schema.org/minValue> "abc"^^<{XSD}integer> }}')
    assert_refused(r, 422, fact, "minValue", "xsd:integer")
    assert state(w) == before


def test_an_integer_longer_than_python_reads_is_422(w: httpx.Client) -> None:
    """In the lexical space of xsd:integer, but 5,000 digits: every reader of a number converts it
    with ``int()`` (app.rdf.terms.to_python), which reads at most 4,300 digits. Accepted before (204)."""
    before = state(w)
    fact = f"{BASE}/id/fact/dongcheng-104-work-rules"
    big = "7" * 5000
    r = w.post("/update", headers=UPDATE, content=f"INSERT DATA {{ <{fact}> <http://schema.org/minValue> {big} }}")
    assert_refused(r, 422, fact, "5,000 digits")
    assert state(w) == before


@pytest.mark.parametrize("literal", [f'"2023-02-30"^^<{XSD}date>', f'"tru"^^<{XSD}boolean>',
                                     f'"300"^^<{XSD}byte>', f'" 12"^^<{XSD}integer>', '"a\\u0000b"'])
def test_a_literal_outside_its_lexical_space_is_refused_on_any_predicate(w: httpx.Client, literal: str) -> None:
    """Not only the shaped predicates: a predicate nothing constrains, in a graph of the writer's own."""
    before = state(w)
    r = w.post("/graph-store?graph=urn:x-test:whole", content=f"<urn:x:s> <urn:x:free> {literal} .".encode(),
               headers={**AUTH, "Content-Type": "application/n-triples"})
    assert_refused(r, 422, "<urn:x:s> <urn:x:free>", "urn:x-test:whole")
    if "byte" not in literal:  # an update stores an ill-typed xsd:byte as the xsd:integer it reads
        r = w.post("/update", headers=UPDATE,
                   content=f"INSERT DATA {{ GRAPH <urn:x-test:whole> {{ <urn:x:s> <urn:x:free> {literal} }} }}")
        assert_refused(r, 422, "<urn:x:s> <urn:x:free>", "urn:x-test:whole")
    assert state(w) == before


def test_a_jsonld_value_with_direction_is_422_and_the_dumps_still_answer(w: httpx.Client) -> None:
    """A JSON-LD ``@direction`` became an RDF 1.2 directional literal: 201, then the JSON-LD dump,
    SHA256SUMS and the releases answered 500."""
    before = state(w)
    body = {"@id": "urn:x:s", "http://example.org/p": {"@value": "نص", "@language": "ar", "@direction": "rtl"}}
    r = w.put("/graph-store?graph=urn:x-test:direction", content=json.dumps(body).encode(),
              headers={**AUTH, "Content-Type": "application/ld+json"})
    assert_refused(r, 422, "<urn:x:s>", "directional")
    assert state(w) == before
    for url in ("/export?format=jsonld", "/export/SHA256SUMS"):
        assert w.get(url).status_code == 200
    assert w.get("/graph-store?graph=urn:x-test:direction").status_code == 404


@pytest.mark.parametrize("where", ["value", "context", "map"])
def test_an_ill_formed_language_tag_is_422_not_dropped(w: httpx.Client, where: str) -> None:
    """The JSON-LD parser dropped a value with a bad language tag and the write answered 201."""
    tag = "not a tag!"
    body: dict[str, object] = {"@id": "urn:x:s"}
    if where == "value":
        body["http://example.org/p"] = {"@value": "x", "@language": tag}
    elif where == "context":
        body |= {"@context": {"@language": tag}, "http://example.org/p": "x"}
    else:
        body |= {"@context": {"l": {"@id": "http://example.org/l", "@container": "@language"}}, "l": {tag: "x"}}
    before = state(w)
    r = w.post("/graph-store?graph=urn:x-test:language", content=json.dumps(body).encode(),
               headers={**AUTH, "Content-Type": "application/ld+json"})
    assert_refused(r, 422, "<urn:x:s>", repr(tag))
    assert state(w) == before


def test_a_literal_over_the_size_cap_is_413_naming_the_triple(w: httpx.Client, writable: LiveServer) -> None:
    """A 7.7 MB label made every search cost 400 ms instead of 8 ms."""
    limit = writable.graph.settings.max_literal_bytes
    before = state(w)
    label = "长" * (limit // 3 + 1)  # three UTF-8 bytes each: one byte over
    body = f'<{BASE}/id/mechanism/monthly-station-visit> <{SKOS}altLabel> "{label}"@zh .'.encode()
    r = w.post("/graph-store?default", content=body, headers={**AUTH, "Content-Type": "application/n-triples"})
    assert_refused(r, 413, "monthly-station-visit", "KG_MAX_LITERAL_BYTES", f"{limit:,}")
    assert state(w) == before
    fits = f'<{BASE}/id/mechanism/monthly-station-visit> <{SKOS}altLabel> "{label[:-1]}"@zh .'.encode()
    r = w.post("/graph-store?default", content=fits, headers={**AUTH, "Content-Type": "application/n-triples"})
    assert r.status_code == 204, r.text


def chain(n: int, graph: str) -> bytes:
    """N ``skos:broader`` links in a row: ~N² entailed triples (every ancestor, both ways)."""
    return "\n".join(f"<urn:x:c{i}> <{SKOS}broader> <urn:x:c{i + 1}> ." for i in range(n)).encode()


def watch_health(url: str, stop: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=10) as c:
        while not stop.is_set():
            started = time.perf_counter()
            assert c.get("/health").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)


def refused_while_watched(w: httpx.Client, writable: LiveServer, body: bytes) -> tuple[httpx.Response, float,
                                                                                       list[float]]:
    stop, latencies = threading.Event(), []
    watcher = threading.Thread(target=watch_health, args=(writable.url, stop, latencies))
    watcher.start()
    started = time.perf_counter()
    try:
        r = w.post("/graph-store?graph=urn:x-test:chain", content=body,
                   headers={**AUTH, "Content-Type": "application/n-triples"})
    finally:
        stop.set()
        watcher.join()
    return r, time.perf_counter() - started, latencies


def test_a_chain_entailing_more_than_the_cap_is_422_and_the_lock_is_released(w: httpx.Client,
                                                                            writable: LiveServer) -> None:
    n = 70  # 70 links entail ~4,900 triples: over the cap of 2,000
    assert n * n > CAP
    before = state(w)
    r, took, latencies = refused_while_watched(w, writable, chain(n, "urn:x-test:chain"))
    assert_refused(r, 422, "KG_MAX_WRITE_ENTAILMENTS", f"{CAP:,}")
    assert took < TIMEOUT_S + 5 and max(latencies) < 0.5
    assert state(w) == before
    small = w.post("/graph-store?graph=urn:x-test:chain", content=chain(10, "urn:x-test:chain"),
                   headers={**AUTH, "Content-Type": "application/n-triples"})
    assert small.status_code == 201, small.text  # the lock was released: the next write commits
    assert w.delete("/graph-store?graph=urn:x-test:chain", headers=AUTH).status_code == 204


@pytest.mark.slow
def test_a_chain_whose_inference_runs_away_is_stopped_at_the_deadline(w: httpx.Client, writable: LiveServer) -> None:
    """N = 3,000 would entail ~9 million triples (~20 GB in the service's process before): the
    inference runs in a confined process, stopped at KG_UPDATE_TIMEOUT_S (or its memory cap)."""
    before = state(w)
    r, took, latencies = refused_while_watched(w, writable, chain(3_000, "urn:x-test:chain"))
    assert r.status_code == 503, r.text
    assert "inference of the write" in r.text and "nothing was written" in r.text
    assert took < TIMEOUT_S + 10 and max(latencies) < 0.5
    assert state(w) == before
    assert w.post("/update", headers=UPDATE, content="INSERT DATA { GRAPH <urn:x-test:after> { <urn:x:a> "
                  "<urn:x:b> <urn:x:c> } }").status_code == 204
    assert w.delete("/graph-store?graph=urn:x-test:after", headers=AUTH).status_code == 204
