"""Writes that cannot break the graph: serialised, staged in a scratch store, SHACL-gated, atomic.

Every write (a SPARQL Update, or a Graph Store Protocol PUT/POST/DELETE) is staged in a scratch
store (app.writes.scratch: a copy in memory of the dataset), where it is applied and says exactly
what it changed (a :class:`app.writes.delta.Delta`). There the entailments are brought up to date
for the nodes the change can reach (app.writes.increment; afresh, as at start-up, when the change
touches the schema or reaches too far), and the result is validated against the shapes, as at
start-up (app.build.build: the SPARQL checks from ``KG_SHACL_SPARQL_ABOVE`` triples). A graph
known to conform is validated only for the focus nodes the change can concern, by the SPARQL
checks at any size unless ``KG_SHACL_ENGINE=pyshacl`` (app.writes.revalidate; the whole graph
when inference ran afresh or the change reaches too far). Every term the change adds is checked
first (app.writes.terms: lexical spaces, BCP 47, no directional literal, ``KG_MAX_LITERAL_BYTES``),
and the inference runs in a confined process under caps (app.writes.entail). Only if it conforms
is the new :class:`KnowledgeGraph` made (:func:`successor`: new version, reading the scratch store)
and everything derived from it built (app.runtime), and only then is the delta written — in one
transaction on the store (a single SPARQL Update on disk or on a remote store; the scratch store
swapped in, in memory; a change to blank nodes a disk store already holds goes through its API,
see :func:`write`). A failure after the write is undone (:func:`undo`). Otherwise
:class:`app.errors.WriteRejected` carries the SHACL report, or the error says what failed at
which of :data:`STAGES`, and the store is left untouched.
Writers wait for each other (one lock); readers keep the graph they started with.

Apart from the copy, which still reads the whole graph, a write costs what it changes: the
version, provenance and triple count come from the delta.

In updates the default graph is the article's data graph ``{base}/graph/data``; other named
graphs (further sources) are addressed with ``GRAPH``. The inferred graph is derived: it is
never written directly.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import pyoxigraph as ox

from app.build.build import record_count, shacl_engine, validate_store
from app.build.graph import KnowledgeGraph, Loaded
from app.build.load import SourceFiles, read_shapes
from app.build.validate import Report
from app.errors import ReadOnlyGraph, RequestError, WriteRejected
from app.rdf.sparql_guard import screen_update
from app.store.backends import EmbeddedStore
from app.store.graphs import meta_graph, ntriples, record_owned, record_version
from app.store.remote import RemoteStore
from app.writes import isolate, provenance, revalidate
from app.writes.delta import Delta, count_after, exact_by_update, holds_node, next_version, transaction
from app.writes.entail import bounded_change
from app.writes.provenance import Author
from app.writes.scratch import Scratch
from app.writes.terms import check_triples

logger = logging.getLogger("app.writes")  # one line per commit
timings = logging.getLogger(__name__)

#: The points of a write, in order: staged (and its terms checked), inferred, validated, the new
#: version's /api catalog built, its exports checked (app.runtime), written to the store, and put
#: in service (app.runtime). A failure at any point leaves the store as it was.
STAGES = ("stage", "infer", "validate", "catalog", "exports", "commit", "record")
#: Called with each point's name as the write reaches it: the seam tests/test_write_faults.py
#: fails each point through (a hook that raises there fails the write there, in the real path).
FAULT_HOOKS: list[Callable[[str], None]] = []


_progress = threading.local()  # the last stage the write staged on this thread has completed


def reached(stage: str) -> None:
    """The write has completed ``stage`` (one of :data:`STAGES`)."""
    for hook in tuple(FAULT_HOOKS):
        hook(stage)
    _progress.done = stage


def in_progress() -> str:
    """The stage the write staged on this thread is in (the one after the last completed)."""
    done = getattr(_progress, "done", None)
    return STAGES[STAGES.index(done) + 1] if done in STAGES[:-1] else STAGES[0]


class WriteFailed(RequestError):
    """A write failed for a reason of the service's own, and was not written (500, saying where)."""

    status_code = 500


class NotReadable(RequestError):
    """The new version cannot be read by what derives from it (the catalog, the exports): the
    write's content is at fault (422), and it was not written."""

    status_code = 422


