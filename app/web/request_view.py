"""One reading of each request: its header fields, read once into one normalised view.

Every layer that reads a request header — the stored answers' key (app/web/caching.py), content
negotiation, ``Accept-Language`` selection, compression, the routes, the write token — reads this
view, so no two of them can read a request differently. :class:`RequestFront` builds it, outside
every other layer but the observability one, and keeps it in the ASGI scope (``scope[VIEW]``). It
also writes the normalised fields back into ``scope["headers"]``, one line per name, so that what
the framework reads for itself (FastAPI's ``Header()`` parameters, Starlette's ``request.headers``)
is the same view too.

How the header lines become fields (RFC 9110 §5.2, §5.3):

* names are case-insensitive (compared lower-cased);
* a field repeated on several lines is one list, the values joined by ``", "`` in the order they
  came (empty values dropped: empty list elements mean nothing); ``Cookie`` lines are joined by
  ``"; "`` (RFC 6265 §5.4);
* a field that is not a list (:data:`SINGLETONS`: ``Host``, ``Content-Length``, ``Content-Type``,
  ``Authorization``, …) given twice is refused with 400 naming it: two readings of it could differ;
* more than :data:`MAX_HEADER_LINES` lines, or :data:`MAX_HEADER_BYTES` bytes: 431 naming the cap;
* ``Host`` is never read: :class:`RequestFront` replaces it by ``KG_PUBLIC_URL``'s authority, or drops
  it when that is unset (then the framework names the address it listens on), so that a redirect's
  ``Location`` (the trailing-slash 307) is built from the public URL, never from the client's word.

The parameters of the URL are bounded here too, before anything parses them: more than
:data:`MAX_PARAMS` is 400, a query string longer than :func:`max_query_string` bytes is 414, each
naming its cap. Form bodies are parsed by :func:`parse_params` under the same cap on their number.
The body itself is counted by :mod:`app.web.bodies`, called from here.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import BadRequest, RequestError
from app.web import bodies

#: The scope key the view is kept under.
VIEW = "kg.request_view"
#: Header lines one request may carry (browsers send about 15; 431 above), and their bytes (h11's limit).
MAX_HEADER_LINES = 100
MAX_HEADER_BYTES = 64 * 1024
#: Parameters one query string or form body may carry (400 above).
MAX_PARAMS = 1000
#: Fields that are not lists: given twice, the request is refused (400).
SINGLETONS = frozenset({"host", "content-length", "content-type", "authorization", "proxy-authorization",
                        "x-request-id", "if-modified-since", "if-unmodified-since", "origin", "max-forwards"})


class HeaderFieldsTooLarge(RequestError):
    status_code = 431


class UriTooLong(RequestError):
    status_code = 414


class RequestView:
    """The header fields of one request: lower-cased name -> the one value (repeated lines combined)."""

    __slots__ = ("fields", "as_read")

    def __init__(self, fields: Mapping[str, str], as_read: bool = False) -> None:
        self.fields = fields if isinstance(fields, dict) else dict(fields)
        #: Whether the header lines it was read from were already one per name, as :meth:`raw` writes them.
        self.as_read = as_read

    @classmethod
    def read(cls, raw: list[tuple[bytes, bytes]]) -> "RequestView":
        """The view of the header lines ``raw`` (the ASGI ``headers``); raises 400 or 431 as above."""
        if len(raw) > MAX_HEADER_LINES:
            raise HeaderFieldsTooLarge(f"The request has {len(raw)} header lines; the limit is {MAX_HEADER_LINES}.")
        fields: dict[str, str] = {}
        size = 0
        as_read = True
        for name_bytes, value_bytes in raw:
            size += len(name_bytes) + len(value_bytes)
            name = name_bytes.decode("latin-1")
            value = value_bytes.decode("latin-1")
            if not name.islower():
                name, as_read = name.lower(), False
            if value[:1] in (" ", "\t") or value[-1:] in (" ", "\t"):
                value, as_read = value.strip(" \t"), False
            if name not in fields:
                fields[name] = value
                continue
            as_read = False
            if name in SINGLETONS:
                raise BadRequest(f"The header {name} is given more than once; send it once.")
            if value:
                before = fields[name]
                joiner = "; " if name == "cookie" else ", "
                fields[name] = before + joiner + value if before else value
        if size > MAX_HEADER_BYTES:
            raise HeaderFieldsTooLarge(
                f"The request's header fields are {size} bytes; the limit is {MAX_HEADER_BYTES}.")
        return cls(fields, as_read)

    def get(self, name: str) -> str | None:
        """The field ``name`` (lower case), or None when the request does not carry it."""
        return self.fields.get(name)

    @property
    def accept(self) -> str | None:
        return self.fields.get("accept")

    @property
    def accept_language(self) -> str | None:
        return self.fields.get("accept-language")

    @property
    def accept_encoding(self) -> str | None:
        return self.fields.get("accept-encoding")

    @property
    def if_none_match(self) -> str | None:
        return self.fields.get("if-none-match")

    @property
    def media_type(self) -> str:
        """The Content-Type's media type, lower-cased, without parameters ('' when absent)."""
        return self.fields.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def content_length(self) -> int | None:
        value = self.fields.get("content-length")
        if value is None:
            return None
        if not value.isdigit() or not value.isascii():
            raise BadRequest(f"The Content-Length {value[:40]!r} is not a number of bytes.")
        return int(value)

    @property
    def chunked(self) -> bool:
        return "transfer-encoding" in self.fields

    @property
    def bearer(self) -> str | None:
        """The token of ``Authorization: Bearer <token>`` (the scheme in any case, RFC 9110 §11.1),
        None without one."""
        scheme, _, token = self.fields.get("authorization", "").partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None

    def without(self, name: str) -> "RequestView":
        return RequestView({k: v for k, v in self.fields.items() if k != name})

    def raw(self) -> list[tuple[bytes, bytes]]:
        """The fields as ASGI header lines, one per name."""
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.fields.items()]


