"""Request limits over real HTTP: 413 for bodies over KG_MAX_BODY_BYTES (declared or streamed),
429 + Retry-After per client over KG_RATE_LIMIT_RPS / KG_RATE_LIMIT_BURST, and recovery.

Each test talks from its own loopback address (127.0.0.0/8 is all loopback on Linux), so each
is a separate client with a bucket of its own, as the limiter sees it.
"""

import itertools
import math
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from app.config import Settings
from app.web.limits import TokenBuckets
from tests.helpers import LiveServer, serve_in_thread

RATE, BURST, MAX_BODY = 5.0, 5, 10_000
DIRECT = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
_addresses = itertools.count(2)


@pytest.fixture(scope="module")
def limited() -> Iterator[LiveServer]:
    """5 requests/s per client in bursts of 5, bodies up to 10 000 bytes, one query worker."""
    yield from serve_in_thread(Settings(rate_limit_rps=RATE, rate_limit_burst=BURST, max_body_bytes=MAX_BODY,
                                        query_workers=1))


@pytest.fixture()
def new_client(limited: LiveServer) -> Iterator[Callable[[], httpx.Client]]:
    """Makes clients that each connect from a loopback address no other test uses."""
    clients: list[httpx.Client] = []

    def make() -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=f"127.0.{next(_addresses)}.1")
        clients.append(httpx.Client(base_url=limited.url, transport=transport, timeout=30))
        return clients[-1]

    yield make
    for c in clients:
        c.close()


def padded_query(size: int) -> bytes:
    """An ASK query of exactly ``size`` bytes (a comment pads it)."""
    head = b"ASK { ?s ?p ?o }\n#"
    return head + b"x" * (size - len(head))


def exhaust(client: httpx.Client, path: str = "/api/districts") -> httpx.Response:
    """Send requests until the limiter refuses one (at most a few bursts' worth), and return the 429."""
    for _ in range(10 * BURST):
        response = client.get(path)
        if response.status_code == 429:
            return response
        assert response.status_code == 200, response.text
    raise AssertionError(f"no 429 within {10 * BURST} requests")


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    """The body as a stream without Content-Length (sent chunked)."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_body_over_limit_on_sparql_is_413(new_client: Callable[[], httpx.Client]) -> None:
    response = new_client().post("/sparql", content=padded_query(MAX_BODY + 1), headers=DIRECT)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/plain")
    assert f"limit of {MAX_BODY} bytes" in response.text


def test_body_at_limit_on_sparql_is_answered(new_client: Callable[[], httpx.Client]) -> None:
    response = new_client().post("/sparql", content=padded_query(MAX_BODY), headers=DIRECT)
    assert response.status_code == 200
    assert response.json()["boolean"] is True


def test_body_over_limit_on_api_route_is_413_json(new_client: Callable[[], httpx.Client]) -> None:
    response = new_client().post("/api/search", content=b"{}" + b" " * MAX_BODY,
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": f"The request body is larger than the limit of {MAX_BODY} bytes "
                                         "(KG_MAX_BODY_BYTES); send less."}


def test_body_over_limit_on_graph_store_is_413(new_client: Callable[[], httpx.Client]) -> None:
    response = new_client().put("/graph-store?default", content=b"#" * (MAX_BODY * 3),
                                headers={"Content-Type": "text/turtle"})
    assert response.status_code == 413
    assert f"limit of {MAX_BODY} bytes" in response.text


def test_chunked_body_over_limit_is_413(new_client: Callable[[], httpx.Client]) -> None:
    response = new_client().post("/sparql", content=chunks(padded_query(MAX_BODY * 5)), headers=DIRECT)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert f"limit of {MAX_BODY} bytes" in response.text


def test_chunked_body_under_limit_is_answered(new_client: Callable[[], httpx.Client]) -> None:
    response = new_client().post("/sparql", content=chunks(padded_query(MAX_BODY // 2)), headers=DIRECT)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200
    assert response.json()["boolean"] is True


@pytest.mark.slow
def test_rate_limit_burst_then_429_with_retry_after(new_client: Callable[[], httpx.Client]) -> None:
    client = new_client()
    started = time.monotonic()
    answered = 0
    while (refused := client.get("/api/districts")).status_code == 200 and answered < 100:
        answered += 1
    # The burst, plus what the steady rate refilled meanwhile (the first request may be slow).
    assert BURST <= answered <= BURST + math.ceil((time.monotonic() - started) * RATE)
    assert refused.status_code == 429
    retry = refused.headers["retry-after"]
    assert retry.isdigit() and int(retry) >= 1
    assert "5 per second" in refused.json()["detail"]
    assert refused.headers["x-request-id"]
    # The same limit on a non-/api route, answered in text.
    sparql = client.get("/sparql", params={"query": "ASK {}"})
    assert sparql.status_code == 429
    assert sparql.headers["content-type"].startswith("text/plain")
    assert "retry after" in sparql.text


@pytest.mark.slow
def test_rate_limit_recovers_after_retry_after(new_client: Callable[[], httpx.Client]) -> None:
    client = new_client()
    statuses = [client.get("/api/districts").status_code for _ in range(BURST + 1)]
    assert statuses[-1] == 429
    refused = exhaust(client)
    time.sleep(int(refused.headers["retry-after"]))
    assert client.get("/api/districts").status_code == 200


@pytest.mark.slow
def test_rate_limit_is_per_client(new_client: Callable[[], httpx.Client]) -> None:
    noisy, quiet = new_client(), new_client()
    exhaust(noisy)
    assert quiet.get("/api/districts").status_code == 200


@pytest.mark.slow
def test_rate_limit_spares_probes(new_client: Callable[[], httpx.Client]) -> None:
    client = new_client()
    exhaust(client)
    for path in ("/health", "/ready", "/metrics"):
        assert client.get(path).status_code == 200, path


def test_rate_limit_off_by_default(client: httpx.Client) -> None:
    statuses = {client.get("/health").status_code for _ in range(3 * 100)}
    assert statuses == {200}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)
    assert math.ceil(buckets.take("a")) == 1


def test_token_bucket_forgets_idle_clients() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=10.0, burst=10, clock=clock)
    for n in range(1000):
        buckets.take(f"10.0.{n // 256}.{n % 256}")
    assert len(buckets.buckets) == 1000
    clock.now += 1.0  # long enough for every bucket to be full again
    buckets.take("192.0.2.1")
    assert list(buckets.buckets) == ["192.0.2.1"]


def test_token_bucket_memory_is_capped() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1000, max_clients=100, clock=FakeClock())
    for n in range(10_000):
        buckets.take(f"client-{n}")
    assert len(buckets.buckets) == 100
    assert "client-9999" in buckets.buckets and "client-0" not in buckets.buckets
