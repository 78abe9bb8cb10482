"""Entity data any client can read (issue 25, item 3): every entity's JSON-LD parsed offline by two
processors (rdflib and pyld, whose document loader refuses the network), every key a term of the context,
`Accept: application/json` answered, and absolute URLs that follow the address the service listens on.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
import rdflib
import uvicorn
from pyld import jsonld  # type: ignore[import-untyped]
from rdflib.compare import isomorphic

from app.build.graph import KnowledgeGraph
from app.config import ROOT, Settings
from app.ld.jsonld import CONTEXT
from app.main import create_app
from tests.helpers import LiveServer, select

EVIL = "evil.example"


def refuse_network(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    raise jsonld.JsonLdError(f"no network in this test: {url}", "loading document failed",
                             code="loading document failed")


jsonld.set_document_loader(refuse_network)


def entity_paths(graph: KnowledgeGraph) -> list[str]:
    """The path of every IRI under {base}/id/ that is a subject of the graph."""
    prefix = graph.settings.base_iri + "/id/"
    rows = select(graph, "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } "
                         f"FILTER(STRSTARTS(STR(?s), '{prefix}')) }}")
    paths = sorted(str(r["s"])[len(graph.settings.base_iri):] for r in rows)
    assert len(paths) > 300
    return paths


def keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            if key not in ("label", "comment", "prefLabel", "altLabel", "definition", "title", "description",
                           "unitText", "name", "articleSection", "publisher", "foafName"):
                yield from keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from keys(item)


def check_entity(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"Accept": "application/ld+json"})
    assert response.status_code == 200, path
    document = response.json()
    assert isinstance(document["@context"], dict), path  # inline: nothing to fetch
    unnamed = {k for k in keys({k: v for k, v in document.items() if k != "@context"})
               if not k.startswith("@") and k not in CONTEXT}
    assert not unnamed, (path, unnamed)  # every property and class has a term
    expected = rdflib.Graph().parse(data=client.get(path + ".nt").content, format="nt")
    parsed = rdflib.Graph().parse(data=response.content, format="json-ld")
    assert isomorphic(parsed, expected), path
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads"})
    assert isomorphic(rdflib.Graph().parse(data=nquads, format="nt"), expected), path


def test_one_entity_of_each_type_reads_offline(client: httpx.Client, graph: KnowledgeGraph) -> None:
    first: dict[str, str] = {}
    for path in entity_paths(graph):
        first.setdefault(path.split("/")[2], path)
    assert {"district", "mechanism", "theme", "topic", "practice", "fact", "quote"} <= set(first)
    for path in first.values():
        check_entity(client, path)


@pytest.mark.slow
def test_every_entity_reads_offline_in_rdflib_and_pyld(client: httpx.Client, graph: KnowledgeGraph) -> None:
    for path in entity_paths(graph):
        check_entity(client, path)


def test_mechanism_kind_is_a_term(client: httpx.Client) -> None:
    node = next(n for n in client.get("/id/mechanism/monthly-station-visit.jsonld").json()["@graph"]
                if n["id"].endswith("/id/mechanism/monthly-station-visit"))
    assert node["mechanismKind"] == "bjrd:Named"  # a compact IRI: bjrd is a prefix of the context
    assert CONTEXT["mechanismKind"] == {"@id": "bjrd:mechanismKind", "@type": "@id"}


def test_application_json_is_answered_with_the_jsonld(client: httpx.Client) -> None:
    as_json = client.get("/id/district/haidian", headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.headers["content-location"] == "/id/district/haidian.jsonld"
    assert as_json.content == client.get("/id/district/haidian", headers={"Accept": "application/ld+json"}).content
    both = client.get("/id/district/haidian", headers={"Accept": "application/json;q=0.9, application/ld+json"})
    assert both.headers["content-type"].startswith("application/ld+json")


# ---------------------------------------------------------------- absolute URLs: where the service listens


def absolute_urls(client: httpx.Client) -> dict[str, str]:
    """The SPARQL endpoint the service description names, VoID's, and the context the ontology's JSON-LD names."""
    sd = list(ox.parse(client.get("/sparql", headers={"Accept": "application/n-triples", "Host": EVIL}).content,
                       format=ox.RdfFormat.N_TRIPLES))
    void = list(ox.parse(client.get("/void", headers={"Accept": "application/n-triples", "Host": EVIL}).content,
                         format=ox.RdfFormat.N_TRIPLES))
    context = client.get("/ontology", headers={"Accept": "application/ld+json", "Host": EVIL}).json()["@context"]
    return {
        "sd": next(t.object.value for t in sd if t.predicate.value.endswith("sparql-service-description#endpoint")),
        "void": next(t.object.value for t in void if t.predicate.value.endswith("void#sparqlEndpoint")),
        "context": context,
    }


def assert_follow(urls: dict[str, str], base: str) -> None:
    assert urls == {"sd": base + "/sparql", "void": base + "/sparql", "context": base + "/context.jsonld"}
    assert httpx.get(urls["context"]).json()["@context"] == CONTEXT
    assert httpx.get(urls["sd"], params={"query": "ASK {}"}).json()["boolean"] is True


@pytest.fixture(scope="module")
def unconfigured() -> Iterator[LiveServer]:
    """The service with no KG_PUBLIC_URL, on the host and port its settings name (as `kg serve` runs it)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(validate_on_start=False, query_workers=1, host="127.0.0.1", port=port)
    assert settings.public_url is None
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server failed to start"
            thread.join(0.01)
        yield LiveServer(f"http://127.0.0.1:{port}", app, server.servers[0].get_loop())
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_without_public_url_absolute_urls_follow_the_listen_address(unconfigured: LiveServer) -> None:
    with httpx.Client(base_url=unconfigured.url, timeout=30) as c:
        assert_follow(absolute_urls(c), unconfigured.url)


def test_a_wildcard_host_is_answered_as_the_loopback_address() -> None:
    assert Settings(host="0.0.0.0", port=8123).public_base == "http://127.0.0.1:8123"
    assert Settings(host="::", port=8123).public_base == "http://[::1]:8123"
    assert Settings(host="0.0.0.0", port=8123, public_url="https://kg.example/").public_base == "https://kg.example"


@pytest.mark.slow
def test_kg_serve_answers_with_its_own_address() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "KG_VALIDATE_ON_START": "false", "KG_QUERY_WORKERS": "1"}
    env.pop("KG_PUBLIC_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port), "--log-level", "warning"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "kg serve did not start"
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=30) as c:
            assert_follow(absolute_urls(c), base)
            assert json.loads(c.get("/id/district/haidian", headers={"Accept": "application/json"}).content)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
