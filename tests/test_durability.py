"""With the disk store every acknowledged write survives kill -9 of the server: after a restart
each one is there, the store opens cleanly and the graph still conforms to the shapes."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.build.build import count_distinct, recorded
from app.build.graph import Loaded, validate_loaded
from app.build.load import SourceFiles, read_shapes
from app.config import Settings
from app.store.backends import EmbeddedStore
from app.store.graphs import GraphNames
from app.store.spec import StoreSpec
from tests.helpers import free_port

TOKEN = "durability-token"


def start_server(store: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "KG_STORE": f"disk:{store}", "KG_WRITE_TOKEN": TOKEN, "KG_QUERY_WORKERS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port), "--log-level", "warning"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    store, port = tmp_path / "store", free_port()
    server = start_server(store, port)
    acknowledged: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            for i in range(1000):
                if stop.is_set():
                    return
                try:
                    r = c.put(f"/graph-store?graph=urn:x:durable-{i}", content=f'<urn:x:s{i}> <urn:x:p> "{i}" .',
                              headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/n-triples"})
                except httpx.TransportError:
                    return
                if r.status_code == 201:
                    acknowledged.append(i)

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGKILL)  # in the middle of the stream of writes
    server.wait(10)
    stop.set()
    thread.join(30)
    assert len(acknowledged) >= 3

    server = start_server(store, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            for i in acknowledged:
                r = c.get(f"/graph-store?graph=urn:x:durable-{i}", headers={"Accept": "application/n-triples"})
                assert r.status_code == 200 and f'"{i}"' in r.text
    finally:
        server.terminate()
        server.wait(10)

    settings = Settings(store=f"disk:{store}")
    reopened = EmbeddedStore(StoreSpec.parse(settings.store), settings.base_iri, settings.base_iri + "/")
    names = GraphNames.for_base(settings.base_iri)
    loaded = Loaded(names, reopened.read_graphs(), read_shapes(SourceFiles.from_settings(settings), settings.base_iri))
    assert reopened.read_version() is not None
    assert validate_loaded(loaded).conforms
    # the triple count a restart serves without counting is kept true by every write
    assert recorded(reopened.store, settings.base_iri)[1] == count_distinct(reopened.store, reopened.content_graphs())
