"""Build the graph inside the store: stream the files in, infer, validate, record what was built.

* **Stream.** Each Turtle file is bulk-loaded straight into its named graph; no Python list of
  the quads is ever made. Only when ``KG_BASE_IRI`` differs from the canonical base are the
  triples rebased on the way in (one quad at a time, :class:`app.build.load.Rebaser`).
* **Infer** in the same store (:mod:`app.build.reason`), **validate** with the SPARQL checks
  in the store (:mod:`app.build.checks`) when the graph is large, else with pySHACL
  (``KG_SHACL_ENGINE`` and ``KG_SHACL_SPARQL_ABOVE``).
* **Digest.** A SHA-256 of every input (ontology, data, shapes, rules and checks files, the base
  IRI, the code version) is recorded in the meta graph with the version and the triple count.
  A disk store whose recorded digest equals the inputs' is served as it is: no load, no
  inference, no validation. A store with a version but no digest was written by ``kg load`` or
  by a write (/update, the Graph Store Protocol) and is also served as it is.
"""

import hashlib
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox

from app import __version__
from app.build import checks, plan, reason
from app.build.load import Rebaser, SourceFiles, read_shapes
from app.build.validate import Report, validate
from app.config import Settings
from app.errors import DataError, ValidationFailed
from app.store.backends import EmbeddedStore
from app.store.graphs import GraphNames, content_hash, owned_quads

logger = logging.getLogger(__name__)

DIGEST = ox.NamedNode("https://bjrd-kg.example.org/ontology#buildDigest")
TRIPLES = ox.NamedNode("http://rdfs.org/ns/void#triples")
VERSION = ox.NamedNode("http://purl.org/dc/terms/hasVersion")
CONFORMS = ox.NamedNode("https://bjrd-kg.example.org/ontology#shapesConform")
INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


@dataclass(frozen=True)
class BuildInfo:
    """What the start-up did: ``reused`` a stored build (nothing loaded, inferred or validated)."""

    digest: str
    reused: bool
    triples: int
    seconds: float
    engine: str = ""  # the validation engine used ("" when not validated)
    conforms: bool = False  # validated and found to conform (now, or when the reused build was made)


def input_files(settings: Settings, files: SourceFiles) -> list[Path]:
    queries = settings.queries_dir
    return [*files.ontology, *files.data, files.shapes, *sorted((queries / "rules").glob("*.rq")),
            *sorted((queries / "shapes").glob("*.rq"))]


def input_digest(settings: Settings, files: SourceFiles) -> str:
    """SHA-256 over the code version, the base IRI and every input file (its name and bytes)."""
    h = hashlib.sha256(f"bjrd-kg {__version__}\n{settings.base_iri}\n".encode())
    for path in input_files(settings, files):
        name = path.relative_to(settings.data_dir) if path.is_relative_to(settings.data_dir) else path.name
        h.update(f"{name}\n".encode())
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def load_files(store: ox.Store, paths: tuple[Path, ...], graph: str, base_iri: str) -> None:
    """Stream Turtle files into ``graph`` of ``store``, rebased onto ``base_iri``."""
    name = ox.NamedNode(graph)
    rebaser = Rebaser(base_iri)
    for path in paths:
        try:
            if rebaser.active:
                store.bulk_extend(_in_graph(rebaser.triple(q.triple), name)
                                  for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
            else:
                store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=name)
        except SyntaxError as exc:
            raise DataError(f"{path}: {exc}") from exc


def _in_graph(t: ox.Triple, graph: ox.NamedNode) -> ox.Quad:
    return ox.Quad(t.subject, t.predicate, t.object, graph)


