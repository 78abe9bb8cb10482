"""Names of the dataset's named graphs, derived from the base IRI.

The default graph of every query is the union of the three (documented in the README):
``{base}/graph/data`` (asserted, from data/), ``{base}/graph/ontology`` (ontology/ minus
the shapes) and ``{base}/graph/inferred`` (entailments materialised at load time).
"""

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from app.rdf.namespaces import DCTERMS

#: The predicate of the dataset's version (its content hash) in the meta graph.
VERSION = ox.NamedNode(DCTERMS + "hasVersion")


@dataclass(frozen=True)
class GraphNames:
    data: str
    ontology: str
    inferred: str

    @classmethod
    def for_base(cls, base_iri: str) -> "GraphNames":
        return cls(f"{base_iri}/graph/data", f"{base_iri}/graph/ontology", f"{base_iri}/graph/inferred")

    def all(self) -> tuple[str, str, str]:
        return (self.data, self.ontology, self.inferred)


def meta_graph(base_iri: str) -> str:
    """The graph that records the dataset's version; never part of the queried dataset."""
    return f"{base_iri}/graph/meta"


def ntriples(triples: Iterable[ox.Triple]) -> str:
    """Triples as N-Triples lines (the body of an ``INSERT DATA`` / ``DELETE DATA`` block)."""
    return "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)


def record_version(meta: str, version: str, record: Iterable[ox.Triple] = ()) -> str:
    """The SPARQL Update operations that make ``version`` the recorded one and add ``record`` (a
    write's or a load's provenance) to the meta graph; every earlier record stays."""
    return (f"DELETE WHERE {{ GRAPH <{meta}> {{ <{meta}> <{VERSION.value}> ?version }} }} ;\n"
            f'INSERT DATA {{ GRAPH <{meta}> {{ <{meta}> <{VERSION.value}> "{version}" .\n{ntriples(record)}\n}} }}')


Bound = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Substitutions = dict[ox.Variable, Bound]


@dataclass(frozen=True)
class Dataset:
    """The dataset of a query run in the store: the union of every graph, or the union of
    ``default`` as default graph with ``named`` as named graphs."""

    union: bool
    default: tuple[ox.NamedNode, ...] = ()
    named: tuple[ox.NamedNode, ...] = ()

    def _run(self, store: ox.Store, text: str, substitutions: Substitutions | None,
             base_iri: str | None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        if self.union:
            return store.query(text, base_iri=base_iri, use_default_graph_as_union=True, substitutions=substitutions)
        default: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = list(self.default)
        named: list[ox.NamedNode | ox.BlankNode] = list(self.named)
        return store.query(text, base_iri=base_iri, default_graph=default, named_graphs=named,
                           substitutions=substitutions)

    def select(self, store: ox.Store, text: str, substitutions: Substitutions | None = None,
               base_iri: str | None = None) -> ox.QuerySolutions:
        rows = self._run(store, text, substitutions, base_iri)
        if not isinstance(rows, ox.QuerySolutions):
            raise TypeError("not a SELECT query")
        return rows

    def construct(self, store: ox.Store, text: str, substitutions: Substitutions | None = None) -> ox.QueryTriples:
        triples = self._run(store, text, substitutions, None)
        if not isinstance(triples, ox.QueryTriples):
            raise TypeError("not a CONSTRUCT query")
        return triples


_BNODE = re.compile(r"_:[A-Za-z0-9_.-]+")


def content_hash(quads: Iterable[ox.Quad]) -> str:
    """SHA-256 of the dataset's sorted N-Quads: the same graph always gives the same hash.

    Blank-node labels differ from one parse to the next, so they are left out of the hash
    (graphs that differ only in how blank nodes are wired would share a hash: good enough
    for a version and an ETag, not a proof of isomorphism)."""
    lines = sorted(_BNODE.sub("_:", str(q)) for q in quads)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
