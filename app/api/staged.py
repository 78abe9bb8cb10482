"""What a write's new version derives, built from the staged copy before the commit (app.runtime).

The /api catalog is built whole (app.api.catalog), and so are the search index and the spreadsheet
tables, which read it or its queries. The RDF dumps are not serialized whole on every write (at 1M
triples that is minutes): each serializer reads one term at a time, so a dump of the new version
can fail only on a term the version before did not have. Every triple the write adds goes through
each dump format (Turtle, N-Triples, RDF/XML, TriG, N-Quads, and JSON-LD through the rdflib view it
is compacted from); what fails fails here, and nothing is written.
"""

import pyoxigraph as ox

from app.api.catalog import read_catalog
from app.api.search import concept_labels, entities, stemmed_texts
from app.build.graph import KnowledgeGraph
from app.ld.export import build_table
from app.ld.jsonld import compact
from app.ld.tables import TABLES
from app.rdf.formats import GRAPH_FORMATS
from app.rdf.serialize import serialize_quads, serialize_triples
from app.writes.delta import Delta


def build_derived(graph: KnowledgeGraph, delta: Delta) -> None:
    """Build (into ``graph``'s memo) the search index and the tables of ``graph``, the version a
    write makes, and serialize the triples ``delta`` adds in every dump format; raises what fails."""
    catalog = read_catalog(graph)
    stemmed_texts(catalog), concept_labels(catalog), entities(catalog)
    for table in TABLES:
        build_table(graph, table)
    base = graph.settings.base_iri
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name))
             for name, triples in delta.added.items() for t in triples]
    triples = [q.triple for q in quads]
    for fmt in GRAPH_FORMATS:
        if fmt.kind == "dataset":
            serialize_quads(quads, fmt, base)
        elif fmt.name == "jsonld":
            compact(triples, None)
        else:
            serialize_triples(triples, fmt, base)
