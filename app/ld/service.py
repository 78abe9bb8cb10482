"""The SPARQL 1.1 Service Description of ``/sparql`` (returned by GET without a query)."""

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.rdf import namespaces
from app.rdf.formats import GRAPH_FORMATS, RESULT_FORMATS
from app.rdf.namespaces import FORMATS, RDFS, SD, VOID, XSD

RDF_TYPE = ox.NamedNode(namespaces.RDF_TYPE)

# W3C unique IRIs for media types (https://www.w3.org/ns/formats/).
FORMAT_IRIS = {
    "turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD", "rdfxml": "RDF_XML",
    "trig": "TriG", "nquads": "N-Quads", "json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML",
    "csv": "SPARQL_Results_CSV", "tsv": "SPARQL_Results_TSV",
}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def service_description(graph: KnowledgeGraph, endpoint: str, void_url: str) -> list[ox.Triple]:
    service = _n(endpoint)
    dataset, default = ox.BlankNode("dataset"), ox.BlankNode("default")
    out = [
        ox.Triple(service, RDF_TYPE, _n(SD + "Service")),
        ox.Triple(service, _n(SD + "endpoint"), service),
        ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query")),
        ox.Triple(service, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")),
        ox.Triple(service, _n(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _n(SD + "Dataset")),
        ox.Triple(dataset, _n(SD + "defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, _n(SD + "Graph")),
        ox.Triple(default, _n(VOID + "triples"), ox.Literal(str(graph.triples), datatype=_n(XSD + "integer"))),
        ox.Triple(dataset, _n(VOID + "sparqlEndpoint"), service),
        ox.Triple(service, _n(RDFS + "seeAlso"), _n(void_url)),
    ]
    for fmt in RESULT_FORMATS + GRAPH_FORMATS:
        out.append(ox.Triple(service, _n(SD + "resultFormat"), _n(FORMATS + FORMAT_IRIS[fmt.name])))
    for i, name in enumerate(graph.names.all()):
        named = ox.BlankNode(f"named{i}")
        g = ox.BlankNode(f"graph{i}")
        count = len(graph.loaded.graphs.get(name, []))
        out += [
            ox.Triple(dataset, _n(SD + "namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _n(SD + "NamedGraph")),
            ox.Triple(named, _n(SD + "name"), _n(name)),
            ox.Triple(named, _n(SD + "graph"), g),
            ox.Triple(g, RDF_TYPE, _n(SD + "Graph")),
            ox.Triple(g, _n(VOID + "triples"), ox.Literal(str(count), datatype=_n(XSD + "integer"))),
        ]
    return [t for t in out if t is not None]
