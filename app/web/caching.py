"""ETag, Cache-Control and 304 for every read route that answers from the graph.

The graph is read-only once loaded, so a representation is a pure function of the graph's
content hash, the URL and the negotiation headers. The ETag is a hash of exactly those, so
``If-None-Match`` can be answered with 304 before any work is done. Which paths are cached is
said by the routers that serve them (``CACHED`` in each; gathered in app/main.py).
"""

import hashlib
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHE_CONTROL = "public, max-age=300"


def etag_for(version: str, scope: Scope) -> str:
    headers = Headers(scope=scope)
    key = "\n".join(
        (version, scope["path"], scope.get("query_string", b"").decode("latin-1"),
         headers.get("accept", ""), headers.get("accept-language", ""), headers.get("accept-encoding", ""))
    )
    return '"' + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + '"'


def matches(if_none_match: str, etag: str) -> bool:
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


class ETagMiddleware:
    """``version()`` is the version of the graph served now (None while starting: no ETags then);
    ``cached`` the paths answered from the graph alone: exact paths, or prefixes ending in ``*``."""

    def __init__(self, app: ASGIApp, version: Callable[[], str | None], cached: tuple[str, ...]) -> None:
        self.app = app
        self.version = version
        self.exact = frozenset(p for p in cached if not p.endswith("*"))
        self.prefixes = tuple(p.removesuffix("*") for p in cached if p.endswith("*"))

    def is_cached(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not self.is_cached(scope["path"]):
            await self.app(scope, receive, send)
            return
        version = self.version()
        if version is None:
            await self.app(scope, receive, send)
            return
        etag = etag_for(version, scope)
        inm = Headers(scope=scope).get("if-none-match")
        if inm and matches(inm, etag):
            await send({"type": "http.response.start", "status": 304,
                        "headers": [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode()),
                                    (b"vary", b"Accept, Accept-Language, Accept-Encoding")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_etag(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"etag", b"cache-control")]
                headers += [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_etag)
