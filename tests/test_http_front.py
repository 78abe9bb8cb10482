"""The HTTP front attacked: a hostile Host header never reaches an answer (absolute URLs come from
KG_PUBLIC_URL, default the base IRI), per-client limits on /sparql are on by default (429 with
Retry-After), /metrics may be behind a token."""

import threading
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest

from app.config import Settings
from tests.helpers import LiveServer, serve_in_thread

#: Two more services with their own settings: CI runs them, the fast loop does not.
pytestmark = pytest.mark.slow

EVIL = "evil.example.net"
PUBLIC = "https://kg.public.example.com"
METRICS_TOKEN = "metrics-test-token"


@pytest.fixture(scope="module")
def front() -> Iterator[LiveServer]:
    # The default /sparql limits (4 in flight, 60 query-seconds a minute), a public URL and a metrics token.
    yield from serve_in_thread(Settings(query_workers=2, query_timeout_s=5, public_url=PUBLIC + "/",
                                        metrics_token=METRICS_TOKEN))


@pytest.fixture(scope="module")
def plain() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(query_workers=1, query_timeout_s=5))


HOSTILE_PATHS = [
    ("/sparql", "text/turtle"),
    ("/void", "text/turtle"),
    ("/.well-known/void", "application/n-triples"),
    ("/id/district/haidian", "application/ld+json"),
    ("/id/district/haidian", "text/html"),
]


@pytest.mark.parametrize(("path", "accept"), HOSTILE_PATHS)
@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:8443", "127.0.0.1:1\r\nX: y".split("\r")[0]])
def test_hostile_host_header_is_never_reflected(front: LiveServer, plain: LiveServer, path: str, accept: str,
                                                host: str) -> None:
    for server, base in ((front, PUBLIC), (plain, "https://bjrd-kg.example.org")):
        response = httpx.get(server.url + path, headers={"Host": host, "Accept": accept}, timeout=30)
        assert response.status_code == 200, response.text[:300]
        assert EVIL not in response.text and "127.0.0.1:1" not in response.text
        if path != "/id/district/haidian":  # an entity's JSON-LD carries its context inline: no URL of ours
            assert base in response.text


def test_service_description_endpoint_is_public_url(front: LiveServer) -> None:
    response = httpx.get(front.url + "/sparql", headers={"Host": EVIL, "Accept": "application/n-triples"})
    triples = list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))
    endpoints = {t.object.value for t in triples if t.predicate.value.endswith("sparql-service-description#endpoint")}
    assert endpoints == {PUBLIC + "/sparql"}


def test_jsonld_context_is_public_url(front: LiveServer) -> None:
    response = httpx.get(front.url + "/ontology", headers={"Host": EVIL, "Accept": "application/ld+json"})
    assert response.json()["@context"] == PUBLIC + "/context.jsonld"


def test_sparql_cheap_queries_in_a_loop_are_not_refused_by_default(front: LiveServer) -> None:
    # The default limit counts query-seconds (KG_SPARQL_QUERY_SECONDS), not requests: a scripted loop
    # of cheap queries, each a new one (not a stored answer), is never refused. The old rule (20 a
    # second in bursts of 40) refused this loop from its 41st query.
    statuses = []
    with httpx.Client(base_url=front.url, timeout=30) as client:
        for n in range(300):
            response = client.get("/sparql", params={"query": f"ASK {{ FILTER({n} >= 0) }}"})
            statuses.append(response.status_code)
    assert set(statuses) == {200}, statuses.index(429) if 429 in statuses else statuses
    # other routes and probes are not limited by it
    assert httpx.get(front.url + "/api/districts").status_code == 200
    assert httpx.get(front.url + "/ready").status_code == 200


@pytest.mark.slow
def test_sparql_concurrency_limit_per_client_is_429(plain: LiveServer) -> None:
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    results: list[int] = []

    def one(n: int) -> None:
        # Each a different query: identical ones wait for the first one's answer and take no worker.
        response = httpx.get(plain.url + "/sparql", params={"query": f"{slow} LIMIT {n + 1}"}, timeout=30)
        results.append(response.status_code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(429) >= 4, results  # at most 4 of one client in flight
    assert set(results) <= {200, 503, 429}


def test_metrics_need_the_token_when_set(front: LiveServer, plain: LiveServer) -> None:
    assert httpx.get(front.url + "/metrics").status_code == 401
    assert httpx.get(front.url + "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = httpx.get(front.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200 and "# TYPE" in ok.text
    assert httpx.get(plain.url + "/metrics").status_code == 200
