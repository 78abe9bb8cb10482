"""/sparql against the W3C SPARQL 1.1 Protocol test cases (sparql11/protocol manifest), over HTTP.

Each case is a row of a table; answers are parsed back (json, xml, csv, tsv, RDF) and compared
with the rows the same query gives on the graph directly.
"""

import csv
import io
import json
import time
import xml.etree.ElementTree as ET
from urllib.parse import quote

import httpx
import pytest
import rdflib

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, LiveServer, select

DISTRICTS = PREFIXES + "SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code } ORDER BY ?code"
ASK_TRUE = PREFIXES + "ASK { ?d a bjrd:District }"
CONSTRUCT = PREFIXES + "CONSTRUCT { ?d rdfs:label ?l } WHERE { ?d a bjrd:District ; rdfs:label ?l }"
DESCRIBE = "DESCRIBE <id/district/haidian>"
RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
SRX = "{http://www.w3.org/2005/sparql-results#}"


def codes_expected(graph: KnowledgeGraph) -> list[str]:
    return [row["code"] for row in select(graph, DISTRICTS)]


# ------------------------------------------------------------------ query_get / post_form / post_direct


@pytest.mark.parametrize("how", ["get", "post_form", "post_direct"])
def test_sparql_query_methods_return_the_rows(client: httpx.Client, graph: KnowledgeGraph, how: str) -> None:
    headers = {"Accept": RESULTS_JSON}
    if how == "get":
        response = client.get("/sparql", params={"query": DISTRICTS}, headers=headers)
    elif how == "post_form":
        response = client.post("/sparql", data={"query": DISTRICTS}, headers=headers)
    else:
        response = client.post("/sparql", content=DISTRICTS.encode(),
                               headers={**headers, "Content-Type": "application/sparql-query"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(RESULTS_JSON)
    bindings = response.json()["results"]["bindings"]
    assert [b["code"]["value"] for b in bindings] == codes_expected(graph)
    assert len(bindings) == 16


# ------------------------------------------------------------------ query_content_type_*


def parse_select(media_type: str, body: bytes) -> list[str]:
    """The ?code column of a SELECT answer in any of the four result formats."""
    if media_type == RESULTS_JSON:
        return [b["code"]["value"] for b in json.loads(body)["results"]["bindings"]]
    if media_type == RESULTS_XML:
        root = ET.fromstring(body)
        return [b.find(f"{SRX}literal").text for b in root.iter(f"{SRX}binding") if b.get("name") == "code"]
    if media_type == "text/csv":
        return [row["code"] for row in csv.DictReader(io.StringIO(body.decode()))]
    rows = list(csv.reader(io.StringIO(body.decode()), delimiter="\t"))
    column = rows[0].index("?code")
    return [row[column].strip('"') for row in rows[1:]]


@pytest.mark.parametrize("media_type", [RESULTS_JSON, RESULTS_XML, "text/csv", "text/tab-separated-values"])
def test_sparql_select_in_each_result_format(client: httpx.Client, graph: KnowledgeGraph, media_type: str) -> None:
    response = client.get("/sparql", params={"query": DISTRICTS}, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]
    assert parse_select(media_type, response.content) == codes_expected(graph)


@pytest.mark.parametrize("media_type", [RESULTS_JSON, RESULTS_XML])
def test_sparql_ask_in_json_and_xml(client: httpx.Client, media_type: str) -> None:
    response = client.get("/sparql", params={"query": ASK_TRUE}, headers={"Accept": media_type})
    assert response.status_code == 200
    if media_type == RESULTS_JSON:
        assert response.json()["boolean"] is True
    else:
        assert ET.fromstring(response.content).find(f"{SRX}boolean").text == "true"


RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-quads": "nquads",
    "application/trig": "trig",
}


@pytest.mark.parametrize("media_type", sorted(RDF_TYPES))
def test_sparql_construct_in_each_rdf_format(client: httpx.Client, graph: KnowledgeGraph, media_type: str) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    parsed = rdflib.Dataset() if media_type in ("application/n-quads", "application/trig") else rdflib.Graph()
    parsed.parse(data=response.content, format=RDF_TYPES[media_type])
    rows = select(graph, PREFIXES + "SELECT ?d ?l WHERE { ?d a bjrd:District ; rdfs:label ?l }")
    expected = {(r["d"], r["l"]) for r in rows}
    got = {(str(s), str(o)) for s, _, o in parsed.triples((None, rdflib.RDFS.label, None))}
    assert got == expected and len(got) == 32


def test_sparql_describe_resolves_relative_iri_against_base(client: httpx.Client, graph: KnowledgeGraph) -> None:
    response = client.get("/sparql", params={"query": DESCRIBE}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    parsed = rdflib.Graph().parse(data=response.content, format="turtle")
    haidian = rdflib.URIRef(graph.iri("district", "haidian"))
    code = rdflib.URIRef("https://bjrd-kg.example.org/ontology#divisionCode")
    assert (haidian, code, rdflib.Literal("110108")) in parsed


# ------------------------------------------------------------------ negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, RESULTS_JSON),
        ("*/*", RESULTS_JSON),
        ("text/csv", "text/csv"),
        ("application/sparql-results+xml;q=0.5, text/csv;q=0.9", "text/csv"),
        ("text/csv;q=0, */*;q=0.1", RESULTS_JSON),
        ("text/*", "text/csv"),
        ("application/json", RESULTS_JSON),
        ("text/html;q=1, text/tab-separated-values;q=0.2", "text/tab-separated-values"),
    ],
)
def test_sparql_accept_negotiation(client: httpx.Client, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/sparql", params={"query": ASK_TRUE}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


def test_sparql_accept_unsupported_is_406_naming_types(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": ASK_TRUE}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert RESULTS_JSON in response.text and "text/csv" in response.text


#: Runs far past the test server's 3 s deadline if it is ever evaluated.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.mark.parametrize(("query", "accept"), [
    (RUNAWAY, "image/png"),
    (RUNAWAY, "text/turtle"),  # a graph format for SELECT results
    ("CONSTRUCT { ?a ?b ?c } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }", RESULTS_JSON),
])
def test_sparql_accept_unacceptable_is_406_before_the_query_runs(server: LiveServer, client: httpx.Client,
                                                                   query: str, accept: str) -> None:
    runner = server.app.state.runtime.runner  # type: ignore[attr-defined]
    timeouts = runner.timeouts
    started = time.monotonic()
    response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406, response.text
    assert time.monotonic() - started < 1.5  # answered at once, not at the 3 s deadline
    assert runner.timeouts == timeouts
    assert response.headers["content-type"].startswith("text/plain")
    # The message says what the query form can be sent as.
    wanted = "text/turtle" if query.startswith("CONSTRUCT") else "application/sparql-results+json"
    assert "Ask for one of:" in response.text and wanted in response.text


