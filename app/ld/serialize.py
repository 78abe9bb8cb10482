"""Serialising triples and quads in a format of the table, with the graph's prefixes."""

from collections.abc import Iterable

import pyoxigraph as ox

from app.errors import NotAcceptable
from app.ld.formats import Format

PREFIXES = {
    "bjrd": "https://bjrd-kg.example.org/ontology#",
    "dcterms": "http://purl.org/dc/terms/",
    "oa": "http://www.w3.org/ns/oa#",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "void": "http://rdfs.org/ns/void#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def entity_prefixes(base_iri: str) -> dict[str, str]:
    kinds = ("district", "congress", "practice", "fact", "mechanism", "theme", "topic", "quote", "scheme", "source")
    prefixes = {"dist" if k == "district" else k: f"{base_iri}/id/{k}/" for k in kinds}
    return {**PREFIXES, **prefixes}


def serialize_triples(triples: Iterable[ox.Triple], fmt: Format, base_iri: str) -> bytes:
    if fmt.rdf is None:
        raise NotAcceptable(f"{fmt.media_type} cannot carry RDF triples")
    if fmt.kind == "dataset":
        quads = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
        return ox.serialize(quads, format=fmt.rdf, prefixes=entity_prefixes(base_iri))
    return ox.serialize(triples, format=fmt.rdf, prefixes=entity_prefixes(base_iri))


def serialize_quads(quads: Iterable[ox.Quad], fmt: Format, base_iri: str) -> bytes:
    if fmt.rdf is None or fmt.kind != "dataset":
        raise NotAcceptable(f"{fmt.media_type} cannot carry named graphs")
    return ox.serialize(quads, format=fmt.rdf, prefixes=entity_prefixes(base_iri))
