"""Shared fixtures: the real graph, and the real service over loopback HTTP.

``server`` runs the app ``kg serve`` runs (tests/helpers.py ``serve_in_thread``) — no sleeps, no
mocks. Helpers that are not fixtures live in tests/helpers.py.
"""

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from app.config import Settings
from tests.helpers import SOURCE, SUITE_LIMITS, LiveServer, running_oxigraph, serve_in_thread

#: The store backends the live-server suite runs on (KG_TEST_BACKENDS, comma-separated);
#: scripts/test.sh (CI) runs all three, a bare `pytest` only the default, memory.
BACKENDS = [b for b in os.environ.get("KG_TEST_BACKENDS", "memory").split(",") if b]


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph server (PyPI package `oxigraph`) on a free loopback port, loaded with `kg load`.

    Yields the KG_STORE value that points the service at it."""
    with running_oxigraph() as store:
        subprocess.run([sys.executable, "-m", "app", "load", "--into", store], check=True,
                       stdout=subprocess.DEVNULL)
        yield store


@pytest.fixture(scope="session", params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    backend = request.param
    if backend == "disk":
        store = f"disk:{tmp_path_factory.mktemp('disk-store')}"
    elif backend == "sparql":
        store = request.getfixturevalue("oxigraph_server")
    else:
        store = "memory"
    # The suite's own clients send far more than one person would: the /sparql limits are raised, not off.
    return Settings(query_timeout_s=3.0, query_workers=2, store=store, validate_on_start=True, **SUITE_LIMITS)


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[LiveServer]:
    """The service, on a free loopback port, for the whole test session (once per backend)."""
    yield from serve_in_thread(settings, public_here=True)


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