def normalise(scope: Scope, public_url: str | None | bool = False) -> RequestView:
    """Read the scope's headers once: the view, kept in the scope, and ``scope["headers"]`` rewritten to it.

    With ``public_url`` (``KG_PUBLIC_URL``, or None when unset), the Host header is replaced by the
    public URL's authority (and the scheme by its scheme), or dropped, so that every URL the framework
    builds from the request (the trailing-slash redirect's ``Location``) is the public URL, or the
    address the service listens on (the ASGI ``server``) — never what the client wrote."""
    raw = scope["headers"]
    view = RequestView.read(raw)
    scope[VIEW] = view
    if not view.as_read:
        raw = scope["headers"] = view.raw()  # else the lines are the view already (nothing to copy)
    if public_url is not False:
        host = None
        if isinstance(public_url, str):
            scheme, _, rest = public_url.partition("://")
            host = rest.split("/", 1)[0]
            scope["scheme"] = scheme
        if view.fields.get("host") != host:
            view.fields.pop("host", None)
            lines = [line for line in raw if line[0] != b"host"]
            if host is not None:
                view.fields["host"] = host
                lines.append((b"host", host.encode("latin-1")))
            scope["headers"] = lines
    return view


def view_of(where: Request | Scope) -> RequestView:
    """The request's view (read now, and kept, for a scope :class:`RequestFront` has not seen)."""
    scope: Any = where.scope if isinstance(where, Request) else where
    view = scope.get(VIEW)
    return view if view is not None else normalise(scope)


def scope_without(scope: Scope, name: str) -> Scope:
    """A copy of ``scope`` whose request lacks the header ``name`` (view and header lines alike)."""
    view = view_of(scope).without(name)
    return {**scope, VIEW: view, "headers": view.raw()}


def max_query_string(settings: Settings) -> int:
    """The longest query string: a query of ``KG_MAX_QUERY_BYTES`` percent-encoded, with room for the rest."""
    return 3 * settings.max_query_bytes + 4096


def check_query_string(scope: Scope, settings: Settings) -> None:
    query = scope.get("query_string", b"")
    limit = max_query_string(settings)
    if len(query) > limit:
        raise UriTooLong(f"The URL's query string is {len(query)} bytes; the limit is {limit} "
                         "(3 × KG_MAX_QUERY_BYTES + 4096). Send a long query by POST.")
    count_params(query, "URL query string")


def count_params(raw: bytes, where: str) -> None:
    """400 when ``raw`` (a query string or form body) holds more than MAX_PARAMS parameters."""
    if raw.count(b"&") >= MAX_PARAMS:
        raise BadRequest(f"The {where} has more than {MAX_PARAMS} parameters (the limit); send fewer.")


def parse_params(raw: bytes, where: str) -> list[tuple[str, str]]:
    """Form-encoded parameters, in order, repeated ones kept; strict UTF-8 (400), at most MAX_PARAMS (400)."""
    count_params(raw, where)
    try:
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict",
                         max_num_fields=MAX_PARAMS)
    except UnicodeDecodeError:
        raise BadRequest(f"The {where} is not valid UTF-8 once percent-decoded.") from None


class RequestFront:
    """Reads each request once (the view above, the URL's parameters bounded) and counts its body
    against its route's cap (:mod:`app.web.bodies`) before any other layer sees it."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            view = normalise(scope, self.settings.public_url)
            check_query_string(scope, self.settings)
            length = view.content_length
            if length is not None and view.chunked:
                raise BadRequest("The request has both Content-Length and Transfer-Encoding; send one.")
        except RequestError as exc:
            await bodies.reject(scope, receive, send, exc)
            return
        await bodies.counted(self.app, scope, receive, send, view.media_type, view.chunked, length, self.settings)


def install_request_front(app: FastAPI, settings: Settings) -> None:
    """Add :class:`RequestFront` to ``app`` (outside every layer added before it) and the 413 of a body
    stopped while a route reads it."""
    app.add_middleware(RequestFront, settings=settings)
    bodies.install(app)
