"""Remote-store mode (``KG_STORE=sparql:…``) attacked: row cap, cut streams, a trickling store,
foreign graphs in the dataset parameters, and a reload of the store behind the service's back.

The service runs against the real Oxigraph server of ``oxigraph_server``; the broken stores are
real socket servers on loopback that misbehave on purpose.
"""

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from app.config import Settings
from app.errors import BadGateway, QueryTimeout
from app.rdf.formats import BY_NAME
from app.sparql.proxy import RemoteQueries
from app.sparql.run import PreparedQuery
from app.store.remote import SparqlBackend
from app.store.spec import StoreSpec
from tests.helpers import LiveServer, serve_in_thread

ROWS_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def remote(oxigraph_server: str) -> Iterator[LiveServer]:
    settings = Settings(store=oxigraph_server, query_timeout_s=5.0, query_workers=2, max_result_rows=7,
                        store_version_check_s=0, sparql_query_seconds=100_000, sparql_concurrency=64)
    yield from serve_in_thread(settings)


def test_remote_rows_over_cap_are_truncated_and_said(remote: LiveServer) -> None:
    response = httpx.get(remote.url + "/sparql", params={"query": ROWS_QUERY},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["x-result-truncated"] == "true; limit=7"
    document = response.json()
    assert len(document["results"]["bindings"]) == 7
    assert document["truncated"] is True


def test_remote_construct_over_cap_is_truncated(remote: LiveServer) -> None:
    response = httpx.get(remote.url + "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/n-triples"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["x-result-truncated"] == "true; limit=7"
    assert len(response.text.strip().splitlines()) == 7


def test_remote_small_answer_is_whole(remote: LiveServer) -> None:
    response = httpx.get(remote.url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                         headers={"Accept": "text/csv"}, timeout=30)
    assert response.status_code == 200
    assert "x-result-truncated" not in response.headers
    assert response.text.splitlines()[0] == "n" and int(response.text.splitlines()[1]) > 7
    ask = httpx.get(remote.url + "/sparql", params={"query": "ASK {}"}, timeout=30)
    assert ask.status_code == 200 and ask.json()["boolean"] is True


@pytest.mark.parametrize("parameter", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("graph", ["http://127.0.0.1:1/other", "urn:x-local:secret"])
def test_remote_foreign_graph_is_400_naming_the_allowed(remote: LiveServer, parameter: str, graph: str) -> None:
    response = httpx.get(remote.url + "/sparql", params={"query": ROWS_QUERY, parameter: graph}, timeout=30)
    assert response.status_code == 400
    own = remote.graph.store.content_graphs()
    assert graph in response.text
    assert all(g in response.text for g in own)


def test_remote_meta_graph_is_not_readable_through_dataset(remote: LiveServer) -> None:
    meta = remote.graph.store.meta
    response = httpx.get(remote.url + "/sparql", params={"query": ROWS_QUERY, "default-graph-uri": meta}, timeout=30)
    assert response.status_code == 400


def test_remote_own_graph_in_dataset_is_answered(remote: LiveServer) -> None:
    own = remote.graph.store.content_graphs()[0]
    response = httpx.get(remote.url + "/sparql", params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": own},
                         timeout=30)
    assert response.status_code == 200 and response.json()["boolean"] is True


def _update_url(store: str) -> str:
    return next(part.split("=", 1)[1] for part in store.split(";") if part.startswith("update="))


def test_remote_store_reload_changes_the_served_version(remote: LiveServer, oxigraph_server: str) -> None:
    before = httpx.get(remote.url + "/ready", timeout=30).json()["graph_version"]
    meta = remote.graph.store.meta
    version = "<http://purl.org/dc/terms/hasVersion>"
    update = _update_url(oxigraph_server)

    def set_version(value: str) -> None:
        body = (f"DELETE WHERE {{ GRAPH <{meta}> {{ <{meta}> {version} ?v }} }};"
                f'INSERT DATA {{ GRAPH <{meta}> {{ <{meta}> {version} "{value}" }} }}')
        answer = httpx.post(update, content=body, headers={"Content-Type": "application/sparql-update"}, timeout=30)
        assert answer.status_code in (200, 204)

    set_version("reloaded-by-test")
    try:
        ready = httpx.get(remote.url + "/ready", timeout=60)
        assert ready.status_code == 200
        assert ready.json()["graph_version"] == "reloaded-by-test" != before
        etag = httpx.get(remote.url + "/api/districts", timeout=30).headers.get("etag", "")
        assert "reloaded-by-test"[:8] in etag or etag == "" or before[:8] not in etag
    finally:
        set_version(before)
        httpx.get(remote.url + "/ready", timeout=60)


# ---------------------------------------------------------------- stores that misbehave on purpose

def serve_raw(respond: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback HTTP 'store' that reads one request per connection and runs ``respond``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                try:
                    respond(conn)
                except OSError:
                    pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/query"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def cut_mid_stream(conn: socket.socket) -> None:
    body = b"?s\n" + b"".join(b"<http://example.org/r%d>\n" % i for i in range(50))
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/tab-separated-values\r\nContent-Length: 100000\r\n\r\n"
    conn.sendall(head + body)  # then the connection closes: 100,000 bytes promised, far fewer sent


def broken_json(conn: socket.socket) -> None:
    body = b'{"head":{},"boolean":tr'
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body)


def trickle(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/tab-separated-values\r\nTransfer-Encoding: chunked\r\n\r\n")
    for i in range(40):  # one row every 0.2 s: each read is quick, the whole is not
        line = b"<http://example.org/r%d>\n" % i
        conn.sendall(b"%x\r\n%s\r\n" % (len(line), line))
        time.sleep(0.2)


def run_against(url: str, query: str, form: str, timeout_s: float = 10.0) -> None:
    backend = SparqlBackend(StoreSpec.parse(f"sparql:{url}"), "http://example.org/", timeout_s)
    backend.default_graphs = ["http://example.org/g"]
    fmt = BY_NAME["json"]

    async def go() -> None:
        runner = RemoteQueries(backend, 1, timeout_s, 0, max_rows=1000)
        try:
            await runner.run(PreparedQuery(query, form, fmt))
        finally:
            await runner.close()

    asyncio.run(go())


@pytest.mark.parametrize(("respond", "query", "form"), [
    (cut_mid_stream, "SELECT ?s WHERE { ?s ?p ?o }", "SELECT"),
    (broken_json, "ASK {}", "ASK"),
], ids=["cut-tsv", "broken-json"])
def test_remote_store_failing_mid_stream_is_502(respond: Callable[[socket.socket], None], query: str,
                                                form: str) -> None:
    for url in serve_raw(respond):
        with pytest.raises(BadGateway) as caught:
            run_against(url, query, form)
        assert caught.value.status_code == 502
        assert "127.0.0.1" not in caught.value.detail


def test_remote_deadline_is_total_not_per_read() -> None:
    for url in serve_raw(trickle):
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            run_against(url, "SELECT ?s WHERE { ?s ?p ?o }", "SELECT", timeout_s=1.0)
        assert time.monotonic() - started < 3.0


def test_remote_cut_stream_never_answers_200_over_http(remote: LiveServer) -> None:
    # The same guarantee end to end: whatever the store does, a 200 carries a complete document.
    response = httpx.get(remote.url + "/sparql", params={"query": ROWS_QUERY}, timeout=30)
    assert response.status_code == 200
    json.loads(response.text)
