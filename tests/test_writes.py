"""Writes: bearer token, SHACL gate (422 + report, nothing changed), atomic commit with a new
version, malformed RDF, a second source in its own graph (and deleting it restores every answer),
serialised concurrent writers."""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import rdflib

from app.config import Settings
from app.rdf.terms import triple_from_rdflib
from tests.helpers import LiveServer, serve_in_thread

if TYPE_CHECKING:
    from app.build.graph import KnowledgeGraph

TOKEN = "test-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "https://bjrd-kg.example.org"
SECOND_SOURCE = f"{BASE}/graph/source/bjrd-2023-08-sample"
BJRD = "https://bjrd-kg.example.org/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

SECOND_ARTICLE = """
@prefix bjrd: <https://bjrd-kg.example.org/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
@prefix src: <https://bjrd-kg.example.org/id/source/> .
@prefix prac: <https://bjrd-kg.example.org/id/practice/> .
@prefix quote: <https://bjrd-kg.example.org/id/quote/> .
@prefix dist: <https://bjrd-kg.example.org/id/district/> .
@prefix mech: <https://bjrd-kg.example.org/id/mechanism/> .
@prefix theme: <https://bjrd-kg.example.org/id/theme/> .

src:bjrd-2023-08-sample a schema:Article ;
    dcterms:title "海淀区人大代表“月进站”活动见闻（示例稿）"@zh ,
        "Deputies' monthly station visits in Haidian (sample)"@en .

prac:haidian-monthly-station-visit-2023-08 a bjrd:Practice ;
    rdfs:label "组织代表“月进站”听取民意"@zh , "Deputies visit their stations every month to hear the public"@en ;
    bjrd:district dist:haidian ;
    bjrd:usesMechanism mech:monthly-station-visit ;
    bjrd:theme theme:station-building ;
    bjrd:evidence quote:haidian-monthly-station-visit-2023-08 .

quote:haidian-monthly-station-visit-2023-08 a bjrd:Quote ;
    oa:exact "海淀区人大组织代表“月进站”，听取群众意见建议" ;
    oa:start 0 ; oa:end 22 ;
    dcterms:source src:bjrd-2023-08-sample .
"""


@pytest.fixture(scope="module")
def writable() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=5))


@pytest.fixture()
def w(writable: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=writable.url, timeout=60) as c:
        yield c


