"""Probes: liveness (``/health``), readiness (``/ready``) and the Prometheus scrape (``/metrics``).

* ``GET /ready`` — 200 once the graph is loaded and validated and a query worker is alive;
  503 JSON before start-up has finished, while shutting down, or when no worker is alive. With a
  remote store it also notices a reload of the store (a new recorded version; checked at most every
  few seconds) and serves the new version, so that caches keyed on it refresh.
* ``GET /metrics`` — Prometheus text format (see :mod:`app.web.observability`); behind a bearer
  token when ``KG_METRICS_TOKEN`` is set (401 without one, 403 with a wrong one).
"""

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from app.deps import GraphDep, MetricsDep, RuntimeDep, SettingsDep
from app.errors import Forbidden, StoreUnavailable, Unauthorized
from app.store.remote import RemoteStore
from app.web.request_view import view_of

router = APIRouter(tags=["service"])

#: Probes and the metrics scrape: never rate-limited.
PROBES = frozenset({"/health", "/ready", "/metrics"})


class Health(BaseModel):
    status: str
    triples: int


class Readiness(BaseModel):
    status: str
    graph_version: str | None = None
    triples: int | None = None
    workers_idle: int = 0
    workers: int = 0
    detail: str | None = None


@router.get("/health", response_model=Health, summary="存活与图规模 · Liveness and graph size")
async def read_health(graph: GraphDep) -> Health:
    """服务在运行；triples 为默认（并集）图中不同三元组的数目。

    The service is up; `triples` counts the distinct triples of the default (union) graph."""
    return Health(status="ok", triples=graph.triples)


@router.get("/ready", response_model=Readiness, response_model_exclude_none=True, summary="就绪 · Readiness",
            responses={503: {"model": Readiness, "description": "Not ready: starting, stopping or no query worker"}})
async def read_ready(runtime: RuntimeDep) -> Response | Readiness:
    """可以应答：图已加载（并已校验）且有查询进程在运行；否则 503。

    Ready to answer: the graph is loaded (and validated) and a query worker is alive; else 503."""
    graph, runner = runtime.snapshot()
    if graph is None or runner is None:
        return not_ready(Readiness(status="starting", detail="The graph is still being loaded and validated."))
    alive = runner.alive
    ready = Readiness(status="ready", graph_version=graph.version, triples=graph.triples,
                      workers_idle=runner.idle_count, workers=alive)
    if runner.closing:
        return not_ready(ready.model_copy(update={"status": "stopping", "detail": "The service is shutting down."}))
    if alive == 0:
        return not_ready(ready.model_copy(update={"status": "unavailable", "detail": "No query worker is alive."}))
    if isinstance(graph.store, RemoteStore):  # an external store: is it reachable?
        problem = await graph.store.ping()
        if problem:
            return not_ready(ready.model_copy(update={"status": "unavailable", "detail": problem}))
        try:
            if await runtime.follow_store():
                graph, _ = runtime.snapshot()
                assert graph is not None
                ready = ready.model_copy(update={"graph_version": graph.version, "triples": graph.triples})
        except StoreUnavailable as exc:
            return not_ready(ready.model_copy(update={"status": "unavailable", "detail": exc.detail}))
    return ready


def not_ready(readiness: Readiness) -> JSONResponse:
    return JSONResponse(readiness.model_dump(exclude_none=True), status_code=503, headers={"Retry-After": "1"})


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus 指标 · Prometheus metrics",
            responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}})
async def read_metrics(metrics: MetricsDep, settings: SettingsDep, request: Request) -> Response:
    """本服务的计数器与仪表，Prometheus 文本格式（设置 KG_METRICS_TOKEN 时须带 Bearer 令牌）。

    Counters and gauges of this service in the Prometheus text exposition format (with
    `KG_METRICS_TOKEN` set: only for `Authorization: Bearer <token>`)."""
    token = settings.metrics_token
    if token:
        given = view_of(request).bearer  # the scheme in any case (RFC 9110 §11.1)
        if given is None:
            raise Unauthorized("/metrics needs Authorization: Bearer <KG_METRICS_TOKEN>.")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Forbidden("The metrics token is wrong.")
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
