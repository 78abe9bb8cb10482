"""FastAPI dependency aliases: the settings and the loaded graph."""

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.store.engine import KnowledgeGraph
from app.store.workers import QueryWorkers


async def get_graph(request: Request) -> KnowledgeGraph:
    return request.app.state.graph


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_workers(request: Request) -> QueryWorkers:
    return request.app.state.workers


GraphDep = Annotated[KnowledgeGraph, Depends(get_graph)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
WorkersDep = Annotated[QueryWorkers, Depends(get_workers)]