def graph_size(store: ox.Store, graph: str) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def count_triples(store: ox.Store, names: GraphNames) -> int:
    """Distinct triples of the union of the three graphs: the inferred graph holds none of the
    asserted triples, so only the (small) ontology's overlap with the data is looked up."""
    data, ontology = ox.NamedNode(names.data), ox.NamedNode(names.ontology)
    overlap = sum(1 for q in store.quads_for_pattern(None, None, None, ontology)
                  if ox.Quad(q.subject, q.predicate, q.object, data) in store)
    asserted = graph_size(store, names.data) + graph_size(store, names.ontology) - overlap
    return asserted + graph_size(store, names.inferred)


def shacl_engine(settings: Settings, triples: int) -> str:
    if settings.shacl_engine != "auto":
        return settings.shacl_engine
    return "sparql" if triples >= settings.shacl_sparql_above else "pyshacl"


def validate_store(store: ox.Store, graphs: list[str], settings: Settings, engine: str) -> Report:
    """Validate the union of ``graphs`` with ``engine`` (pyshacl: the reference; sparql: the checks)."""
    shapes = read_shapes(SourceFiles.from_settings(settings), settings.base_iri)
    if engine == "sparql":
        return checks.validate_in_store(store, graphs, settings.base_iri + "/", shapes, settings.queries_dir)
    triples = {q.triple for g in graphs for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g))}
    return validate(list(triples), shapes)


def build(store: ox.Store, settings: Settings, *, check: bool) -> tuple[BuildInfo, Report | None]:
    """Load, infer and (if ``check``) validate into ``store``, which is emptied first; records the
    digest, version and triple count in the meta graph. The caller decides what a failed report means."""
    started = time.perf_counter()
    files = SourceFiles.from_settings(settings)
    names = GraphNames.for_base(settings.base_iri)
    digest = input_digest(settings, files)
    store.clear()
    load_files(store, files.ontology, names.ontology, settings.base_iri)
    load_files(store, files.data, names.data, settings.base_iri)
    loaded = time.perf_counter()
    plan.materialise(store, [names.ontology, names.data], names.inferred, reason.read_rules(settings.queries_dir))
    inferred = time.perf_counter()
    triples = count_triples(store, names)
    report, engine = None, ""
    if check:
        engine = shacl_engine(settings, triples)
        report = validate_store(store, list(names.all()), settings, engine)
    # The version is the content hash, as for a graph loaded any other way (it names the release).
    version = content_hash(q for g in names.all() for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    conforms = report is not None and report.conforms
    record(store, settings.base_iri, Recorded(digest, triples, conforms), version)
    logger.info("built %d triples: load %.2f s, infer %.2f s, validate (%s) %.2f s", triples, loaded - started,
                inferred - loaded, engine or "skipped", time.perf_counter() - inferred)
    return BuildInfo(digest, False, triples, time.perf_counter() - started, engine, conforms), report


class Recorded(NamedTuple):
    """What :func:`build` records in the meta graph besides the version."""

    digest: str | None  # of the inputs built (None: the store was filled otherwise)
    triples: int | None
    conforms: bool  # validated and found to conform to the shapes (which the digest covers)


def record(store: ox.Store, base_iri: str, recorded: Recorded, version: str) -> None:
    meta = ox.NamedNode(f"{base_iri}/graph/meta")
    if store.contains_named_graph(meta):
        store.remove_graph(meta)
    quads = [ox.Quad(meta, VERSION, ox.Literal(version), meta),
             ox.Quad(meta, DIGEST, ox.Literal(recorded.digest or ""), meta),
             ox.Quad(meta, TRIPLES, ox.Literal(str(recorded.triples), datatype=INTEGER), meta)]
    if recorded.conforms:
        quads.append(ox.Quad(meta, CONFORMS, ox.Literal(True), meta))
    # The store was emptied before the build: every graph in it is the service's.
    quads += owned_quads(meta.value, (g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)))
    store.extend(quads)


def record_count(meta: str, triples: int) -> str:
    """The SPARQL Update operations that make ``triples`` the recorded triple count (a write keeps it true)."""
    return (f"DELETE WHERE {{ GRAPH <{meta}> {{ <{meta}> <{TRIPLES.value}> ?n }} }} ;\n"
            f'INSERT DATA {{ GRAPH <{meta}> {{ <{meta}> <{TRIPLES.value}> '
            f'"{triples}"^^<{INTEGER.value}> }} }}')


