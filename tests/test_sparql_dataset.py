"""The dataset of a /sparql query, on every backend: FROM / FROM NAMED honoured, the protocol's
default-graph-uri / named-graph-uri overriding them, the union only when nothing is named, and
never a graph that is not the service's (issue 23, item 6). Also the guard's reading of words
named like keywords (``PREFIX service:``, ``?select``) and of store-specific prologues (DEFINE)."""

import re
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest

from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.errors import BadRequest, QueryRefused
from app.rdf.sparql_guard import read_query, screen_update
from app.sparql.dataset import resolve
from app.sparql.run import prepare, run_query
from app.store.backends import OxigraphBackend
from tests.helpers import LiveServer, serve_in_thread


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The service on the suite's backend (memory, disk or a real Oxigraph server), not validated
    again: these tests are about the dataset a query reads, not the article. A disk store of its
    own: the suite's is held by the suite's server."""
    update: dict[str, object] = {"validate_on_start": False}
    if settings.store.startswith("disk:"):
        update["store"] = f"disk:{tmp_path_factory.mktemp('dataset-disk')}"
    yield from serve_in_thread(settings.model_copy(update=update))


@pytest.fixture(scope="module")
def graph(server: LiveServer) -> KnowledgeGraph:
    return server.graph

COUNT = "SELECT (COUNT(*) AS ?n) {clause} WHERE {{ ?s ?p ?o }}"


def _count(client: httpx.Client, query: str, **params: str) -> int:
    response = client.get("/sparql", params={"query": query, **params})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _distinct(graph: KnowledgeGraph, *names: str) -> int:
    return len({q.triple for name in names for q in graph.loaded.graphs.get(name, [])})


def test_sparql_from_selects_the_default_graph(client: httpx.Client, graph: KnowledgeGraph) -> None:
    for name in graph.names.all():
        assert _count(client, COUNT.format(clause=f"FROM <{name}>")) == _distinct(graph, name)
    both = f"FROM <{graph.names.ontology}> FROM <{graph.names.inferred}>"
    assert _count(client, COUNT.format(clause=both)) == _distinct(graph, graph.names.ontology, graph.names.inferred)
    assert _count(client, COUNT.format(clause="")) == _distinct(graph, *graph.names.all())  # no dataset: the union


def test_sparql_from_prefixed_and_relative_names_resolve(client: httpx.Client, graph: KnowledgeGraph) -> None:
    base = graph.settings.base_iri
    expected = _distinct(graph, graph.names.ontology)
    prefixed = f"PREFIX g: <{base}/graph/> " + COUNT.format(clause="FROM g:ontology")
    relative = COUNT.format(clause="FROM <graph/ontology>")  # relative IRIs resolve against {base}/
    assert _count(client, prefixed) == _count(client, relative) == expected


def test_sparql_from_named_only_leaves_the_default_graph_empty(client: httpx.Client, graph: KnowledgeGraph) -> None:
    named = f"FROM NAMED <{graph.names.ontology}>"
    assert _count(client, COUNT.format(clause=named)) == 0
    query = f"SELECT DISTINCT ?g {named} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query})
    assert [b["g"]["value"] for b in response.json()["results"]["bindings"]] == [graph.names.ontology]


def test_sparql_protocol_dataset_overrides_from(client: httpx.Client, graph: KnowledgeGraph) -> None:
    query = COUNT.format(clause=f"FROM <{graph.names.data}>")
    ontology = _distinct(graph, graph.names.ontology)
    assert _count(client, query, **{"default-graph-uri": graph.names.ontology}) == ontology
    # named-graph-uri alone: the default graph is empty (the protocol's dataset is exactly what it names)
    assert _count(client, query, **{"named-graph-uri": graph.names.ontology}) == 0


@pytest.mark.parametrize("target", ["meta", "http://127.0.0.1:1/elsewhere", "urn:x-local:secret"])
def test_sparql_from_a_graph_not_the_services_is_400(client: httpx.Client, graph: KnowledgeGraph, target: str) -> None:
    name = graph.store.meta if target == "meta" else target
    for clause in (f"FROM <{name}>", f"FROM NAMED <{name}>"):
        response = client.get("/sparql", params={"query": COUNT.format(clause=clause)})
        assert response.status_code == 400, response.text
        assert name in response.text and "FROM" in response.text


def test_sparql_prefix_named_service_is_a_prefix(client: httpx.Client, graph: KnowledgeGraph) -> None:
    query = ("PREFIX service: <https://bjrd-kg.example.org/ontology#> PREFIX select: <http://www.w3.org/2000/01/rdf-schema#>"
             " SELECT ?select (COUNT(*) AS ?n) WHERE { ?select a service:Practice } GROUP BY ?select LIMIT 1")
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    assert response.json()["head"]["vars"] == ["select", "n"]
    assert len(response.json()["results"]["bindings"]) == 1


@pytest.mark.parametrize("query", [
    "PREFIX service: <http://127.0.0.1:9/> SELECT * WHERE { service:x { ?s ?p ?o } }",
    "PREFIX service: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE service:x { ?s ?p ?o } }",
    "PREFIX service: <http://127.0.0.1:9/> SELECT * WHERE { service:x ?p ?o . service SILENT ?p { } }",
])
def test_guard_service_pattern_after_a_service_prefix_is_refused(query: str) -> None:
    with pytest.raises(QueryRefused, match="^SERVICE at line"):
        read_query(query)


def test_guard_load_prefix_in_update_is_a_prefix() -> None:
    screen_update("PREFIX load: <http://127.0.0.1:9/> INSERT DATA { load:x load:y load:z } ;\n"
                  "DELETE WHERE { load:a ?p ?o }")
    with pytest.raises(QueryRefused, match="^LOAD at line 2"):
        screen_update("PREFIX load: <http://127.0.0.1:9/> INSERT DATA { load:x load:y load:z } ;\n"
                      "PREFIX l: <x:> load:x")


def test_sparql_define_prologue_is_400(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": 'DEFINE input:inference "x" SELECT * WHERE { ?s ?p ?o } LIMIT 1'})
    assert response.status_code == 400
    assert "DEFINE" in response.text
    with pytest.raises(BadRequest):
        read_query("define sql:select-option 'order' SELECT * {}")


def test_guard_reading_drops_comments_and_keeps_tokens() -> None:
    text = "PREFIX ex: <http://ex/>  # a comment\nSELECT ?x # another\n WHERE {?x ex:p\t'a # b'}"
    read = read_query(text)
    # Comments and blanks become spaces, line breaks stay: an engine's error position is the client's.
    assert read.text == "PREFIX ex: <http://ex/>             \nSELECT ?x          \n WHERE {?x ex:p 'a # b'}"
    assert len(read.text) == len(text)
    assert read.prologue == "PREFIX ex: <http://ex/>" and read.form == "SELECT"


# ------------------------------------------------------------------ the update protocol's dataset

TOKEN = "dataset-writer"
USING_1, USING_2 = "urn:x-test:using-1", "urn:x-test:using-2"


@pytest.fixture(scope="module")
def writable() -> Iterator[httpx.Client]:
    settings = Settings(write_token=TOKEN, query_workers=1, query_timeout_s=5, validate_on_start=False)
    for live in serve_in_thread(settings):
        with httpx.Client(base_url=live.url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            body = "".join(f'<urn:x:s{i}> <urn:x:p> "{i}" .\n' for i in range(3))
            for name in (USING_1, USING_2):
                put = client.put("/graph-store", params={"graph": name}, content=body,
                                 headers={"Content-Type": "application/n-triples"})
                assert put.status_code == 201, put.text
            yield client


def _update(client: httpx.Client, text: str, **params: str | list[str]) -> httpx.Response:
    return client.post("/update", params=params, content=text, headers={"Content-Type": "application/sparql-update"})


def _rows(client: httpx.Client, query: str) -> set[tuple[str, ...]]:
    answer = client.get("/sparql", params={"query": query}).json()
    return {tuple(b[v]["value"] for v in answer["head"]["vars"]) for b in answer["results"]["bindings"]}


@pytest.mark.slow
def test_update_using_graph_uri_is_the_where_dataset(writable: httpx.Client) -> None:
    target = "urn:x-test:using-seen"
    update = f"INSERT {{ GRAPH <{target}> {{ ?s <urn:x:seen> ?o }} }} WHERE {{ ?s <urn:x:p> ?o }}"
    assert _update(writable, update).status_code == 204  # the default graph (the article's data) has none
    assert _rows(writable, f"SELECT ?s WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}") == set()
    assert _update(writable, update, **{"using-graph-uri": USING_1}).status_code == 204
    seen = _rows(writable, f"SELECT ?s ?o WHERE {{ GRAPH <{target}> {{ ?s <urn:x:seen> ?o }} }}")
    assert seen == _rows(writable, f"SELECT ?s ?o WHERE {{ GRAPH <{USING_1}> {{ ?s <urn:x:p> ?o }} }}")
    assert len(seen) == 3


@pytest.mark.slow
def test_update_using_named_graph_uri_limits_graph(writable: httpx.Client) -> None:
    target = "urn:x-test:using-named-seen"
    update = f"INSERT {{ GRAPH <{target}> {{ ?s <urn:x:in> ?g }} }} WHERE {{ GRAPH ?g {{ ?s <urn:x:p> ?o }} }}"
    assert _update(writable, update, **{"using-named-graph-uri": USING_2}).status_code == 204
    assert {g for (g,) in _rows(writable, f"SELECT DISTINCT ?g WHERE {{ GRAPH <{target}> {{ ?s ?p ?g }} }}")} == {
        USING_2}


@pytest.mark.slow
@pytest.mark.parametrize("update", [
    f"WITH <{USING_1}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    f"DELETE {{ GRAPH <{USING_1}> {{ ?s ?p ?o }} }} USING <{USING_1}> WHERE {{ ?s ?p ?o }}",
    f"DELETE {{ GRAPH <{USING_1}> {{ ?s ?p ?o }} }} using named <{USING_1}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
])
def test_update_dataset_conflict_is_400(writable: httpx.Client, update: str) -> None:
    before = _rows(writable, f"SELECT ?s ?o WHERE {{ GRAPH <{USING_1}> {{ ?s ?p ?o }} }}")
    response = _update(writable, update, **{"using-graph-uri": USING_2})
    assert response.status_code == 400, response.text
    assert "using-graph-uri" in response.text
    assert _rows(writable, f"SELECT ?s ?o WHERE {{ GRAPH <{USING_1}> {{ ?s ?p ?o }} }}") == before


def test_kg_query_honours_from(graph: KnowledgeGraph) -> None:
    """``kg query`` resolves the dataset as /sparql does (app/cli.py: prepare, resolve, run_query)."""
    if not isinstance(graph.backend, OxigraphBackend):
        pytest.skip("kg query runs the embedded engine")
    prepared = prepare(COUNT.format(clause=f"FROM <{graph.names.ontology}>"), "text/csv")
    result = run_query(graph.backend, resolve(prepared, graph.store.content_graphs(), graph.query_base))
    assert int(result.body.decode().split()[1]) == _distinct(graph, graph.names.ontology)
    with pytest.raises(BadRequest, match="may only name"):
        resolve(prepare(COUNT.format(clause=f"FROM <{graph.store.meta}>"), "text/csv"),
                graph.store.content_graphs(), graph.query_base)


def test_sparql_runs_the_query_as_read(client: httpx.Client, graph: KnowledgeGraph) -> None:
    """Every store runs the text the guard read (\\u escapes applied as SPARQL 1.1 §19.2 says, comments
    gone): an escaped keyword is that keyword on memory, disk and a remote store alike."""
    escaped = "\\u0053ELECT (COUNT(*) AS ?n) # a comment\nWHERE { ?s ?p ?o }"
    assert _count(client, escaped) == _count(client, COUNT.format(clause="")) == _distinct(graph, *graph.names.all())


def test_a_syntax_error_is_placed_where_the_client_wrote_it(client: httpx.Client) -> None:
    """The engine runs the guard's reading; its error names the client's line and column (it
    named line 1 when the reading joined every token with one space)."""
    query = "# a comment\nSELECT ?s\nWHERE {\n  ?s ?p ?o . FILTER(?s = ) }"
    with pytest.raises(SyntaxError) as engine:
        ox.Store().query(query)  # the engine itself, on the text as the client wrote it
    position = re.search(r"\b(\d+):(\d+)\b", str(engine.value))
    assert position is not None and position.group(1) == "4"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400
    assert f"at {position.group(0)}:" in response.text, response.text