def failure(stage: str, exc: BaseException, *, undone: bool = True) -> RequestError:
    """What to answer when a write fails at ``stage`` with ``exc``: the error itself when it already
    says what (a RequestError), 422 when the new version's content could not be read (catalog,
    exports), else 500 — each saying that nothing was written (or, if ``undone`` is False, that it
    may have been)."""
    if isinstance(exc, RequestError) and undone:
        return exc
    what = f"{type(exc).__name__}: {(exc.detail if isinstance(exc, RequestError) else str(exc))[:300]}"
    tail = ("Nothing was written." if undone else
            "It may have reached the store and could not be undone: the store may hold the change; the service still "
            "serves the version before it.")
    if stage in ("catalog", "exports") and isinstance(exc, (ValueError, TypeError, KeyError, IndexError)):
        return NotReadable(f"The new version cannot be read by its {stage} ({what}): a value written is not "
                           f"what it should be. {tail}")
    return WriteFailed(f"The write failed at its {stage} stage ({what}). {tail}")


@dataclass(frozen=True)
class Change:
    """Applies itself to a scratch store holding ``graph``'s dataset, and returns what it changed."""

    stage: Callable[[Scratch, KnowledgeGraph], Delta]
    kind: str  # for logs and metrics: update, put, post, delete


def asserted_graphs(scratch: Scratch, graph: KnowledgeGraph) -> list[str]:
    """The graphs a write may read and change: every content graph but the inferred one (and the meta graph)."""
    skip = {graph.names.inferred, meta_graph(graph.settings.base_iri)}
    return sorted(g.value for g in scratch.store.named_graphs() if isinstance(g, ox.NamedNode) and g.value not in skip)


def sparql_update(text: str, base_iri: str, data_graph: str, *, timeout_s: float = 30.0,
                  memory_mb: int = 1024) -> Change:
    """A SPARQL 1.1 Update, with ``data_graph`` as its default graph; evaluated in a confined,
    killable process (app.writes.isolate) under ``timeout_s`` and ``memory_mb``, which sends back
    only what it added and removed."""
    screen_update(text)

    def stage(scratch: Scratch, graph: KnowledgeGraph) -> Delta:
        graphs = [(name, scratch.ntriples(name)) for name in asserted_graphs(scratch, graph)]
        added, removed = isolate.run("update_delta", (graphs, data_graph, text, base_iri),
                                     timeout_s=timeout_s, memory_mb=memory_mb, what="update")
        delta = Delta()
        for nquads, part in ((added, delta.added), (removed, delta.removed)):
            for quad in isolate.quads_of(nquads):
                assert isinstance(quad.graph_name, ox.NamedNode)  # the default graph came back as data_graph
                part.setdefault(quad.graph_name.value, set()).add(quad.triple)
        delta.apply(scratch.store)
        return delta

    return Change(stage, "update")


def replace_graph(name: str, triples: list[ox.Triple]) -> Change:
    def stage(scratch: Scratch, graph: KnowledgeGraph) -> Delta:
        current, new = set(scratch.triples(name)), set(triples)
        delta = Delta()
        delta.record(name, added=new - current, removed=current - new)
        delta.apply(scratch.store)
        return delta

    return Change(stage, "put")


def merge_into_graph(name: str, triples: list[ox.Triple]) -> Change:
    def stage(scratch: Scratch, graph: KnowledgeGraph) -> Delta:
        node = ox.NamedNode(name)
        delta = Delta()
        delta.record(name, added={t for t in triples if ox.Quad(t.subject, t.predicate, t.object, node)
                                  not in scratch.store})
        delta.apply(scratch.store)
        return delta

    return Change(stage, "post")


def delete_graph(name: str) -> Change:
    def stage(scratch: Scratch, graph: KnowledgeGraph) -> Delta:
        delta = Delta()
        delta.record(name, removed=scratch.triples(name))
        node = ox.NamedNode(name)
        if scratch.store.contains_named_graph(node):
            scratch.store.remove_graph(node)
        return delta

    return Change(stage, "delete")


def read_only_graphs(graph: KnowledgeGraph) -> dict[str, str]:
    """The graphs no writer may change, and why."""
    return {
        graph.names.ontology: "the ontology is part of the service's release; change ontology/ and redeploy",
        graph.names.inferred: "the inferred graph is derived from the others on every commit",
        meta_graph(graph.settings.base_iri): "the meta graph records the dataset version; the service writes it",
    }


def check_writable(graph: KnowledgeGraph, delta: Delta) -> None:
    """ReadOnlyGraph (403) if ``delta`` changes a graph of :func:`read_only_graphs`."""
    for name, reason_ in read_only_graphs(graph).items():
        if name in delta.graphs():
            raise ReadOnlyGraph(f"The graph <{name}> is read-only: {reason_}. Nothing was written.")


@dataclass
class Staged:
    """A write staged and validated: the scratch store holding the new dataset, and what changed."""

    scratch: Scratch
    delta: Delta  # the inferred graph's change included
    report: Report | None  # None when nothing changed (nothing to validate)
    by_update: bool = False  # committed to a disk store by SPARQL Update (not by its API)
    summary: str = ""  # the commit's log line (app.writes.provenance.summary), once written


