"""Observability: the metrics (Prometheus), JSON access logs and request ids.

The routes ``/ready`` and ``/metrics`` are in :mod:`app.routers.health`.

* Metrics: a registry of this app's own (several apps in one process do not share counters).
  Request counts and latencies are labelled by route *template* (``/api/districts/{id}``), never
  by raw URL, so the label set stays small.
* Every response carries ``X-Request-ID``: the client's own when it is a sane token
  (≤ 128 characters of ``[A-Za-z0-9._-]``), else a fresh 32-hex-digit id. It is also in
  ``request.state.request_id`` and in the access log.
* Access log: logger ``app.access``, one JSON object per request and line
  (time, request_id, method, path, status, duration_ms, client).

``Metrics.reject_write(reason)`` is the hook the write path calls when it refuses a write.
"""

import itertools
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import wants_json
from app.sparql.runner import QueryRunner
from app.store.graph import KnowledgeGraph

#: The graph and the query runner served now (either None while starting).
LiveState = Callable[[], tuple[KnowledgeGraph | None, QueryRunner | None]]

access_logger = logging.getLogger("app.access")

REQUEST_ID_HEADER = b"x-request-id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
#: Label of requests that match no route (404s, probes for random paths).
OTHER = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
#: Longer paths are cut in the access log (a made-up URL must not make a huge log line).
MAX_LOGGED_PATH = 2048
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


# ---------------------------------------------------------------- metrics

class Metrics:
    """The Prometheus registry of one app and the metrics the middleware updates."""

    def __init__(self, state: LiveState) -> None:
        disable_created_metrics()  # no *_created series: one per label set, and nothing reads them
        self.registry = CollectorRegistry()
        self.requests = Counter("kg_http_requests", "HTTP requests answered, by route template, method and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("kg_http_request_duration_seconds",
                                 "Time from request to the end of the response, by route template.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("kg_http_requests_in_flight", "HTTP requests being answered now.",
                               registry=self.registry)
        self.rejected_writes = Counter("kg_rejected_writes", "Writes refused, by reason.", ["reason"],
                                       registry=self.registry)
        self.registry.register(StateCollector(state))
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    def count(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency (the labelled series are looked up once each)."""
        key = (route, method, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(route, method, str(status))
        counter.inc()
        histogram = self._histograms.get(route)
        if histogram is None:
            histogram = self._histograms[route] = self.latency.labels(route)
        histogram.observe(seconds)

    def reject_write(self, reason: str) -> None:
        """Count a refused write in ``kg_rejected_writes_total{reason}`` (a small, fixed set of reasons)."""
        self.rejected_writes.labels(reason=reason).inc()


class StateCollector(Collector):
    """Reads the graph and the query runner at scrape time."""

    def __init__(self, state: LiveState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        graph, workers = self.state()
        info = InfoMetricFamily("kg_graph", "The loaded graph: its content hash (changes with every write).")
        triples = GaugeMetricFamily("kg_graph_triples", "Distinct triples in the default (union) graph.")
        if graph is not None:
            info.add_metric([], {"version": graph.version})
            triples.add_metric([], graph.triples)
        yield info
        yield triples
        timeouts = CounterMetricFamily("kg_query_timeouts", "SPARQL queries stopped at their deadline.")
        pool = GaugeMetricFamily("kg_query_workers", "Query worker processes by state (busy includes starting).",
                                 labels=["state"])
        waiting = GaugeMetricFamily("kg_query_waiting", "Queries waiting for a free query worker.")
        size = GaugeMetricFamily("kg_query_workers_configured", "Query worker processes configured.")
        if workers is not None:
            idle = workers.idle_count
            timeouts.add_metric([], workers.timeouts)
            pool.add_metric(["idle"], idle)
            pool.add_metric(["busy"], max(workers.alive - idle, 0))
            waiting.add_metric([], workers.queued)
            size.add_metric([], workers.size)
        yield from (timeouts, pool, waiting, size)


# ---------------------------------------------------------------- route templates

class RouteTemplates:
    """Maps a request path to the template of the route that answers it (``/api/districts/{id}``)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._table: list[tuple[re.Pattern[str], str]] | None = None

    def table(self) -> list[tuple[re.Pattern[str], str]]:
        # Built at the first request: routers are included after the middleware is installed.
        if self._table is None:
            self._table = [(r.path_regex, r.path_format) for r in _flat_routes(self.app)
                           if getattr(r, "path_regex", None) is not None and getattr(r, "path_format", None)]
        return self._table

    def resolve(self, scope: Scope) -> str:
        path = scope["path"]
        route = scope.get("route")  # set by the router for the route it ran
        template = getattr(route, "path_format", None)
        if template and route is not None and route.path_regex.match(path):
            return template
        # Answered before routing (304, 413, 429, CORS preflight) or by no route at all.
        for regex, template in self.table():
            if regex.match(path):
                return template
        return OTHER


def _flat_routes(app: FastAPI) -> list[Any]:
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.160: included routers are lazy
    except ImportError:
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


# ---------------------------------------------------------------- middleware

class RequestIds:
    """Fresh request ids: 32 hex digits, a random prefix per process and a counter (unique, and
    without a system call per request as a uuid4 needs)."""

    def __init__(self) -> None:
        self.prefix = uuid.uuid4().hex[:16]
        self.counter = itertools.count(1)

    def fresh(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFFFFFF:016x}"


_IDS = RequestIds()


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return _IDS.fresh()


class ObservabilityMiddleware:
    """Request id, metrics and access log for every HTTP request; outermost of the app's middleware."""

    def __init__(self, app: ASGIApp, metrics: Metrics, templates: RouteTemplates) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID_HEADER]
                headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Not handled here: Starlette's ServerErrorMiddleware (outside) logs it. Only make sure the
            # 500 carries the request id and is counted; then let the exception go on.
            if not response_started:
                await error_response(scope)(scope, receive, send_with_id)
            raise
        finally:
            self.metrics.in_flight.dec()
            self.observe(scope, request_id, status, time.perf_counter() - started)

    def observe(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        route = self.templates.resolve(scope)
        method = scope["method"] if scope["method"] in METHODS else OTHER
        self.metrics.count(route, method, status, seconds)
        if access_logger.isEnabledFor(logging.INFO):
            client = scope.get("client")
            line = access_line(request_id, scope["method"], scope["path"], status, seconds,
                               client[0] if client else None)
            # handle() rather than info(): no search of the caller's frame for a line that never shows it.
            access_logger.handle(access_logger.makeRecord(access_logger.name, logging.INFO, "", 0, line, (), None))


class Clock:
    """ISO 8601 UTC timestamps with milliseconds; the seconds part is formatted once per second."""

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""

    def now(self) -> str:
        now = time.time()
        second = int(now)
        if second != self.second:
            self.second, self.prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self.prefix}.{int((now - second) * 1000):03d}+00:00"


