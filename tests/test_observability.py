"""/ready, /metrics, X-Request-ID and the JSON access log, over real HTTP.

Metrics are read back with prometheus_client's own text parser, and compared before and after
the requests of each test (the session server also answers other test modules).
"""

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings
from app.main import create_app
from app.web.access_log import BatchedLineWriter
from tests.helpers import LiveServer, kg_serve, serve_in_thread

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def read_metrics(client: httpx.Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition``: metrics and the access log are written just after the response is sent."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def short_deadline() -> Iterator[LiveServer]:
    """One query worker and a 1 s deadline: one runaway query times out quickly."""
    yield from serve_in_thread(Settings(query_timeout_s=1.0, query_workers=1))


# ---------------------------------------------------------------- X-Request-ID

def test_request_id_generated_when_absent(client: httpx.Client) -> None:
    first, second = client.get("/health"), client.get("/health")
    assert GENERATED_ID.fullmatch(first.headers["x-request-id"])
    assert GENERATED_ID.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("given", ["abc", "req-2026.11_26", "A" * 128])
def test_request_id_echoed_when_sane(client: httpx.Client, given: str) -> None:
    response = client.get("/health", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize("given", ["A" * 129, "has space", "semi;colon", "slash/", "quote\"", "ünïcode".encode()])
def test_request_id_replaced_when_not_a_sane_token(client: httpx.Client, given: str | bytes) -> None:
    response = client.get("/health", headers={"X-Request-ID": given})
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


@pytest.mark.parametrize(("method", "path", "params", "status"), [
    ("GET", "/api/districts/nowhere", {}, 404),
    ("GET", "/no/such/page", {}, 404),
    ("GET", "/sparql", {"query": "SELECT WHERE {"}, 400),
    ("DELETE", "/health", {}, 405),
    ("GET", "/api/mechanisms/shared", {"min_districts": "zero"}, 422),
])
def test_request_id_on_error_responses(client: httpx.Client, method: str, path: str, params: dict[str, str],
                                       status: int) -> None:
    response = client.request(method, path, params=params, headers={"X-Request-ID": "err-1"})
    assert response.status_code == status
    assert response.headers["x-request-id"] == "err-1"


def test_request_id_on_304(client: httpx.Client) -> None:
    etag = client.get("/api/districts/haidian").headers["etag"]
    response = client.get("/api/districts/haidian", headers={"If-None-Match": etag, "X-Request-ID": "cached-1"})
    assert response.status_code == 304
    assert response.headers["x-request-id"] == "cached-1"


def test_request_id_and_count_on_unhandled_error() -> None:
    # The real middleware stack, with one route added that fails (no server: ASGITransport).
    app = create_app(Settings(query_workers=1))

    async def fail() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/fail", fail)

    async def call() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.get("/api/fail", headers={"X-Request-ID": "fail-1"}), await c.get("/metrics")

    failed, metrics = asyncio.run(call())
    assert failed.status_code == 500
    assert failed.headers["x-request-id"] == "fail-1"
    assert failed.json() == {"detail": "Internal server error."}
    assert "boom" not in failed.text
    assert 'kg_http_requests_total{method="GET",route="/api/fail",status="500"} 1.0' in metrics.text


# ---------------------------------------------------------------- /metrics

def test_metrics_count_requests_by_route_template(client: httpx.Client) -> None:
    labels = {"route": "/api/districts/{id}", "method": "GET", "status": "200"}
    before = read_metrics(client)
    for district in ("haidian", "xicheng", "yanqing"):
        assert client.get(f"/api/districts/{district}").status_code == 200
    assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200

    def counted() -> bool:
        after = read_metrics(client)
        return (sample(after, "kg_http_requests_total", **labels)
                == sample(before, "kg_http_requests_total", **labels) + 3)

    wait_for(counted)
    after = read_metrics(client)
    assert (sample(after, "kg_http_request_duration_seconds_count", route="/api/districts/{id}")
            >= sample(before, "kg_http_request_duration_seconds_count", route="/api/districts/{id}") + 3)
    assert (sample(after, "kg_http_requests_total", route="/sparql", method="GET", status="200")
            >= sample(before, "kg_http_requests_total", route="/sparql", method="GET", status="200") + 1)
    # Raw URLs never become label values.
    assert not any("haidian" in value for (_, labels_), _v in after.items() for _, value in labels_)


def test_metrics_count_unmatched_paths_as_other(client: httpx.Client) -> None:
    labels = {"route": "other", "method": "GET", "status": "404"}
    before = sample(read_metrics(client), "kg_http_requests_total", **labels)
    for n in range(3):
        assert client.get(f"/random/{n}/path").status_code == 404
    wait_for(lambda: sample(read_metrics(client), "kg_http_requests_total", **labels) == before + 3)


def test_metrics_count_odd_methods_as_other(client: httpx.Client) -> None:
    labels = {"route": "/health", "method": "other", "status": "405"}
    before = sample(read_metrics(client), "kg_http_requests_total", **labels)
    assert client.request("PROPFIND", "/health").status_code == 405
    wait_for(lambda: sample(read_metrics(client), "kg_http_requests_total", **labels) == before + 1)


def test_metrics_report_graph_and_workers(client: httpx.Client, server: LiveServer) -> None:
    samples = read_metrics(client)
    health = client.get("/health").json()
    assert sample(samples, "kg_graph_triples") == health["triples"]
    assert sample(samples, "kg_graph_info", version=server.graph.version) == 1
    workers = server.app.state.runtime.runner  # type: ignore[attr-defined]
    assert sample(samples, "kg_query_workers_configured") == workers.size
    assert sample(samples, "kg_query_workers", state="idle") + sample(samples, "kg_query_workers", state="busy") \
        == workers.size
    assert sample(samples, "kg_query_timeouts_total") == workers.timeouts


@pytest.mark.slow
def test_metrics_count_query_timeouts(short_deadline: LiveServer) -> None:
    with httpx.Client(base_url=short_deadline.url, timeout=30) as client:
        before = sample(read_metrics(client), "kg_query_timeouts_total")
        response = client.get("/sparql", params={"query": RUNAWAY})
        assert response.status_code == 503
        assert "timed out" in response.text
        after = read_metrics(client)
        assert sample(after, "kg_query_timeouts_total") == before + 1
        assert sample(after, "kg_http_requests_total", route="/sparql", method="GET", status="503") >= 1


def test_rejected_writes_are_counted(client: httpx.Client, server: LiveServer) -> None:
    before = sample(read_metrics(client), "kg_rejected_writes_total", reason="test_reason")
    server.app.state.metrics.reject_write("test_reason")  # type: ignore[attr-defined]
    assert sample(read_metrics(client), "kg_rejected_writes_total", reason="test_reason") == before + 1


@pytest.mark.slow  # a second service
def test_metrics_registries_are_per_app(client: httpx.Client, short_deadline: LiveServer) -> None:
    with httpx.Client(base_url=short_deadline.url) as other:
        before = sample(read_metrics(other), "kg_http_requests_total", route="/api/themes", method="GET",
                        status="200")
        assert client.get("/api/themes").status_code == 200
        assert sample(read_metrics(other), "kg_http_requests_total", route="/api/themes", method="GET",
                      status="200") == before


# ---------------------------------------------------------------- /ready

def test_ready_reports_graph_and_workers(client: httpx.Client, server: LiveServer) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["graph_version"] == server.graph.version
    assert body["triples"] == client.get("/health").json()["triples"]
    assert 1 <= body["workers"] <= server.app.state.runtime.runner.size  # type: ignore[attr-defined]
    assert 0 <= body["workers_idle"] <= body["workers"]


def test_ready_is_503_before_start_up() -> None:
    # ASGITransport runs no lifespan: exactly the state before start-up has finished.
    app = create_app(Settings(query_workers=1))

    async def probe() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            return await c.get("/ready")

    response = asyncio.run(probe())
    assert response.status_code == 503
    assert response.json()["status"] == "starting"
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


@pytest.mark.slow
def test_ready_is_503_when_no_worker_is_alive() -> None:
    for live in serve_in_thread(Settings(query_workers=1)):
        workers = live.app.state.runtime.runner  # type: ignore[attr-defined]
        assert httpx.get(f"{live.url}/ready").status_code == 200
        deadline = time.monotonic() + 60
        while workers.spare is None and time.monotonic() < deadline:  # the warm spare dies too
            time.sleep(0.05)
        for worker in list(workers.all):
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.join(5)
        response = httpx.get(f"{live.url}/ready")
        assert response.status_code == 503
        assert response.json()["workers"] == 0
        assert "worker" in response.json()["detail"]


# ---------------------------------------------------------------- access log

def test_access_log_is_one_json_object_with_request_id(client: httpx.Client,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    response = client.get("/api/districts/haidian", headers={"X-Request-ID": "log-line-1"})
    assert response.status_code == 200

    def entries() -> list[dict[str, object]]:
        return [json.loads(r.getMessage()) for r in caplog.records
                if r.name == "app.access" and "log-line-1" in r.getMessage()]

    wait_for(lambda: len(entries()) == 1)
    entry = entries()[0]
    assert set(entry) == {"time", "request_id", "method", "path", "status", "duration_ms", "client"}
    assert entry["request_id"] == "log-line-1"
    assert entry["method"] == "GET" and entry["path"] == "/api/districts/haidian" and entry["status"] == 200
    assert entry["client"] == "127.0.0.1"
    assert isinstance(entry["duration_ms"], float | int) and entry["duration_ms"] >= 0
    assert datetime.fromisoformat(str(entry["time"])).tzinfo is not None


def test_access_log_has_the_generated_request_id(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    response = client.get("/no/such/page")
    request_id = response.headers["x-request-id"]

    def found() -> bool:
        return any(json.loads(r.getMessage()).get("request_id") == request_id
                   for r in caplog.records if r.name == "app.access")

    wait_for(found)


class Recorded:
    """A stream that keeps each write apart."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        pass


def test_batched_access_log_writes_whole_lines_in_pipe_sized_writes_soon_after() -> None:
    stream = Recorded()
    writer = BatchedLineWriter(stream, delay_s=0.05)
    lines = [json.dumps({"n": i, "path": "/p" + "x" * (i % 300)}) for i in range(200)]

    async def log() -> None:
        for line in lines:
            writer.write_line(line)
        assert stream.writes == []  # nothing yet: a batch
        await asyncio.sleep(0.2)

    asyncio.run(log())
    assert "".join(stream.writes) == "".join(line + "\n" for line in lines)
    assert len(stream.writes) > 1
    assert all(len(w.encode()) < 4096 and w.endswith("\n") for w in stream.writes)  # atomic on a pipe


def test_batched_access_log_writes_at_once_outside_a_loop_and_when_a_batch_is_full() -> None:
    stream = Recorded()
    writer = BatchedLineWriter(stream, delay_s=60, max_lines=3)
    writer.write_line("outside")
    assert stream.writes == ["outside\n"]

    async def log() -> None:
        for i in range(3):
            writer.write_line(f"line {i}")

    asyncio.run(log())
    assert "".join(stream.writes[1:]) == "line 0\nline 1\nline 2\n"
    assert writer.pending == [] and writer.timer is None


@pytest.mark.slow
def test_kg_serve_prints_each_request_as_a_json_line_soon_and_at_exit() -> None:
    """`kg serve`'s access log on standard output: batched, yet each line is out within a moment,
    and the ones still pending when it stops are written before it exits."""
    with kg_serve({"KG_QUERY_WORKERS": "1", "PYTHONUNBUFFERED": "0"}, stdout=subprocess.PIPE) as (process, port):
        first = httpx.get(f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "line-first"}, timeout=30)
        assert first.status_code == 200
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())  # blocks until the batch is written (about 50 ms)
        assert line["request_id"] == "line-first" and line["path"] == "/health" and line["status"] == 200
        ids = [f"line-{i}" for i in range(20)]
        for request_id in ids:
            httpx.get(f"http://127.0.0.1:{port}/api/districts", headers={"X-Request-ID": request_id}, timeout=30)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    logged = [json.loads(text) for text in rest.decode().splitlines() if text.startswith("{")]
    assert [entry["request_id"] for entry in logged if entry["request_id"] in ids] == ids
