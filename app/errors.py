"""The domain exceptions, and the one place they become HTTP responses.

    KGError
     ├── DataError              ontology/ or data/ cannot be read (syntax error, missing file)
     ├── ValidationFailed       the graph does not conform to the SHACL shapes
     └── RequestError           something about one request; carries its HTTP status
          ├── BadRequest        400 malformed query, parameter or body
          │    └── QueryRefused 400 SERVICE, LOAD, updates or other operations this endpoint never runs
          ├── NotFound          404 unknown id or IRI
          ├── NotAcceptable     406 no acceptable media type (names the supported ones)
          ├── PayloadTooLarge   413 query text over ``max_query_bytes``
          ├── UnsupportedMedia  415 wrong Content-Type
          ├── QueryTimeout      503 the query hit its deadline and was stopped
          ├── Overloaded        503 every query worker is busy (with Retry-After)
          └── StoreUnavailable  503 the external SPARQL store cannot be reached (with Retry-After)

``/sparql`` and the other RDF routes answer ``text/plain`` (as SPARQL servers do);
``/api/*`` answers JSON ``{"detail": "..."}``. Outside ``/api/`` and ``/sparql``, a client whose
Accept prefers HTML (a browser) gets an HTML error page instead, for these errors and for the
framework's own (unknown path 404, wrong method 405, invalid parameter 422); the choice is made by
``app.ld.negotiate`` over the one media-type table, JSON first (the default for ``*/*``).
"""

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

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


class NotFound(RequestError):
    status_code = 404


class NotAcceptable(RequestError):
    status_code = 406


class PayloadTooLarge(RequestError):
    status_code = 413


class UnsupportedMedia(RequestError):
    status_code = 415


class QueryTimeout(RequestError):
    status_code = 503


class Overloaded(RequestError):
    status_code = 503


class StoreUnavailable(RequestError):
    status_code = 503
    headers = {"Retry-After": "5"}


def _wants_json(request: "Request") -> bool:
    return request.url.path.startswith("/api/")


def _wants_html(request: "Request") -> bool:
    """Whether the client prefers HTML to JSON (a browser), on a path that has HTML pages."""
    from app.ld.formats import BY_NAME, Format
    from app.ld.negotiate import negotiate

    path = request.url.path
    if path.startswith("/api/") or path == "/sparql" or path.startswith("/static/"):
        return False
    offered = (Format("json", "application/json", "json", "api"), BY_NAME["html"])
    try:
        return negotiate(request.headers.get("accept"), offered) is offered[1]
    except NotAcceptable:
        return False


def _error_page(request: "Request", status_code: int, detail: str, headers: Mapping[str, str] | None) -> "Response":
    from app.templating import pick_lang, templates

    lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    guess = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return templates.TemplateResponse(
        request, "pages/error.html",
        {"lang": lang, "status": status_code, "detail": detail, "path": request.url.path, "guess": guess},
        status_code=status_code, headers={**(headers or {}), "Vary": "Accept"})


async def handle_request_error(request: "Request", exc: Exception) -> "Response":
    from fastapi.responses import JSONResponse, PlainTextResponse

    assert isinstance(exc, RequestError)
    headers = dict(exc.headers)
    if _wants_json(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    if _wants_html(request):
        return _error_page(request, exc.status_code, exc.detail, headers)
    return PlainTextResponse(exc.detail + "\n", status_code=exc.status_code, headers=headers)


async def handle_http_error(request: "Request", exc: Exception) -> "Response":
    """The framework's own errors (no such path, method not allowed): an HTML page for browsers."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException

    assert isinstance(exc, HTTPException)
    if _wants_html(request) and exc.status_code >= 400:
        return _error_page(request, exc.status_code, str(exc.detail), exc.headers)
    return await http_exception_handler(request, exc)


async def handle_validation_error(request: "Request", exc: Exception) -> "Response":
    """Invalid parameters (422): FastAPI's JSON list, or an HTML page for browsers."""
    from fastapi.exception_handlers import request_validation_exception_handler
    from fastapi.exceptions import RequestValidationError

    assert isinstance(exc, RequestValidationError)
    if _wants_html(request):
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error_page(request, 422, detail, None)
    return await request_validation_exception_handler(request, exc)


def install_error_handlers(app: "FastAPI") -> None:
    """Map the domain exceptions onto responses (the only place this happens)."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    app.add_exception_handler(RequestError, handle_request_error)
    app.add_exception_handler(HTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
