"""The FastAPI application: ``create_app(settings)``; ``app`` for ``uvicorn app.main:app``."""

import asyncio
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
from app.api_catalog import catalog_for
from app.caching import ETagMiddleware
from app.config import Settings, get_settings
from app.errors import ValidationFailed, install_error_handlers
from app.limits import install_limits
from app.observability import install_observability
from app.routers import api, health, linked_data, pages, sparql, writes
from app.sparql.headers import SecurityHeaders
from app.store.engine import KnowledgeGraph
from app.store.proxy import RemoteQueries
from app.store.spec import StoreSpec
from app.store.stores import RemoteStore
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


def query_runner(graph: KnowledgeGraph) -> QueryWorkers | RemoteQueries:
    """Where ``/sparql`` queries run: worker processes over the embedded store, or the remote store."""
    settings = graph.settings
    size = settings.query_workers or os.cpu_count() or 2
    queue = 4 * size if settings.query_queue < 0 else settings.query_queue
    if isinstance(graph.store, RemoteStore) and settings.engine != "rdflib":
        return RemoteQueries(graph.store.backend, size, settings.query_timeout_s, queue)
    if graph.spec.kind == "disk" and settings.engine != "rdflib":
        config = WorkerConfig(settings.engine, graph.query_base, store_path=graph.spec.path,
                              default_graphs=tuple(graph.store.content_graphs()), max_rows=settings.max_result_rows,
                              memory_mb=settings.query_memory_mb)
    else:
        config = WorkerConfig(settings.engine, graph.query_base,
                              ox.serialize(graph.loaded.quads, format=ox.RdfFormat.N_QUADS),
                              max_rows=settings.max_result_rows, memory_mb=settings.query_memory_mb)
    return QueryWorkers(config, size=size, timeout_s=settings.query_timeout_s, queue=queue)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        # In memory nothing is persisted, so SHACL validation can run while the query workers
        # start; a store on disk or elsewhere is only written after validation (in build).
        in_memory = StoreSpec.parse(settings.store).kind == "memory"
        graph = await asyncio.to_thread(KnowledgeGraph.build, settings, check=False if in_memory else None)
        workers = query_runner(graph)
        check = in_memory and settings.validate_on_start
        try:
            # Aggregates (shared mechanisms, matrix, similarity …) are computed once per graph
            # version, here rather than on the first request.
            _, report, _ = await asyncio.gather(
                workers.start(), asyncio.to_thread(graph.validate) if check else asyncio.sleep(0), catalog_for(graph)
            )
            if check and not report.conforms:
                raise ValidationFailed(report.text)
        except BaseException:
            await workers.close()
            raise
        app.state.graph, app.state.workers = graph, workers
        logger.info("ready in %.2f s: %d triples, %d query workers", time.perf_counter() - started,
                    graph.triples, workers.size)
        try:
            yield
        finally:
            await app.state.workers.close()
            app.state.graph.close()

    app = FastAPI(
        title="bjrd-kg",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs is served by app/routers/pages.py from the vendored Swagger UI (FastAPI's own
        # page would load it from a CDN); ReDoc is not offered.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag", "Content-Location", "Content-Disposition", "Digest", "Repr-Digest", "Link",
                        "X-Request-ID", "X-Result-Truncated", "X-Total-Count", "X-Graph-Version", "Retry-After"],
    )
    app.add_middleware(ETagMiddleware)
    app.add_middleware(SecurityHeaders)
    install_limits(app, settings)
    install_observability(app, settings)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (health, sparql, writes, api, linked_data, pages):
        app.include_router(module.router)
    return app


app = create_app()
