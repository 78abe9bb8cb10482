"""Writes that cannot break the graph: serialised, applied to a copy, SHACL-gated, atomic.

Every write (a SPARQL Update, or a Graph Store Protocol PUT/POST/DELETE) is applied to a copy
of the asserted graphs; the entailments are recomputed; the whole is validated against the
shapes. Only if it conforms is it committed — in one transaction on the store (a single
SPARQL Update on disk or on a remote store; a fresh store swapped in, in memory) — and a new
:class:`KnowledgeGraph` (new version, new ETags, fresh derived answers) replaces the old one
(:meth:`app.runtime.Runtime.commit`). Otherwise :class:`app.errors.WriteRejected` carries the
SHACL report and the store is left untouched.
Writers wait for each other (one lock); readers keep the graph they started with.

In updates the default graph is the article's data graph ``{base}/graph/data``; other named
graphs (further sources) are addressed with ``GRAPH``. The inferred graph is derived: it is
never written directly.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from app.errors import ReadOnlyGraph, WriteRejected
from app.rdf.sparql_guard import screen_update
from app.store import isolate, provenance
from app.store.backends import EmbeddedStore
from app.store.build import infer_and_validate
from app.store.graph import KnowledgeGraph, Loaded, content_hash
from app.store.graphs import VERSION, meta_graph, ntriples, record_version
from app.store.provenance import Author
from app.store.remote import RemoteStore

logger = logging.getLogger("app.writes")


@dataclass(frozen=True)
class Change:
    """A function from the asserted graphs (name -> triples) to the new asserted graphs."""

    apply: Callable[[dict[str, list[ox.Triple]]], dict[str, list[ox.Triple]]]
    kind: str  # for logs and metrics: update, put, post, delete


def asserted_graphs(graph: KnowledgeGraph) -> dict[str, list[ox.Triple]]:
    loaded = graph.loaded
    return {name: [q.triple for q in quads] for name, quads in loaded.graphs.items() if name != graph.names.inferred}


def sparql_update(text: str, base_iri: str, data_graph: str, *, timeout_s: float = 30.0,
                  memory_mb: int = 1024) -> Change:
    """A SPARQL 1.1 Update, with ``data_graph`` as its default graph; evaluated in a confined,
    killable process (app.store.isolate) under ``timeout_s`` and ``memory_mb``."""
    screen_update(text)

    def apply(graphs: dict[str, list[ox.Triple]]) -> dict[str, list[ox.Triple]]:
        def target(name: str) -> ox.DefaultGraph | ox.NamedNode:
            return ox.DefaultGraph() if name == data_graph else ox.NamedNode(name)

        quads = [ox.Quad(t.subject, t.predicate, t.object, target(name))
                 for name, triples in graphs.items() for t in triples]
        result = isolate.run("run_update", (ox.serialize(quads, format=ox.RdfFormat.N_QUADS), text, base_iri),
                             timeout_s=timeout_s, memory_mb=memory_mb, what="update")
        out: dict[str, list[ox.Triple]] = {data_graph: []}
        for quad in isolate.quads_of(result):
            name = data_graph if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            out.setdefault(name, []).append(quad.triple)
        return out

    return Change(apply, "update")


def replace_graph(name: str, triples: list[ox.Triple]) -> Change:
    return Change(lambda graphs: {**graphs, name: triples}, "put")


def merge_into_graph(name: str, triples: list[ox.Triple]) -> Change:
    def apply(graphs: dict[str, list[ox.Triple]]) -> dict[str, list[ox.Triple]]:
        current = graphs.get(name, [])
        present = set(current)  # once: not once per triple merged
        return {**graphs, name: current + [t for t in dict.fromkeys(triples) if t not in present]}

    return Change(apply, "post")


def delete_graph(name: str) -> Change:
    return Change(lambda graphs: {k: v for k, v in graphs.items() if k != name}, "delete")


def read_only_graphs(graph: KnowledgeGraph) -> dict[str, str]:
    """The graphs no writer may change, and why."""
    return {
        graph.names.ontology: "the ontology is part of the service's release; change ontology/ and redeploy",
        graph.names.inferred: "the inferred graph is derived from the others on every commit",
        meta_graph(graph.settings.base_iri): "the meta graph records the dataset version; the service writes it",
    }


def check_writable(graph: KnowledgeGraph, before: dict[str, list[ox.Triple]],
                   after: dict[str, list[ox.Triple]]) -> None:
    """ReadOnlyGraph (403) if ``after`` changes a graph of :func:`read_only_graphs`."""
    for name, reason in read_only_graphs(graph).items():
        if set(before.get(name, [])) != set(after.get(name, [])):
            raise ReadOnlyGraph(f"The graph <{name}> is read-only: {reason}. Nothing was written.")


def prepare(graph: KnowledgeGraph, change: Change) -> Loaded:
    """The new content (asserted + inferred) after ``change``; raises WriteRejected if it does not conform."""
    settings = graph.settings
    before = asserted_graphs(graph)
    graphs = change.apply(before)
    check_writable(graph, before, graphs)
    graphs = {name: triples for name, triples in graphs.items() if name != graph.names.inferred and triples}
    quads = {name: [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name)) for t in dict.fromkeys(triples)]
             for name, triples in graphs.items()}
    inferred, report = infer_and_validate(graph.names, quads, settings)
    if not report.conforms:
        raise WriteRejected(report)
    return Loaded(graph.names, {**quads, graph.names.inferred: inferred}, graph.loaded.shapes)


def transaction(old: Loaded, new: Loaded, meta: str, version: str, record: list[ox.Triple] | None = None) -> str:
    """One SPARQL Update that turns ``old`` into ``new``, records ``version`` and adds ``record``
    (the commit's provenance) to the meta graph, whose earlier records stay."""
    operations = []
    for name in sorted(set(old.graphs) | set(new.graphs)):
        before = {q.triple for q in old.graphs.get(name, [])}
        after = {q.triple for q in new.graphs.get(name, [])}
        if before == after:
            continue
        removed, added = before - after, after - before
        blank = any(isinstance(term, ox.BlankNode) for t in removed for term in (t.subject, t.object))
        if not after:
            operations.append(f"DROP SILENT GRAPH <{name}>")
        elif blank:  # DELETE DATA cannot name blank nodes: rewrite the whole graph
            operations.append(f"DROP SILENT GRAPH <{name}>")
            operations.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{ntriples(sorted(after, key=str))}\n}} }}")
        else:
            if removed:
                operations.append(f"DELETE DATA {{ GRAPH <{name}> {{\n{ntriples(sorted(removed, key=str))}\n}} }}")
            if added:
                operations.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{ntriples(sorted(added, key=str))}\n}} }}")
    operations.append(record_version(meta, version, record or []))
    return " ;\n".join(operations)


