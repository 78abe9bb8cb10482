"""The domain exceptions, and the one place they become HTTP responses.

    KGError
     ├── DataError              ontology/ or data/ cannot be read (syntax error, missing file)
     ├── ValidationFailed       the graph does not conform to the SHACL shapes
     └── RequestError           something about one request; carries its HTTP status
          ├── BadRequest        400 malformed query, parameter or body
          │    └── QueryRefused 400 SERVICE, LOAD, updates or other operations this endpoint never runs
          ├── Unauthorized      401 a write without a bearer token (with WWW-Authenticate)
          ├── Forbidden         403 writes are off, or the token is wrong
          │    └── ReadOnlyGraph 403 a write to the ontology, meta or inferred graph
          ├── NotFound          404 unknown id or IRI
          ├── NotAcceptable     406 no acceptable media type (names the supported ones)
          ├── PayloadTooLarge   413 query text over ``max_query_bytes``, body over ``max_body_bytes``
          ├── UnsupportedMedia  415 wrong Content-Type
          ├── WriteRejected     422 the write would make the graph non-conforming (carries the SHACL report)
          ├── TooManyRequests   429 over the client's rate limit (with Retry-After)
          ├── QueryTimeout      503 the query hit its deadline and was stopped
          ├── MemoryLimit       503 the query needed more memory than ``query_memory_mb``
          ├── EngineFailure     500 the engine failed on the query (logged; no internals in the answer)
          ├── Overloaded        503 every query worker is busy (with Retry-After)
          ├── StoreUnavailable  503 the external SPARQL store cannot be reached (with Retry-After)
          └── BadGateway        502 the external store's answer broke off or is not valid

``/sparql`` and the other RDF routes answer ``text/plain`` (as SPARQL servers do);
``/api/*`` answers JSON ``{"detail": "..."}``. Elsewhere a client that prefers HTML (a browser) gets
an HTML error page, for these errors and for the framework's own (unknown path 404, wrong method 405,
invalid parameter 422): the page is drawn by the web floor (``app.web.error_pages``), handed in to
:func:`install_error_handlers`. A WriteRejected is answered by the write routes
themselves (the report as JSON or RDF, by Accept). A streamed body that passes the limit is
stopped inside the ASGI receive channel (``app.web.limits.BodyTooLarge``, a carrier that FastAPI
lets through) and answered as PayloadTooLarge.
"""

import logging
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the query worker processes import this module: keep it free of FastAPI
    from fastapi import FastAPI, Request
    from fastapi.responses import Response

logger = logging.getLogger(__name__)


class KGError(Exception):
    """Base of every error this package raises on purpose."""


class DataError(KGError):
    """The ontology or data files cannot be read."""


class ValidationFailed(KGError):
    """The graph does not conform to the shapes; ``report`` is the pySHACL text report."""

    def __init__(self, report: str) -> None:
        super().__init__(f"the graph does not conform to the SHACL shapes; refusing to serve it.\n{report}")
        self.report = report


class RequestError(KGError):
    status_code = 400
    headers: dict[str, str] = {}

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if headers:
            self.headers = headers


class BadRequest(RequestError):
    status_code = 400


class QueryRefused(BadRequest):
    """A query this read-only endpoint never runs (SERVICE, LOAD, updates)."""


class Unauthorized(RequestError):
    status_code = 401
    headers = {"WWW-Authenticate": 'Bearer realm="bjrd-kg"'}


class Forbidden(RequestError):
    status_code = 403


class ReadOnlyGraph(Forbidden):
    """A write to a graph writers may not change (the ontology, meta or inferred graph)."""

    status_code = 403


class NotFound(RequestError):
    status_code = 404


class NotAcceptable(RequestError):
    status_code = 406


class PayloadTooLarge(RequestError):
    status_code = 413


class UnsupportedMedia(RequestError):
    status_code = 415


class WriteRejected(RequestError):
    """The change would make the graph non-conforming; ``report`` (app.build.validate.Report) says why."""

    status_code = 422

    def __init__(self, report: Any) -> None:
        super().__init__("the change does not conform to the SHACL shapes; nothing was written")
        self.report = report


