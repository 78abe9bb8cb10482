"""The FastAPI application: ``create_app(settings)``; ``app`` for ``uvicorn app.main:app``.

Only the app's configuration: middleware, routers, the lifespan; the live state is :mod:`app.runtime`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from app import __version__
from app.config import Settings, get_settings
from app.errors import install_error_handlers
from app.routers import api, curate, dumps, health, linked_data, pages, sparql, writes
from app.runtime import Runtime
from app.web.caching import CachingMiddleware
from app.web.compression import CompressionMiddleware
from app.web.cors import AnyOrigin, cors_headers
from app.web.error_pages import html_error_page
from app.web.headers import SecurityHeaders
from app.web.limits import install_limits
from app.web.observability import install_observability
from app.web.request_view import install_request_front
from app.web.sparql_limit import install_sparql_limit
from app.web.templating import STATIC_DIR, StaticAssets

#: Text answers at least this long are sent compressed (br, else gzip) to clients that accept it.
GZIP_MIN_BYTES = 1024

DESCRIPTION = """
《北京人大》2023年第7期所载北京市16个区人大工作亮点的关联数据：各区的做法、共用的工作机制、主题、
文章所述的数字，每一项都附逐字原文引文。网站首页：[/](/)（搜索、比较、阅读原文、查询编辑器）。

The work highlights of Beijing's 16 district people's congresses, from 《北京人大》2023年第7期,
as linked data: districts, their practices, the named mechanisms they share, themes, the
numbers the article states, each with its verbatim quote. Back to the site: [/](/) (search,
compare, the article, the query editor).

* **/sparql** — SPARQL 1.1 协议端点 · SPARQL 1.1 Protocol endpoint (read-only; default graph =
  union of the data, ontology and inferred graphs).
* **/api/…** — 常见问题的 JSON 答案 · JSON answers to the common questions (which districts share a
  mechanism, …).
* **/id/{type}/{slug}** — 每个实体 IRI 都可解析 · every entity IRI dereferences, by content negotiation.
* **/export** — 整个数据集与 CSV 表格 · dumps (`/export/SHA256SUMS`, immutable `/export/{release}/…`)
  and spreadsheets (`/export/practices.csv`, `/export/facts.csv`).
"""


class Service(FastAPI):
    """FastAPI, less two layers it wraps around every request that this service has no use for:
    ``ExceptionTelemetryMiddleware`` (FastAPI's OpenTelemetry hooks, turned off in :func:`create_app`)
    and ``AppBodyLimitMiddleware`` when FastAPI's ``max_body_size`` is unset (the body limit is
    :mod:`app.web.bodies`'). Each cost an await and a try per request (about 2 % of a stored answer's
    CPU). Found by class name, so a FastAPI without them is served as it is."""

    SPLICED = frozenset({"ExceptionTelemetryMiddleware", "AppBodyLimitMiddleware"})

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if self.max_body_size is not None:
            return stack
        outer = stack  # ServerErrorMiddleware: the layers to drop come right inside it
        while type(getattr(outer, "app", None)).__name__ in self.SPLICED:
            outer.app = outer.app.app  # type: ignore[attr-defined]
        return stack


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

    app = Service(
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
    # Innermost: security headers (one CSP for every page: no inline script is trusted), then
    # compression (br or gzip by Accept-Encoding) of what the stored answers do not cover: they are
    # encoded once, when stored. Answers already encoded (the dumps' own br or gzip) pass through.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(CompressionMiddleware, minimum_size=GZIP_MIN_BYTES)
    # Inside the stored answers: the CORS headers are the same for every origin, so they are stored
    # with each answer (and added to the 304s made there) rather than appended to every response.
    app.add_middleware(AnyOrigin)
    app.add_middleware(CachingMiddleware, graph=lambda: runtime.snapshot()[0],
                       cached=api.CACHED + linked_data.CACHED + dumps.CACHED + pages.CACHED + sparql.CACHED,
                       encoded=dumps.CACHED, gzip_min=GZIP_MIN_BYTES, never=health.PROBES,
                       headers_304=cors_headers(), budget=settings.answer_store_mb * 1024 * 1024)
    install_limits(app, settings, unlimited=health.PROBES)
    install_sparql_limit(app, settings)
    # Outside the limits and the stored answers: each request's headers read once, its parameters and
    # body bounded (app/web/request_view.py, app/web/bodies.py).
    install_request_front(app, settings)
    install_observability(app, runtime.snapshot)
    install_error_handlers(app, html_error_page)
    app.mount("/static", StaticAssets(directory=STATIC_DIR), name="static")
    for module in (health, sparql, writes, curate, api, dumps, linked_data, pages):
        app.include_router(module.router)
    return app


app = create_app()
