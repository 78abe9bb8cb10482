"""Fair share of the query workers, and limits by what a query costs (issue 23, item 3).

* One client's queries hold at most ``workers − 1`` workers, whatever path spelling led to them:
  a second address is served at once while the first runs its most runaway queries.
* A client is limited by query-seconds a minute (``KG_SPARQL_QUERY_SECONDS``), not by requests:
  hundreds of cheap or stored answers in a loop are never refused; runaway queries soon are.

Real sockets over loopback, from two addresses (127.0.0.1 and 127.0.0.2 are both this machine on
Linux); the server is the real service with its real worker processes.
"""

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from app.errors import TooManyRequests
from app.sparql.share import QueryLedger
from app.sparql.workers import QueryWorkers
from tests.helpers import LiveServer, running_oxigraph, serve_in_thread

#: Runs far past any deadline here (the union's triples cubed); each variant a different query,
#: so that none waits for another's answer instead of taking a worker.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} LIMIT {n}"
#: What the router reads as /sparql, spelled as an attacker would.
SPELLINGS = ["/sparql", "/%73parql", "/%73%70%61%72%71%6C", "/spar%71l", "/sparq%6c"]
WORKERS = 3


def client_from(address: str, url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60, transport=httpx.HTTPTransport(local_address=address))


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # The default per-client limits; three workers, as the default on 2 cores.
    yield from serve_in_thread(Settings(query_workers=WORKERS, query_timeout_s=6.0))


def test_spellings_of_sparql_route_to_the_query_endpoint(server: LiveServer) -> None:
    with client_from("127.0.0.1", server.url) as client:
        for path in SPELLINGS:
            response = client.get(path, params={"query": "ASK {}"})
            assert response.status_code == 200 and response.json()["boolean"] is True, path


@pytest.mark.slow
def test_second_address_is_served_while_the_first_runs_its_most_runaway_queries(server: LiveServer) -> None:
    results: dict[int, int] = {}

    def runaway(n: int) -> None:
        with client_from("127.0.0.1", server.url) as client:
            path = SPELLINGS[n % len(SPELLINGS)]
            results[n] = client.get(path, params={"query": RUNAWAY.format(n=n + 1)}).status_code

    ledger: QueryLedger = server.app.state.query_ledger  # type: ignore[attr-defined]
    concurrency = ledger.concurrency
    threads = [threading.Thread(target=runaway, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 3
    while ledger.accounts.get("127.0.0.1") is None or ledger.accounts["127.0.0.1"].in_flight < concurrency:
        assert time.monotonic() < deadline, "the runaway queries did not all arrive"
        time.sleep(0.02)
    try:
        pool = server.app.state.runtime.runner  # type: ignore[attr-defined]
        assert isinstance(pool, QueryWorkers)
        assert pool.waiting.held.get("127.0.0.1") == WORKERS - 1  # never all of them
        # One more from the first address, by another spelling of the path: over its queries in flight.
        with client_from("127.0.0.1", server.url) as first:
            refused = first.get("/%73parql", params={"query": RUNAWAY.format(n=99)})
            assert refused.status_code == 429 and "KG_SPARQL_CONCURRENCY" in refused.text
        # The second address is served at once, again and again, while those run.
        with client_from("127.0.0.2", server.url) as second:
            for n in range(5):
                started = time.monotonic()
                response = second.get("/sparql", params={"query": f"ASK {{ FILTER({n} != -2) }}"})
                took = time.monotonic() - started
                assert response.status_code == 200 and response.json()["boolean"] is True
                assert took < 2.0, f"the second address waited {took:.1f} s"  # before: until a deadline
    finally:
        for thread in threads:
            thread.join(60)
    assert sorted(results.values()) == [503] * concurrency  # each stopped at its deadline


def test_a_loop_of_cheap_and_stored_answers_is_never_refused(server: LiveServer) -> None:
    with client_from("127.0.0.1", server.url) as client:
        distinct = [client.get("/sparql", params={"query": f"ASK {{ FILTER({n} >= 0) }}"}).status_code
                    for n in range(300)]
        stored = [client.get("/sparql", params={"query": "ASK { FILTER(1 >= 0) }"}).status_code for _ in range(300)]
    assert set(distinct) == {200} and set(stored) == {200}


@pytest.fixture(scope="module")
def frugal() -> Iterator[LiveServer]:
    # 3 query-seconds a minute, queries stopped after 1 s.
    yield from serve_in_thread(Settings(query_workers=2, query_timeout_s=1.0, sparql_query_seconds=3.0))


@pytest.mark.slow
def test_runaway_queries_spend_the_clients_query_seconds(frugal: LiveServer) -> None:
    cheap = "ASK { FILTER(2 >= 0) }"
    with client_from("127.0.0.1", frugal.url) as first, client_from("127.0.0.2", frugal.url) as second:
        assert first.get("/sparql", params={"query": cheap}).status_code == 200  # now a stored answer
        statuses = []
        for n in range(8):
            response = first.get("/sparql", params={"query": RUNAWAY.format(n=n + 1)})
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        assert statuses[-1] == 429, statuses
        assert set(statuses[:-1]) == {503} and len(statuses) <= 5  # about 3 s of runaway queries, then no more
        assert "KG_SPARQL_QUERY_SECONDS" in response.text
        assert int(response.headers["retry-after"]) >= 1
        # A new query of this client is refused too (its balance is spent) ...
        assert first.get("/sparql", params={"query": "ASK { FILTER(3 >= 0) }"}).status_code == 429
        # ... but not a stored answer, which takes no worker; nor another client.
        assert first.get("/sparql", params={"query": cheap}).status_code == 200
        assert second.get("/sparql", params={"query": "ASK { FILTER(4 >= 0) }"}).status_code == 200


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ledger_charges_query_seconds_and_refills_them() -> None:
    clock = Clock()
    ledger = QueryLedger(concurrency=2, seconds_per_minute=60, clock=clock)
    ledger.enter("a")
    ledger.leave("a", 59.5)
    ledger.enter("a")  # 0.5 s left: admitted
    ledger.leave("a", 10)
    with pytest.raises(TooManyRequests) as refused:
        ledger.enter("a")
    assert refused.value.headers == {"Retry-After": "10"}  # 9.5 s short at 1 s a second
    ledger.enter("b")  # another client is not concerned
    clock.now += 10
    ledger.enter("a")
    ledger.enter("a")
    with pytest.raises(TooManyRequests, match="KG_SPARQL_CONCURRENCY"):
        ledger.enter("a")  # two in flight already


def test_ledger_share_is_workers_less_one() -> None:
    assert [QueryLedger(4, 60).workers_per_client(n) for n in (1, 2, 3, 8)] == [1, 1, 2, 7]
    assert QueryLedger(4, 60, client_workers=3).workers_per_client(8) == 3
    assert QueryLedger(4, 60, client_workers=0).workers_per_client(8) == 0


def test_ledger_forgets_idle_clients_and_stays_bounded() -> None:
    clock = Clock()
    ledger = QueryLedger(concurrency=4, seconds_per_minute=60, max_clients=100, clock=clock)
    for n in range(1000):
        ledger.enter(f"10.0.{n // 250}.{n % 250}")
    assert len(ledger.accounts) <= 100
    clock.now += 120
    ledger.enter("10.9.9.9")
    assert len(ledger.accounts) <= 100


def test_fair_queue_serves_the_client_holding_fewest_first() -> None:
    import asyncio

    from app.sparql.share import FairQueue, Waiter

    async def scenario() -> list[str | None]:
        loop = asyncio.get_running_loop()
        queue: FairQueue[object] = FairQueue()
        queue.share = 2
        queue.hold("a", 2)  # a holds its most
        queue.hold("b", 1)
        for client in ["a", "a", "b", "c", None, "b"]:
            queue.append(Waiter(loop.create_future(), client))
        order = []
        while (waiter := queue.next()) is not None:
            order.append(waiter.client)
            queue.hold(waiter.client, 1)
        return order + [f"left {len(queue)}"]  # type: ignore[list-item]

    # The service's own query first, then c (holds none), then b (holds 1, then 2: its most);
    # a holds its most throughout: its two wait for one of its own to end.
    assert asyncio.run(scenario()) == [None, "c", "b", "left 3"]


@pytest.fixture(scope="module")
def remote_frugal() -> Iterator[LiveServer]:
    """The service over a real Oxigraph server (remote mode): two connections to the store, queries
    abandoned after 1 s, 2 query-seconds a minute per client."""
    with running_oxigraph() as store:
        subprocess.run([sys.executable, "-m", "app", "load", "--into", store], check=True, stdout=subprocess.DEVNULL)
        yield from serve_in_thread(Settings(store=store, query_workers=2, query_timeout_s=1.0,
                                            sparql_query_seconds=2.0, validate_on_start=False))


@pytest.mark.slow
def test_remote_mode_keeps_the_same_share_and_charges(remote_frugal: LiveServer) -> None:
    """Queries sent on to an external store are admitted, shared and charged by the same ledger as
    the worker pool's: before, remote mode had no per-client limit at all."""
    ledger: QueryLedger = remote_frugal.app.state.query_ledger  # type: ignore[attr-defined]
    proxy = remote_frugal.app.state.runtime.runner  # type: ignore[attr-defined]
    share = ledger.workers_per_client(proxy.size)
    held: list[int] = []
    statuses: dict[int, int] = {}

    def runaway(n: int) -> None:
        with client_from("127.0.0.1", remote_frugal.url) as client:
            statuses[n] = client.get("/sparql", params={"query": RUNAWAY.format(n=n + 1)}).status_code

    threads = [threading.Thread(target=runaway, args=(n,)) for n in range(ledger.concurrency)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 3
    while ledger.accounts.get("127.0.0.1") is None or ledger.accounts["127.0.0.1"].in_flight < ledger.concurrency:
        assert time.monotonic() < deadline, "the runaway queries did not all arrive"
        time.sleep(0.01)
    with client_from("127.0.0.1", remote_frugal.url) as first:
        over = first.get("/sparql", params={"query": RUNAWAY.format(n=99)})
    assert over.status_code == 429 and "KG_SPARQL_CONCURRENCY" in over.text  # over its queries in flight
    while any(t.is_alive() for t in threads):
        held.append(proxy._held.get("127.0.0.1", 0))
        time.sleep(0.01)
    for thread in threads:
        thread.join(60)
    assert max(held) == share  # never more of the store's connections than its share
    assert set(statuses.values()) <= {503, 429}  # abandoned at the deadline, or over the query-seconds
    # Its query-seconds are spent by now (each runaway held a connection ~1 s); another address is not.
    with client_from("127.0.0.1", remote_frugal.url) as first, client_from("127.0.0.2", remote_frugal.url) as second:
        spent = first.get("/sparql", params={"query": "ASK { FILTER(5 >= 0) }"})
        assert spent.status_code == 429 and "KG_SPARQL_QUERY_SECONDS" in spent.text
        assert second.get("/sparql", params={"query": "ASK { FILTER(6 >= 0) }"}).status_code == 200
