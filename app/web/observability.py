"""Observability: the metrics (Prometheus), JSON access logs and request ids.

The routes ``/ready`` and ``/metrics`` are in :mod:`app.routers.health`.

* Metrics: a registry of this app's own (several apps in one process do not share counters).
  Request counts and latencies are labelled by route *template* (``/api/districts/{id}``), never
  by raw URL, so the label set stays small.
* Every response carries ``X-Request-ID``: the client's own when it is a sane token
  (≤ 128 characters of ``[A-Za-z0-9._-]``), else a fresh 32-hex-digit id. It is also in
  ``request.state.request_id`` and in the access log.
* Access log (app.web.access_log): logger ``app.access``, one JSON object per request and line
  (time, request_id, method, path, status, duration_ms, client).

``Metrics.reject_write(reason)`` is the hook the write path calls when it refuses a write.
"""

import bisect
import itertools
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, disable_created_metrics
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.build.graph import KnowledgeGraph
from app.errors import wants_json
from app.sparql.runner import QueryRunner
from app.web.access_log import METHODS, access_line, access_logger, batched_writer, configure_access_log

#: The graph and the query runner served now (either None while starting).
LiveState = Callable[[], tuple[KnowledgeGraph | None, QueryRunner | None]]

REQUEST_ID_HEADER = b"x-request-id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
#: Label of requests that match no route (404s, probes for random paths).
OTHER = "other"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


# ---------------------------------------------------------------- metrics

class Metrics:
    """The Prometheus registry of one app and the metrics the middleware updates.

    The per-request series (requests by route, method and status; latency by route; requests in
    flight) are plain counters in :class:`RequestStats`, read at scrape time: prometheus_client's
    own metrics take a lock for each update, about a microsecond and a half of every request."""

    def __init__(self, state: LiveState) -> None:
        disable_created_metrics()  # no *_created series: one per label set, and nothing reads them
        self.registry = CollectorRegistry()
        self.requests = RequestStats()
        self.registry.register(self.requests)
        self.rejected_writes = Counter(
            "kg_rejected_writes", "Writes refused, by reason.", ["reason"], registry=self.registry
        )
        self.registry.register(StateCollector(state))

    def count(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self.requests.count(route, method, status, seconds)

    def reject_write(self, reason: str) -> None:
        """Count a refused write in ``kg_rejected_writes_total{reason}`` (a small, fixed set of reasons)."""
        self.rejected_writes.labels(reason=reason).inc()


class RequestStats(Collector):
    """``kg_http_requests_total{route,method,status}``, ``kg_http_request_duration_seconds{route}`` (a
    histogram) and ``kg_http_requests_in_flight``, counted without locks: they are updated on the
    event loop's thread only, and read (copied) at scrape time."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.requests: dict[tuple[str, str, int], int] = {}
        # route -> [count in each bucket (not cumulative; the last one is +Inf), sum of seconds]
        self.latency: dict[str, list[Any]] = {}

    def count(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        found = self.latency.get(route)
        if found is None:
            found = self.latency[route] = [[0] * (len(LATENCY_BUCKETS) + 1), 0.0]
        found[0][bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        found[1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "kg_http_requests",
            "HTTP requests answered, by route template, method and status.",
            labels=["route", "method", "status"],
        )
        for (route, method, status), n in sorted(dict(self.requests).items()):
            requests.add_metric([route, method, str(status)], n)
        latency = HistogramMetricFamily(
            "kg_http_request_duration_seconds",
            "Time from request to the end of the response, by route template.",
            labels=["route"],
        )
        bounds = [*(str(float(b)) for b in LATENCY_BUCKETS), "+Inf"]
        for route, (counts, total) in sorted((r, (list(c), t)) for r, (c, t) in dict(self.latency).items()):
            latency.add_metric([route], list(zip(bounds, itertools.accumulate(counts), strict=True)), total)
        in_flight = GaugeMetricFamily("kg_http_requests_in_flight", "HTTP requests being answered now.")
        in_flight.add_metric([], self.in_flight)
        yield from (requests, latency, in_flight)


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

        self.metrics.requests.in_flight += 1
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Not handled here: Starlette's ServerErrorMiddleware (outside) logs it. Only make sure the
            # 500 carries the request id and is counted; then let the exception go on.
            if not response_started:
                await error_response(scope)(scope, receive, send_with_id)
            raise
        finally:
            self.metrics.requests.in_flight -= 1
            self.observe(scope, request_id, status, time.perf_counter() - started)

    def observe(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        route = self.templates.resolve(scope)
        method = scope["method"] if scope["method"] in METHODS else OTHER
        self.metrics.count(route, method, status, seconds)
        if access_logger.isEnabledFor(logging.INFO):
            client = scope.get("client")
            line = access_line(request_id, scope["method"], scope["path"], status, seconds,
                               client[0] if client else None)
            writer = batched_writer()
            if writer is not None:
                writer.write_line(line)
            else:
                # handle() rather than info(): no search of the caller's frame for a line that never shows it.
                access_logger.handle(access_logger.makeRecord(access_logger.name, logging.INFO, "", 0, line, (), None))


def error_response(scope: Scope) -> Response:
    if wants_json(scope["path"]):
        return JSONResponse({"detail": "Internal server error."}, status_code=500)
    return PlainTextResponse("Internal server error.\n", status_code=500)


def install_observability(app: FastAPI, state: LiveState) -> None:
    """Add the observability middleware to ``app``; its metrics are ``app.state.metrics``."""
    metrics = Metrics(state)
    app.state.metrics = metrics
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, templates=RouteTemplates(app))
    configure_access_log()
