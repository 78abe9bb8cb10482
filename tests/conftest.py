"""Shared fixtures: the real graph, and the real service over loopback HTTP.

``server`` binds 127.0.0.1:0, runs ``uvicorn.Server`` in a thread with that socket and waits on
``server.started`` — no sleeps, no mocks: the tests talk to the same app ``kg serve`` runs.
"""

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.config import ROOT, Settings
from app.main import create_app
from app.store.engine import KnowledgeGraph

SOURCE = next((ROOT / "data" / "source").glob("*.txt"))


@dataclass
class LiveServer:
    url: str
    app: object

    @property
    def graph(self) -> KnowledgeGraph:
        return self.app.state.graph  # type: ignore[attr-defined]


def serve_in_thread(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server failed to start")
        thread.join(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(query_timeout_s=3.0, query_workers=2)


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[LiveServer]:
    """The service, on a free loopback port, for the whole test session."""
    yield from serve_in_thread(settings)


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
    from app.store.terms import to_python

    return [{k: to_python(v) for k, v in row.items()} for row in graph.backend.select(query)]


PREFIXES = """
PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
