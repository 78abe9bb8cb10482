"""The domain exceptions, and the one place they become HTTP responses.

    KGError
     ├── DataError              ontology/ or data/ cannot be read (syntax error, missing file)
     ├── ValidationFailed       the graph does not conform to the SHACL shapes
     └── RequestError           something about one request; carries its HTTP status
          ├── BadRequest        400 malformed query, parameter or body
          │    └── QueryRefused 400 SERVICE, LOAD, updates or other operations this endpoint never runs
          ├── ReadOnlyGraph     403 a write to the ontology, meta or inferred graph
          ├── NotFound          404 unknown id or IRI
          ├── NotAcceptable     406 no acceptable media type (names the supported ones)
          ├── PayloadTooLarge   413 query text over ``max_query_bytes``
          ├── UnsupportedMedia  415 wrong Content-Type
          ├── QueryTimeout      503 the query hit its deadline and was stopped
          ├── MemoryLimit       503 the query needed more memory than ``query_memory_mb``
          ├── EngineFailure     500 the engine failed on the query (logged; no internals in the answer)
          ├── Overloaded        503 every query worker is busy (with Retry-After)
          └── StoreUnavailable  503 the external SPARQL store cannot be reached (with Retry-After)

``/sparql`` and the other RDF routes answer ``text/plain`` (as SPARQL servers do);
``/api/*`` answers JSON ``{"detail": "..."}``.
"""

import logging
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


class ReadOnlyGraph(RequestError):
    status_code = 403


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


class MemoryLimit(RequestError):
    status_code = 503


class EngineFailure(RequestError):
    status_code = 500


class Overloaded(RequestError):
    status_code = 503


class StoreUnavailable(RequestError):
    status_code = 503
    headers = {"Retry-After": "5"}


def _wants_json(request: "Request") -> bool:
    return request.url.path.startswith("/api/")


async def handle_request_error(request: "Request", exc: Exception) -> "Response":
    from fastapi.responses import JSONResponse, PlainTextResponse

    assert isinstance(exc, RequestError)
    headers = dict(exc.headers)
    if _wants_json(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    return PlainTextResponse(exc.detail + "\n", status_code=exc.status_code, headers=headers)


def install_error_handlers(app: "FastAPI") -> None:
    """Map the domain exceptions onto responses (the only place this happens)."""
    app.add_exception_handler(RequestError, handle_request_error)
