"""The dataset a query reads: named by the protocol, by the query's FROM clauses, or the default.

One rule on every backend (memory, disk, a remote store):

* ``default-graph-uri`` / ``named-graph-uri`` given: the default graph is the merge of the first,
  the named graphs are the second (either may be empty), whatever the query's FROM says (the
  protocol's dataset overrides the query's, SPARQL 1.1 Protocol §2.1.4);
* else the query's FROM / FROM NAMED, read from its tokens (:func:`app.rdf.sparql_guard.read_query`)
  and resolved against its prologue and the service's base by the engine itself;
* else the service's default: the union of its graphs as default graph, all of them named.

Every graph a dataset names must be one of the service's own (400 otherwise, naming them): the
meta graph, and any graph of a store shared with others, are never read. The engines are then
always given the dataset explicitly, so a FROM the guard did not read cannot widen it.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import replace

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.errors import BadRequest
from app.rdf.sparql_guard import ReadQuery
from app.sparql.run import Dataset, PreparedQuery


def from_clauses(read: ReadQuery, base_iri: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The IRIs of the query's FROM and FROM NAMED clauses, resolved by the engine against the
    query's prologue (prefixes, BASE) and ``base_iri``."""
    clauses = [*read.from_default, *read.from_named]
    if not clauses:
        return (), ()
    names = [f"?g{i}" for i in range(len(clauses))]
    probe = f"{read.prologue}\nSELECT * {{ VALUES ({' '.join(names)}) {{ ({' '.join(clauses)}) }} }}"
    try:
        solutions = ox.Store().query(probe, base_iri=base_iri)
    except SyntaxError as exc:
        raise BadRequest(f"SPARQL syntax error in a FROM clause: {exc}") from None
    assert isinstance(solutions, ox.QuerySolutions)
    rows = list(solutions)
    iris = []
    for i in range(len(clauses)):
        term = rows[0][f"g{i}"]
        if not isinstance(term, ox.NamedNode):
            raise BadRequest(f"FROM names a graph by an IRI, not {clauses[i]}.")
        iris.append(term.value)
    split = len(read.from_default)
    return tuple(iris[:split]), tuple(iris[split:])


def check_owned(default: Sequence[str], named: Sequence[str], own: Sequence[str], where: str) -> None:
    """400 when a graph of the dataset is not one of ``own``."""
    foreign = sorted({g for g in [*default, *named] if g not in own})
    if foreign:
        listed = ", ".join(own[:20]) + (f" and {len(own) - 20} more" if len(own) > 20 else "")
        raise BadRequest(f"{where} may only name this service's graphs ({listed}); "
                         f"not {', '.join(f'<{g}>' for g in foreign[:5])}.")


async def owned(graph: KnowledgeGraph) -> list[str]:
    """The graphs ``graph``'s store owns, asked once per version (a remote store is asked over HTTP)."""
    key = ("owned-graphs",)
    kept = graph.memo.peek(key)
    if kept is None:
        found = await asyncio.to_thread(graph.store.content_graphs)
        kept = graph.memo.get(key, lambda: found)
    return list(kept)


async def with_dataset(graph: KnowledgeGraph, prepared: PreparedQuery) -> PreparedQuery:
    """``prepared`` with the dataset it reads (see the module docstring); 400 for a graph not the service's."""
    if not prepared.dataset.named and (prepared.read is None or not prepared.read.names_dataset):
        return prepared
    return resolve(prepared, await owned(graph), graph.query_base)


def resolve(prepared: PreparedQuery, own: Sequence[str], base_iri: str) -> PreparedQuery:
    """``prepared`` with the dataset it reads, given the service's graphs ``own`` (``kg query`` too)."""
    dataset, where = prepared.dataset, "default-graph-uri / named-graph-uri"
    if not dataset.named:
        if prepared.read is None or not prepared.read.names_dataset:
            return prepared
        dataset, where = Dataset(*from_clauses(prepared.read, base_iri)), "FROM / FROM NAMED"
    check_owned(dataset.default_graphs, dataset.named_graphs, own, where)
    return replace(prepared, dataset=dataset)