_CLOCK = Clock()
_PLAIN = re.compile(r"[ -!#-\[\]-~]*")  # printable ASCII but the quote and the backslash: JSON as it is


def access_line(request_id: str, method: str, path: str, status: int, seconds: float, client: str | None) -> str:
    """One access-log line: a JSON object (time, request_id, method, path, status, duration_ms, client)."""
    path = path[:MAX_LOGGED_PATH]
    method = method if method in METHODS else json.dumps(method, ensure_ascii=False)[1:-1]
    path_json = f'"{path}"' if _PLAIN.fullmatch(path) else json.dumps(path, ensure_ascii=False)
    client_json = "null" if client is None else (f'"{client}"' if _PLAIN.fullmatch(client) else json.dumps(client))
    return (f'{{"time": "{_CLOCK.now()}", "request_id": "{request_id}", "method": "{method}", '
            f'"path": {path_json}, "status": {status}, "duration_ms": {round(seconds * 1000, 2)}, '
            f'"client": {client_json}}}')


def error_response(scope: Scope) -> Response:
    if wants_json(scope["path"]):
        return JSONResponse({"detail": "Internal server error."}, status_code=500)
    return PlainTextResponse("Internal server error.\n", status_code=500)


def configure_access_log() -> None:
    """Send ``app.access`` to standard output as bare JSON lines, unless logging was set up for it already."""
    if access_logger.handlers or access_logger.level != logging.NOTSET:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_logger.addHandler(handler)
    access_logger.setLevel(logging.INFO)
    # Not also through the root logger's handlers (that would print each line twice, reformatted).
    access_logger.propagate = False


def install_observability(app: FastAPI, state: LiveState) -> None:
    """Add the observability middleware to ``app``; its metrics are ``app.state.metrics``."""
    metrics = Metrics(state)
    app.state.metrics = metrics
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, templates=RouteTemplates(app))
    configure_access_log()