def recorded(store: ox.Store, base_iri: str) -> Recorded:
    """What :func:`build` recorded; (None, None, False) for a store filled otherwise."""
    meta = ox.NamedNode(f"{base_iri}/graph/meta")
    values = {q.predicate: q.object.value for q in store.quads_for_pattern(meta, None, None, meta)
              if isinstance(q.object, ox.Literal)}
    triples = values.get(TRIPLES)
    return Recorded(values.get(DIGEST), int(triples) if triples is not None else None, values.get(CONFORMS) == "true")


def copy_store(source: ox.Store, target: ox.Store, base_iri: str) -> None:
    """Replace the content of ``target`` with ``source``'s, streamed through an N-Quads file.

    Neither clearing nor a bulk load is one transaction, so the meta graph, whose version says the
    store holds a whole build, is taken out of ``target`` first (in one transaction) and written
    last, once everything else is loaded and flushed: a copy stopped at any moment (SIGTERM
    during start-up, SIGKILL, a full disk) leaves a store with no version, which the next start
    builds again, never a part of a build that it would serve as current."""
    meta = ox.NamedNode(f"{base_iri}/graph/meta")
    if target.contains_named_graph(meta):
        target.remove_graph(meta)
    target.flush()
    record = list(source.quads_for_pattern(None, None, None, meta))
    if record:
        source.remove_graph(meta)
    try:
        with tempfile.NamedTemporaryFile(suffix=".nq") as dump:
            source.dump(output=dump.name, format=ox.RdfFormat.N_QUADS)
            target.clear()
            target.bulk_load(path=dump.name, format=ox.RdfFormat.N_QUADS)
        target.flush()
        target.extend(record)
        target.flush()
    finally:
        source.extend(record)


def open_or_build(store: EmbeddedStore, settings: Settings, *,
                  check: bool) -> tuple[BuildInfo, Report | None, ox.Store | None]:
    """Serve what a disk store holds when it is still current, else build into it.

    Current: built by :func:`build` from inputs with the same digest, or written by ``kg load``
    or a write (a version and no digest). A disk store is built in memory first and written
    only once the graph conforms, so an invalid build never reaches the disk; that copy in memory
    is returned too (else None), for the first derived answers to be read from it.
    Raises ValidationFailed when ``check`` and the graph does not conform."""
    started = time.perf_counter()
    target = store.store
    if store.spec.kind == "disk" and store.read_version() is not None:
        digest, triples, conforms = recorded(target, settings.base_iri)
        current = input_digest(settings, SourceFiles.from_settings(settings))
        if digest is None or digest == current:
            if triples is None:
                triples = count_distinct(target, store.content_graphs())
            logger.info("inputs unchanged (digest %s): serving the stored build, no load, inference or validation",
                        (digest or "none")[:12])
            return BuildInfo(digest or "", True, triples, time.perf_counter() - started, conforms=conforms), None, None
        logger.info("inputs changed (digest %s, stored %s): rebuilding", current[:12], digest[:12])
    work = ox.Store() if store.spec.kind == "disk" else target
    info, report = build(work, settings, check=check)
    if report is not None and not report.conforms:
        raise ValidationFailed(report.text)
    if work is not target:
        copy_store(work, target, settings.base_iri)
    store.backend.default_graphs = store.content_graphs()
    return info, report, (work if work is not target else None)


def count_distinct(store: ox.Store, graphs: Sequence[str]) -> int:
    nodes: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.NamedNode(g) for g in graphs]
    rows = store.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }",
                       default_graph=nodes)
    if not isinstance(rows, ox.QuerySolutions):
        raise TypeError("a SELECT query did not return solutions")
    count = next(iter(rows))["n"]
    return int(count.value) if isinstance(count, ox.Literal) else 0
