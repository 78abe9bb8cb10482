"""/sparql is read-only and bounded: no SERVICE connections, deadlines that really stop the
query (its CPU is free at once), other queries answered meanwhile, 503 + Retry-After when full."""

import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from app.sparql.workers import QueryWorkers
from tests.helpers import LiveServer, serve_in_thread

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
QUICK = "ASK { ?s ?p ?o }"


def fresh_quick() -> str:
    """QUICK as a query not asked before (a comment no longer makes one: the engine runs the guard's
    reading, comments blanked, so ``QUICK # n`` is QUICK and may be answered without a worker)."""
    return f"ASK {{ ?s ?p ?o FILTER({time.monotonic_ns()} > 0) }}"


@pytest.fixture(scope="module")
def small_server() -> Iterator[LiveServer]:
    """One worker, no queue, 2 s deadline: the limits are reached with one runaway query."""
    yield from serve_in_thread(Settings(query_timeout_s=2.0, query_workers=1, query_queue=0))


def workers_of(server: LiveServer) -> QueryWorkers:
    return server.app.state.runtime.runner  # type: ignore[attr-defined]


def wait_until_all_idle(server: LiveServer, timeout: float = 30) -> None:
    workers = workers_of(server)
    deadline = time.monotonic() + timeout
    while workers.idle_count < workers.size:
        assert time.monotonic() < deadline, "the query workers did not come back"
        time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_service_to_listening_loopback_socket_gets_no_connection(client: httpx.Client) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(1.5)
    port = listener.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(listener.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    for query in (f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
                  f"select * {{ service silent <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
                  f"PREFIX x: <http://127.0.0.1:{port}/> SELECT * {{ SeRvIcE x:q {{ ?s ?p ?o }} }}"):
        response = client.get("/sparql", params={"query": query})
        assert response.status_code == 400
        assert "SERVICE" in response.text
    thread.join()
    listener.close()
    assert accepted == []


def test_load_to_listening_loopback_socket_is_refused(client: httpx.Client) -> None:
    response = client.post("/sparql", data={"update": "LOAD <http://127.0.0.1:1/x.ttl>"})
    assert response.status_code == 400


@pytest.mark.slow
def test_sparql_deadline_stops_query_and_frees_cpu(small_server: LiveServer) -> None:
    wait_until_all_idle(small_server)
    workers = workers_of(small_server)
    pid = workers.idle[0].process.pid
    started = time.monotonic()
    response = httpx.get(f"{small_server.url}/sparql", params={"query": RUNAWAY}, timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "timed out" in response.text and "2 s" in response.text
    assert 2.0 <= elapsed < 3.0
    # The worker that ran it is gone (killed, reaped) within a second: its CPU is free.
    gone_by = time.monotonic() + 1.0
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < gone_by:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{pid}")
    assert workers.timeouts >= 1
    wait_until_all_idle(small_server)
    assert httpx.get(f"{small_server.url}/sparql", params={"query": QUICK}).json()["boolean"] is True


@pytest.mark.slow
def test_sparql_busy_workers_answer_503_with_retry_after(small_server: LiveServer) -> None:
    wait_until_all_idle(small_server)
    runaway = threading.Thread(target=httpx.get, args=(f"{small_server.url}/sparql",),
                               kwargs={"params": {"query": RUNAWAY}, "timeout": 30})
    runaway.start()
    deadline = time.monotonic() + 5
    while workers_of(small_server).idle_count and time.monotonic() < deadline:
        time.sleep(0.01)
    # A query not asked before (an answer already given is reused without a worker), from another
    # address: every worker is busy, so 503. From the runaway's own address it is over that
    # client's share of the workers first: 429.
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    with other:
        response = other.get(f"{small_server.url}/sparql", params={"query": fresh_quick()})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "busy" in response.text
    same = httpx.get(f"{small_server.url}/sparql", params={"query": fresh_quick()})
    assert same.status_code == 429 and "retry-after" in same.headers
    runaway.join()
    wait_until_all_idle(small_server)


@pytest.mark.slow
def test_sparql_other_queries_answered_while_runaway_runs(server: LiveServer) -> None:
    wait_until_all_idle(server)
    remote = server.graph.spec.kind == "sparql"  # the store runs the query, not our workers
    worker_pids = [] if remote else [w.process.pid for w in workers_of(server).idle]
    cpu_before = {pid: cpu_seconds(pid) for pid in worker_pids}
    results: list[httpx.Response] = []
    runaway = threading.Thread(target=lambda: results.append(
        httpx.get(f"{server.url}/sparql", params={"query": RUNAWAY}, timeout=30)))
    runaway.start()
    busy: list[int] = []
    watch_until = time.monotonic() + (0 if remote else 2.5)
    while not busy and time.monotonic() < watch_until:
        time.sleep(0.1)
        busy = [pid for pid in worker_pids if cpu_seconds(pid) - cpu_before[pid] > 0.2]
    assert busy or remote, "no worker is running the runaway query"
    for _ in range(20):
        started = time.monotonic()
        quick = httpx.get(f"{server.url}/sparql", params={"query": fresh_quick()}, timeout=30)
        assert quick.status_code == 200 and quick.json()["boolean"] is True
        assert time.monotonic() - started < 1.0
    runaway.join()
    assert results[0].status_code == 503
    wait_until_all_idle(server)


def test_dead_idle_worker_is_replaced_and_query_answered(server: LiveServer) -> None:
    wait_until_all_idle(server)
    workers = workers_of(server)
    if not hasattr(workers, "all"):
        pytest.skip("queries run in the remote store, not in worker processes")
    victim = workers.idle[-1]  # the next one handed out
    os.kill(victim.process.pid, 9)
    victim.process.join(5)
    # A text not asked before in this version: answered by a worker, not from the stored answers.
    response = httpx.get(f"{server.url}/sparql", params={"query": fresh_quick()}, timeout=30)
    assert response.status_code == 200 and response.json()["boolean"] is True
    assert victim not in workers.all
    wait_until_all_idle(server)