def commit(graph: KnowledgeGraph, new: Loaded, author: Author | None = None) -> KnowledgeGraph:
    """Write ``new`` to the store atomically, with its provenance (app.store.provenance) in the
    meta graph, log it, and return the graph that serves it."""
    version = content_hash(new.quads)
    store = graph.store
    author = author or Author("anonymous", "write", provenance.now())
    changed = provenance.changes(graph.loaded, new)
    record = provenance.activity(store.meta, author, graph.version, version, changed, provenance.now())
    logger.info(provenance.summary(author, graph.version, version, changed))
    if isinstance(store, EmbeddedStore) and store.spec.kind == "memory":
        fresh = EmbeddedStore(store.spec, graph.settings.base_iri, graph.query_base)
        fresh.replace({n: [q.triple for q in quads] for n, quads in new.graphs.items()}, [], version)
        meta = ox.NamedNode(store.meta)
        earlier = [q for q in store.store.quads_for_pattern(None, None, None, meta) if q.predicate != VERSION]
        fresh.store.extend([*earlier, *(ox.Quad(t.subject, t.predicate, t.object, meta) for t in record)])
        return KnowledgeGraph(graph.settings, fresh, version, loaded=new, report=None)
    update = transaction(graph.loaded, new, store.meta, version, record)
    if isinstance(store, RemoteStore):
        store.backend.update(update)
        store.refresh_dataset()
    else:
        assert isinstance(store, EmbeddedStore)
        store.store.update(update)
        store.store.flush()
        store.backend.default_graphs = store.content_graphs()
    return KnowledgeGraph(graph.settings, store, version, loaded=new, report=None)
