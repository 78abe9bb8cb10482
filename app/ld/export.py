"""Dumps of the dataset: graph formats carry the asserted graphs (data + ontology, optionally
the inferred triples) as one graph; dataset formats (TriG, N-Quads) carry every named graph.

``/export`` serves a :class:`Dump`: the bytes (and their gzip) built once per graph version.
"""

import base64
import gzip
import hashlib
from dataclasses import dataclass

import pyoxigraph as ox

from app.ld.jsonld import compact
from app.rdf.formats import BY_NAME, Format
from app.rdf.negotiate import quality
from app.rdf.serialize import serialize_quads, serialize_triples
from app.store.graph import KnowledgeGraph


def export_bytes(graph: KnowledgeGraph, fmt: Format, *, inferred: bool = False) -> bytes:
    loaded = graph.loaded
    base = graph.settings.base_iri
    if fmt.kind == "dataset":
        return serialize_quads(loaded.quads, fmt, base)
    quads = loaded.ontology + loaded.data + (loaded.inferred if inferred else [])
    triples: dict[ox.Triple, None] = dict.fromkeys(q.triple for q in quads)
    return serialize_triples(list(triples), fmt, base)


@dataclass(frozen=True)
class Dump:
    body: bytes
    gzipped: bytes

    @staticmethod
    def digest(data: bytes) -> str:
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
        return Dump(body, gzip.compress(body, compresslevel=6, mtime=0))

    key = ("dump", fmt.name, inferred)
    return graph.memo.get(key, build, size=32)


def accepts_gzip(header: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (``gzip``/``x-gzip`` or ``*`` with q > 0)."""
    codings: dict[str, float] = {}
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        codings[fields[0].lower()] = quality(fields[1:])
    for name in ("gzip", "x-gzip"):
        if name in codings:
            return codings[name] > 0
    return codings.get("*", 0.0) > 0
