"""Writes that cannot break the graph: serialised, staged in a scratch store, SHACL-gated, atomic.

Every write (a SPARQL Update, or a Graph Store Protocol PUT/POST/DELETE) is staged in a scratch
store (app.store.scratch: a copy in memory of the dataset), where it is applied and says exactly
what it changed (a :class:`app.store.delta.Delta`). There the entailments are brought up to date
for the nodes the change can reach (app.store.increment; afresh, as at start-up, when the change
touches the schema or reaches too far), and the result is validated against the shapes, as at
start-up (app.store.build: the SPARQL checks from ``KG_SHACL_SPARQL_ABOVE`` triples). A graph
known to conform is validated only for the focus nodes the change can concern, by the SPARQL
checks at any size unless ``KG_SHACL_ENGINE=pyshacl`` (app.store.revalidate; the whole graph
when inference ran afresh or the change reaches too far). Only if it
conforms is the delta committed — in one transaction on the store (a single SPARQL Update on disk
or on a remote store; the scratch store swapped in, in memory; a change to blank nodes a disk store
already holds goes through its API, see :func:`commit`) — and a new :class:`KnowledgeGraph`
(new version, new ETags, fresh derived answers, read from the scratch store) replaces the old one
(:meth:`app.runtime.Runtime.commit`). Otherwise :class:`app.errors.WriteRejected` carries the SHACL
report and the store is left untouched.
Writers wait for each other (one lock); readers keep the graph they started with.

Apart from the copy, which still reads the whole graph, a write costs what it changes: the
version, provenance and triple count come from the delta.

In updates the default graph is the article's data graph ``{base}/graph/data``; other named
graphs (further sources) are addressed with ``GRAPH``. The inferred graph is derived: it is
never written directly.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain

import pyoxigraph as ox

from app.errors import ReadOnlyGraph, WriteRejected
from app.rdf.sparql_guard import screen_update
from app.store import increment, isolate, plan, provenance, reason, revalidate
from app.store.backends import EmbeddedStore
from app.store.build import record_count, shacl_engine, validate_store
from app.store.delta import Delta, count_after, exact_by_update, holds_node, next_version, transaction
from app.store.graph import KnowledgeGraph
from app.store.graphs import meta_graph, record_owned, record_version
from app.store.provenance import Author
from app.store.remote import RemoteStore
from app.store.scratch import Scratch
from app.store.validate import Report

logger = logging.getLogger("app.writes")  # one line per commit
timings = logging.getLogger(__name__)


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
    killable process (app.store.isolate) under ``timeout_s`` and ``memory_mb``, which sends back
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


def compared_with_served(scratch: Scratch, graph: KnowledgeGraph) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """(added, removed): the scratch store's inferred graph against the one ``graph`` serves."""
    name = graph.names.inferred
    node = ox.NamedNode(name)
    if isinstance(graph.store, EmbeddedStore):
        served = graph.store.store
        old: Iterable[ox.Quad] = served.quads_for_pattern(None, None, None, node)
        had: Callable[[ox.Quad], bool] = served.__contains__
    else:
        old = graph.loaded.graphs.get(name, [])
        kept = set(old)
        had = kept.__contains__
    added = [q.triple for q in scratch.store.quads_for_pattern(None, None, None, node) if not had(q)]
    removed = [q.triple for q in old if q not in scratch.store]
    return added, removed


