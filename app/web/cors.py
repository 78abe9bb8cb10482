"""CORS for a public, read-mostly service: any origin, no credentials.

Every answer carries ``Access-Control-Allow-Origin: *`` and the exposed headers, whether or not
the request named an Origin: the same bytes for everyone, so shared caches need no ``Vary:
Origin``, and the headers are appended once per response rather than worked out per request.
Preflight requests (``OPTIONS`` with ``Access-Control-Request-Method``) are answered by
Starlette's CORS middleware with the same policy.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.request_view import view_of

METHODS = ("GET", "HEAD", "POST", "OPTIONS")
#: The response headers a cross-origin script may read.
EXPOSED = ("ETag", "Content-Location", "Content-Disposition", "Digest", "Repr-Digest", "Link", "X-Request-ID",
           "X-Result-Truncated", "X-Total-Count", "X-Graph-Version", "X-Release", "Retry-After")


def cors_headers(expose_headers: tuple[str, ...] = EXPOSED) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries (a 304 made outside this middleware too: app.web.caching)."""
    return [(b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", ", ".join(expose_headers).encode("latin-1"))]


class AnyOrigin:
    def __init__(self, app: ASGIApp, expose_headers: tuple[str, ...] = EXPOSED) -> None:
        self.app = app
        self.preflight = CORSMiddleware(app, allow_origins=["*"], allow_credentials=False, allow_methods=METHODS,
                                        allow_headers=["*"], expose_headers=expose_headers)
        self.headers = cors_headers(expose_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and view_of(scope).get("access-control-request-method") is not None:
            await self.preflight(scope, receive, send)
            return
        extra = self.headers

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
