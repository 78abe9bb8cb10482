"""Compression of every answer: Brotli (``br``) when the optional ``brotli`` package is installed
and the client accepts it, else gzip, for bodies of at least ``minimum_size`` bytes.

Starlette's GZipMiddleware with the coding chosen by Accept-Encoding q-values
(:func:`app.rdf.codings.pick_coding`); answers that are already encoded (the dumps under
``/export``) pass through unchanged, as do images and fonts.
"""

from typing import Any

from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

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
        await responder(scope, receive, send)
