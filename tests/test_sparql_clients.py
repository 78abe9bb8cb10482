"""Real SPARQL clients against the live /sparql: SPARQLWrapper and rdflib's SPARQLStore run every
example query and get the same answer as the graph gives directly."""

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

from app.build.graph import KnowledgeGraph
from app.config import ROOT
from tests.helpers import LiveServer

EXAMPLES = sorted((ROOT / "queries" / "examples").glob("*.rq"))


def direct_count(graph: KnowledgeGraph, text: str) -> int:
    from app.store.screen import screen

    if screen(text) in ("CONSTRUCT", "DESCRIBE"):
        return len(set(graph.backend.construct(text)))
    return len(graph.backend.select(text))


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_sparqlwrapper_runs_example(server: LiveServer, graph: KnowledgeGraph, path) -> None:  # noqa: ANN001
    text = path.read_text(encoding="utf-8")
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(text)
    if client.queryType in ("CONSTRUCT", "DESCRIBE"):
        client.setReturnFormat(TURTLE)
        result = client.query().convert()
        parsed = rdflib.Graph().parse(data=result, format="turtle")
        assert len(parsed) == direct_count(graph, text) > 0
    else:
        client.setReturnFormat(JSON)
        result = client.query().convert()
        assert len(result["results"]["bindings"]) == direct_count(graph, text) > 0


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_rdflib_sparqlstore_runs_example(server: LiveServer, graph: KnowledgeGraph, path) -> None:  # noqa: ANN001
    text = path.read_text(encoding="utf-8")
    store = SPARQLStore(f"{server.url}/sparql")  # default: Accept results XML and RDF/XML
    result = rdflib.Graph(store=store).query(text)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        assert len(result.graph) == direct_count(graph, text) > 0
    else:
        assert len(list(result)) == direct_count(graph, text) > 0
