"""Dumps of the dataset: graph formats carry the asserted graphs (data + ontology, optionally
the inferred triples) as one graph; dataset formats (TriG, N-Quads) carry every named graph.

``/export?format=`` serves a :class:`Dump` of the graph served now. The same bytes are published
as files under a versioned URL, ``/export/{release}/{file}`` (:data:`FILES`), where the release is
the first 12 hex digits of the graph's content hash: a URL that names one version of the data and
never changes, with ``SHA256SUMS`` listing every file's SHA-256. Each body is built once per graph
version, and each compressed form the first time a client asks for it.

Per source (``/export?source=ID``, ``/export/{release}/sources/{id}/{file}``): the statements drawn
from that one source, selected by ``queries/source_dump.rq`` (its description, its quotes, every node
whose evidence is one of them with all their statements, and the type and labels of each shared
concept they link to), each with its named graph; the same files, tables restricted to the source's
records, and a ``SHA256SUMS`` of their own. Kept per graph version for at most :data:`SOURCES_KEPT`
sources at a time (least recently asked go first).
"""

import base64
import hashlib
import re
import threading
from dataclasses import dataclass, field

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph, content_hash
from app.errors import NotFound
from app.ld.jsonld import compact
from app.ld.tables import TABLES, table_csv
from app.rdf.codings import encode
from app.rdf.formats import BY_NAME, GRAPH_FORMATS, Format
from app.rdf.serialize import serialize_quads, serialize_triples

#: Length of the release id: a prefix of the graph's SHA-256 content hash.
RELEASE_DIGITS = 12
CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"


def export_bytes(graph: KnowledgeGraph, fmt: Format, *, inferred: bool = False) -> bytes:
    loaded = graph.loaded
    base = graph.settings.base_iri
    if fmt.kind == "dataset":
        return serialize_quads(loaded.quads, fmt, base)
    quads = loaded.ontology + loaded.data + (loaded.inferred if inferred else [])
    triples: dict[ox.Triple, None] = dict.fromkeys(q.triple for q in quads)
    return serialize_triples(list(triples), fmt, base)


@dataclass
class Dump:
    """One dump's bytes, their SHA-256, and their compressed forms (made on first use)."""

    body: bytes
    media_type: str
    _encoded: dict[str, bytes] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def gzipped(self) -> bytes:
        return self.encoded("gzip")

    def encoded(self, coding: str | None) -> bytes:
        """The body in ``coding`` (None: as is)."""
        if coding is None:
            return self.body
        with self._lock:
            if coding not in self._encoded:
                self._encoded[coding] = encode(self.body, coding)
            return self._encoded[coding]

    @staticmethod
    def digest(data: bytes) -> str:
        """Base64 SHA-256, as the ``Digest`` and ``Repr-Digest`` headers carry it."""
        return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def build_dump(graph: KnowledgeGraph, fmt: Format, inferred: bool) -> Dump:
    """The dump in ``fmt``, built once per graph version; JSON-LD with its context inline, so that a
    downloaded copy expands offline."""

    def build() -> Dump:
        if fmt.name == "jsonld":
            ntriples = export_bytes(graph, BY_NAME["ntriples"], inferred=inferred)
            body = compact([q.triple for q in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)], None)
        else:
            body = export_bytes(graph, fmt, inferred=inferred)
        return Dump(body, fmt.content_type)

    key = ("dump", fmt.name, inferred and fmt.kind == "graph")
    return graph.memo.get(key, build, size=32)


def build_table(graph: KnowledgeGraph, table: str) -> Dump:
    """``practices.csv`` or ``facts.csv``, built once per graph version."""
    return graph.memo.get(("table", table), lambda: Dump(table_csv(graph, table), CSV_MEDIA_TYPE), size=8)


#: Sources whose selections and files one graph version keeps at once (the least recently asked go first).
SOURCES_KEPT = 16
#: How much of an unknown source id an error message repeats.
SHOWN_ID_CHARS = 80


def source_ids(graph: KnowledgeGraph) -> dict[str, str]:
    """Every source of the graph (a ``schema:Article``, queries/sources.rq): id (its IRI's last segment) -> IRI."""

    def build() -> dict[str, str]:
        iris = sorted(str(row["source"]) for row in graph.run("sources"))
        return {iri.rsplit("/", 1)[-1]: iri for iri in iris}

    return graph.memo.get(("source_ids",), build, size=1)


def source_iri(graph: KnowledgeGraph, source: str) -> str:
    """The IRI of the source ``source`` names; NotFound naming the valid ids for any other text."""
    known = source_ids(graph)
    if source not in known:
        shown = source if len(source) <= SHOWN_ID_CHARS else source[:SHOWN_ID_CHARS] + "…"
        raise NotFound(f"Unknown source id {shown!r}. Valid source ids: {', '.join(known) or '(none)'} "
                       f"(/api/sources lists them).")
    return known[source]


def _term_key(term: object) -> str:
    return str(term)


def source_quads(graph: KnowledgeGraph, source: str) -> list[ox.Quad]:
    """The statements drawn from ``source`` with their named graphs (queries/source_dump.rq), in a fixed order
    (graph, subject, predicate, object) so that a release's bytes do not depend on the engine's order."""
    iri = source_iri(graph, source)

    def build() -> list[ox.Quad]:
        quads = set()
        for r in graph.run_terms("source_dump", source=iri):
            s, p, o, g = r["s"], r["p"], r["o"], r["g"]
            # The query's patterns bind ?s to a subject, ?p to an IRI and ?g to a named graph.
            assert not isinstance(s, ox.Literal) and isinstance(p, ox.NamedNode) and isinstance(g, ox.NamedNode)
            quads.add(ox.Quad(s, p, o, g))
        return sorted(quads, key=lambda q: (_term_key(q.graph_name), _term_key(q.subject), _term_key(q.predicate),
                                            _term_key(q.object)))

    return graph.memo.get(("source_quads", source), build, size=SOURCES_KEPT)


