"""ETag, Cache-Control, 304 and stored answers for every read route that answers from the graph.

The graph is read-only once loaded, so a representation is a pure function of the graph's
version, the URL (with its host and scheme) and the negotiation headers. Which paths are such
is said by the routers that serve them (``CACHED`` in each; gathered in app/main.py); of those,
the ones that pick their own content-coding (``ENCODED``: the gzipped dumps) only get the ETag.

Every other cached path is **stored**: the first ``GET`` of a URL in a graph version runs the
application, and its ``200`` is kept, encoded once — the body, its ETag and, for a body of
``gzip_min`` bytes or more, its br or gzip bytes (made at the first request that accepts them) — in
that version's memo (bounded in bytes), so a write drops them with the graph. Later requests are
answered from there without running the application: no routing, no validation, no encoding. An
answer longer than ``MAX_STORED_BODY`` is not stored, and is sent uncompressed (page such lists).
The ETag names the representation (URL, Accept, Accept-Language and content-coding), so
``If-None-Match`` gets 304 before any work. Those fields are read from the request's one view
(app/web/request_view.py): repeated lines combined as the route reads them, so a request cannot
be stored under a key that another request, negotiated differently, then finds. With
``KG_ANSWER_STORE_MB=0`` nothing is kept: every answer is made as above, and dropped.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.build.graph import KnowledgeGraph
from app.rdf.codings import encode, pick_coding
from app.web.request_view import scope_without, view_of

CACHE_CONTROL = b"public, max-age=300"
VARY_304 = b"Accept, Accept-Language, Accept-Encoding"
#: Bytes of stored answers per graph version, and the longest body stored (longer ones stream by).
STORE_BYTES = 64 * 1024 * 1024
MAX_STORED_BODY = 4 * 1024 * 1024
#: Response headers this middleware sets itself (the application's are dropped).
OWN = frozenset({b"etag", b"cache-control", b"content-length", b"vary"})
#: An answer with one of these headers is sent on, never stored.
UNSTORED = frozenset({b"content-encoding", b"set-cookie"})


def etag_for(version: str, *parts: str) -> str:
    key = "\n".join((version, *parts))
    return '"' + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + '"'


def matches(if_none_match: str, etag: str) -> bool:
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


@dataclass(frozen=True)
class Request:
    """What a stored answer depends on, read from the headers once."""

    key: tuple[str, ...]  # scheme, path, query, Accept, Accept-Language (never Host: no answer reads it)
    accept_encoding: str
    if_none_match: str

    @classmethod
    def of(cls, scope: Scope) -> "Request":
        """From the request's one view (app/web/request_view.py): the fields the route negotiates on."""
        view = view_of(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        key = (scope.get("scheme", "http"), scope["path"], query, view.accept or "", view.accept_language or "")
        return cls(key, view.accept_encoding or "", view.if_none_match or "")


@dataclass(frozen=True)
class Variant:
    """One encoding of a stored answer: its ETag, the headers of its 200 and its body."""

    etag: str
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(eq=False)
class Stored:
    """A stored answer: its identity encoding, and its br or gzip ones, each made (once) when first asked for."""

    identity: Variant
    route: Any  # the route that answered (for the metrics of answers served from here)
    compressible: bool  # long enough for compression to be worth it
    encoded: dict[str, Variant] = field(default_factory=dict)
    key_bytes: int = 0  # its key's length (the URL and two header fields, up to 64 KiB): counted too

    @property
    def size(self) -> int:
        # Counted with room for the encoded bodies, which are never longer than the body in practice.
        return len(self.identity.body) * (3 if self.compressible else 1) + self.key_bytes

    def variant(self, accept_encoding: str) -> Variant:
        coding = pick_coding(accept_encoding) if self.compressible and accept_encoding else None
        if coding is None:
            return self.identity
        found = self.encoded.get(coding)
        if found is None:
            identity = self.identity
            body = encode(identity.body, coding)
            etag = identity.etag[:-1] + f'-{coding}"'
            headers = [(k, v) for k, v in identity.headers if k not in (b"content-length", b"etag")]
            found = Variant(etag, [*headers, (b"content-encoding", coding.encode()),
                                   (b"content-length", str(len(body)).encode()), (b"etag", etag.encode())], body)
            self.encoded[coding] = found
        return found


def store(version: str, request: Request, headers: list[tuple[bytes, bytes]], body: bytes, route: Any,
          gzip_min: int) -> Stored:
    """Encode an answer once: its ETag and headers (the gzipped body follows when a client asks)."""
    base = [(k, v) for k, v in headers if k.lower() not in OWN]
    etag = etag_for(version, *request.key)
    compressible = len(body) >= gzip_min
    vary = b"Accept, Accept-Language" + (b", Accept-Encoding" if compressible else b"")
    identity = Variant(etag, [*base, (b"vary", vary), (b"cache-control", CACHE_CONTROL),
                              (b"content-length", str(len(body)).encode()), (b"etag", etag.encode())], body)
    return Stored(identity, route, compressible)


class StoredAnswers:
    """The stored answers of one graph version, least recently used dropped first past ``budget`` bytes."""

    def __init__(self, budget: int = STORE_BYTES) -> None:
        self.budget = budget
        self.size = 0
        self.entries: OrderedDict[tuple[str, ...], Stored] = OrderedDict()

    def get(self, key: tuple[str, ...]) -> Stored | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, ...], entry: Stored) -> None:
        entry.key_bytes = sum(map(len, key))
        old = self.entries.pop(key, None)
        self.size += entry.size - (old.size if old else 0)
        self.entries[key] = entry
        while self.size > self.budget and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.size -= dropped.size


