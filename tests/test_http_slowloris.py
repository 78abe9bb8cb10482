"""Slow clients against the HTTP front `kg serve` runs (app/server/connections.py), over real loopback
sockets: a request head must arrive whole within KG_HEADER_TIMEOUT_S (a partial head gets 408, a
silent connection is closed, trickling does not move the deadline); the request body, the time the
app takes and keep-alive are not cut; connections beyond KG_MAX_CONNECTIONS get 503 at once."""

import select
import socket
import time
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from app.server.connections import MAX_HEAD_BYTES, server_options
from tests.helpers import LiveServer, kg_serve, serve_in_thread

TIMEOUT_S = 1.0
CAP = 3
HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
#: About 29 million rows counted: two seconds here, over the head deadline, under the query deadline.
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(!isLiteral(?c)) }"


def _serve(settings: Settings) -> Iterator[LiveServer]:
    yield from serve_in_thread(settings, options=server_options(settings))


@pytest.fixture(scope="module")
def guarded() -> Iterator[LiveServer]:
    yield from _serve(Settings(query_workers=1, validate_on_start=False, header_timeout_s=TIMEOUT_S))


@pytest.fixture(scope="module")
def capped() -> Iterator[LiveServer]:
    yield from _serve(Settings(query_workers=1, validate_on_start=False, header_timeout_s=30,
                               max_connections=CAP))


def _connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _read_until_closed(sock: socket.socket, limit_s: float = 10.0) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started, answer = time.monotonic(), b""
    sock.settimeout(limit_s)
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        answer += chunk
    return answer, time.monotonic() - started


