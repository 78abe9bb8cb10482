"""format= values real clients send, per query form, over real HTTP: SPARQLWrapper with every return
format against SELECT, ASK, CONSTRUCT and DESCRIBE (GET and POST); the answer is parsed back and
compared with the graph, or the combination is meaningless and the answer is a 406 that says why.
Also: /sparql opened in a browser goes to the query editor; RDF clients keep the service description."""

import csv
import io
import json
import urllib.error
import warnings

import httpx
import pytest
import rdflib
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, LiveServer, select

SELECT = PREFIXES + "SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code } ORDER BY ?d"
ASK = PREFIXES + "ASK { ?d a bjrd:District }"
CONSTRUCT = PREFIXES + "CONSTRUCT { ?d a bjrd:District } WHERE { ?d a bjrd:District }"
DESCRIBE_IRI = "https://bjrd-kg.example.org/id/district/haidian"
DESCRIBE = f"DESCRIBE <{DESCRIBE_IRI}>"
QUERIES = {"SELECT": SELECT, "ASK": ASK, "CONSTRUCT": CONSTRUCT, "DESCRIBE": DESCRIBE}

#: (return format, query form) -> the media type answered; absent: 406.
ANSWERS = {
    **{(f, form): t for form in ("SELECT", "ASK") for f, t in (
        (JSON, "application/sparql-results+json"), (XML, "application/sparql-results+xml"),
        (CSV, "text/csv"), (TSV, "text/tab-separated-values"))},
    **{(f, form): t for form in ("CONSTRUCT", "DESCRIBE") for f, t in (
        (JSON, "application/ld+json"), (JSONLD, "application/ld+json"), (XML, "application/rdf+xml"),
        (RDF, "application/rdf+xml"), (RDFXML, "application/rdf+xml"), (TURTLE, "text/turtle"),
        (N3, "text/turtle"))},
}
RETURN_FORMATS = [JSON, XML, JSONLD, N3, TURTLE, CSV, TSV, RDF, RDFXML]
RDFLIB_FORMAT = {"application/ld+json": "json-ld", "application/rdf+xml": "xml", "text/turtle": "turtle"}


def district_codes(graph: KnowledgeGraph) -> list[tuple[str, str]]:
    return [(r["d"], str(r["code"])) for r in select(graph, SELECT)]


def check_answer(graph: KnowledgeGraph, form: str, media: str, body: bytes) -> None:
    """The answer, parsed back, is what the graph holds."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        parsed = rdflib.Graph().parse(data=body, format=RDFLIB_FORMAT[media])
        expected = {ox_triple for ox_triple in graph.backend.construct(QUERIES[form])}
        assert len(parsed) == len(expected) > 0
        if form == "DESCRIBE":
            assert (rdflib.URIRef(DESCRIBE_IRI), None, None) in parsed
        return
    if media == "application/sparql-results+json":
        document = json.loads(body)
        if form == "ASK":
            assert document["boolean"] is True
        else:
            rows = [(b["d"]["value"], b["code"]["value"]) for b in document["results"]["bindings"]]
            assert rows == district_codes(graph)
    elif media == "application/sparql-results+xml":
        assert (b"<boolean>true</boolean>" in body) if form == "ASK" else body.count(b"<result>") == 16
    else:
        delimiter = "," if media == "text/csv" else "\t"
        rows = list(csv.reader(io.StringIO(body.decode("utf-8")), delimiter=delimiter))
        if form == "ASK":
            assert rows[-1][0].lower() == "true"
        else:
            assert len(rows) == 1 + 16


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("form", list(QUERIES))
@pytest.mark.parametrize("return_format", RETURN_FORMATS)
def test_sparqlwrapper_every_return_format_and_query_form(server: LiveServer, graph: KnowledgeGraph,
                                                          return_format: str, form: str, method: str) -> None:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(QUERIES[form])
    client.setReturnFormat(return_format)
    client.setMethod(method)
    expected = ANSWERS.get((return_format, form))
    with warnings.catch_warnings():
        # SPARQLWrapper warns that it sends Accept: */* for a format it does not know for the form.
        warnings.simplefilter("ignore", RuntimeWarning)
        if expected is None:
            with pytest.raises(urllib.error.HTTPError) as refused:
                client.query()
            assert refused.value.code == 406
            message = refused.value.read().decode("utf-8")
            assert f"A {form} query answers" in message and "Ask for one of:" in message
            return
        result = client.query()
    media = result.response.headers["Content-Type"].split(";")[0]
    assert media == expected
    check_answer(graph, form, media, result.response.read())


@pytest.mark.parametrize(("fmt", "form", "expected"), [
    ("json", "CONSTRUCT", "application/ld+json"),
    ("xml", "DESCRIBE", "application/rdf+xml"),
    ("application/json", "SELECT", "application/sparql-results+json"),
    ("application/json", "CONSTRUCT", "application/ld+json"),
    ("application/sparql-results+xml", "ASK", "application/sparql-results+xml"),
    ("rdf+xml", "CONSTRUCT", "application/rdf+xml"),
    ("n3", "DESCRIBE", "text/turtle"),
    ("text/turtle", "CONSTRUCT", "text/turtle"),
    ("json-ld", "CONSTRUCT", "application/ld+json"),
    ("application/ld+json,application/x-json+ld", "DESCRIBE", "application/ld+json"),
])
def test_sparql_format_parameter_follows_the_query_form(client: httpx.Client, fmt: str, form: str,
                                                       expected: str) -> None:
    response = client.get("/sparql", params={"query": QUERIES[form], "format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize(("fmt", "form"), [("csv", "CONSTRUCT"), ("tsv", "DESCRIBE"), ("turtle", "SELECT"),
                                           ("json-ld", "ASK")])
def test_sparql_meaningless_format_is_406_naming_what_the_form_can_answer(client: httpx.Client, fmt: str,
                                                                          form: str) -> None:
    response = client.get("/sparql", params={"query": QUERIES[form], "format": fmt})
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("text/plain")
    assert f"A {form} query answers" in response.text


def test_sparql_unknown_format_is_400(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": SELECT, "format": "yaml"})
    assert response.status_code == 400
    assert "Unknown format 'yaml'" in response.text


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_sparql_in_a_browser_goes_to_the_query_editor(client: httpx.Client) -> None:
    response = client.get("/sparql", headers={"Accept": BROWSER})
    assert response.status_code == 303
    assert response.headers["location"] == "/query"
    assert client.get("/sparql", headers={"Accept": BROWSER}, follow_redirects=True).status_code == 200


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle", "application/ld+json",
                                    "text/turtle;q=0.9, text/html;q=0.5"])
def test_sparql_rdf_clients_still_get_the_service_description(client: httpx.Client, accept: str | None) -> None:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert not response.headers["content-type"].startswith("text/html")
