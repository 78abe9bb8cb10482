"""The FastAPI application: ``create_app(settings)``; ``app`` for ``uvicorn app.main:app``."""

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pyoxigraph as ox
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.caching import ETagMiddleware
from app.config import Settings, get_settings
from app.errors import install_error_handlers
from app.limits import install_limits
from app.observability import install_observability
from app.routers import api, health, linked_data, pages, sparql
from app.store.engine import KnowledgeGraph
from app.store.workers import QueryWorkers, WorkerConfig
from app.templating import STATIC_DIR

logger = logging.getLogger("app")

DESCRIPTION = """
The work highlights of Beijing's 16 district people's congresses, from 《北京人大》2023年第7期,
as linked data: districts, their practices, the named mechanisms they share, themes, the
numbers the article states, each with its verbatim quote.

* **/sparql** — SPARQL 1.1 Protocol endpoint (read-only; default graph = union of the data,
  ontology and inferred graphs).
* **/api/…** — JSON answers to the common questions (which districts share a mechanism, …).
* **/id/{type}/{slug}** — every entity IRI dereferences, by content negotiation.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        graph = KnowledgeGraph.build(settings)
        nquads = ox.serialize(graph.loaded.quads, format=ox.RdfFormat.N_QUADS)
        size = settings.query_workers or os.cpu_count() or 2
        workers = QueryWorkers(
            WorkerConfig(settings.engine, graph.query_base, nquads),
            size=size,
            timeout_s=settings.query_timeout_s,
            queue=4 * size if settings.query_queue < 0 else settings.query_queue,
        )
        await workers.start()
        app.state.graph, app.state.workers = graph, workers
        logger.info("ready in %.2f s: %d triples, %d query workers", time.perf_counter() - started,
                    graph.triples, workers.size)
        try:
            yield
        finally:
            await workers.close()

    app = FastAPI(
        title="bjrd-kg",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag", "Content-Location", "Content-Disposition", "Digest", "Link"],
    )
    app.add_middleware(ETagMiddleware)
    install_limits(app, settings)
    install_observability(app, settings)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (health, sparql, api, linked_data, pages):
        app.include_router(module.router)
    return app


app = create_app()
