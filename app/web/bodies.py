"""Request bodies: each counted as it arrives, chunked or not, against its route's cap (413).

The cap of a request (:func:`body_cap`) is ``KG_MAX_BODY_BYTES``, except for a query sent to
``POST /sparql``, whose body is the query: ``KG_MAX_QUERY_BYTES`` for ``application/sparql-query``
(and any other type, which the route refuses anyway), three times that plus 4096 bytes for a form
(a query percent-encoded whole, and the other parameters) — never more than ``KG_MAX_BODY_BYTES``.

A declared ``Content-Length`` over the cap is refused before the application runs. Every body is
then counted as its chunks arrive — with a ``Content-Length`` or without one (chunked) — and
reading stops with 413 as soon as the count passes the cap: a body is never buffered past it.
Rejections are rendered by ``app.errors`` like every other error (JSON under ``/api/``, text
elsewhere).
"""

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import PayloadTooLarge, RequestError, handle_request_error

FORM = "application/x-www-form-urlencoded"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body passes its cap.

    An ``HTTPException`` because FastAPI re-raises those from body parsing unchanged (any other
    exception there becomes a 400); :func:`install` maps it onto the usual 413 response.
    """

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(413, body_message(limit, setting))


def body_message(limit: int, setting: str = "KG_MAX_BODY_BYTES") -> str:
    return f"The request body is larger than the limit of {limit} bytes ({setting}); send less."


def body_cap(scope: Scope, media_type: str, settings: Settings) -> tuple[int, str]:
    """(the most bytes this request's body may have, the setting that says so)."""
    cap, setting = settings.max_body_bytes, "KG_MAX_BODY_BYTES"
    if scope["method"] == "POST" and scope["path"] == "/sparql":
        query = settings.max_query_bytes
        if media_type == FORM:
            query, name = 3 * query + 4096, "3 × KG_MAX_QUERY_BYTES + 4096, a form"
        else:
            name = "KG_MAX_QUERY_BYTES"
        if query < cap:
            cap, setting = query, name
    return cap, setting


async def counted(app: ASGIApp, scope: Scope, receive: Receive, send: Send, media_type: str, chunked: bool,
                  length: int | None, settings: Settings) -> None:
    """Run ``app`` with the request's body (``Content-Length`` ``length``, or ``chunked``) counted
    against its cap: 413 once it passes."""
    if length is None and not chunked:
        await app(scope, receive, send)  # no body
        return
    limit, setting = body_cap(scope, media_type, settings)
    if length is not None and length > limit:
        await reject(scope, receive, send, PayloadTooLarge(body_message(limit, setting)))
        return

    received = 0
    started = False

    async def counting_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit, setting)
        return message

    async def tracking_send(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, counting_receive, tracking_send)
    except BodyTooLarge as exc:
        # Raised where no exception handler saw it (e.g. in another middleware).
        if started:
            raise
        await reject(scope, receive, send, PayloadTooLarge(exc.detail))


async def reject(scope: Scope, receive: Receive, send: Send, error: RequestError) -> None:
    """Answer with ``error`` as ``app.errors`` renders it, without running the application."""
    response = await handle_request_error(Request(scope, receive), error)
    await response(scope, receive, send)


async def handle_body_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return await handle_request_error(request, PayloadTooLarge(exc.detail))


def install(app: FastAPI) -> None:
    app.add_exception_handler(BodyTooLarge, handle_body_too_large)
