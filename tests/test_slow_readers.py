"""Slow readers (issue 23, item 3): a client that stops reading its answer holds neither memory nor
a worker past the send deadline (KG_SEND_TIMEOUT_S), and what is handed to a connection's transport
is capped (app/server/connections.py). Real sockets over loopback from two addresses, against
``kg serve`` in its own process (its memory is measured from /proc)."""

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from app.config import Settings
from app.server.connections import SEND_BUFFER_BYTES, server_options
from tests.helpers import LiveServer, kg_serve, serve_in_thread

SEND_TIMEOUT_S = 2.0
#: About 40 MB of JSON results each (a different LIMIT each: no answer is shared or reused).
BIG = "SELECT ?s ?p ?o ?x WHERE {{ ?s ?p ?o . ?x a ?t }} LIMIT {n}"
ROWS = 100_000


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def stalled_request(port: int, query: str) -> socket.socket:
    """POST the query (never a stored answer), read the first bytes of the answer, then stop reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server soon has to wait
    sock.bind(("127.0.0.1", 0))
    sock.connect(("127.0.0.1", port))
    body = urlencode({"query": query}).encode()
    sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: kg\r\nAccept: application/sparql-results+json\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    sock.settimeout(60)
    head = sock.recv(64)
    assert head.startswith(b"HTTP/1.1 200"), head
    return sock


def read_rest(sock: socket.socket) -> int:
    """Bytes the server still sends before it closes (or resets) the connection."""
    sock.settimeout(10)
    total = 0
    try:
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    except (ConnectionResetError, TimeoutError):
        pass
    return total


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[int, int]]:
    env = {"KG_SEND_TIMEOUT_S": str(SEND_TIMEOUT_S), "KG_QUERY_WORKERS": "3", "KG_MAX_RESULT_ROWS": str(ROWS),
           "KG_VALIDATE_ON_START": "false", "KG_QUERY_TIMEOUT_S": "30"}
    with kg_serve(env) as (process, port):
        yield process.pid, port


@pytest.mark.slow
def test_stalled_readers_hold_no_memory_past_the_deadline(served: tuple[int, int]) -> None:
    pid, port = served
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=60) as warm:  # the answer's size, read whole by a good reader
        whole = warm.post("/sparql", data={"query": BIG.format(n=ROWS)},
                          headers={"Accept": "application/sparql-results+json"})
        assert whole.status_code == 200 and len(json.loads(whole.content)["results"]["bindings"]) == ROWS
        size = len(whole.content)
    assert size > 20 * SEND_BUFFER_BYTES
    del whole
    time.sleep(0.5)
    before = rss_mb(pid)
    sockets = [stalled_request(port, BIG.format(n=ROWS - n - 1)) for n in range(4)]
    try:
        held = rss_mb(pid) - before
        stalled_at = time.monotonic()
        # Another address is served at once meanwhile: the workers are not held by the stalled answers.
        second = httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        with second:
            for n in range(3):
                started = time.monotonic()
                response = second.get("/sparql", params={"query": f"ASK {{ FILTER({n} != -3) }}"})
                assert response.status_code == 200 and time.monotonic() - started < 2.0
        time.sleep(max(0.0, stalled_at + SEND_TIMEOUT_S + 2.0 - time.monotonic()))
        after = rss_mb(pid) - before
        # Each stalled connection was cut: far less than its answer came before the close.
        rest = [read_rest(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    assert all(r < size / 4 for r in rest), (size, rest)
    assert after < 40, f"the front process still holds {after:.0f} MB (held {held:.0f} MB while stalled)"


@pytest.fixture(scope="module")
def threaded() -> Iterator[LiveServer]:
    settings = Settings(send_timeout_s=SEND_TIMEOUT_S, query_workers=2, max_result_rows=ROWS)
    yield from serve_in_thread(settings, options=server_options(settings))


def test_a_slow_but_steady_reader_gets_the_whole_answer(threaded: LiveServer) -> None:
    # Read in small pieces with pauses shorter than the deadline: the answer arrives whole and exact.
    query = BIG.format(n=20_000)
    with httpx.Client(base_url=threaded.url, timeout=60, headers={"Accept-Encoding": "identity"}) as client:
        expected = client.post("/sparql", data={"query": query}).content
        assert len(expected) > 3 * SEND_BUFFER_BYTES
        with client.stream("POST", "/sparql", data={"query": query}) as response:
            got = bytearray()
            for n, chunk in enumerate(response.iter_raw(256 * 1024)):
                got += chunk
                if n % 4 == 0:
                    time.sleep(0.3)
    assert bytes(got) == expected
