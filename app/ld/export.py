"""Dumps of the dataset: graph formats carry the asserted graphs (data + ontology, optionally
the inferred triples) as one graph; dataset formats (TriG, N-Quads) carry every named graph.

``/export?format=`` serves a :class:`Dump` of the graph served now. The same bytes are published
as files under a versioned URL, ``/export/{release}/{file}`` (:data:`FILES`), where the release is
the first 12 hex digits of the graph's content hash: a URL that names one version of the data and
never changes, with ``SHA256SUMS`` listing every file's SHA-256. Each body is built once per graph
version, and each compressed form the first time a client asks for it.
"""

import base64
import hashlib
import re
import threading
from dataclasses import dataclass, field

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph, content_hash
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


@dataclass(frozen=True)
class DumpFile:
    """One file of a release: an RDF dump (format, with or without the inferred triples) or a table."""

    name: str
    format: Format | None = None
    inferred: bool = False
    table: str | None = None

    def build(self, graph: KnowledgeGraph) -> Dump:
        if self.table is not None:
            return build_table(graph, self.table)
        assert self.format is not None
        return build_dump(graph, self.format, self.inferred)


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

