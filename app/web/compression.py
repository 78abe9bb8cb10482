"""Compression of every answer: Brotli (``br``) when the optional ``brotli`` package is installed
and the client accepts it, else gzip, for bodies of at least ``minimum_size`` bytes.

Starlette's GZipMiddleware with the coding chosen by Accept-Encoding q-values
(:func:`app.rdf.codings.pick_coding`); answers that are already encoded (the dumps under
``/export``) pass through unchanged, as do images and fonts. Starlette's responders add
``Accept-Encoding`` to ``Vary`` even when the route named it already: the answer leaves with one
``Vary`` line naming each header once.
"""

from typing import Any

from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.rdf.codings import brotli, pick_coding
from app.web.request_view import view_of


class BrotliResponder(IdentityResponder):
    content_encoding = "br"

    def __init__(self, app: ASGIApp, minimum_size: int, quality: int = 5) -> None:
        super().__init__(app, minimum_size)
        self.quality = quality
        self._compressor: Any = None

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        assert brotli is not None
        if self._compressor is None:
            if not more_body:  # the whole body at once (most answers)
                compressed: bytes = brotli.compress(body, quality=self.quality)
                return compressed
            self._compressor = brotli.Compressor(quality=self.quality)
        out: bytes = self._compressor.process(body)
        out += self._compressor.flush() if more_body else self._compressor.finish()
        return out


def one_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with their ``Vary`` lines as one, each header name once (first spelling, in order)."""
    varies = [v for k, v in headers if k.lower() == b"vary"]
    if not varies:
        return headers
    names: dict[bytes, bytes] = {}
    for value in varies:
        for name in value.split(b","):
            if name := name.strip():
                names.setdefault(name.lower(), name)
    joined = b", ".join(names.values())
    if len(varies) == 1 and varies[0] == joined:
        return headers
    return [(k, v) for k, v in headers if k.lower() != b"vary"] + [(b"vary", joined)]


class CompressionMiddleware:
    """br or gzip (or nothing), by the client's Accept-Encoding and what this process can produce."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = pick_coding(view_of(scope).accept_encoding)  # the request's one reading of it
        responder: ASGIApp
        if coding == "br":
            responder = BrotliResponder(self.app, self.minimum_size)
        elif coding == "gzip":
            responder = GZipResponder(self.app, self.minimum_size, compresslevel=6)
        else:
            responder = IdentityResponder(self.app, self.minimum_size)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": one_vary(list(message.get("headers") or []))}
            await send(message)

        await responder(scope, receive, sending)