@pytest.mark.parametrize("accept", ["text/turtle", RESULTS_JSON, ""])
def test_sparql_malformed_query_is_400_whatever_the_accept(client: httpx.Client, accept: str) -> None:
    response = client.get("/sparql", params={"query": "SELECTT * WHERE { ?s ?p ?o }"}, headers={"Accept": accept})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(("fmt", "expected"), [("csv", "text/csv"), ("json", RESULTS_JSON),
                                               ("tsv", "text/tab-separated-values"), ("xml", RESULTS_XML)])
def test_sparql_format_parameter_overrides_accept(client: httpx.Client, fmt: str, expected: str) -> None:
    response = client.get("/sparql", params={"query": ASK_TRUE, "format": fmt}, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


def test_sparql_unknown_format_parameter_is_400(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": ASK_TRUE, "format": "yaml"})
    assert response.status_code == 400
    assert "yaml" in response.text and "csv" in response.text


# ------------------------------------------------------------------ dataset selection


def test_sparql_default_graph_uri_restricts_the_default_graph(client: httpx.Client, graph: KnowledgeGraph) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    counts = {}
    for name in (graph.names.data, graph.names.ontology, graph.names.inferred):
        response = client.get("/sparql", params={"query": count, "default-graph-uri": name})
        counts[name] = int(response.json()["results"]["bindings"][0]["n"]["value"])
    assert counts[graph.names.data] == len(graph.loaded.data)
    assert counts[graph.names.ontology] == len(graph.loaded.ontology)
    assert counts[graph.names.inferred] == len(graph.loaded.inferred)


def test_sparql_named_graph_uri_limits_graph_clause(client: httpx.Client, graph: KnowledgeGraph) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = client.get("/sparql", params={"query": query, "named-graph-uri": graph.names.ontology})
    assert [b["g"]["value"] for b in response.json()["results"]["bindings"]] == [graph.names.ontology]
    everything = client.get("/sparql", params={"query": query})
    assert {b["g"]["value"] for b in everything.json()["results"]["bindings"]} == set(graph.names.all())


# ------------------------------------------------------------------ bad requests


def test_sparql_bad_query_method_is_405(client: httpx.Client) -> None:
    response = client.put("/sparql", content=ASK_TRUE, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 405


def test_sparql_bad_multiple_queries_is_400(client: httpx.Client) -> None:
    response = client.get(f"/sparql?query={quote(ASK_TRUE)}&query={quote(ASK_TRUE)}")
    assert response.status_code == 400
    assert "at most once" in response.text


def test_sparql_query_in_url_and_body_is_400(client: httpx.Client) -> None:
    response = client.post(f"/sparql?query={quote(ASK_TRUE)}", content=ASK_TRUE,
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400


def test_sparql_bad_query_wrong_media_type_is_415(client: httpx.Client) -> None:
    response = client.post("/sparql", content=ASK_TRUE, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/sparql-query" in response.text


@pytest.mark.parametrize("body", [f"query={quote(ASK_TRUE)}", ASK_TRUE])
def test_sparql_bad_query_missing_content_type_is_400(server, body: str) -> None:  # noqa: ANN001
    # httpx always sets a Content-Type for content=; a raw request shows the missing header.
    import socket

    host, port = server.url.removeprefix("http://").split(":")
    raw = body.encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
                     + str(len(raw)).encode() + b"\r\n\r\n" + raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"Content-Type" in answer


def test_sparql_bad_query_non_utf8_is_400(client: httpx.Client) -> None:
    body = 'SELECT * WHERE { ?s ?p "café" }'.encode("iso-8859-1")
    response = client.post("/sparql", content=body, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400
    assert "UTF-8" in response.text


def test_sparql_bad_query_non_utf8_in_url_is_400(client: httpx.Client) -> None:
    response = client.get("/sparql?query=ASK%7B%3Fs%20%3Fp%20%22caf%E9%22%7D")
    assert response.status_code == 400


def test_sparql_bad_query_syntax_is_400_with_position(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "1:" in response.text and "syntax" in response.text.lower()


UPDATES = [
    "INSERT DATA { <http://example.org/s> <http://example.org/p> <http://example.org/o> }",
    "DELETE WHERE { ?s ?p ?o }",
    "CLEAR ALL",
    "DROP DEFAULT",
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "PREFIX ex: <http://example.org/> WITH ex:g DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
]


@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("how", ["get_query", "get_update", "post_form_update", "post_direct_update",
                                 "post_direct_query"])
def test_sparql_bad_update_is_refused_and_changes_nothing(client: httpx.Client, update: str, how: str) -> None:
    before = client.get("/health").json()["triples"]
    if how == "get_query":
        response = client.get("/sparql", params={"query": update})
    elif how == "get_update":
        response = client.get("/sparql", params={"update": update})
    elif how == "post_form_update":
        response = client.post("/sparql", data={"update": update})
    elif how == "post_direct_update":
        response = client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"})
    else:
        response = client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400, response.text
    assert client.get("/health").json()["triples"] == before
    count = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    assert int(count.json()["results"]["bindings"][0]["n"]["value"]) == before


def test_sparql_query_over_size_limit_is_413(client: httpx.Client, graph: KnowledgeGraph) -> None:
    padding = "#" + "x" * graph.settings.max_query_bytes + "\n"
    response = client.post("/sparql", content=padding + ASK_TRUE, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413
    assert str(graph.settings.max_query_bytes) in response.text


def test_sparql_keywords_inside_strings_and_iris_are_not_refused(client: httpx.Client) -> None:
    query = 'SELECT ?x WHERE { VALUES ?x { "SERVICE INSERT" <http://example.org/SERVICE> } } # LOAD'
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 2


# ------------------------------------------------------------------ service description, HEAD, CORS

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


@pytest.mark.parametrize(("accept", "fmt"), [(None, "turtle"), ("application/ld+json", "json-ld"),
                                              ("application/rdf+xml", "xml")])
def test_sparql_without_query_is_the_service_description(client: httpx.Client, graph: KnowledgeGraph,
                                                         accept: str | None, fmt: str) -> None:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    sd = rdflib.Graph().parse(data=response.content, format=fmt)
    service = next(sd.subjects(rdflib.RDF.type, SD.Service))
    assert str(sd.value(service, SD.endpoint)).endswith("/sparql")
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in sd
    assert len(set(sd.objects(service, SD.resultFormat))) == 10
    default = sd.value(sd.value(service, SD.defaultDataset), SD.defaultGraph)
    assert int(sd.value(default, VOID.triples)) == graph.triples


def test_sparql_head_has_headers_and_no_body(client: httpx.Client) -> None:
    response = client.head("/sparql", params={"query": ASK_TRUE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(RESULTS_JSON)
    assert response.content == b""


def test_sparql_cors_allows_any_origin_without_credentials(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": ASK_TRUE}, headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    preflight = client.options("/sparql", headers={"Origin": "https://example.org",
                                                    "Access-Control-Request-Method": "POST",
                                                    "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_sparql_replacement_character_sent_as_such_in_url_is_a_query_not_a_400(client: httpx.Client) -> None:
    """U+FFFD is also what invalid UTF-8 becomes when parsed leniently: a client's own one is kept."""
    response = client.get("/sparql?query=ASK%7B%3Fs%20%3Fp%20%22%EF%BF%BD%22%7D",
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.json()["boolean"] is False
    invalid = client.get("/sparql?query=ASK%7B%3Fs%20%3Fp%20%22%EF%BF%BD%22%7D&x=%FF")
    assert invalid.status_code == 400
    assert "UTF-8" in invalid.text