def source_bytes(graph: KnowledgeGraph, source: str, fmt: Format, *, inferred: bool = False) -> bytes:
    """The dump of one source in ``fmt``: dataset formats carry each statement in its named graph (the inferred
    ones too, as the whole dataset's do); graph formats the asserted statements, ``inferred`` adds the inferred."""
    quads = source_quads(graph, source)
    base = graph.settings.base_iri
    if fmt.kind == "dataset":
        return serialize_quads(quads, fmt, base)
    kept = [q for q in quads if inferred or q.graph_name != ox.NamedNode(graph.names.inferred)]
    triples = sorted({q.triple for q in kept}, key=lambda t: (_term_key(t.subject), _term_key(t.predicate),
                                                             _term_key(t.object)))
    return serialize_triples(triples, fmt, base)


def build_source_dump(graph: KnowledgeGraph, source: str, fmt: Format, inferred: bool) -> Dump:
    """:func:`build_dump` for one source, built once per graph version (JSON-LD with its context inline)."""

    def build() -> Dump:
        if fmt.name == "jsonld":
            ntriples = source_bytes(graph, source, BY_NAME["ntriples"], inferred=inferred)
            body = compact([q.triple for q in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)], None)
        else:
            body = source_bytes(graph, source, fmt, inferred=inferred)
        return Dump(body, fmt.content_type)

    source_iri(graph, source)
    key = ("source_dump", source, fmt.name, inferred and fmt.kind == "graph")
    return graph.memo.get(key, build, size=SOURCES_KEPT * len(GRAPH_FORMATS) * 2)


def source_records(graph: KnowledgeGraph, source: str) -> frozenset[str]:
    """The records (practices, facts, themes …) whose evidence is a quote of ``source`` (queries/source_records.rq)."""
    iri = source_iri(graph, source)
    return graph.memo.get(("source_records", source),
                          lambda: frozenset(str(r["record"]) for r in graph.run("source_records", source=iri)),
                          size=SOURCES_KEPT)


def build_source_table(graph: KnowledgeGraph, source: str, table: str) -> Dump:
    """One of the tables with the rows of ``source`` only (app/ld/tables.py), built once per graph version."""
    records = source_records(graph, source)
    return graph.memo.get(("source_table", source, table),
                          lambda: Dump(table_csv(graph, table, records=records), CSV_MEDIA_TYPE),
                          size=SOURCES_KEPT * len(TABLES))


@dataclass(frozen=True)
class DumpFile:
    """One file of a release: an RDF dump (format, with or without the inferred triples) or a table."""

    name: str
    format: Format | None = None
    inferred: bool = False
    table: str | None = None

    def build(self, graph: KnowledgeGraph, source: str | None = None) -> Dump:
        """This file of the whole dataset, or of ``source`` alone."""
        if self.table is not None:
            return build_table(graph, self.table) if source is None else build_source_table(graph, source, self.table)
        assert self.format is not None
        if source is None:
            return build_dump(graph, self.format, self.inferred)
        return build_source_dump(graph, source, self.format, self.inferred)


def _files() -> dict[str, DumpFile]:
    files = [DumpFile(f"bjrd-kg.{f.extension}", f) for f in GRAPH_FORMATS]
    files += [DumpFile(f"bjrd-kg-inferred.{f.extension}", f, inferred=True) for f in GRAPH_FORMATS
              if f.kind == "graph"]
    files += [DumpFile(f"{table}.csv", table=table) for table in TABLES]
    return {f.name: f for f in files}


#: Every file of a release, by name (the names SHA256SUMS lists).
FILES = _files()


def release_id(graph: KnowledgeGraph) -> str:
    """The release the graph served now is published as: a prefix of its content hash (the graph's
    version; computed from the content when the store recorded none)."""

    def build() -> str:
        if re.fullmatch(r"[0-9a-f]{64}", graph.version):
            return graph.version[:RELEASE_DIGITS]
        return content_hash(graph.loaded.quads)[:RELEASE_DIGITS]

    return graph.memo.get(("release",), build, size=1)


def sha256sums(graph: KnowledgeGraph) -> Dump:
    """``SHA256SUMS`` of the release, in the format ``sha256sum --check`` reads."""

    def build() -> Dump:
        lines = "".join(f"{f.build(graph).sha256}  {name}\n" for name, f in FILES.items())
        return Dump(lines.encode("ascii"), "text/plain; charset=utf-8")

    return graph.memo.get(("sha256sums",), build, size=1)


def source_sha256sums(graph: KnowledgeGraph, source: str) -> Dump:
    """``SHA256SUMS`` of one source's files (``/export/{release}/sources/{id}/``), the same names as the whole
    release's, so that ``sha256sum --check`` reads it in the folder those files are downloaded to."""

    def build() -> Dump:
        lines = "".join(f"{f.build(graph, source).sha256}  {name}\n" for name, f in FILES.items())
        return Dump(lines.encode("ascii"), "text/plain; charset=utf-8")

    source_iri(graph, source)
    return graph.memo.get(("source_sha256sums", source), build, size=SOURCES_KEPT)

