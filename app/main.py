"""The FastAPI application: ``create_app(settings)``; ``app`` for ``uvicorn app.main:app``.

Only the app's configuration: middleware, routers, the lifespan; the live state is :mod:`app.runtime`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from app import __version__
from app.config import Settings, get_settings
from app.errors import install_error_handlers
from app.routers import api, health, linked_data, pages, sparql, writes
from app.runtime import Runtime
from app.web.caching import CachingMiddleware
from app.web.cors import AnyOrigin
from app.web.error_pages import html_error_page
from app.web.limits import install_limits
from app.web.observability import install_observability
from app.web.templating import STATIC_DIR, StaticAssets

#: Text answers at least this long are sent gzipped to clients that accept it.
GZIP_MIN_BYTES = 1024

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
    """The service for ``settings`` (default: from the environment); the graph is loaded at start-up."""
    settings = settings or get_settings()

    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="bjrd-kg",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs is served by app/routers/pages.py from the vendored Swagger UI (FastAPI's own
        # page would load it from a CDN); ReDoc is not offered.
        docs_url=None,
        redoc_url=None,
        # The service keeps its own metrics (web/observability); FastAPI's OpenTelemetry hooks would
        # otherwise be looked up on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    # Innermost: compresses what the stored answers of web/caching do not cover (they are gzipped
    # once, when stored). Answers that are already encoded (/export's own gzip) pass through unchanged.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.add_middleware(CachingMiddleware, graph=lambda: runtime.snapshot()[0],
                       cached=api.CACHED + linked_data.CACHED + pages.CACHED + sparql.CACHED,
                       encoded=linked_data.ENCODED, gzip_min=GZIP_MIN_BYTES, never=health.PROBES)
    # Outside the stored answers: they are the same for every origin.
    app.add_middleware(AnyOrigin, expose_headers=[
        "ETag", "Content-Location", "Content-Disposition", "Digest", "Repr-Digest", "Link", "X-Request-ID",
        "X-Result-Truncated", "X-Total-Count", "X-Graph-Version", "Retry-After"])
    install_limits(app, settings, unlimited=health.PROBES)
    install_observability(app, runtime.snapshot)
    install_error_handlers(app, html_error_page)
    app.mount("/static", StaticAssets(directory=STATIC_DIR), name="static")
    for module in (health, sparql, writes, api, linked_data, pages):
        app.include_router(module.router)
    return app


app = create_app()
