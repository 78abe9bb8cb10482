"""Names of the dataset's named graphs, derived from the base IRI.

The default graph of every query is the union of the three (documented in the README):
``{base}/graph/data`` (asserted, from data/), ``{base}/graph/ontology`` (ontology/ minus
the shapes) and ``{base}/graph/inferred`` (entailments materialised at load time).
"""

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
