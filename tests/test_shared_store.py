"""A remote store shared with others (issue 23, item 5): the service reads, serves, dumps and
replaces only the graphs its meta graph records as its own. Against a real Oxigraph server that
also holds a co-tenant's graph: the co-tenant's triples never appear in an answer or a dump, and
survive ``kg load --into``."""

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from urllib.parse import parse_qsl

import httpx
import pyoxigraph as ox
import pytest

from app.config import Settings
from app.store.graphs import OWNS, meta_graph
from tests.helpers import SUITE_LIMITS, LiveServer, running_oxigraph, serve_in_thread

#: Starts a real Oxigraph server and runs `kg load` twice (about 40 s).
pytestmark = pytest.mark.slow

TOKEN = "shared-store-writer"
#: The co-tenant's triples found right after the fixture's first `kg load`.
LOADED_OVER: list[int] = []
COTENANT = "http://cotenant.example/graph/private"
SECRET = "http://cotenant.example/id/secret"
TRIPLES = f'<{SECRET}> <http://cotenant.example/p> "the co-tenant\'s own" .'


def _url(store: str, part: str) -> str:
    return next(p.split("=", 1)[1] for p in store.split(";") if p.startswith(f"{part}="))


def _query_url(store: str) -> str:
    return store.split(";")[0].removeprefix("sparql:")


