"""A watchdog: while each hostile request of issue 23 runs, ``/health`` keeps answering in < 100 ms.

``kg serve`` runs as a subprocess (its own event loop and interpreter, as deployed); a poller asks
``/health`` over one keep-alive connection every 10 ms, from the start of the first hostile request
to the end of the last, while each of these is sent (two at a time, again and again for 1.5 s) over
real loopback sockets:

* an 8 MB ``POST /sparql`` form body, chunked, of ``format=json,json,…`` (it froze every route for
  21.6 s: the body escaped the query cap and became a 12 MB Accept header negotiated on the loop);
* 690,000 repeated ``format=`` parameters, in the URL and as a chunked form body (9.3 s);
* an ``Accept`` header of thousands of media ranges, on ``/sparql`` and on an entity;
* an ``Accept-Language`` header as long as a request head may be, on a page;
* a request of thousands of repeated header lines.

The p99 and the maximum of the /health times are printed; the p99 must stay under 100 ms. Each
hostile request must also be answered with a 4xx (its cap, or 406 for media types nobody offers) or,
where it is within every cap, a 200 — never a 500 — and quickly.
"""

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.helpers import kg_serve

pytestmark = pytest.mark.slow

ASK = "ASK { ?s ?p ?o }"
#: What a hostile request may take to be answered (a stall such as the issue's lasted seconds).
ANSWERED_WITHIN_S = 5.0
#: How long each hostile request is sent again and again (two at a time) while /health is polled.
PHASE_S = 1.5


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with kg_serve({"KG_QUERY_WORKERS": "1", "KG_VALIDATE_ON_START": "false"}) as (_, port):
        yield port


