"""KG_STORE=sparql:…: when the store goes away requests get 503 with a clear message (not 500,
not a hang beyond the deadline), /ready says so, and the service recovers by itself when the
store is back (a real Oxigraph server, killed and restarted on its data)."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.helpers import LiveServer, free_port, serve_in_thread, wait_for_port

ASK = "ASK { ?s ?p ?o }"


def start_oxigraph(location: Path, port: int) -> subprocess.Popen:
    binary = Path(sys.executable).parent / "oxigraph"
    process = subprocess.Popen([str(binary), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path, int, list]]:
    location, port = tmp_path_factory.mktemp("oxigraph"), free_port()
    base = f"http://127.0.0.1:{port}"
    store = f"sparql:{base}/query;update={base}/update;gsp={base}/store"
    processes = [start_oxigraph(location, port)]
    subprocess.run([sys.executable, "-m", "app", "load", "--into", store], check=True, stdout=subprocess.DEVNULL)
    try:
        for server in serve_in_thread(Settings(store=store, query_timeout_s=3.0)):
            yield server, location, port, processes
    finally:
        for p in processes:
            p.kill()
            p.wait(10)


@pytest.mark.slow
def test_store_outage_is_503_and_recovers(outage: tuple[LiveServer, Path, int, list]) -> None:
    server, location, port, processes = outage
    with httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.get("/sparql", params={"query": ASK}).json()["boolean"] is True
        assert c.get("/ready").status_code == 200

        processes[0].kill()
        processes[0].wait(10)
        # An answer already given for this graph version is kept: it does not need the store.
        assert c.get("/sparql", params={"query": ASK}).json()["boolean"] is True
        started = time.monotonic()
        # Not asked before (a comment would not do: the engine runs the guard's reading, comments blanked).
        r = c.get("/sparql", params={"query": "ASK { ?s ?p ?o FILTER(1 > 0) }"})
        assert r.status_code == 503
        # The store's address is configuration, not something to tell every client.
        assert "cannot be reached" in r.text and str(port) not in r.text
        assert "retry-after" in r.headers
        assert time.monotonic() - started < 3.0 + 1
        ready = c.get("/ready")
        assert ready.status_code == 503 and "cannot be reached" in ready.json()["detail"]

        processes.append(start_oxigraph(location, port))  # back, on the same data
        r = c.get("/sparql", params={"query": ASK})
        assert r.status_code == 200 and r.json()["boolean"] is True
        assert c.get("/ready").status_code == 200
        assert len(c.get("/api/districts").json()) == 16
