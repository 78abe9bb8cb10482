"""`kg load` into a remote store keeps the store's provenance history (the PROV-O records of
earlier commits and loads in the meta graph) and appends a record of the load, version before ->
after — against a real Oxigraph server (the `oxigraph` package's binary)."""

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest

from app.config import Settings
from app.store.graphs import OWNS, VERSION
from app.store.remote import RemoteStore
from app.store.spec import StoreSpec
from app.writes.provenance import LOADER, token_id
from tests.helpers import running_oxigraph, serve_in_thread

BASE = "https://bjrd-kg.example.org"
META = f"{BASE}/graph/meta"
PROV = "http://www.w3.org/ns/prov#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
TOKEN = "load-provenance-test-token"


@pytest.fixture()
def store() -> Iterator[str]:
    with running_oxigraph() as spec:
        yield spec


def meta_quads(store: str) -> list[ox.Triple]:
    """The meta graph as the Oxigraph server holds it (asked over HTTP, not through the service)."""
    query_url = StoreSpec.parse(store).query_url
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{META}> {{ ?s ?p ?o }} }}"
    response = httpx.post(query_url, data={"query": query}, headers={"Accept": "application/n-triples"}, timeout=30)
    assert response.status_code == 200, response.text
    return [q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)]


def objects(triples: list[ox.Triple], subject: str, prop: str) -> set[str]:
    return {t.object.value for t in triples if t.subject.value == subject and t.predicate.value == prop}


def activities(triples: list[ox.Triple], kind: str) -> set[str]:
    return {t.subject.value for t in triples if t.predicate.value == TYPE and t.object.value == PROV + "Activity"
            and t.subject.value.startswith(f"{META}/{kind}/")}


def versions(triples: list[ox.Triple]) -> list[str]:
    return [t.object.value for t in triples if t.subject.value == META and t.predicate == VERSION]


@pytest.mark.parametrize("urls", ["update", "gsp only"])
def test_remote_replace_keeps_the_meta_graph_and_adds_the_record(store: str, urls: str) -> None:
    spec = StoreSpec.parse(store)
    if urls == "gsp only":  # no update URL: the meta graph is read and put back whole
        spec = StoreSpec.parse(f"sparql:{spec.query_url};gsp={spec.gsp_url}")
    earlier = ox.Triple(ox.NamedNode(f"{META}/commit/v1"), ox.NamedNode(TYPE), ox.NamedNode(PROV + "Activity"))
    remote = RemoteStore(spec, BASE, BASE + "/", 10.0)
    seed = RemoteStore(StoreSpec.parse(store), BASE, BASE + "/", 10.0)
    try:
        seed.replace({f"{BASE}/graph/data": [earlier], "urn:x-test:stale": [earlier]}, [], "v1",
                     record=lambda: [earlier])
        assert remote.read_version() == "v1"
        record = ox.Triple(ox.NamedNode(f"{META}/load/x"), ox.NamedNode(TYPE), ox.NamedNode(PROV + "Activity"))
        content = ox.Triple(ox.NamedNode("urn:x-test:s"), ox.NamedNode("urn:x-test:p"), ox.Literal("o"))
        drop = ["urn:x-test:stale"] if urls == "update" else []
        remote.replace({f"{BASE}/graph/data": [content, earlier]}, drop, "v2", record=lambda: [record])
        owns = ox.Triple(ox.NamedNode(META), OWNS, ox.NamedNode(f"{BASE}/graph/data"))
        assert set(meta_quads(store)) == {earlier, record, owns,
                                          ox.Triple(ox.NamedNode(META), VERSION, ox.Literal("v2"))}
        assert remote.read_version() == "v2"
        # The stale graph (kept when it could not be dropped) is no longer the service's: never counted.
        assert remote.graph_sizes() == {f"{BASE}/graph/data": 2}
    finally:
        remote.backend.close()
        seed.backend.close()


def kg_load(store: str) -> str:
    """Run `kg load --into STORE`; its last line names the version before and after."""
    done = subprocess.run([sys.executable, "-m", "app", "load", "--into", store], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_kg_load_keeps_commits_and_records_itself(store: str) -> None:
    # 1. The first load into an empty store: one load record, from no version.
    line = kg_load(store)
    first = versions(meta_quads(store))
    assert len(first) == 1 and line.endswith(f"version none -> {first[0]}")
    (load1,) = activities(meta_quads(store), "load")
    triples = meta_quads(store)
    assert objects(triples, load1, PROV + "used") == set()
    assert objects(triples, load1, PROV + "generated") == {f"{META}/version/{first[0]}"}
    assert objects(triples, load1, PROV + "wasAssociatedWith") == {f"{META}/writer/{LOADER}"}
    assert f"<{BASE}/graph/data> replaced: 0 -> " in " ".join(objects(triples, load1, RDFS + "comment"))

    # 2. A commit through the service records itself in the store's meta graph.
    settings = Settings(store=store, write_token=TOKEN, query_workers=1, query_timeout_s=5)
    for server in serve_in_thread(settings):
        update = (f'INSERT DATA {{ <{BASE}/id/mechanism/monthly-station-visit> '
                  f'<http://www.w3.org/2004/02/skos/core#altLabel> "载入测试"@zh }}')
        response = httpx.post(server.url + "/update", content=update, timeout=120,
                              headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"})
        assert response.status_code == 204, response.text
        committed = response.headers["x-graph-version"]
    commit = f"{META}/commit/{committed}"
    assert commit in activities(meta_quads(store), "commit")
    assert versions(meta_quads(store)) == [committed]

    # 3. Loading again replaces the graphs (back to the files' version) and keeps the history.
    line = kg_load(store)
    assert line.endswith(f"version {committed} -> {first[0]}")
    triples = meta_quads(store)
    assert versions(triples) == [first[0]]
    assert commit in activities(triples, "commit")
    assert objects(triples, commit, PROV + "used") == {f"{META}/version/{first[0]}"}
    assert objects(triples, commit, PROV + "wasAssociatedWith") == {f"{META}/writer/{token_id(TOKEN)}"}
    loads = activities(triples, "load")
    assert load1 in loads and len(loads) == 2
    (load2,) = loads - {load1}
    assert objects(triples, load2, PROV + "used") == {f"{META}/version/{committed}"}
    assert objects(triples, load2, PROV + "generated") == {f"{META}/version/{first[0]}"}
    assert objects(triples, f"{META}/version/{first[0]}", PROV + "wasDerivedFrom") >= {f"{META}/version/{committed}"}
    comments = objects(triples, load2, RDFS + "comment")
    data_before = next(c for c in comments if c.startswith(f"<{BASE}/graph/data> replaced: "))
    before, after = data_before.removeprefix(f"<{BASE}/graph/data> replaced: ").removesuffix(" triples").split(" -> ")
    assert int(before) == int(after) + 1  # the committed label is gone again
    ended = objects(triples, load2, PROV + "endedAtTime")
    started = objects(triples, load2, PROV + "startedAtTime")
    assert len(ended) == len(started) == 1 and min(started) <= min(ended)
