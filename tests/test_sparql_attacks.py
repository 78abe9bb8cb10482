"""Attacks on /sparql as an attacker would send them: SERVICE however spelled never reaches a
loopback listener, the worker processes cannot open sockets at all, and memory and stack bombs
cost one query, never the service (issue 13)."""

import errno
import multiprocessing
import os
import socket
import threading
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings

from app.config import Settings
from app.rdf.sparql_guard import MAX_CHAIN, MAX_DEPTH
from app.store.sandbox import confine_worker
from tests.helpers import LiveServer, serve_in_thread
from tests.test_sparql_guard import SERVICE_SPELLINGS, TARGET, query_with_hidden_service


class Listener:
    """A loopback TCP listener that counts the connections it gets (and answers none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    sink = Listener()
    yield sink
    sink.close()


def bomb(binds: int) -> str:
    """Each BIND doubles the string: 64 bytes × 2^26 = 4 GB at 26."""
    chain = " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(binds))
    return f'SELECT (STRLEN(?s{binds}) AS ?n) WHERE {{ BIND("{"x" * 64}" AS ?s0) {chain} }}'


def stack_bomb(depth: int) -> str:
    return "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * depth + "?o" + ")" * depth + ") }"


def assert_still_serving(client: httpx.Client) -> None:
    assert client.get("/ready").status_code == 200
    answer = client.get("/sparql", params={"query": "ASK {}"})
    assert answer.status_code == 200 and answer.json()["boolean"] is True


# ---------------------------------------------------------------- no network, by the guard


@pytest.mark.parametrize("spelling", SERVICE_SPELLINGS)
def test_sparql_service_spelling_is_400_and_never_connects(client: httpx.Client, listener: Listener,
                                                           spelling: str) -> None:
    query = spelling.replace(TARGET, listener.url).replace("PREFIX : <http://127.0.0.1:9/sparql>",
                                                           f"PREFIX : <{listener.url}>")
    for send in (lambda: client.get("/sparql", params={"query": query}),
                 lambda: client.post("/sparql", data={"query": query}),
                 lambda: client.post("/sparql", content=query.encode(),
                                     headers={"Content-Type": "application/sparql-query"})):
        response = send()
        assert response.status_code == 400
        assert response.text.startswith("SERVICE at line ")
        assert "127.0.0.1" not in response.text
    assert listener.connections == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(case=query_with_hidden_service())
def test_sparql_hidden_service_fuzz_gets_no_connection(client: httpx.Client, listener: Listener,
                                                        case: tuple[str, bool]) -> None:
    query, real = case
    response = client.post("/sparql", content=query.replace(TARGET, listener.url).encode(),
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == (400 if real else 200)
    assert listener.connections == 0


# ---------------------------------------------------------------- no network, by the OS


def _probe_sandbox(conn: "multiprocessing.connection.Connection", url: str) -> None:
    """In a fresh process: confine it as a worker is, then try to reach the network."""
    confine_worker(512)
    outcome: dict[str, object] = {}
    for name, family in (("inet", socket.AF_INET), ("inet6", socket.AF_INET6), ("unix", socket.AF_UNIX)):
        try:
            socket.socket(family).close()
            outcome[name] = "opened"
        except OSError as exc:
            outcome[name] = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    try:  # the engine itself, with no guard in front of it
        list(ox.Store().query(f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))
        outcome["service"] = "answered"
    except OSError as exc:
        outcome["service"] = type(exc).__name__
    conn.send(outcome)


def test_sandboxed_process_cannot_open_sockets(listener: Listener) -> None:
    if not os.path.exists("/proc/self/status"):
        pytest.skip("seccomp filters need Linux")
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_probe_sandbox, args=(child, listener.url))
    process.start()
    assert parent.poll(60), "the probe process did not answer"
    outcome = parent.recv()
    process.join(10)
    assert outcome == {"inet": "EPERM", "inet6": "EPERM", "unix": "EPERM", "service": "PermissionError"}
    assert listener.connections == 0


def test_query_workers_run_under_seccomp(server: LiveServer) -> None:
    workers = server.app.state.runtime.runner  # type: ignore[attr-defined]
    if not hasattr(workers, "all"):
        pytest.skip("queries run in the remote store, not in worker processes")
    pids = [w.process.pid for w in workers.all if w.process.is_alive()]
    assert pids
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        assert fields["Seccomp"].strip() == "2", f"worker {pid} has no seccomp filter"
        assert fields["NoNewPrivs"].strip() == "1"


# ---------------------------------------------------------------- memory and stack bombs


@pytest.fixture(scope="module")
def capped() -> Iterator[LiveServer]:
    """Two workers, 256 MB per query: a bomb is caught within a second."""
    yield from serve_in_thread(Settings(query_workers=2, query_timeout_s=10, query_memory_mb=256))


@pytest.fixture()
def c(capped: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=capped.url, timeout=60) as client:
        yield client


@pytest.mark.slow
def test_sparql_memory_bomb_is_503_naming_the_limit(c: httpx.Client) -> None:
    response = c.get("/sparql", params={"query": bomb(26)})
    assert response.status_code == 503
    assert "256 MB (KG_QUERY_MEMORY_MB)" in response.text
    assert response.headers["retry-after"] == "1"
    assert_still_serving(c)


@pytest.mark.slow
def test_sparql_stack_bomb_is_400_before_any_worker(c: httpx.Client) -> None:
    response = c.get("/sparql", params={"query": stack_bomb(10_000)})
    assert response.status_code == 400
    assert f"more than {MAX_DEPTH} levels deep" in response.text
    assert "line 1, column " in response.text
    assert_still_serving(c)


@pytest.mark.slow
@pytest.mark.parametrize("chain", [
    "SELECT * WHERE { ?s ?p ?o FILTER(" + "+".join(["?o"] * 20_000) + ") }",
    "SELECT * WHERE { ?s ?p ?o FILTER(" + "!" * 20_000 + "?o) }",
    "SELECT * WHERE {" + "{} UNION " * 5_000 + "{} }",
    "PREFIX : <urn:> SELECT * WHERE { ?s " + "/".join([":p"] * 20_000) + " ?o }",
])
def test_sparql_operator_chain_is_400_before_any_worker(c: httpx.Client, chain: str) -> None:
    # Unbracketed chains make trees as deep as they are long: each of these crashes Oxigraph.
    response = c.post("/sparql", content=chain.encode(), headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400
    assert f"More than {MAX_CHAIN} chained operators" in response.text
    assert_still_serving(c)


@pytest.mark.slow
def test_sparql_dead_worker_fails_only_its_query(c: httpx.Client, capped: LiveServer) -> None:
    # A crash the guard cannot foresee (here: the worker killed mid-query) costs that query only.
    import signal
    import time

    workers = capped.app.state.runtime.runner  # type: ignore[attr-defined]
    result: list[httpx.Response] = []
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    thread = threading.Thread(target=lambda: result.append(c.get("/sparql", params={"query": runaway})))
    thread.start()
    deadline = time.monotonic() + 5
    while len(workers.idle) == workers.size and time.monotonic() < deadline:
        time.sleep(0.01)
    busy = [w for w in workers.all if w not in workers.idle and w is not workers.spare]  # not the warm spare
    assert busy
    os.kill(busy[0].process.pid, signal.SIGSEGV)
    thread.join(30)
    assert result[0].status_code == 503
    assert "KG_QUERY_MEMORY_MB" in result[0].text and "Only this query failed" in result[0].text
    assert_still_serving(c)


@pytest.mark.slow
def test_sparql_bombs_in_a_row_keep_ready(c: httpx.Client) -> None:
    # Memory bombs hit the cap (503); the stack bomb is refused by the guard before any engine (400).
    for query, status in ((bomb(26), 503), (stack_bomb(10_000), 400), (bomb(27), 503)):
        assert c.get("/sparql", params={"query": query}).status_code == status
        assert c.get("/ready").status_code == 200
    assert_still_serving(c)