def _read_response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body) from a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    fields = [line.partition(b":") for line in head.lower().split(b"\r\n")[1:]]
    length = next(int(value) for name, _, value in fields if name == b"content-length")
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_partial_head_then_silence_gets_408_and_is_closed(guarded: LiveServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        answer, took = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert answer.endswith(b"The request head did not arrive within 1 s.\n")
    assert b"connection: close" in answer
    assert TIMEOUT_S * 0.5 < took < TIMEOUT_S + 5


def test_silent_connection_is_closed_without_an_answer(guarded: LiveServer) -> None:
    with _connect(guarded) as sock:
        answer, took = _read_until_closed(sock)
    assert answer == b""
    assert took < TIMEOUT_S + 5


def test_trickling_a_head_does_not_move_the_deadline(guarded: LiveServer) -> None:
    """Four bytes a second of a head that never ends: the server answers 408 and closes at its deadline."""
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    sent = 0
    started = time.monotonic()
    with _connect(guarded) as sock:
        while time.monotonic() - started < 10:
            readable, _, _ = select.select([sock], [], [], 0.25)
            if readable:
                break
            try:
                sock.send(head[sent:sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
        answer, _ = _read_until_closed(sock)
    took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 2 <= sent < len(head)
    assert took < TIMEOUT_S + 5


def test_a_whole_request_is_answered(guarded: LiveServer) -> None:
    response = httpx.get(guarded.url + "/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "server" not in response.headers  # the software and its version are not announced
    assert response.headers["date"]  # RFC 9110 6.6.1: a server with a clock sends Date


def test_forwarded_for_does_not_make_another_client() -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: any local process could then pose as
    any client and escape the per-client limits. `kg serve` ignores it (README: behind a proxy)."""
    for server in _serve(Settings(query_workers=1, validate_on_start=False, rate_limit_rps=0.01, rate_limit_burst=2)):
        statuses = [httpx.get(server.url + "/api/districts", headers={"X-Forwarded-For": f"203.0.113.{i}"},
                              timeout=10).status_code for i in range(3)]
        assert statuses == [200, 200, 429]


def test_keep_alive_serves_several_requests_on_one_connection(guarded: LiveServer) -> None:
    with _connect(guarded) as sock:
        for _ in range(3):
            sock.sendall(HEAD)
            answer = _read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200 ")
            assert b'"status":"ok"' in answer
            time.sleep(TIMEOUT_S / 2)  # idle, but each pause is shorter than the deadline


def test_keep_alive_connection_idle_past_the_deadline_is_closed_quietly(guarded: LiveServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(HEAD)
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
        answer, took = _read_until_closed(sock)
    assert answer == b""
    assert took < TIMEOUT_S + 5


def test_slow_body_after_a_whole_head_is_not_cut(guarded: LiveServer) -> None:
    """The deadline is on the head only: a body that comes after it is read, and answered."""
    body = b"query=ASK+%7B%7D"
    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nAccept: application/sparql-results+json\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
    with _connect(guarded) as sock:
        sock.sendall(head)
        time.sleep(TIMEOUT_S * 2)
        sock.sendall(body)
        answer, _ = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b'"boolean":true' in answer.replace(b" ", b"")


def test_connection_over_the_cap_gets_503_at_once(capped: LiveServer) -> None:
    held = [_connect(capped) for _ in range(CAP)]
    try:
        for sock in held:  # each is accepted and served: the server counts it
            sock.sendall(HEAD)
            assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
        with _connect(capped) as extra:
            extra.sendall(HEAD)
            answer, took = _read_until_closed(extra)
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert b"retry-after: 1" in answer and b"maximum of 3 connections" in answer
        assert took < 5
        for sock in held:  # the connections inside the cap are still served
            sock.sendall(HEAD)
            assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
    finally:
        for sock in held:
            sock.close()
    statuses = []
    for _ in range(50):  # once they are gone, new connections are served again
        statuses.append(httpx.get(capped.url + "/health", timeout=10).status_code)
        if statuses[-1] == 200:
            break
        time.sleep(0.1)
    assert statuses[-1] == 200


def _head_with(padding: int) -> bytes:
    return b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * padding + b"\r\n\r\n"


def test_head_over_64_kib_gets_431_and_is_closed(guarded: LiveServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(_head_with(MAX_HEAD_BYTES))
        answer, _ = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert f"longer than {MAX_HEAD_BYTES} bytes".encode() in answer


def test_head_without_end_is_refused_once_past_the_cap(guarded: LiveServer) -> None:
    """Header lines sent without end: once past 64 KiB the server answers 431 at once — well before
    the head deadline (which would answer 408) and without waiting for the head to end."""
    with _connect(guarded) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        for i in range(MAX_HEAD_BYTES // 1000 + 2):
            sock.sendall(f"X-Many-{i}: ".encode() + b"b" * 1000 + b"\r\n")
        readable, _, _ = select.select([sock], [], [], TIMEOUT_S / 2)
        assert readable, "no answer within half the head deadline"
        answer, _ = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_head_just_under_the_cap_is_answered(guarded: LiveServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(_head_with(MAX_HEAD_BYTES - 200))
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")


def test_long_body_in_the_same_read_as_its_head_is_not_counted_as_head(guarded: LiveServer) -> None:
    """A 300 KB body sent at once with its head: the cap is on the head, the body reaches the app
    (which answers it by its own limit on query text, 413, not the head's 431)."""
    body = b"ASK {} #" + b"c" * 300_000
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    )
    with _connect(guarded) as sock:
        sock.sendall(head + body)
        answer, _ = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_pipelined_requests_are_all_answered(guarded: LiveServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(HEAD * 3)
        answer, _ = _read_until_closed(sock)  # all three, then closed quietly once idle past the deadline
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.count(b"HTTP/1.1 200 ") == 3
    assert answer.count(b'"status":"ok"') == 3


def test_slow_answer_is_not_cut_by_the_head_deadline(guarded: LiveServer) -> None:
    """The deadline runs only while a head is awaited: a query that takes longer than it is answered."""
    query = b"query=" + urllib.parse.quote_plus(SLOW_QUERY).encode()
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nAccept: application/sparql-results+json\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + str(len(query)).encode() + b"\r\n\r\n"
    )
    with _connect(guarded) as sock:
        started = time.monotonic()
        sock.sendall(head + query)
        answer = _read_response(sock)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert took > TIMEOUT_S


@pytest.mark.slow
def test_kg_serve_answers_a_stalled_head_with_408() -> None:
    with kg_serve({"KG_HEADER_TIMEOUT_S": "2", "KG_QUERY_WORKERS": "1"}) as (_, port):
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 200
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            answer, took = _read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"within 2 s" in answer
        assert 1 < took < 8


class Recording:
    """The few transport calls the coalescing wrapper makes, recorded in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    def write(self, data: bytes) -> None:
        self.calls.append(("write", bytes(data)))

    def write_eof(self) -> None:
        self.calls.append(("eof", b""))

    def close(self) -> None:
        self.calls.append(("close", b""))

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


def test_small_writes_of_one_loop_turn_leave_together_and_in_order() -> None:
    import asyncio

    from app.server.connections import CoalescingTransport

    async def scenario() -> list[tuple[str, bytes]]:
        recorded = Recording()
        transport = CoalescingTransport(recorded, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"head ")
        transport.write(b"body")
        assert recorded.calls == []  # kept until the end of this turn
        await asyncio.sleep(0)
        transport.write(b"small ")
        transport.write(b"L" * CoalescingTransport.SMALL)  # a large write: what was kept goes first
        transport.write(b"last")
        transport.close()  # sends what was kept, then closes
        return recorded.calls

    calls = asyncio.run(scenario())
    assert calls == [("write", b"head body"), ("write", b"small "), ("write", b"L" * CoalescingTransport.SMALL),
                     ("write", b"last"), ("close", b"")]
