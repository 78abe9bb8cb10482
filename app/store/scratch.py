"""The scratch store a write is staged in: a writable copy of the dataset the service serves.

* **disk**: the store's quads, read in order and bulk-inserted into a store in memory, with
  their blank nodes (about 7.7 s per million triples, most of it reading RocksDB). A checkpoint
  opened read-write would cost nothing to make, but inference, validation and the comparison of
  the entailments over RocksDB took 51 s at 1M triples, against 16 s in memory.
* **memory**: a copy of the store, dumped and bulk-loaded inside Oxigraph in one go (about 4 s per
  million triples; the blank nodes get new labels, the same in every graph); it becomes the
  served store if the write commits.
* **remote** (``sparql:``): the content the service has read of the store.

The scratch store holds the content graphs, not the meta graph: SPARQL over a store that holds
just the graphs of a dataset may use their union, which Oxigraph evaluates faster (app.store.checks).
"""

import pyoxigraph as ox

from app.store.backends import EmbeddedStore
from app.store.graph import KnowledgeGraph


class Scratch:
    """A writable copy of ``graph``'s content graphs, in memory."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        source = graph.store
        self.store = ox.Store()
        meta = ox.NamedNode(source.meta)
        if isinstance(source, EmbeddedStore) and source.spec.kind == "memory":
            # One load of the whole dataset: the blank nodes get new labels, the same ones in every graph.
            self.store.bulk_load(source.store.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
            if self.store.contains_named_graph(meta):
                self.store.remove_graph(meta)
        elif isinstance(source, EmbeddedStore):
            for g in source.store.named_graphs():
                if g != meta:
                    self.store.bulk_extend(source.store.quads_for_pattern(None, None, None, g))
        else:
            self.store.bulk_extend(q for quads in graph.loaded.graphs.values() for q in quads)

    def triples(self, graph: str) -> list[ox.Triple]:
        return [q.triple for q in self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]

    def ntriples(self, graph: str) -> bytes:
        return self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)) or b""