def infer_and_validate(scratch: Scratch, graph: KnowledgeGraph, delta: Delta) -> Report:
    """Bring the scratch store's inferred graph up to date — for the nodes the change can reach
    (app.writes.increment), or afresh as at start-up when that cannot be done — and validate the
    whole as at start-up (app.build.build: the SPARQL checks from ``KG_SHACL_SPARQL_ABOVE``
    triples, else pySHACL), or, for a graph known to conform, only near the change, by the checks
    (app.writes.revalidate). If it conforms, the inferred graph's change is added to ``delta``."""
    started = time.perf_counter()
    settings, store, inferred = graph.settings, scratch.store, graph.names.inferred
    asserted = asserted_graphs(scratch, graph)
    more, fewer, afresh = bounded_change(store, asserted, inferred, delta, queries_dir=settings.queries_dir,
                                         cap=settings.max_write_entailments, timeout_s=settings.update_timeout_s,
                                         memory_mb=settings.query_memory_mb)
    change = (more, fewer)
    part = Delta()
    part.record(inferred, added=more, removed=fewer)
    part.apply(store)
    reached("infer")
    inferred_at = time.perf_counter()
    engine = shacl_engine(settings, graph.triples)
    graphs = [*asserted, inferred]
    report = None
    # Near the change: by the SPARQL checks (proven equal to pySHACL: tests/test_checks.py) at any
    # size, unless pySHACL is asked for by name.
    if settings.shacl_engine != "pyshacl" and not afresh and graph.conforms:
        changed = chain(*delta.added.values(), *delta.removed.values(), *change)
        report = revalidate.validate_near(store, graphs, settings, changed)
        engine = "sparql, near the change" if report is not None else engine
    if report is None:
        report = validate_store(store, graphs, settings, engine)
    validated = time.perf_counter()
    reached("validate")
    if report.conforms:
        delta.record(inferred, added=more, removed=fewer)
    timings.info("write checked: infer (%s, in a confined process) %.2f s, validate (%s) %.2f s",
                 "afresh" if afresh else "incremental", inferred_at - started, engine, validated - inferred_at)
    return report


def prepare(graph: KnowledgeGraph, change: Change) -> Staged:
    """Stage ``change`` in a scratch store, with its entailments; raises WriteRejected if the new
    graph does not conform, ReadOnlyGraph if it changes a read-only graph, and what
    :func:`failure` makes of any other error (then at the stage it was in)."""
    _progress.done = None
    try:
        scratch = Scratch(graph)
        delta = change.stage(scratch, graph)
        check_writable(graph, delta)
        for name, triples in delta.added.items():
            check_triples(triples, graph.settings.max_literal_bytes, name)
        reached("stage")
        report = infer_and_validate(scratch, graph, delta) if delta else None
    except RequestError:
        raise
    except Exception as exc:
        raise failure(in_progress(), exc) from exc
    if report is not None and not report.conforms:
        raise WriteRejected(report)
    return Staged(scratch, delta, report)


def successor(graph: KnowledgeGraph, staged: Staged) -> KnowledgeGraph:
    """The graph that will serve the staged version, made before anything is written: until
    :func:`commit` it reads the staged copy (on disk or a remote store, its backend is a reader over
    the scratch store; with the rdflib engine, its rdflib view is made from the scratch store), so
    that everything derived from the new version is built, and fails, before the commit."""
    scratch, delta, store, settings = staged.scratch, staged.delta, graph.store, graph.settings
    version = next_version(graph.version, delta)
    after = [g.value for g in scratch.store.named_graphs() if isinstance(g, ox.NamedNode)]
    triples = count_after(graph.triples, delta, after,
                          lambda t, g: ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) in scratch.store)
    loaded = None
    if settings.engine == "rdflib":
        files = SourceFiles.from_settings(settings)
        loaded = Loaded(graph.names, {name: list(scratch.store.quads_for_pattern(None, None, None, ox.NamedNode(name)))
                                      for name in sorted(after)}, read_shapes(files, settings.base_iri))
    if isinstance(store, EmbeddedStore) and store.spec.kind == "memory":
        # The scratch store is a copy of this one with the change: it becomes the store served.
        fresh = EmbeddedStore(store.spec, settings.base_iri, graph.query_base, store=scratch.store)
        return KnowledgeGraph(settings, fresh, version, loaded=loaded, triples=triples, conforms=True)
    new = KnowledgeGraph(settings, store, version, loaded=loaded, triples=triples, conforms=True)
    if settings.engine != "rdflib":
        new.backend = staged.scratch.reader(graph.query_base, store.meta)
    return new


