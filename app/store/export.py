"""Dumps of the dataset: graph formats carry the asserted graphs (data + ontology, optionally
the inferred triples) as one graph; dataset formats (TriG, N-Quads) carry every named graph."""

import pyoxigraph as ox

from app.ld.formats import Format
from app.ld.serialize import serialize_quads, serialize_triples
from app.store.engine import KnowledgeGraph


def export_bytes(graph: KnowledgeGraph, fmt: Format, *, inferred: bool = False) -> bytes:
    loaded = graph.loaded
    base = graph.settings.base_iri
    if fmt.kind == "dataset":
        return serialize_quads(loaded.quads, fmt, base)
    quads = loaded.ontology + loaded.data + (loaded.inferred if inferred else [])
    triples: dict[ox.Triple, None] = dict.fromkeys(q.triple for q in quads)
    return serialize_triples(list(triples), fmt, base)