async def send_variant(send: Send, variant: Variant, head: bool) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": variant.headers})
    await send({"type": "http.response.body", "body": b"" if head else variant.body})


async def send_304(send: Send, etag: str, more: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 304,
                "headers": [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL), (b"vary", VARY_304), *more]})
    await send({"type": "http.response.body", "body": b""})


def _prefixed(paths: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    return (frozenset(p for p in paths if not p.endswith("*")),
            tuple(p.removesuffix("*") for p in paths if p.endswith("*")))


class CachingMiddleware:
    """``graph()`` is the graph served now (None while starting: nothing cached then); ``cached`` the
    paths answered from the graph alone and ``encoded`` those of them that choose their own
    content-coding: exact paths, or prefixes ending in ``*``; ``never`` the paths that must always
    be answered afresh (the probes: ``/ready`` starts like ``/read``); ``headers_304`` the headers
    the 304s made here carry besides the ETag's (those the application's own middleware add to every
    answer: CORS)."""

    def __init__(self, app: ASGIApp, graph: Callable[[], KnowledgeGraph | None], cached: tuple[str, ...],
                 encoded: tuple[str, ...] = (), gzip_min: int = 1024, never: frozenset[str] = frozenset(),
                 headers_304: list[tuple[bytes, bytes]] | None = None, budget: int = STORE_BYTES) -> None:
        self.app = app
        self.budget = budget
        self.headers_304 = headers_304 or []
        self.never = never
        self.graph = graph
        self.exact, self.prefixes = _prefixed(cached)
        self.encoded_exact, self.encoded_prefixes = _prefixed(encoded)
        self.gzip_min = gzip_min

    def is_cached(self, path: str) -> bool:
        return path not in self.never and (path in self.exact or path.startswith(self.prefixes))

    def is_encoded(self, path: str) -> bool:
        return path in self.encoded_exact or path.startswith(self.encoded_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not self.is_cached(scope["path"]):
            await self.app(scope, receive, send)
            return
        graph = self.graph()
        if graph is None:
            await self.app(scope, receive, send)
            return
        request = Request.of(scope)
        if self.is_encoded(scope["path"]):
            await self.etag_only(graph.version, request, scope, receive, send)
            return
        answers: StoredAnswers = graph.memo.get(("stored-answers",), lambda: StoredAnswers(self.budget))
        entry = answers.get(request.key)
        if entry is None:
            entry = await self.fill(graph.version, request, scope, receive, send)
            if entry is None:
                return  # not storable: it went to the client as it came
            answers.put(request.key, entry)
        scope["route"] = entry.route
        variant = entry.variant(request.accept_encoding)
        if request.if_none_match and matches(request.if_none_match, variant.etag):
            await send_304(send, variant.etag, self.headers_304)
            return
        await send_variant(send, variant, head=scope["method"] == "HEAD")

    async def fill(self, version: str, request: Request, scope: Scope, receive: Receive, send: Send) -> Stored | None:
        """Run the application for a stored path and keep its 200; anything else goes straight to the client.

        The application sees a GET without Accept-Encoding: the gzipped variant is made here, once."""
        head = scope["method"] == "HEAD"
        inner = {**scope_without(scope, "accept-encoding"), "method": "GET"}
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False
        etag = etag_for(version, *request.key).encode()

        async def capture(message: Message) -> None:
            nonlocal start, size, passing
            if passing:
                await send({**message, "body": b""} if head and message["type"] == "http.response.body" else message)
                return
            if message["type"] == "http.response.start":
                start = message
                headers = message.get("headers", [])
                if message["status"] != 200 or any(k.lower() in UNSTORED for k, _ in headers):
                    passing = True
                    await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_STORED_BODY and message.get("more_body", False):
                # Too long to keep: send it on as it comes, with the ETag of its URL.
                passing = True
                assert start is not None
                await send(with_etag(start, etag))
                await send({"type": "http.response.body", "body": b"" if head else b"".join(chunks), "more_body": True})

        await self.app(inner, receive, capture)
        scope.update({k: v for k, v in inner.items() if k == "route"})
        if passing or start is None:
            return None
        body = b"".join(chunks)
        if len(body) > MAX_STORED_BODY:
            # Too long to keep (storing it would push out every other answer, then itself): sent as it
            # is, uncompressed — compressing tens of megabytes for each request would cost a second
            # of CPU each — with the ETag of its URL.
            if request.if_none_match and matches(request.if_none_match, etag.decode()):
                await send_304(send, etag.decode(), self.headers_304)
            else:
                await send(with_etag(start, etag))
                await send({"type": "http.response.body", "body": b"" if head else body})
            return None
        return store(version, request, start.get("headers", []), body, inner.get("route"), self.gzip_min)

    async def etag_only(self, version: str, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
        """The ETag of the URL and its content-coding, 304 on a match; the application answers the rest."""
        etag = etag_for(version, *request.key, request.accept_encoding)
        if request.if_none_match and matches(request.if_none_match, etag):
            await send_304(send, etag, self.headers_304)
            return
        encoded = etag.encode()

        async def send_with_etag(message: Message) -> None:
            await send(with_etag(message, encoded))

        await self.app(scope, receive, send_with_etag)


def with_etag(message: Message, etag: bytes) -> Message:
    """A 200's start message with this ETag and Cache-Control (the application's own ones dropped)."""
    if message["type"] != "http.response.start" or message["status"] != 200:
        return message
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in (b"etag", b"cache-control")]
    return {**message, "headers": [*headers, (b"etag", etag), (b"cache-control", CACHE_CONTROL)]}
