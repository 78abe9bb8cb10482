"""THE table of media types: every route that returns RDF or SPARQL results uses it.

``kind`` says what a format can carry: ``graph`` (triples), ``dataset`` (quads; also fine for
triples), ``results`` (SELECT/ASK), ``html``.
"""

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # the value of ?format= and of `kg export --format`
    media_type: str
    extension: str
    kind: str
    rdf: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None
    aliases: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        text = self.media_type.startswith("text/") or self.media_type.endswith(("+json", "/json", "+xml", "/xml"))
        return f"{self.media_type}; charset=utf-8" if text else self.media_type


FORMATS: tuple[Format, ...] = (
    # N3 is a superset of Turtle: an N3 client reads Turtle (SPARQLWrapper sends format=n3).
    Format("turtle", "text/turtle", "ttl", "graph", rdf=ox.RdfFormat.TURTLE,
           aliases=("ttl", "application/x-turtle", "n3", "text/n3", "application/turtle")),
    Format("ntriples", "application/n-triples", "nt", "graph", rdf=ox.RdfFormat.N_TRIPLES,
           aliases=("nt", "text/plain")),
    Format("jsonld", "application/ld+json", "jsonld", "graph", rdf=ox.RdfFormat.JSON_LD, aliases=("json-ld",)),
    Format("rdfxml", "application/rdf+xml", "rdf", "graph", rdf=ox.RdfFormat.RDF_XML,
           aliases=("xml-rdf", "rdf", "rdf+xml")),
    Format("trig", "application/trig", "trig", "dataset", rdf=ox.RdfFormat.TRIG),
    Format("nquads", "application/n-quads", "nq", "dataset", rdf=ox.RdfFormat.N_QUADS, aliases=("nq",)),
    Format("json", "application/sparql-results+json", "srj", "results", results=ox.QueryResultsFormat.JSON,
           aliases=("srj", "application/json")),
    Format("xml", "application/sparql-results+xml", "srx", "results", results=ox.QueryResultsFormat.XML,
           aliases=("srx", "application/xml", "text/xml")),
    Format("csv", "text/csv", "csv", "results", results=ox.QueryResultsFormat.CSV),
    Format("tsv", "text/tab-separated-values", "tsv", "results", results=ox.QueryResultsFormat.TSV),
    Format("html", "text/html", "html", "html", aliases=("application/xhtml+xml",)),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
BY_EXTENSION: dict[str, Format] = {f.extension: f for f in FORMATS}


def lookup(name_or_type: str) -> Format | None:
    """A format by its name, extension, media type or alias (as ``?format=`` accepts)."""
    key = name_or_type.strip().lower()
    for f in FORMATS:
        if key in (f.name, f.extension, f.media_type, *f.aliases):
            return f
    return None


#: What a results format's ``format=`` name means for a CONSTRUCT or DESCRIBE: SPARQLWrapper and
#: other clients send ``format=json`` or ``format=xml`` whatever the query form.
COUNTERPARTS = {"json": "jsonld", "xml": "rdfxml"}


def accept_for(name_or_type: str) -> str | None:
    """The Accept header a ``?format=`` value stands for: its media type, plus, for ``json`` and
    ``xml``, the graph format of the same syntax (so that the query form picks); None if unknown."""
    fmt = lookup(name_or_type)
    if fmt is None or fmt.kind == "html":
        return None
    counterpart = COUNTERPARTS.get(fmt.name)
    return fmt.media_type + (f", {BY_NAME[counterpart].media_type};q=0.9" if counterpart else "")


def of_kind(*kinds: str) -> list[Format]:
    return [f for f in FORMATS if f.kind in kinds]


GRAPH_FORMATS = of_kind("graph", "dataset")
RESULT_FORMATS = of_kind("results")
EXPORT_FORMATS = [f.name for f in GRAPH_FORMATS]
