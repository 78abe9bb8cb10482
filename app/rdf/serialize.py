"""Serialising triples and quads in a format of the table, with the graph's prefixes."""

from collections.abc import Iterable

import pyoxigraph as ox

from app.errors import NotAcceptable
from app.rdf.formats import Format
from app.rdf.namespaces import PREFIXES


def entity_prefixes(base_iri: str) -> dict[str, str]:
    kinds = ("district", "congress", "practice", "fact", "mechanism", "theme", "topic", "quote", "scheme", "source",
             "person")
    prefixes = {"dist" if k == "district" else k: f"{base_iri}/id/{k}/" for k in kinds}
    return {**PREFIXES, **prefixes}


def serialize_triples(triples: Iterable[ox.Triple], fmt: Format, base_iri: str) -> bytes:
    if fmt.rdf is None:
        raise NotAcceptable(f"{fmt.media_type} cannot carry RDF triples")
    if fmt.kind == "dataset":
        quads = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
        return _bytes(ox.serialize(quads, format=fmt.rdf, prefixes=entity_prefixes(base_iri)))
    return _bytes(ox.serialize(triples, format=fmt.rdf, prefixes=entity_prefixes(base_iri)))


def serialize_quads(quads: Iterable[ox.Quad], fmt: Format, base_iri: str) -> bytes:
    if fmt.rdf is None or fmt.kind != "dataset":
        raise NotAcceptable(f"{fmt.media_type} cannot carry named graphs")
    return _bytes(ox.serialize(quads, format=fmt.rdf, prefixes=entity_prefixes(base_iri)))


def _bytes(serialized: bytes | None) -> bytes:
    # pyoxigraph returns None only when it was given a file to write to; it never is here.
    assert serialized is not None
    return serialized