def count(c: httpx.Client) -> int:
    r = c.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"})
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_write_without_token_is_401(w: httpx.Client) -> None:
    r = w.post("/update", content="INSERT DATA { <urn:a> <urn:b> <urn:c> }",
               headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_write_with_wrong_token_is_403(w: httpx.Client) -> None:
    r = w.put("/graph-store?graph=urn:x:g", content="<urn:a> <urn:b> <urn:c> .",
              headers={"Authorization": "Bearer nope", "Content-Type": "application/n-triples"})
    assert r.status_code == 403


def test_writes_disabled_without_configured_token(client: httpx.Client) -> None:
    r = client.post("/update", content="INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                    headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert r.status_code == 403
    assert "KG_WRITE_TOKEN" in r.text


def test_reads_stay_open(w: httpx.Client) -> None:
    r = w.get("/graph-store?default", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert len(rdflib.Graph().parse(data=r.text, format="turtle")) > 3000


def test_conforming_update_commits_new_version(w: httpx.Client, writable: LiveServer) -> None:
    before_version = writable.graph.version
    etag = w.get("/api/mechanisms").headers["etag"]
    update = (f'INSERT DATA {{ <{BASE}/id/mechanism/monthly-station-visit> '
              '<http://www.w3.org/2004/02/skos/core#altLabel> "代表月月进站"@zh }')
    r = w.post("/update", content=update, headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert r.status_code == 204, r.text
    assert r.headers["x-graph-version"] != before_version == before_version
    assert writable.graph.version == r.headers["x-graph-version"]
    assert w.get("/api/mechanisms").headers["etag"] != etag
    alt_label = 'ASK { ?m <http://www.w3.org/2004/02/skos/core#altLabel> "代表月月进站"@zh }'
    ask = w.get("/sparql", params={"query": alt_label})
    assert ask.json()["boolean"] is True
    # and the label is in the default (data) graph, where updates write by default
    data = w.get("/graph-store?default", headers={"Accept": "application/n-triples"}).text
    assert "代表月月进站" in data


@pytest.mark.slow
def test_write_gives_repeated_queries_the_new_answer_and_a_new_etag(w: httpx.Client) -> None:
    alt_label = 'ASK { ?m <http://www.w3.org/2004/02/skos/core#altLabel> "月进站（再问）"@zh }'
    before = w.get("/sparql", params={"query": alt_label})
    assert before.json()["boolean"] is False
    cached = w.get("/sparql", params={"query": alt_label}, headers={"If-None-Match": before.headers["etag"]})
    assert cached.status_code == 304
    assert w.post("/sparql", data={"query": alt_label}).json()["boolean"] is False
    update = (f'INSERT DATA {{ <{BASE}/id/mechanism/monthly-station-visit> '
              '<http://www.w3.org/2004/02/skos/core#altLabel> "月进站（再问）"@zh }')
    r = w.post("/update", content=update, headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert r.status_code == 204, r.text
    after = w.get("/sparql", params={"query": alt_label}, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["boolean"] is True
    assert after.headers["etag"] != before.headers["etag"]
    assert w.post("/sparql", data={"query": alt_label}).json()["boolean"] is True


@pytest.mark.parametrize("accept", [pytest.param("application/json", marks=pytest.mark.slow), "text/turtle"])
def test_nonconforming_update_is_422_with_report_and_changes_nothing(w: httpx.Client, writable: LiveServer,
                                                                      accept: str) -> None:
    version, triples = writable.graph.version, count(w)
    dump = w.get("/graph-store?default", headers={"Accept": "application/n-triples"}).content
    update = f'DELETE WHERE {{ <{BASE}/id/district/haidian> <https://bjrd-kg.example.org/ontology#divisionCode> ?c }}'
    r = w.post("/update", data={"update": update}, headers={**AUTH, "Accept": accept})
    assert r.status_code == 422
    if accept == "application/json":
        results = r.json()["results"]
        assert any("S01" in res["shape"] and "GB/T 2260" in res["message_en"] for res in results)
        assert any("haidian" in res["focus"] for res in results)
    else:
        report = rdflib.Graph().parse(data=r.text, format="turtle")
        assert (None, rdflib.URIRef("http://www.w3.org/ns/shacl#conforms"), rdflib.Literal(False)) in report
    assert writable.graph.version == version
    assert count(w) == triples
    assert w.get("/graph-store?default", headers={"Accept": "application/n-triples"}).content == dump


def test_malformed_turtle_is_400_with_position(w: httpx.Client, writable: LiveServer) -> None:
    version = writable.graph.version
    r = w.put("/graph-store?graph=urn:x:broken", content="<urn:a> <urn:b> \n <urn:c> <urn:d",
              headers={**AUTH, "Content-Type": "text/turtle"})
    assert r.status_code == 400
    assert "line 2" in r.text and "column" in r.text
    assert writable.graph.version == version


def test_update_with_load_or_service_is_refused(w: httpx.Client) -> None:
    for update in ("LOAD <http://127.0.0.1:1/x.ttl>",
                   "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"):
        r = w.post("/update", content=update, headers={**AUTH, "Content-Type": "application/sparql-update"})
        assert r.status_code == 400


def test_inferred_graph_cannot_be_written(w: httpx.Client) -> None:  # 403: read-only (issue 13)
    r = w.put(f"/graph-store?graph={BASE}/graph/inferred", content="<urn:a> <urn:b> <urn:c> .",
              headers={**AUTH, "Content-Type": "application/n-triples"})
    assert r.status_code == 403


@pytest.mark.slow
def test_second_source_is_answered_across_sources_and_delete_restores(w: httpx.Client) -> None:
    route = "/api/mechanisms/monthly-station-visit"
    before = w.get(route).json()
    before_shared = w.get("/api/mechanisms/shared").json()
    assert "haidian" not in [d["id"] for d in before["districts"]]

    r = w.put(f"/graph-store?graph={SECOND_SOURCE}", content=SECOND_ARTICLE,
              headers={**AUTH, "Content-Type": "text/turtle"})
    assert r.status_code == 201, r.text
    during = w.get(route).json()
    haidian = next(d for d in during["districts"] if d["id"] == "haidian")
    assert "海淀区人大组织代表“月进站”，听取群众意见建议" in haidian["evidence"]
    assert {d["id"] for d in before["districts"]} < {d["id"] for d in during["districts"]}
    graphs = w.get("/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"}).json()
    assert SECOND_SOURCE in {b["g"]["value"] for b in graphs["results"]["bindings"]}

    r = w.delete(f"/graph-store?graph={SECOND_SOURCE}", headers=AUTH)
    assert r.status_code == 204
    assert w.get(route).json() == before
    assert w.get("/api/mechanisms/shared").json() == before_shared
    assert w.delete(f"/graph-store?graph={SECOND_SOURCE}", headers=AUTH).status_code == 404


@pytest.mark.slow
def test_concurrent_writers_are_serialised(w: httpx.Client, writable: LiveServer) -> None:
    statuses: list[int] = []

    def write(i: int) -> None:
        with httpx.Client(base_url=writable.url, timeout=120) as c:
            r = c.post(f"/graph-store?graph=urn:x:concurrent-{i}", content=f"<urn:x:s{i}> <urn:x:p> \"{i}\" .",
                       headers={**AUTH, "Content-Type": "application/n-triples"})
            statuses.append(r.status_code)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] * 4
    for i in range(4):
        got = w.get(f"/graph-store?graph=urn:x:concurrent-{i}", headers={"Accept": "application/n-triples"})
        assert got.status_code == 200 and f'"{i}"' in got.text


def distinct_triples(c: httpx.Client) -> int:
    query = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
    return int(c.get("/sparql", params={"query": query}).json()["results"]["bindings"][0]["n"]["value"])


def test_the_triple_count_after_a_write_is_the_graphs_own(w: httpx.Client, writable: LiveServer) -> None:
    """The count is worked out from the change (app.writes.delta.count_after): a triple the data graph
    already holds, put in a second graph, adds nothing to the distinct triples served."""
    start = distinct_triples(w)
    assert writable.graph.triples == start
    label = f'<{BASE}/id/district/haidian> <http://www.w3.org/2000/01/rdf-schema#label> "海淀区"@zh .'
    assert label in w.get("/graph-store?default", headers={"Accept": "application/n-triples"}).text
    body = f'{label}\n<urn:x:counted> <urn:x:p> "1" .\n'
    graph = "/graph-store?graph=urn:x:counted"
    assert w.put(graph, content=body, headers={**AUTH, "Content-Type": "application/n-triples"}).status_code == 201
    assert writable.graph.triples == distinct_triples(w) == start + 1
    assert w.delete(graph, headers=AUTH).status_code == 204
    assert writable.graph.triples == distinct_triples(w) == start


def test_post_merges_a_set_of_triples_once(w: httpx.Client) -> None:
    """An RDF graph is a set: triples already there, or sent twice, are stored once."""
    graph = "/graph-store?graph=urn:x:merged"
    nt = {**AUTH, "Content-Type": "application/n-triples"}
    assert w.put(graph, content="<urn:x:a> <urn:x:p> \"1\" .", headers=nt).status_code in (201, 204)
    again = "<urn:x:a> <urn:x:p> \"1\" .\n<urn:x:b> <urn:x:p> \"2\" .\n<urn:x:b> <urn:x:p> \"2\" .\n"
    assert w.post(graph, content=again, headers=nt).status_code in (200, 201, 204)
    got = w.get(graph, headers={"Accept": "application/n-triples"})
    lines = sorted(line for line in got.text.splitlines() if line.strip())
    assert lines == ['<urn:x:a> <urn:x:p> "1" .', '<urn:x:b> <urn:x:p> "2" .']
    assert w.delete(graph, headers=AUTH).status_code == 204


@pytest.mark.slow
def test_a_write_is_checked_by_the_sparql_checks_as_a_large_graph_is() -> None:
    """Above KG_SHACL_SPARQL_ABOVE triples a write is validated by the SPARQL checks in a scratch store,
    as the start-up build is (app.writes.writes.infer_and_validate): the same rejection, the same report."""
    settings = Settings(write_token=TOKEN, query_workers=1, query_timeout_s=5, shacl_engine="sparql")
    for live in serve_in_thread(settings):
        with httpx.Client(base_url=live.url, timeout=60) as c:
            version = live.graph.version
            haidian = f"<{BASE}/id/district/haidian>"
            update = f"DELETE WHERE {{ {haidian} <https://bjrd-kg.example.org/ontology#divisionCode> ?c }}"
            r = c.post("/update", data={"update": update}, headers={**AUTH, "Accept": "application/json"})
            assert r.status_code == 422
            results = r.json()["results"]
            assert any("S01" in res["shape"] and "haidian" in res["focus"] for res in results)
            assert live.graph.version == version
            label = f'INSERT DATA {{ {haidian} <http://www.w3.org/2004/02/skos/core#altLabel> "海淀"@zh }}'
            assert c.post("/update", data={"update": label}, headers=AUTH).status_code == 204
            assert live.graph.version != version


@pytest.mark.slow
def test_the_new_versions_api_rows_read_from_the_scratch_store_are_the_stores_own(tmp_path: Path) -> None:
    """After a write the /api catalog is read from the scratch store (in memory), not from the store
    on disk: every catalog query gives the same rows, in the same order, over both."""
    from app.api.catalog import CATALOG_QUERIES
    from app.build.graph import KnowledgeGraph, json_rows
    from app.writes import writes

    graph = KnowledgeGraph.build(Settings(store=f"disk:{tmp_path / 'store'}"))
    source = rdflib.Graph().parse(data=SECOND_ARTICLE, format="turtle")
    triples = [triple_from_rdflib(t) for t in source]
    staged = writes.prepare(graph, writes.replace_graph(SECOND_SOURCE, triples))
    new = writes.commit(graph, staged)
    reader = staged.scratch.reader(new.query_base, new.store.meta)
    for name in CATALOG_QUERIES:
        text = new.query(name).text
        assert json_rows(reader.select(text)) == new.run(name), name
    usage = [row for row in new.run("mechanism_practices") if "2023-08" in str(row)]
    assert usage  # the second source is in them


def blank_nodes_outside_the_ontology(graph: "KnowledgeGraph") -> dict[str, set[str]]:
    """Graph name -> the blank nodes its triples name (as the store labels them in one answer)."""
    rows = graph.backend.select(f"SELECT DISTINCT ?g ?b WHERE {{ GRAPH ?g {{ {{ ?b ?p ?o }} UNION {{ ?s ?p ?b }} }} "
                                f"FILTER (isBlank(?b) && ?g != <{graph.names.ontology}>) }}")
    out: dict[str, set[str]] = {}
    for row in rows:
        out.setdefault(row["g"].value, set()).add(str(row["b"]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["memory", "disk", "sparql"])
def test_a_blank_node_written_and_removed_again_keeps_the_store_consistent(kind: str, tmp_path: Path) -> None:
    """A quote given as a blank node gets entailments (its classes) in the inferred graph: committed,
    it is one node in both graphs, on every backend (Oxigraph refuses one blank node label in two
    INSERT DATA operations, and SPARQL Update cannot name a blank node the store holds). Removed
    again, nothing is left of it, and the triple count is the store's."""
    import subprocess
    import sys
    from contextlib import ExitStack

    import pyoxigraph as ox

    from app.build.graph import KnowledgeGraph
    from app.writes import writes
    from tests.helpers import running_oxigraph

    with ExitStack() as stack:
        store = {"memory": "memory", "disk": f"disk:{tmp_path / 'store'}"}.get(kind, "")
        if kind == "sparql":
            store = stack.enter_context(running_oxigraph())
            subprocess.run([sys.executable, "-m", "app", "load", "--into", store], check=True,
                           stdout=subprocess.DEVNULL)
        graph = KnowledgeGraph.build(Settings(store=store))
        stack.callback(lambda: graph.close())
        # A practice that supervises no topic: a quote must say the topic its practice supervises (S07).
        practice = graph.backend.select(f"SELECT ?p WHERE {{ GRAPH ?g {{ ?p a <{BJRD}Practice> }} FILTER NOT EXISTS "
                                        f"{{ ?p <{BJRD}supervisesTopic> ?t }} }} ORDER BY ?p LIMIT 1")[0]["p"]
        assert isinstance(practice, ox.NamedNode)
        oa, quote = "http://www.w3.org/ns/oa#", ox.BlankNode()
        integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
        triples = [ox.Triple(practice, ox.NamedNode(BJRD + "evidence"), quote),
                   ox.Triple(quote, ox.NamedNode(oa + "exact"), ox.Literal("北京")),
                   ox.Triple(quote, ox.NamedNode(oa + "start"), ox.Literal("0", datatype=integer)),
                   ox.Triple(quote, ox.NamedNode(oa + "end"), ox.Literal("2", datatype=integer)),
                   ox.Triple(quote, ox.NamedNode("http://purl.org/dc/terms/source"),
                             ox.NamedNode(f"{BASE}/id/source/article"))]
        graph = writes.commit(graph, writes.prepare(graph, writes.merge_into_graph(graph.names.data, triples)))
        found = blank_nodes_outside_the_ontology(graph)
        assert set(found) == {graph.names.data, graph.names.inferred}
        assert len(found[graph.names.data]) == 1 and found[graph.names.data] == found[graph.names.inferred]
        assert graph.backend.ask(f"ASK {{ GRAPH <{graph.names.data}> {{ {practice} <{BJRD}evidence> ?q }} "
                                 f"GRAPH <{graph.names.inferred}> {{ ?q a <{BJRD}Quote> }} }}")
        update = f'DELETE WHERE {{ {practice} <{BJRD}evidence> ?q . ?q <{oa}exact> "北京" ; ?p ?o . }}'
        graph = writes.commit(graph, writes.prepare(graph, writes.sparql_update(update, graph.query_base,
                                                                               graph.names.data)))
        assert blank_nodes_outside_the_ontology(graph) == {}
        count = graph.backend.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g "
                                     f"{{ ?s ?p ?o }} FILTER (?g IN (<{graph.names.data}>, <{graph.names.ontology}>, "
                                     f"<{graph.names.inferred}>)) }} }}")[0]["n"]
        assert graph.triples == int(count.value)
