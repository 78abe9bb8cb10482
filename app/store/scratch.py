"""The scratch store a write is staged in: a copy, in memory, of the dataset served.

The write is applied there, the entailments are brought up to date there, and the whole is
validated there (app.store.writes). It holds the content graphs, not the meta graph: SPARQL over a
store that holds just the graphs of a dataset may use their union, which Oxigraph evaluates faster
(app.store.checks).

The quads are copied with their blank nodes, so that the scratch store and the store served name
the same nodes alike, in batches (one call over a million quads would hold the GIL throughout).
From a store on disk the copy of the 1M-triple generated graph (1.7 million quads with its
entailments) takes about 12 s, most of it reading RocksDB. A checkpoint opened read-write would
cost nothing to make, but inference, validation and the comparison of the entailments over
RocksDB took 51 s at 1M triples, against 16 s in memory. Over a remote store (``sparql:``) the
copy is made of the content the service has read of it.
"""

import itertools
from collections.abc import Iterable

import pyoxigraph as ox

from app.store.backends import EmbeddedStore, OxigraphBackend, reader_over
from app.store.graph import KnowledgeGraph

BATCH = 50_000


class Scratch:
    """A writable copy, in memory, of ``graph``'s content graphs."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        source = graph.store
        self.store = ox.Store()
        meta = ox.NamedNode(source.meta)
        skip = {meta}
        if isinstance(source, EmbeddedStore):
            for g in source.store.named_graphs():
                if g not in skip:
                    self._copy(source.store.quads_for_pattern(None, None, None, g))
        else:
            self._copy(q for name, quads in graph.loaded.graphs.items() if ox.NamedNode(name) not in skip
                       for q in quads)

    def _copy(self, quads: Iterable[ox.Quad]) -> None:
        """Bulk-insert ``quads`` in batches: one call over a million quads held the GIL the whole time
        (the event loop of the service stood still for 4.6 s at 1M triples)."""
        remaining = iter(quads)
        while batch := list(itertools.islice(remaining, BATCH)):
            self.store.bulk_extend(batch)

    def triples(self, graph: str) -> list[ox.Triple]:
        return [q.triple for q in self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]

    def ntriples(self, graph: str) -> bytes:
        return self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)) or b""

    def reader(self, query_base: str, meta: str) -> OxigraphBackend:
        """A backend over the staged dataset, for the new version's derived answers (app.api.catalog)."""
        return reader_over(self.store, query_base, meta)
