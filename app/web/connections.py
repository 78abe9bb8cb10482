"""The HTTP/1.1 connections of ``kg serve``: a deadline on every request head, and a cap on connections.

uvicorn's h11 protocol bounds the size of a request head (``h11_max_incomplete_event_size``) but
not the time it may take to arrive: a client that sends half a head, or one byte a second, holds
its connection (and up to 64 KiB of buffer) for ever ("slowloris"). :class:`GuardedH11Protocol`
adds, by construction:

* **a head deadline**: a timer starts when a connection is made and again after each response,
  whenever h11 is waiting for a request (its ``their_state`` is IDLE). It stops when a whole head
  has been parsed. If it fires first, a client that sent part of a head gets ``408 Request
  Timeout`` and the connection is closed; one that sent nothing is closed silently (as uvicorn's
  keep-alive timeout does). Bytes arriving do not restart the timer: trickling does not help.
* **a connection cap**: the connection beyond ``max_connections`` is answered ``503`` at once,
  before anything of it is read, and closed — so at most ``max_connections`` heads are buffered.

Refusals are written, then the write side is shut down and the socket closed a moment later
(a "lingering close": what the client still sends is read and dropped, so it reads the answer
instead of a reset). The body of a request is not under this deadline (uploads may be slow; their
size is bounded by ``KG_MAX_BODY_BYTES``).
"""

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.config import Settings

#: How long a refused connection is kept open to drain what the client still sends.
LINGER_S = 1.0


def _answer(status: int, reason: str, text: str, extra: str = "") -> bytes:
    body = text.encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\n{extra}connection: close\r\n\r\n")
    return head.encode("ascii") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head deadline and a connection cap (see the module)."""

    header_timeout_s: float = float(Settings.model_fields["header_timeout_s"].default)
    max_connections: int = int(Settings.model_fields["max_connections"].default)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    # ------------------------------------------------------------ uvicorn's hooks

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.max_connections and len(self.connections) > self.max_connections:
            self._refuse(_answer(503, "Service Unavailable",
                                 f"The server holds its maximum of {self.max_connections} connections; "
                                 "retry shortly.\n", "retry-after: 1\r\n"))
            return
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # answered already: drained and dropped until the socket closes
        super().data_received(data)
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._refused:
            self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    # ------------------------------------------------------------ the head deadline

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

    def _watch_head(self) -> None:
        """Arm the timer when a head is awaited (unless armed: the deadline does not move), else stop it."""
        if not self._waiting_for_head():
            self._stop_head_timer()
        elif self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._waiting_for_head():
            return
        buffered, _ = self.conn.trailing_data
        if not buffered:  # nothing of a request yet: close quietly, like the keep-alive timeout
            self._unset_keepalive_if_required()
            self.transport.close()
            return
        self._refuse(_answer(408, "Request Timeout",
                             f"The request head did not arrive within {self.header_timeout_s:g} s.\n"))

    # ------------------------------------------------------------ refusing

    def _refuse(self, answer: bytes) -> None:
        """Write ``answer``, stop writing, drain the client's bytes for a moment, then close."""
        self._refused = True
        self._stop_head_timer()
        self._unset_keepalive_if_required()
        transport = self.transport
        transport.write(answer)
        if transport.can_write_eof():
            transport.write_eof()
            self.loop.call_later(LINGER_S, transport.close)
        else:
            transport.close()


def guarded_protocol(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol class with this configuration's limits (uvicorn builds one instance per connection)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {
        "header_timeout_s": settings.header_timeout_s, "max_connections": settings.max_connections})


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``kg serve``: h11 with the guards above, a 64 KiB request head (size, and
    with it header count; httptools would accept 64 MB), a 5 s keep-alive, no plain-text access log
    (the JSON one, app.access, replaces it)."""
    return {"http": guarded_protocol(settings), "h11_max_incomplete_event_size": 64 * 1024,
            "timeout_keep_alive": 5, "access_log": False}