def infer_and_validate(scratch: Scratch, graph: KnowledgeGraph, delta: Delta) -> Report:
    """Bring the scratch store's inferred graph up to date — for the nodes the change can reach
    (app.store.increment), or afresh as at start-up when that cannot be done — and validate the
    whole as at start-up (app.store.build: the SPARQL checks from ``KG_SHACL_SPARQL_ABOVE``
    triples, else pySHACL), or, for a graph known to conform, only near the change, by the checks
    (app.store.revalidate). If it conforms, the inferred graph's change is added to ``delta``."""
    started = time.perf_counter()
    settings, store, inferred = graph.settings, scratch.store, graph.names.inferred
    asserted = asserted_graphs(scratch, graph)
    rules = reason.read_rules(settings.queries_dir)
    change = increment.inferred_change(store, asserted, inferred, rules, delta)
    if change is not None:
        part = Delta()
        part.record(inferred, added=change[0], removed=change[1])
        part.apply(store)
    else:
        node = ox.NamedNode(inferred)
        if store.contains_named_graph(node):
            store.remove_graph(node)
        plan.materialise(store, asserted, inferred, rules)
    inferred_at = time.perf_counter()
    engine = shacl_engine(settings, graph.triples)
    graphs = [*asserted, inferred]
    report = None
    # Near the change: by the SPARQL checks (proven equal to pySHACL: tests/test_checks.py) at any
    # size, unless pySHACL is asked for by name.
    if settings.shacl_engine != "pyshacl" and change is not None and graph.conforms:
        changed = chain(*delta.added.values(), *delta.removed.values(), *change)
        report = revalidate.validate_near(store, graphs, settings, changed)
        engine = "sparql, near the change" if report is not None else engine
    if report is None:
        report = validate_store(store, graphs, settings, engine)
    validated = time.perf_counter()
    if report.conforms:
        added, removed = change if change is not None else compared_with_served(scratch, graph)
        delta.record(inferred, added=added, removed=removed)
    timings.info("write checked: infer (%s) %.2f s, validate (%s) %.2f s, compare %.2f s",
                 "afresh" if change is None else "incremental", inferred_at - started, engine,
                 validated - inferred_at, time.perf_counter() - validated)
    return report


def prepare(graph: KnowledgeGraph, change: Change) -> Staged:
    """Stage ``change`` in a scratch store, with its entailments; raises WriteRejected if the new
    graph does not conform, ReadOnlyGraph if it changes a read-only graph."""
    scratch = Scratch(graph)
    delta = change.stage(scratch, graph)
    check_writable(graph, delta)
    report = infer_and_validate(scratch, graph, delta) if delta else None
    if report is not None and not report.conforms:
        raise WriteRejected(report)
    return Staged(scratch, delta, report)


def commit(graph: KnowledgeGraph, staged: Staged, author: Author | None = None) -> KnowledgeGraph:
    """Write ``staged`` to the store atomically, with its provenance (app.store.provenance) in the
    meta graph, log it, and return the graph that serves it."""
    scratch, delta, store = staged.scratch, staged.delta, graph.store
    version = next_version(graph.version, delta)
    author = author or Author("anonymous", "write", provenance.now())
    changed = delta.counts()
    record = provenance.activity(store.meta, author, graph.version, version, changed, provenance.now())
    logger.info(provenance.summary(author, graph.version, version, changed))
    after = [g.value for g in scratch.store.named_graphs() if isinstance(g, ox.NamedNode)]
    triples = count_after(graph.triples, delta, after,
                          lambda t, g: ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) in scratch.store)
    recorded = f"{record_version(store.meta, version, record)} ;\n{record_count(store.meta, triples)}"
    # The graphs the service owns after the write (a graph created or dropped by it included).
    owned = [g.value for g in scratch.store.named_graphs() if isinstance(g, ox.NamedNode)]
    recorded += f" ;\n{record_owned(store.meta, owned)}"
    if isinstance(store, EmbeddedStore) and store.spec.kind == "memory":
        # The scratch store is a copy of this one with the change: with the meta graph, it becomes the store served.
        scratch.store.extend(store.store.quads_for_pattern(None, None, None, ox.NamedNode(store.meta)))
        scratch.store.update(recorded)
        fresh = EmbeddedStore(store.spec, graph.settings.base_iri, graph.query_base, store=scratch.store)
        return KnowledgeGraph(graph.settings, fresh, version, triples=triples, conforms=True)
    if isinstance(store, RemoteStore):
        store.backend.update(" ;\n".join([*transaction(delta, scratch.store), recorded]))
        store.refresh_dataset()
    else:
        assert isinstance(store, EmbeddedStore)
        served = store.store
        if exact_by_update(delta, lambda b: holds_node(served, b)):
            served.update(" ;\n".join([*transaction(delta, scratch.store), recorded]))
        else:
            # Blank nodes the store holds cannot be named in SPARQL Update: the delta is applied
            # by the store's API, which names them exactly (removals one by one, then the
            # additions at once), and the record after it.
            delta.apply(served)
            served.update(recorded)
        served.flush()
        store.backend.default_graphs = store.content_graphs()
    return KnowledgeGraph(graph.settings, store, version, triples=triples, conforms=True)
