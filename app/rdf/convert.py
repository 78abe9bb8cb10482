"""Moving triples between pyoxigraph and rdflib (through N-Triples / N-Quads, the lossless way)."""

from collections.abc import Iterable

import pyoxigraph as ox
import rdflib


def to_rdflib_graph(triples: Iterable[ox.Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    graph = graph if graph is not None else rdflib.Graph()
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def to_rdflib_dataset(quads: Iterable[ox.Quad]) -> rdflib.Dataset:
    dataset = rdflib.Dataset(default_union=True)
    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    if data:
        dataset.parse(data=data.decode("utf-8"), format="nquads")
    return dataset