class TooManyRequests(RequestError):
    """The client sent more requests than its rate limit allows (with Retry-After)."""

    status_code = 429


class QueryTimeout(RequestError):
    status_code = 503


class MemoryLimit(RequestError):
    status_code = 503


class EngineFailure(RequestError):
    status_code = 500


class Overloaded(RequestError):
    status_code = 503


class StoreUnavailable(RequestError):
    status_code = 503
    headers = {"Retry-After": "5"}


class BadGateway(RequestError):
    status_code = 502


#: Errors under this path are JSON ``{"detail": ...}``; everywhere else ``text/plain``.
JSON_PATHS = "/api/"


def wants_json(path: str) -> bool:
    return path.startswith(JSON_PATHS)


async def handle_request_error(request: "Request", exc: Exception) -> "Response":
    """JSON ``{"detail": ...}`` under /api/, plain text elsewhere (what the ASGI limits answer with)."""
    from fastapi.responses import JSONResponse, PlainTextResponse

    assert isinstance(exc, RequestError)
    headers = dict(exc.headers)
    if wants_json(request.url.path):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    return PlainTextResponse(exc.detail + "\n", status_code=exc.status_code, headers=headers)


#: The longest part of a refused input echoed back in a 422 (the framework echoes it whole).
ECHO_CHARS = 200


def _echo_value(value: object) -> object:
    """``value`` as JSON can carry it, cut to :data:`ECHO_CHARS`: NaN and infinities (which strict JSON
    cannot write: the framework's own handler answered 500 for them), nested bodies and long strings
    become a short text."""
    if value is None or isinstance(value, bool | int) and abs(int(value)) < 10**15:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…"


def _echo_safe(error: Mapping[str, Any]) -> dict[str, Any]:
    """One validation error of the framework with its ``input`` and ``ctx`` made safe to echo."""
    safe = {k: v for k, v in error.items() if k not in ("input", "ctx", "url")}
    safe["loc"] = [part if isinstance(part, int) else str(part)[:ECHO_CHARS] for part in error.get("loc", ())]
    safe["msg"] = str(error.get("msg", ""))[:1000]
    if "input" in error:
        safe["input"] = _echo_value(error["input"])
    if "ctx" in error:
        safe["ctx"] = {str(k): _echo_value(v) for k, v in dict(error["ctx"]).items()}
    return safe


#: Draws an HTML error page for a client that wants one, or answers None (then JSON or text follows).
HtmlErrorPage = Callable[["Request", int, str, Mapping[str, str] | None], "Response | None"]


def install_error_handlers(app: "FastAPI", html_page: HtmlErrorPage | None = None) -> None:
    """Map the domain exceptions, and the framework's own HTTP and validation errors, onto responses
    (the only place this happens): JSON under /api/, an HTML page for browsers where ``html_page``
    draws one, plain text otherwise."""
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    def page(request: "Request", status: int, detail: str, headers: Mapping[str, str] | None) -> "Response | None":
        if html_page is None or status < 400 or wants_json(request.url.path):
            return None
        return html_page(request, status, detail, headers)

    async def on_request_error(request: "Request", exc: Exception) -> "Response":
        assert isinstance(exc, RequestError)
        drawn = page(request, exc.status_code, exc.detail, dict(exc.headers))
        return drawn if drawn is not None else await handle_request_error(request, exc)

    async def on_http_error(request: "Request", exc: Exception) -> "Response":
        assert isinstance(exc, HTTPException)
        drawn = page(request, exc.status_code, str(exc.detail), exc.headers)
        return drawn if drawn is not None else await http_exception_handler(request, exc)

    async def on_validation_error(request: "Request", exc: Exception) -> "Response":
        assert isinstance(exc, RequestValidationError)
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        drawn = page(request, 422, detail, None)
        if drawn is not None:
            return drawn
        from fastapi.responses import JSONResponse
        return JSONResponse({"detail": [_echo_safe(e) for e in exc.errors()]}, status_code=422)

    app.add_exception_handler(RequestError, on_request_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
