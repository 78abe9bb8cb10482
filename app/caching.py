"""ETag, Cache-Control and 304 for every read route that answers from the graph.

The graph is read-only once loaded, so a representation is a pure function of the graph's
content hash, the URL and the negotiation headers. The ETag is a hash of exactly those, so
``If-None-Match`` can be answered with 304 before any work is done.
"""

import hashlib

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHED_PREFIXES = ("/api/", "/id/", "/export", "/void", "/.well-known/void", "/ontology", "/shapes",
                   "/context.jsonld", "/query", "/explore", "/search", "/compare")
CACHE_CONTROL = "public, max-age=300"


def is_cached(path: str) -> bool:
    return path == "/" or path.startswith(CACHED_PREFIXES)


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
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not is_cached(scope["path"]):
            await self.app(scope, receive, send)
            return
        graph = getattr(scope["app"].state, "graph", None)
        if graph is None:
            await self.app(scope, receive, send)
            return
        etag = etag_for(graph.version, scope)
        inm = Headers(scope=scope).get("if-none-match")
        if inm and matches(inm, etag):
            await send({"type": "http.response.start", "status": 304,
                        "headers": [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode()),
                                    (b"vary", b"Accept, Accept-Language, Accept-Encoding")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_etag(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in (b"etag", b"cache-control")]
                headers += [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_etag)