def _cotenant_triples(store: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{COTENANT}> {{ ?s ?p ?o }} }}"
    response = httpx.post(_query_url(store), data={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _load(store: str) -> None:
    subprocess.run([sys.executable, "-m", "app", "load", "--into", store], check=True, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def shared() -> Iterator[str]:
    """A real Oxigraph server holding a co-tenant's graph (and a triple in its default graph), then the article."""
    with running_oxigraph() as store:
        update = f"INSERT DATA {{ GRAPH <{COTENANT}> {{ {TRIPLES} }} {TRIPLES} }}"
        for step in ("before", "after"):  # after too: the reads are tested even if a load dropped it
            httpx.post(_url(store, "update"), content=update, headers={"Content-Type": "application/sparql-update"},
                       timeout=10).raise_for_status()
            if step == "before":
                _load(store)
                LOADED_OVER.append(_cotenant_triples(store))
        yield store


@pytest.fixture(scope="module")
def remote(shared: str) -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(store=shared, query_timeout_s=5.0, validate_on_start=False, write_token=TOKEN,
                                        **SUITE_LIMITS))


def test_shared_store_load_keeps_the_cotenant_graph(shared: str) -> None:
    assert LOADED_OVER == [1]  # the co-tenant's graph was there after the first load
    _load(shared)  # a second load replaces the service's graphs: not the co-tenant's
    assert _cotenant_triples(shared) == 1


def test_shared_store_meta_graph_records_the_owned_graphs(remote: LiveServer) -> None:
    graph = remote.graph
    owned = graph.store.content_graphs()
    assert set(owned) == set(graph.names.all())
    assert COTENANT not in owned and meta_graph(graph.settings.base_iri) not in owned
    assert OWNS.value.startswith("https://bjrd-kg.example.org/")


@pytest.mark.parametrize("query", [
    "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
    f"SELECT * WHERE {{ <{SECRET}> ?p ?o }}",
    f"SELECT * WHERE {{ GRAPH ?g {{ <{SECRET}> ?p ?o }} }}",
    "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), 'http://cotenant')) }",
])
def test_shared_store_sparql_never_answers_cotenant_triples(remote: LiveServer, query: str) -> None:
    response = httpx.get(remote.url + "/sparql", params={"query": query}, headers={"Accept": "text/csv, text/turtle"},
                         timeout=30)
    assert response.status_code == 200, response.text
    assert "cotenant" not in response.text


@pytest.mark.parametrize("clause", [f"FROM <{COTENANT}>", f"FROM NAMED <{COTENANT}>"])
def test_shared_store_from_a_cotenant_graph_is_400(remote: LiveServer, clause: str) -> None:
    query = f"SELECT * {clause} WHERE {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} }} }}"
    for params in ({"query": query}, {"query": "SELECT * { ?s ?p ?o }", "default-graph-uri": COTENANT}):
        response = httpx.get(remote.url + "/sparql", params=params, timeout=30)
        assert response.status_code == 400, response.text
        assert "the co-tenant" not in response.text


def test_shared_store_graph_store_and_dump_leave_the_cotenant_out(remote: LiveServer) -> None:
    response = httpx.get(remote.url + "/graph-store", params={"graph": COTENANT}, timeout=30)
    assert response.status_code == 404
    dump = httpx.get(remote.url + "/export", params={"format": "nquads"}, timeout=60)
    assert dump.status_code == 200
    graphs = {q.graph_name.value for q in ox.parse(dump.content, format=ox.RdfFormat.N_QUADS)
              if isinstance(q.graph_name, ox.NamedNode)}
    assert graphs == set(remote.graph.names.all())
    assert "cotenant" not in dump.text


def test_shared_store_query_sent_as_read(remote: LiveServer) -> None:
    """A comment cannot carry anything to the store, and a store-specific prologue is refused."""
    hidden = "SELECT (COUNT(*) AS ?n) # DEFINE input:same-as 'yes'\nWHERE { ?s ?p ?o }"
    assert httpx.get(remote.url + "/sparql", params={"query": hidden}, timeout=30).status_code == 200
    define = 'DEFINE input:inference "x" SELECT * WHERE { ?s ?p ?o } LIMIT 1'
    response = httpx.get(remote.url + "/sparql", params={"query": define}, timeout=30)
    assert response.status_code == 400 and "DEFINE" in response.text


def test_shared_store_write_that_creates_or_drops_a_graph_records_it(remote: LiveServer, shared: str) -> None:
    """A graph a write creates is the service's from then on (and one it drops is not); the co-tenant's stays."""
    created = "urn:x-test:written-by-the-service"
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/n-triples"}
    listed = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"

    def graphs() -> set[str]:
        response = httpx.get(remote.url + "/sparql", params={"query": listed}, timeout=30)
        return {b["g"]["value"] for b in response.json()["results"]["bindings"]}

    with httpx.Client(base_url=remote.url, timeout=60) as client:
        put = client.put("/graph-store", params={"graph": created}, content='<urn:x:s> <urn:x:p> "1" .', headers=auth)
        assert put.status_code == 201, put.text
        assert created in remote.graph.store.content_graphs() and created in graphs()
        again = client.put("/graph-store", params={"graph": created}, content='<urn:x:s> <urn:x:p> "2" .', headers=auth)
        assert again.status_code == 204, again.text  # the service knows it as its own now
        assert client.get("/graph-store", params={"graph": created}).status_code == 200
        assert client.delete("/graph-store", params={"graph": created}, headers=auth).status_code == 204
        assert created not in remote.graph.store.content_graphs() and created not in graphs()
    assert _cotenant_triples(shared) == 1


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Passes every request on to the real store (``upstream``) and keeps the query it was sent."""

    upstream = ""
    sent: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.sent.append(dict(parse_qsl(body.decode("ascii"))).get("query", ""))
        answer = httpx.post(self.upstream + self.path, content=body, timeout=30,
                            headers={k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")})
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("content-type", "text/plain"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def recorded(shared: str) -> Iterator[tuple[LiveServer, list[str]]]:
    """The service over the shared store, its queries passing through a recorder (the store stays real)."""
    upstream = _query_url(shared).rsplit("/", 1)[0]
    sent: list[str] = []
    handler = type("Recorder", (_Recorder,), {"upstream": upstream, "sent": sent})
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    store = f"sparql:http://127.0.0.1:{proxy.server_address[1]}/query;" + shared.split(";", 1)[1]
    try:
        for live in serve_in_thread(Settings(store=store, query_timeout_s=5.0, validate_on_start=False,
                                             **SUITE_LIMITS)):
            yield live, sent
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(5)


def test_shared_store_is_sent_the_query_as_read(recorded: tuple[LiveServer, list[str]]) -> None:
    """What the store receives is the guard's reading: no comment (where a store's pragma could hide),
    escapes applied, FROM given as the protocol's dataset; never the client's own spelling."""
    live, sent = recorded
    query = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> # pragma: a comment the store must not see\n"
             "\\u0053ELECT (COUNT(*) AS ?n) FROM <graph/ontology> WHERE { ?s a ?type } # another")
    response = httpx.get(live.url + "/sparql", params={"query": query}, headers={"Accept": "text/csv"}, timeout=30)
    assert response.status_code == 200, response.text
    passed = [text for text in sent if "COUNT(*) AS ?n" in text]
    assert passed, sent
    assert "pragma" not in passed[-1] and "another" not in passed[-1]
    assert "SELECT (COUNT(*) AS ?n)" in passed[-1] and "\\u0053" not in passed[-1]
    typing = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    typed = sum(1 for q in live.graph.loaded.graphs[live.graph.names.ontology] if q.predicate.value == typing)
    assert int(response.text.split()[1]) == typed > 0  # FROM the ontology graph: its typing triples only
