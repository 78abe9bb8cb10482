"""The HTTP/1.1 connections of ``kg serve``: a deadline and a size cap on every request head, and a
cap on connections.

``kg serve`` runs uvicorn's httptools protocol (llhttp, the C parser: about 2.7 times the requests a
second of its pure-Python h11 one, measured with ``bench/api.py``'s hello). Neither bounds the time a
request head may take to arrive, and httptools does not bound its size either: a client that sends
half a head, or one byte a second, holds its connection for ever ("slowloris"), and one that sends
header bytes without end grows the parser's buffer. :class:`GuardedHttpToolsProtocol` adds, by
construction:

* **a head deadline**: a timer starts when a connection is made and again after each response,
  whenever the connection waits for a request head. It stops when a whole head has been parsed. If
  it fires first, a client that sent part of a head gets ``408 Request Timeout`` and the connection
  is closed; one that sent nothing is closed silently (as uvicorn's keep-alive timeout does). Bytes
  arriving do not restart the timer: trickling does not help. The time the application takes and
  the request body are not under it (uploads may be slow; their size is bounded by
  ``KG_MAX_BODY_BYTES``).
* **a head size cap**: the bytes received while a head is incomplete are counted before they are
  parsed; past ``MAX_HEAD_BYTES`` (64 KiB, what h11 allows) the client gets ``431`` and is closed.
* **a connection cap**: the connection beyond ``max_connections`` is answered ``503`` at once,
  before anything of it is read, and closed — so at most ``max_connections`` heads are buffered.
* **a cap on the bytes buffered to send**: an answer written at once (a /sparql answer is one
  body) is handed to the socket's transport ``SEND_BUFFER_BYTES`` at a time, the rest kept where
  it is (a view, not a copy) until the client has read what was handed over; the application's next
  write waits until then (uvicorn's flow control).
* **a send deadline**: while bytes wait for the client (the transport's buffer over its high-water
  mark, or bytes kept back), it must read some within ``send_timeout_s`` (``KG_SEND_TIMEOUT_S``; the
  clock starts again each time the buffer drains). Else the connection is aborted: the answer is
  dropped, its memory released, and an application still writing sees a disconnected client.

Its transport is a :class:`CoalescingTransport`, so a response's head and a small body leave in one
system call. Refusals are written, then the write side is shut down and the socket closed a moment later
(a "lingering close": what the client still sends is read and dropped, so it reads the answer
instead of a reset).
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import Settings

logger = logging.getLogger("app")

#: How long a refused connection is kept open to drain what the client still sends.
LINGER_S = 1.0
#: The longest request head (request line and headers) read.
MAX_HEAD_BYTES = 64 * 1024
#: Most bytes of an answer handed to a connection's transport before the client has read them.
SEND_BUFFER_BYTES = 1024 * 1024
#: On SIGTERM or SIGINT once serving: how long answers in flight may take to finish before they are cut.
GRACEFUL_SHUTDOWN_S = 10.0


class CoalescingTransport:
    """A transport whose small writes made in one turn of the event loop leave in one system call.

    uvicorn writes a response's head when the application starts it and the body when it sends it:
    two ``send()`` calls for every small answer, about a third of the CPU of a stored /api answer
    (measured with py-spy under ``bench/api.py``). Small writes are kept until the end of the loop's
    turn (or the next write that is not small), then joined; a large write goes out as it is, after
    what was kept. ``close`` and ``write_eof`` send what was kept first. Everything else is the
    wrapped transport's."""

    SMALL = 16 * 1024

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop,
                 on_backlog: Callable[[bool], None] | None = None) -> None:
        self._transport = transport
        self._loop = loop
        self._kept: list[bytes] = []
        self._scheduled = False
        #: Bytes written but not yet handed to the transport (past SEND_BUFFER_BYTES), oldest first.
        self._backlog: deque[memoryview] = deque()
        self._backlog_bytes = 0
        self._after_backlog: str | None = None  # "close" or "write_eof", once the backlog is out
        self._on_backlog = on_backlog  # told True when bytes are kept back, False when all are out

    def write(self, data: bytes) -> None:
        if len(data) >= self.SMALL:
            self.flush()
            self._keep_back(data)
            self.feed()
            return
        self._kept.append(data)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def feed(self) -> None:
        """Hand kept-back bytes to the transport while it holds less than ``SEND_BUFFER_BYTES``
        (called again when it drains: the protocol's ``resume_writing``)."""
        transport = self._transport
        while self._backlog and not transport.is_closing():
            room = SEND_BUFFER_BYTES - transport.get_write_buffer_size()
            if room <= 0:
                break
            view = self._backlog[0]
            part = view[:room]
            if len(part) == len(view):
                self._backlog.popleft()
            else:
                self._backlog[0] = view[room:]
            self._backlog_bytes -= len(part)
            transport.write(part)
        if self._backlog and not transport.is_closing():
            if self._on_backlog is not None:
                self._on_backlog(True)
            return
        if self._on_backlog is not None:
            self._on_backlog(False)
        after, self._after_backlog = self._after_backlog, None
        if after == "close":
            transport.close()
        elif after == "write_eof":
            transport.write_eof()

    @property
    def backlog_bytes(self) -> int:
        return self._backlog_bytes

    def flush(self) -> None:
        self._scheduled = False
        if self._kept:
            data = self._kept[0] if len(self._kept) == 1 else b"".join(self._kept)
            self._kept.clear()
            if self._backlog:
                self._keep_back(data)  # after what is kept back already
            elif not self._transport.is_closing():
                self._transport.write(data)

    def _keep_back(self, data: bytes) -> None:
        view = memoryview(data)
        self._backlog.append(view if view.format == "B" else view.cast("B"))
        self._backlog_bytes += view.nbytes

    def write_eof(self) -> None:
        self.flush()
        if self._backlog:
            self._after_backlog = "write_eof"
            return
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        if self._backlog and not self._transport.is_closing():
            self._after_backlog = "close"  # after what is kept back (an answer's end), as a transport does
            return
        self._transport.close()

    def abort(self) -> None:
        self._kept.clear()
        self.drop_backlog()
        self._transport.abort()

    def drop_backlog(self) -> None:
        self._backlog.clear()
        self._backlog_bytes = 0
        self._after_backlog = None

    def is_closing(self) -> bool:  # asked on every request: spared the __getattr__ below
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _answer(status: int, reason: str, text: str, extra: str = "") -> bytes:
    body = text.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n{extra}connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request-head deadline, a head size cap and a connection
    cap (see the module)."""

    header_timeout_s: float = float(Settings.model_fields["header_timeout_s"].default)
    max_connections: int = int(Settings.model_fields["max_connections"].default)
    send_timeout_s: float = float(Settings.model_fields["send_timeout_s"].default)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_deadline: float | None = None  # loop time by which the head awaited must be whole
        self._refused = False
        self._in_message = False  # between a whole head and the end of its message
        self._head_bytes = 0  # bytes received towards the head awaited now
        self._head_tail = b""  # its last 3 bytes, to find a CRLF CRLF split across reads
        self._send_timer: asyncio.TimerHandle | None = None
        self._send_deadline: float | None = None  # loop time by which the client must have read some
        self._transport_paused = False  # the transport's buffer is over its high-water mark
        self._kept_back = False  # bytes are kept back (CoalescingTransport's backlog)

    # ------------------------------------------------------------ uvicorn's hooks

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop, self._backlog_changed))  # type: ignore[arg-type]
        if self.max_connections and len(self.connections) > self.max_connections:
            self._refuse(_answer(503, "Service Unavailable", f"The server holds its maximum of "
                                 f"{self.max_connections} connections; retry shortly.\n", "retry-after: 1\r\n"))
            return
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # answered already: drained and dropped until the socket closes
        if not self._in_message and self._head_too_long(data):
            self._refuse(_answer(431, "Request Header Fields Too Large",
                                 f"The request head is longer than {MAX_HEAD_BYTES} bytes.\n"))
            return
        super().data_received(data)
        self._watch_head()

    def _head_too_long(self, data: bytes) -> bool:
        """Count the bytes of ``data`` up to the end of the head awaited (all of it when the head does
        not end here: a body that follows in the same read is not head), before the parser buffers them."""
        window = self._head_tail + data
        end = window.find(b"\r\n\r\n")
        if end < 0:
            self._head_bytes += len(data)
            self._head_tail = window[-3:]
        else:
            self._head_bytes += end + 4 - len(self._head_tail)
            self._head_tail = b""
        return self._head_bytes > MAX_HEAD_BYTES

    def on_headers_complete(self) -> None:
        self._in_message = True
        self._head_bytes, self._head_tail = 0, b""
        self._head_deadline = None  # the timer stays: it sees no deadline when it fires
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_message = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._refused:
            self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        self._send_deadline = None
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        if isinstance(self.transport, CoalescingTransport):
            self.transport.drop_backlog()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        self._transport_paused = True
        super().pause_writing()
        self._watch_send()

    def resume_writing(self) -> None:
        self._transport_paused = False
        self._send_deadline = None  # the client read: the clock starts again if it stalls again
        if isinstance(self.transport, CoalescingTransport):
            self.transport.feed()  # tells _backlog_changed, which resumes the application if all is out
        else:
            super().resume_writing()
        self._watch_send()

    # ------------------------------------------------------------ the send deadline

    def _backlog_changed(self, kept: bool) -> None:
        self._kept_back = kept
        if kept:
            self.flow.pause_writing()  # the application's next write waits until the backlog is out
        elif not self._transport_paused:
            self.flow.resume_writing()
        self._watch_send()

    def _stalled(self) -> bool:
        return (self._transport_paused or self._kept_back) and not self.transport.is_closing()

    def _watch_send(self) -> None:
        """While bytes wait for the client, a deadline by which it must read some (it does not move
        until it does); one timer per connection, re-armed for what is left when it fires."""
        if not self._stalled():
            self._send_deadline = None
            return
        if self._send_deadline is None:
            self._send_deadline = self.loop.time() + self.send_timeout_s
        if self._send_timer is None:
            self._send_timer = self.loop.call_at(self._send_deadline, self._send_timer_fired)

    def _send_timer_fired(self) -> None:
        self._send_timer = None
        deadline = self._send_deadline
        if deadline is None or not self._stalled():
            return
        if self.loop.time() < deadline:
            self._send_timer = self.loop.call_at(deadline, self._send_timer_fired)
            return
        logger.warning("a client read nothing of its answer for %g s (KG_SEND_TIMEOUT_S): connection aborted, "
                       "%d bytes dropped", self.send_timeout_s, self.transport.get_write_buffer_size()
                       + getattr(self.transport, "backlog_bytes", 0))
        self._send_deadline = None
        self.transport.abort()

    # ------------------------------------------------------------ the head deadline

    def _waiting_for_head(self) -> bool:
        """No head is being served: none has come yet, or the last response is complete."""
        idle = self.cycle is None or self.cycle.response_complete
        return idle and not self._in_message and not self.pipeline and not self.transport.is_closing()

    def _watch_head(self) -> None:
        """Set the deadline when a head is awaited (unless set: it does not move), else clear it.

        One timer per connection checks the deadline when it fires and re-arms itself for what is
        left, so a request costs two attribute writes, not a timer made and cancelled."""
        if not self._waiting_for_head():
            self._head_deadline = None
            return
        if self._head_deadline is None:
            self._head_deadline = self.loop.time() + self.header_timeout_s
        if self._head_timer is None:
            self._head_timer = self.loop.call_at(self._head_deadline, self._head_timer_fired)

    def _stop_head_timer(self) -> None:
        self._head_deadline = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timer_fired(self) -> None:
        self._head_timer = None
        deadline = self._head_deadline
        if deadline is None:
            return  # no head awaited now; the next wait arms the timer again
        if self.loop.time() < deadline:
            self._head_timer = self.loop.call_at(deadline, self._head_timer_fired)
            return
        self._head_timed_out()

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if not self._waiting_for_head():
            return
        if not self._head_bytes:  # nothing of a request yet: close quietly, like the keep-alive timeout
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


def guarded_protocol(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    """The protocol class with this configuration's limits (uvicorn builds one instance per connection)."""
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {"header_timeout_s": settings.header_timeout_s, "max_connections": settings.max_connections,
         "send_timeout_s": settings.send_timeout_s},
    )


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``kg serve``: httptools with the guards above (a deadline and a 64 KiB
    cap on the request head, a connection cap), a 5 s keep-alive, no plain-text access log (the JSON
    one, app.access, replaces it), no ``Server`` header (the software and its version are nobody's
    business; one header less on every answer), and ``X-Forwarded-*`` ignored: the client is the
    peer's address (uvicorn trusts those headers from 127.0.0.1 by default, so any local process
    could pose as any client; behind a proxy, run uvicorn with ``--proxy-headers``: README)."""
    return {
        "http": guarded_protocol(settings),
        "timeout_keep_alive": 5,
        "access_log": False,
        "server_header": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }

