"""The query workers recover from a failed start, and over a store on disk they read a snapshot.

* A worker that cannot start (here: its store is not there yet) is tried again in the background
  until one starts; meanwhile queries wait, are refused with 503, and do not stay counted as
  waiting (an earlier pool counted abandoned waits, so that it refused every query for good).
* Over a store on disk every generation of workers opens its own checkpoint of the store
  (app/store/snapshots.py), never the store the service writes: a write leaves the workers of
  the old version answering from theirs, there is one snapshot per version served, none is left
  once the service stops, and the leftover of a killed process is removed at the next start.
"""

import asyncio
import os
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from app.config import Settings
from app.errors import Overloaded
from app.rdf.formats import BY_NAME
from app.sparql.run import PreparedQuery
from app.sparql.workers import QueryWorkers, WorkerConfig
from app.store.snapshots import DIRECTORY
from tests.helpers import serve_in_thread

BASE = "http://example.org/"
TOKEN = "test-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ASK_ANY = PreparedQuery("ASK { ?s ?p ?o }", "ASK", BY_NAME["json"])


def make_store(path: Path) -> None:
    """A store with one triple at ``path``, made beside it and renamed into place (so no worker sees half of it)."""
    making = path.with_name(path.name + ".making")
    store = ox.Store(str(making))
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"), ox.DefaultGraph()))
    store.flush()
    del store  # closes RocksDB
    os.rename(making, path)


@pytest.mark.slow
def test_workers_that_cannot_start_are_tried_again_and_abandoned_waits_are_not_counted(tmp_path: Path) -> None:
    path = tmp_path / "store"
    pool_size, queue = 2, 3

    async def scenario() -> bytes:
        pool = QueryWorkers(WorkerConfig("oxigraph", BASE, store_path=str(path)), size=pool_size, timeout_s=0.5,
                            queue=queue)
        await pool.start()  # returns: the workers could not open the store, and are tried again
        try:
            assert pool.alive == 0
            for _ in range(queue + 2):  # more abandoned waits than the queue holds
                with pytest.raises(Overloaded, match="No query worker became free"):
                    await pool.run(ASK_ANY)
            assert pool.queued == 0
            make_store(path)
            deadline = time.monotonic() + 30
            while pool.idle_count < pool_size or pool.spare is None:
                assert time.monotonic() < deadline, f"only {pool.idle_count} of {pool_size} workers came back"
                await asyncio.sleep(0.05)
            answers = await asyncio.gather(*(pool.run(ASK_ANY) for _ in range(pool_size + queue)))
            return b"".join(answer.body for answer in answers)
        finally:
            await pool.close()

    bodies = asyncio.run(scenario())
    assert bodies.count(b'"boolean":true') == pool_size + queue


def snapshots(store: Path) -> list[str]:
    parent = store / DIRECTORY
    return sorted(p.name for p in parent.iterdir()) if parent.is_dir() else []


@pytest.mark.slow
def test_disk_workers_read_one_snapshot_per_version_and_leave_none(tmp_path: Path) -> None:
    store = tmp_path / "store"
    leftover = store / DIRECTORY / "999999999-1"  # what a killed process would leave
    leftover.mkdir(parents=True)
    (leftover / "CURRENT").write_text("MANIFEST-000001\n")
    settings = Settings(store=f"disk:{store}", write_token=TOKEN, query_workers=1, query_timeout_s=10)
    for live in serve_in_thread(settings):
        (first,) = snapshots(store)  # the leftover is gone
        runtime = live.app.state.runtime  # type: ignore[attr-defined]
        old_pool = runtime.runner
        assert old_pool.config.store_path == str(store / DIRECTORY / first)
        with httpx.Client(base_url=live.url, timeout=60) as client:
            ask = {"query": "ASK { <urn:a> <urn:b> <urn:c> }"}
            assert client.get("/sparql", params=ask).json()["boolean"] is False
            # A worker of the old version, held busy across the write: it answers from its snapshot.
            busy = asyncio.run_coroutine_threadsafe(old_pool._acquire(), live.loop).result(10)
            r = client.post("/update", content="INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                            headers={**AUTH, "Content-Type": "application/sparql-update"})
            assert r.status_code == 204, r.text
            assert client.get("/sparql", params=ask).json()["boolean"] is True
            busy.conn.send((ask["query"], "ASK", "json", (), ()))
            message, body = busy.conn.recv(), busy.conn.recv_bytes()
            assert message[0] == "ok" and b'"boolean":false' in body  # the old version, whole
            assert len(snapshots(store)) == 2  # the old one is kept while its worker is busy
            live.loop.call_soon_threadsafe(old_pool._release, busy)
            deadline = time.monotonic() + 10
            while first in snapshots(store):
                assert time.monotonic() < deadline, "the old version's snapshot was not removed"
                time.sleep(0.05)
            assert len(snapshots(store)) == 1
    assert snapshots(store) == []  # the service stopped: its snapshot went with its workers

