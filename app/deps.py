"""FastAPI dependency aliases: the only way routers reach the settings, the live graph and the query runner."""

from typing import Annotated

from fastapi import Depends, Request

from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.runtime import Runtime
from app.sparql.runner import QueryRunner
from app.web.observability import Metrics


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_graph(runtime: RuntimeDep) -> KnowledgeGraph:
    return runtime.graph


async def get_app_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


async def get_live(request: Request) -> tuple[KnowledgeGraph, QueryRunner]:
    """The graph served now and the query runner of the same version, read together, as one dependency
    (each dependency costs the hot /sparql path tens of microseconds)."""
    runtime: Runtime = request.app.state.runtime
    return runtime.graph, runtime.runner


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


GraphDep = Annotated[KnowledgeGraph, Depends(get_graph)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
LiveDep = Annotated[tuple[KnowledgeGraph, QueryRunner], Depends(get_live)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def public_base(request: Request) -> str:
    """The base of absolute URLs in answers: ``KG_PUBLIC_URL``, else the base IRI (never the Host header)."""
    runtime: Runtime = request.app.state.runtime
    return runtime.settings.public_base
