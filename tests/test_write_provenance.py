"""Writes with care: every commit is logged (token id, never the token) and recorded as PROV-O in
the meta graph, earlier records kept; ``/void`` on a store without data is 200, not 500."""

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from app.config import Settings
from app.writes.provenance import token_id
from tests.helpers import LiveServer, serve_in_thread

pytestmark = pytest.mark.slow  # validated commits on every store

TOKEN = "provenance-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
BASE = "https://bjrd-kg.example.org"
META = f"{BASE}/graph/meta"
PROV = "http://www.w3.org/ns/prov#"
LABEL = "<http://www.w3.org/2004/02/skos/core#altLabel>"


@pytest.fixture(scope="module", params=["memory", "disk"])
def writable(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    store = "memory" if request.param == "memory" else f"disk:{tmp_path_factory.mktemp('prov-disk')}"
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=5, store=store))


def meta_triples(server: LiveServer) -> list[ox.Quad]:
    store = server.graph.store.store  # type: ignore[union-attr]
    return list(store.quads_for_pattern(None, None, None, ox.NamedNode(META)))


def insert(w: httpx.Client, text: str) -> httpx.Response:
    update = f'INSERT DATA {{ <{BASE}/id/mechanism/monthly-station-visit> {LABEL} "{text}"@zh }}'
    return httpx.post(w.base_url.join("/update"), content=update, headers=AUTH, timeout=60)


def test_commit_is_logged_with_token_id_never_the_token(writable: LiveServer,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    before = writable.graph.version
    with caplog.at_level(logging.INFO, logger="app.writes"), httpx.Client(base_url=writable.url) as w:
        response = insert(w, "日志测试")
    assert response.status_code == 204, response.text
    after = response.headers["x-graph-version"]
    lines = [r.getMessage() for r in caplog.records if r.name == "app.writes"]
    assert len(lines) == 1
    line = lines[0]
    assert token_id(TOKEN) in line and TOKEN not in line
    assert f"{BASE}/graph/data +1 -0" in line
    assert f"{before[:12]} -> {after[:12]}" in line
    assert not any(TOKEN in r.getMessage() for r in caplog.records)


def test_commit_is_prov_activity_in_meta_graph_and_history_kept(writable: LiveServer) -> None:
    with httpx.Client(base_url=writable.url) as w:
        first_before = writable.graph.version
        first = insert(w, "第一次").headers["x-graph-version"]
        second = insert(w, "第二次").headers["x-graph-version"]
    quads = meta_triples(writable)
    activities = {q.subject.value for q in quads
                  if q.predicate.value.endswith("#type") and q.object.value == PROV + "Activity"}
    assert f"{META}/commit/{first}" in activities and f"{META}/commit/{second}" in activities

    def objects(subject: str, prop: str) -> set[str]:
        return {q.object.value for q in quads if q.subject.value == subject and q.predicate.value == PROV + prop}

    act = f"{META}/commit/{second}"
    assert objects(act, "used") == {f"{META}/version/{first}"}
    assert objects(act, "generated") == {f"{META}/version/{second}"}
    assert objects(act, "wasAssociatedWith") == {f"{META}/writer/{token_id(TOKEN)}"}
    started = [q.object for q in quads if q.subject.value == act and q.predicate.value == PROV + "startedAtTime"]
    assert len(started) == 1 and isinstance(started[0], ox.Literal)
    assert started[0].datatype.value.endswith("#dateTime")
    assert objects(f"{META}/commit/{first}", "used") == {f"{META}/version/{first_before}"}
    assert not any(TOKEN in str(q) for q in quads)
    # the recorded version is still exactly one, the current one
    versions = [q.object.value for q in quads if q.predicate.value == "http://purl.org/dc/terms/hasVersion"]
    assert versions == [second]


def test_rejected_write_records_nothing(writable: LiveServer) -> None:
    before = len(meta_triples(writable))
    response = httpx.post(writable.url + "/update", content=f"DROP GRAPH <{BASE}/graph/ontology>",
                          headers=AUTH, timeout=60)
    assert response.status_code == 403
    assert len(meta_triples(writable)) == before


def test_void_on_store_without_data_is_200(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    settings = Settings(data_dir=tmp_path / "data", validate_on_start=False, query_workers=1)
    for server in serve_in_thread(settings):
        for path in ("/void", "/.well-known/void"):
            response = httpx.get(server.url + path, headers={"Accept": "application/n-triples"}, timeout=60)
            assert response.status_code == 200
            graph = list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))
            entities = [t.object.value for t in graph if t.predicate.value == "http://rdfs.org/ns/void#entities"
                        and t.subject.value == f"{BASE}/void#dataset"]
            assert entities == ["0"]
