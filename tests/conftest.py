"""Shared fixtures: the real graph, and the real service over loopback HTTP.

``server`` binds 127.0.0.1:0, runs ``uvicorn.Server`` in a thread with that socket and waits on
``server.started`` — no sleeps, no mocks: the tests talk to the same app ``kg serve`` runs.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.config import ROOT, Settings
from app.main import create_app
from app.store.graph import KnowledgeGraph

SOURCE = next((ROOT / "data" / "source").glob("*.txt"))


@dataclass
class LiveServer:
    url: str
    app: object

    @property
    def graph(self) -> KnowledgeGraph:
        return self.app.state.runtime.graph  # type: ignore[attr-defined]


def serve_in_thread(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    try:
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server failed to start")
            thread.join(0.01)
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


#: The store backends the live-server suite runs on (KG_TEST_BACKENDS, comma-separated);
#: scripts/test.sh (CI) runs all three, a bare `pytest` only the default, memory.
BACKENDS = [b for b in os.environ.get("KG_TEST_BACKENDS", "memory").split(",") if b]


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph server (PyPI package `oxigraph`) on a free loopback port, loaded with `kg load`.

    Yields the KG_STORE value that points the service at it."""
    port = free_port()
    binary = Path(sys.executable).parent / "oxigraph"
    process = subprocess.Popen([str(binary), "serve", "--bind", f"127.0.0.1:{port}", "--timeout-s", "5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    store = f"sparql:{base}/query;update={base}/update;gsp={base}/store"
    try:
        wait_for_port(port, process)
        subprocess.run([sys.executable, "-m", "app", "load", "--into", store], check=True,
                       stdout=subprocess.DEVNULL)
        yield store
    finally:
        process.kill()
        process.wait(10)


@pytest.fixture(scope="session", params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    backend = request.param
    if backend == "disk":
        store = f"disk:{tmp_path_factory.mktemp('disk-store')}"
    elif backend == "sparql":
        store = request.getfixturevalue("oxigraph_server")
    else:
        store = "memory"
    return Settings(query_timeout_s=3.0, query_workers=2, store=store)


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[LiveServer]:
    """The service, on a free loopback port, for the whole test session (once per backend)."""
    yield from serve_in_thread(settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the process exited before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture(scope="session")
def graph(server: LiveServer) -> KnowledgeGraph:
    """The graph the live server answers from (loaded and validated once)."""
    return server.graph


@pytest.fixture()
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def source_text() -> str:
    return SOURCE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def district_paragraphs(source_text: str) -> dict[str, tuple[int, int]]:
    """zh district name (e.g. 海淀区) -> (start, end) of its paragraph in the article."""
    spans = {}
    for match in re.finditer(r"^  (\S{2,3}区)人大[^\n]*", source_text, flags=re.M):
        spans[match.group(1)] = (match.start() + 2, match.end())
    return spans


def select(graph: KnowledgeGraph, query: str) -> list[dict]:
    """Run an ad-hoc SELECT (test-side, independent of the named queries) as JSON rows."""
    from app.rdf.terms import to_python

    return [{k: to_python(v) for k, v in row.items()} for row in graph.backend.select(query)]


PREFIXES = """
PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
