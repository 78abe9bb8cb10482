"""Names of the dataset's named graphs, derived from the base IRI.

The default graph of every query is the union of the three (documented in the README):
``{base}/graph/data`` (asserted, from data/), ``{base}/graph/ontology`` (ontology/ minus
the shapes) and ``{base}/graph/inferred`` (entailments materialised at load time).
"""

import hashlib
import heapq
import logging
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice

import pyoxigraph as ox

from app.rdf.namespaces import DCTERMS

logger = logging.getLogger(__name__)

#: The predicate of the dataset's version (its content hash) in the meta graph.
VERSION = ox.NamedNode(DCTERMS + "hasVersion")
#: ``<meta> OWNS <graph>``: a graph of the service's dataset. A store may hold other graphs (a
#: remote store shared with others): the service reads, dumps, serves and replaces only these.
OWNS = ox.NamedNode("https://bjrd-kg.example.org/ontology#ownsGraph")


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


def owned_quads(meta: str, graphs: Iterable[str]) -> list[ox.Quad]:
    """The meta graph's record of the graphs the service owns."""
    node = ox.NamedNode(meta)
    return [ox.Quad(node, OWNS, ox.NamedNode(g), node) for g in sorted(set(graphs)) if g != meta]


def record_owned(meta: str, graphs: Iterable[str]) -> str:
    """The SPARQL Update operations that make ``graphs`` the recorded graphs of the service."""
    listed = " ".join(f"<{g}>" for g in sorted(set(graphs)) if g != meta)
    insert = f" ;\nINSERT DATA {{ GRAPH <{meta}> {{ <{meta}> <{OWNS.value}> {', '.join(listed.split())} }} }}"
    return f"DELETE WHERE {{ GRAPH <{meta}> {{ <{meta}> <{OWNS.value}> ?graph }} }}" + (insert if listed else "")


def legacy_owned(meta: str, graphs: Iterable[str]) -> list[str]:
    """The graphs a store written before ownership was recorded is taken to own: those named under
    the service's own ``{base}/graph/`` (never a co-tenant's graph elsewhere), the meta graph aside."""
    prefix = meta.rsplit("/", 1)[0] + "/"
    return sorted(g for g in graphs if g.startswith(prefix) and g != meta)


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


#: Lines sorted in memory at once; a larger dataset is sorted in runs spilled to temporary files
#: and merged, so the hash of ten million quads needs a run's memory, not the whole dataset's.
SORT_RUN_LINES = 1_000_000


def content_hash(quads: Iterable[ox.Quad], run_lines: int = SORT_RUN_LINES) -> str:
    """SHA-256 of the dataset's sorted N-Quads: the same graph always gives the same hash.

    Blank-node labels differ from one parse to the next, so they are left out of the hash
    (graphs that differ only in how blank nodes are wired would share a hash: good enough
    for a version and an ETag, not a proof of isomorphism).

    The lines are hashed as ``"\n".join(sorted(lines))``; above ``run_lines`` the sort is an
    external merge sort, which gives the same order and so the same hash."""
    digest = hashlib.sha256()
    with ExitStack() as spilled:
        runs: list[Iterator[str]] = []
        lines: list[str] = []
        for quad in quads:
            lines.append(_BNODE.sub("_:", str(quad)))
            if len(lines) >= run_lines:
                try:
                    runs.append(_spill(spilled, lines))
                    lines = []
                except OSError as exc:  # no writable temporary directory: the rest is sorted in memory
                    logger.warning("content hash: cannot spill sorted runs (%s); sorting in memory", exc)
                    run_lines = sys.maxsize
        lines.sort()
        ordered: Iterable[str] = heapq.merge(*runs, iter(lines)) if runs else lines
        _hash_lines(digest, ordered)
    return digest.hexdigest()


def _spill(files: ExitStack, lines: list[str]) -> Iterator[str]:
    """Sort ``lines`` into a temporary file (one N-Quad a line: N-Quads escapes line breaks in
    literals) and return an iterator over the file's lines, in order, without their newline."""
    lines.sort()
    run = files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n"))
    run.writelines(line + "\n" for line in lines)
    run.seek(0)
    return (line[:-1] for line in run)


def _hash_lines(digest: "hashlib._Hash", lines: Iterable[str], batch: int = 10_000) -> None:
    """Feed ``"\n".join(lines)`` to ``digest`` a batch of lines at a time."""
    it = iter(lines)
    first = True
    while chunk := list(islice(it, batch)):
        if not first:
            digest.update(b"\n")
        digest.update("\n".join(chunk).encode("utf-8"))
        first = False