def chunked(head: str, body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    yield head.encode("latin-1")
    for start in range(0, len(body), size):
        piece = body[start:start + size]
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def hostile_requests() -> dict[str, list[bytes]]:
    formats = ",".join(["json"] * ((8 * 1024 * 1024 - 1024) // 5)).encode()
    form = b"query=" + quote(ASK).encode() + b"&format=" + formats  # just under KG_MAX_BODY_BYTES
    repeated = b"query=" + quote(ASK).encode() + b"&format=json" * 690_000
    post = "POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" \
           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    accept = ", ".join(f"application/x-{i};q=0.{i % 9 + 1}" for i in range(2_500))
    languages = ", ".join(f"x{i}-AA;q=0.{i % 9 + 1}" for i in range(4_000))[:60_000]
    lines = "".join(f"Accept: text/x-{i}\r\n" for i in range(3_000))
    few_lines = "".join(f"X-Filler: {i}\r\n" for i in range(1_000))
    return {
        "8 MB chunked form of format=json,…": list(chunked(post, form)),
        "690,000 format= in a chunked form": list(chunked(post, repeated)),
        "690,000 format= in the URL": [(f"GET /sparql?query={quote(ASK)}" + "&format=json" * 690_000
                                        + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()],
        "2,500 media ranges on /sparql": [(f"GET /sparql?query={quote(ASK)} HTTP/1.1\r\nHost: x\r\n"
                                           f"Accept: {accept}\r\nConnection: close\r\n\r\n").encode()],
        "2,500 media ranges on an entity": [(f"GET /id/district/haidian HTTP/1.1\r\nHost: x\r\n"
                                             f"Accept: {accept}\r\nConnection: close\r\n\r\n").encode()],
        "60 KB Accept-Language on a page": [(f"GET / HTTP/1.1\r\nHost: x\r\nAccept-Language: {languages}\r\n"
                                             "Connection: close\r\n\r\n").encode()],
        "3,000 repeated Accept lines": [f"GET /api/matrix HTTP/1.1\r\nHost: x\r\n{lines}Connection: close\r\n\r\n"
                                        .encode()],
        "1,000 header lines": [f"GET /api/matrix HTTP/1.1\r\nHost: x\r\n{few_lines}Connection: close\r\n\r\n"
                               .encode()],
    }


def send(port: int, pieces: list[bytes]) -> tuple[bytes, float]:
    """Send the pieces (stopping if the server has answered and closed), then read the answer."""
    started = time.perf_counter()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            for piece in pieces:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered before the whole body was sent: what a cap should do
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer, time.perf_counter() - started


class Poller(threading.Thread):
    """GET /health every ``every`` seconds over one keep-alive connection; the times it took."""

    def __init__(self, port: int, every: float = 0.01, timeout: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.port, self.every, self.timeout = port, every, timeout
        self.times: list[float] = []
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll()
            except OSError as exc:  # a stalled answer (the socket's timeout) counts as the time it took
                self.failures.append(repr(exc))
                self.times.append(self.timeout)

    def poll(self) -> None:
        request = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout) as sock:
            reader = sock.makefile("rb")
            while not self.stop.is_set():
                started = time.perf_counter()
                sock.sendall(request)
                status = reader.readline()
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
                self.times.append(time.perf_counter() - started)
                if not status.startswith(b"HTTP/1.1 200"):
                    self.failures.append(status.decode("latin-1"))
                time.sleep(self.every)


def assert_health_kept_up(poller: "Poller", answers: dict[str, list[tuple[bytes, float]]], what: str) -> None:
    """Print the /health times and each hostile request's answers; the p99 must stay under 100 ms."""
    times = sorted(poller.times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"/health during {what}: {len(times)} answers, median "
          f"{statistics.median(times) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")
    for name, results in answers.items():
        statuses = sorted({status_line(answer) for answer, _ in results})
        slowest = max((s for _, s in results), default=float("inf"))
        print(f"  {name}: {len(results)} answered, {statuses}, the slowest in {slowest:.2f} s")
    assert len(times) > 20
    assert p99 < 0.1, f"/health p99 {p99 * 1000:.0f} ms (max {times[-1] * 1000:.0f} ms) while {what} ran"
    assert not poller.failures, poller.failures[:3]


def status_line(answer: bytes) -> str:
    return answer.split(b"\r\n", 1)[0].decode("latin-1")


def test_health_answers_within_100_ms_while_each_hostile_request_runs(port: int) -> None:
    hostile = hostile_requests()
    send(port, [b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])  # warm
    poller = Poller(port)
    poller.start()
    answers: dict[str, list[tuple[bytes, float]]] = {}
    try:
        time.sleep(0.2)
        for name, pieces in hostile.items():
            results: list[tuple[bytes, float]] = []
            phase_ends = time.perf_counter() + PHASE_S
            while time.perf_counter() < phase_ends:  # again and again for a while: enough /health samples
                threads = [threading.Thread(target=lambda r=results, p=pieces: r.append(send(port, p)), daemon=True)
                           for _ in range(2)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(30)
            answers[name] = results
        time.sleep(0.2)
    finally:
        poller.stop.set()
        poller.join(10)
    assert_health_kept_up(poller, answers, "the hostile requests")
    for name, results in answers.items():
        assert len(results) >= 2, name
        for answer, seconds in results:
            status = answer.split(b"\r\n", 1)[0]
            assert status.split(b" ")[1] in (b"200", b"400", b"406", b"413", b"414", b"431"), (name, status)
            assert seconds < ANSWERED_WITHIN_S, (name, seconds)


# ------------------------------------------------------------------ the hostile queries and writes

TOKEN = "watchdog-writer"
#: Runs far past any deadline (the union's triples cubed); each one a different query.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} LIMIT {n}"
SKOS_BROADER = "http://www.w3.org/2004/02/skos/core#broader"


@pytest.fixture(scope="module")
def writable_port() -> Iterator[int]:
    with kg_serve({"KG_WRITE_TOKEN": TOKEN, "KG_VALIDATE_ON_START": "false", "KG_QUERY_TIMEOUT_S": "3",
                   "KG_UPDATE_TIMEOUT_S": "5"}) as (_, port):
        yield port


def request(method: str, target: str, body: bytes = b"", content_type: str = "", token: bool = False) -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    if token:
        head += f"authorization: bearer {TOKEN}\r\n"  # the scheme in any case
    return head.encode() + b"\r\n" + body


def hostile_writes_and_queries() -> dict[str, tuple[list[bytes], int]]:
    """What the issue's attacker sent through the query and write paths: name -> (request, copies
    sent at once). Each must be refused (or stopped at its deadline) without stalling the loop."""
    chain = "\n".join(f"<urn:x:c{i}> <{SKOS_BROADER}> <urn:x:c{i + 1}> ." for i in range(600)).encode()
    direction = json.dumps({"@id": "urn:x:s", "urn:x:p": {"@value": "x", "@language": "ar", "@direction": "rtl"}})
    label = b'<urn:x:s> <http://www.w3.org/2000/01/rdf-schema#label> "' + b"x" * 7_700_000 + b'"@en .'
    return {
        "ill-typed integer through /update": ([request(
            "POST", "/update", b'INSERT DATA { <urn:x:s> <http://schema.org/minValue> '
            b'"abc"^^<http://www.w3.org/2001/XMLSchema#integer> }', "application/sparql-update", True)], 1),
        "600-link skos:broader chain": ([request("POST", "/graph-store?graph=urn:x-test:chain", chain,
                                                 "application/n-triples", True)], 1),
        "@direction in JSON-LD": ([request("PUT", "/graph-store?graph=urn:x-test:dir", direction.encode(),
                                           "application/ld+json", True)], 1),
        "7.7 MB label": ([request("POST", "/graph-store?graph=urn:x-test:label", label, "application/n-triples",
                                  True)], 1),
        "four runaway queries from one address": ([request("GET", f"/sparql?query={quote(RUNAWAY.format(n=n))}")
                                                   for n in range(1, 5)], 4),
    }


def send_into(results: list[tuple[bytes, float]], port: int, pieces: list[bytes]) -> None:
    results.append(send(port, pieces))


def test_health_answers_within_100_ms_while_hostile_writes_and_queries_run(writable_port: int) -> None:
    send(writable_port, [b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])  # warm
    poller = Poller(writable_port)
    poller.start()
    answers: dict[str, list[tuple[bytes, float]]] = {}
    try:
        time.sleep(0.2)
        for name, (pieces, copies) in hostile_writes_and_queries().items():
            results: list[tuple[bytes, float]] = []
            threads = [threading.Thread(target=send_into, args=(results, writable_port, [piece]), daemon=True)
                       for piece in pieces[:copies]]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            answers[name] = results
        # A reader that asks for a large answer and never reads it (its socket stays open meanwhile).
        stalled = socket.create_connection(("127.0.0.1", writable_port))
        stalled.sendall(b"GET /export?format=nquads HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n")
        time.sleep(1.0)
        stalled.close()
        time.sleep(0.2)
    finally:
        poller.stop.set()
        poller.join(10)
    assert_health_kept_up(poller, answers, "the hostile writes and queries")
    expected = {"ill-typed integer through /update": {b"422"}, "600-link skos:broader chain": {b"422", b"503"},
                "@direction in JSON-LD": {b"422"}, "7.7 MB label": {b"413"},
                "four runaway queries from one address": {b"503"}}
    for name, results in answers.items():
        statuses = {answer.split(b"\r\n", 1)[0].split(b" ")[1] for answer, _ in results}
        assert statuses <= expected[name], (name, statuses)