def meta_quads(graph: KnowledgeGraph) -> list[ox.Quad]:
    """The meta graph as it is (what :func:`undo` puts back)."""
    store, meta = graph.store, ox.NamedNode(graph.store.meta)
    if isinstance(store, EmbeddedStore):
        return list(store.store.quads_for_pattern(None, None, None, meta))
    assert isinstance(store, RemoteStore)
    return store.backend.quads(meta.value)


def commit(graph: KnowledgeGraph, staged: Staged, author: Author | None = None) -> KnowledgeGraph:
    """Write ``staged`` to the store and return the graph that serves it (:func:`successor`, then
    :func:`write`); app.runtime builds what derives from the new version in between."""
    new = successor(graph, staged)
    write(graph, staged, new, author)
    logger.info(staged.summary)
    return new


def write(graph: KnowledgeGraph, staged: Staged, new: KnowledgeGraph, author: Author | None = None) -> None:
    """Write ``staged`` to the store atomically, with its provenance (app.writes.provenance) in the
    meta graph; ``new`` (:func:`successor`) then reads the store. In memory nothing is written: the
    scratch store, with the meta graph, becomes the store ``new`` serves. The log line of the commit
    is left in ``staged.summary``, for the caller to log once the new version is served."""
    scratch, delta, store = staged.scratch, staged.delta, graph.store
    version = new.version
    author = author or Author("anonymous", "write", provenance.now())
    changed = delta.counts()
    record = provenance.activity(store.meta, author, graph.version, version, changed, provenance.now())
    recorded = f"{record_version(store.meta, version, record)} ;\n{record_count(store.meta, new.triples)}"
    # The graphs the service owns after the write (a graph created or dropped by it included).
    owned = [g.value for g in scratch.store.named_graphs() if isinstance(g, ox.NamedNode)]
    recorded += f" ;\n{record_owned(store.meta, owned)}"
    if isinstance(store, EmbeddedStore) and store.spec.kind == "memory":
        scratch.store.extend(store.store.quads_for_pattern(None, None, None, ox.NamedNode(store.meta)))
        scratch.store.update(recorded)
    elif isinstance(store, RemoteStore):
        store.backend.update(" ;\n".join([*transaction(delta, scratch.store), recorded]))
        store.refresh_dataset()
    else:
        assert isinstance(store, EmbeddedStore)
        served = store.store
        if exact_by_update(delta, lambda b: holds_node(served, b)):
            served.update(" ;\n".join([*transaction(delta, scratch.store), recorded]))
            staged.by_update = True
        else:
            # Blank nodes the store holds cannot be named in SPARQL Update: the delta is applied
            # by the store's API, which names them exactly (removals one by one, then the
            # additions at once), and the record after it.
            delta.apply(served)
            served.update(recorded)
        served.flush()
        store.backend.default_graphs = store.content_graphs()
    if new.store is store and graph.settings.engine != "rdflib":
        new.backend = store.backend
    staged.summary = provenance.summary(author, graph.version, version, changed)
    reached("commit")


def undo(graph: KnowledgeGraph, staged: Staged, meta: list[ox.Quad]) -> None:
    """Put the store back as it was before :func:`commit` wrote ``staged`` (the write failed after
    it): the inverse change, from the scratch store turned back to the content before, and the meta
    graph as it was (``meta``). In memory nothing was written, so nothing is done."""
    store, delta, scratch = graph.store, staged.delta, staged.scratch
    if isinstance(store, EmbeddedStore) and store.spec.kind == "memory":
        return
    inverse = Delta()
    for name in delta.graphs():
        inverse.record(name, added=delta.removed.get(name, ()), removed=delta.added.get(name, ()))
    meta_node = ox.NamedNode(store.meta)
    inverse.apply(scratch.store)  # the scratch store (no meta graph: app.writes.scratch) holds the content before
    restore = [f"DROP SILENT GRAPH <{store.meta}>",
               f"INSERT DATA {{ GRAPH <{store.meta}> {{\n{ntriples([q.triple for q in meta])}\n}} }}"]
    if isinstance(store, RemoteStore):
        store.backend.update(" ;\n".join([*transaction(inverse, scratch.store), *restore]))
        store.refresh_dataset()
        return
    assert isinstance(store, EmbeddedStore)
    served = store.store
    if staged.by_update:  # blank nodes it added were named afresh by the store: graphs rewritten whole
        served.update(" ;\n".join([*transaction(inverse, scratch.store), *restore]))
    else:
        inverse.apply(served)
        served.remove_graph(meta_node)
        served.extend(meta)
    served.flush()
    store.backend.default_graphs = store.content_graphs()
    logger.info("write undone: the store holds version %s again", graph.version[:12])
