"""Test helpers: the live server in a thread, free ports, ad-hoc SPARQL. Fixtures are in conftest.py."""

import asyncio
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from app.build.graph import KnowledgeGraph
from app.config import ROOT, Settings
from app.main import create_app
from app.rdf.terms import to_python

SOURCE = next((ROOT / "data" / "sources").glob("*/article.txt"))


#: /sparql per-client limits for the suite's own busy clients (one address sends everything):
#: raised, not turned off.
SUITE_LIMITS: dict[str, Any] = {"sparql_query_seconds": 100_000.0, "sparql_concurrency": 64,
                                 "sparql_client_workers": 64}


@dataclass
class LiveServer:
    url: str
    app: object
    loop: asyncio.AbstractEventLoop  # the server thread's event loop (for asyncio.run_coroutine_threadsafe)

    @property
    def graph(self) -> KnowledgeGraph:
        return self.app.state.runtime.graph  # type: ignore[attr-defined]


def serve_in_thread(settings: Settings, public_here: bool = False,
                    options: dict[str, Any] | None = None) -> Iterator[LiveServer]:
    """The service on a free loopback port, in a thread with its own event loop (no sleeps: waits on
    ``server.started``). ``public_here``: its public URL (KG_PUBLIC_URL) is that loopback address,
    so that the absolute URLs in its answers can be followed. ``options``: more uvicorn options
    (e.g. ``app.server.connections.server_options(settings)``, what ``kg serve`` runs with).

    Start-up validation is off unless ``settings`` asks for it: the suite's own server (conftest)
    and the tests of validation do; a server started for its limits or its front does not need
    the same article validated again (a few seconds each)."""
    if "validate_on_start" not in settings.model_fields_set:
        settings = settings.model_copy(update={"validate_on_start": False})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if public_here:
        settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **(options or {}))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    try:
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server failed to start")
            thread.join(0.01)
        yield LiveServer(f"http://127.0.0.1:{port}", app, server.servers[0].get_loop())
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the process exited before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def kg_serve(env: dict[str, str] | None = None,
             stdout: int = subprocess.DEVNULL) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``kg serve`` (``python -m app serve``) as a subprocess on a free loopback port, with ``env``
    over this environment; yields (process, port) once it listens, and stops it after."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)],
                               env={**os.environ, **(env or {})}, stdout=stdout, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, timeout=120)
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(15)


@contextmanager
def running_oxigraph() -> Iterator[str]:
    """A real, empty Oxigraph server (the `oxigraph` package's binary) on a free loopback port, until
    the block ends; yields the KG_STORE value that points at it (query, update and GSP URLs)."""
    port = free_port()
    binary = Path(sys.executable).parent / "oxigraph"
    process = subprocess.Popen([str(binary), "serve", "--bind", f"127.0.0.1:{port}", "--timeout-s", "5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, process)
        yield f"sparql:{base}/query;update={base}/update;gsp={base}/store"
    finally:
        process.kill()
        process.wait(10)


def select(graph: KnowledgeGraph, query: str) -> list[dict]:
    """Run an ad-hoc SELECT (test-side, independent of the named queries) as JSON rows."""
    return [{k: to_python(v) for k, v in row.items()} for row in graph.backend.select(query)]


PREFIXES = """
PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""


#: The Turtle prefixes of the data's files, for made-up sources the tests write (an unused prefix is harmless).
TURTLE_PREFIXES = """@prefix bjrd:    <https://bjrd-kg.example.org/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix dist:    <https://bjrd-kg.example.org/id/district/> .
@prefix fact:    <https://bjrd-kg.example.org/id/fact/> .
@prefix mech:    <https://bjrd-kg.example.org/id/mechanism/> .
@prefix oa:      <http://www.w3.org/ns/oa#> .
@prefix prac:    <https://bjrd-kg.example.org/id/practice/> .
@prefix quote:   <https://bjrd-kg.example.org/id/quote/> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema:  <https://schema.org/> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix src:     <https://bjrd-kg.example.org/id/source/> .
@prefix theme:   <https://bjrd-kg.example.org/id/theme/> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
"""


def mechanism_reach(graph: KnowledgeGraph, kind: str = "Named") -> dict[str, set[str]]:
    """district id -> the mechanisms of ``kind`` (Named or Umbrella) its practices use, directly or through a
    narrower mechanism: from the asserted links and skos:broader*, the definition of "shared" in data/README.md."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?d ?m WHERE {{
          GRAPH <{graph.names.data}> {{ ?p bjrd:district ?d ; bjrd:usesMechanism ?asserted }}
          ?asserted skos:broader* ?m . ?m bjrd:mechanismKind bjrd:{kind} .
        }}""")
    reach: dict[str, set[str]] = {}
    for row in rows:
        reach.setdefault(row["d"].rsplit("/", 1)[-1], set()).add(row["m"].rsplit("/", 1)[-1])
    return reach


def idf_similarity(reach: dict[str, set[str]], a: str, b: str, districts: int = 16) -> float:
    """Jaccard of two districts' named mechanisms, each weighted by ln(districts / districts using it)."""
    users: dict[str, int] = {}
    for mechanisms in reach.values():
        for m in mechanisms:
            users[m] = users.get(m, 0) + 1
    mine, theirs = reach.get(a, set()), reach.get(b, set())
    union = sum(math.log(districts / users[m]) for m in mine | theirs)
    return sum(math.log(districts / users[m]) for m in mine & theirs) / union if union else 0.0
