"""The embedded query engines behind one small interface, and the embedded store.

:class:`OxigraphBackend` (embedded Oxigraph, in memory) is the default; :class:`RdflibBackend`
is the reference the tests compare it with. Both see the same dataset: named graphs for the
asserted data, the ontology and the inferred triples, and as default graph their union.

A :class:`GraphStore` is where the graph lives (chosen by ``KG_STORE``): :class:`EmbeddedStore`
wraps an Oxigraph store in memory (``memory``) or on disk (``disk:PATH``); the remote one
(``sparql:…``) is :class:`app.store.remote.RemoteStore`. Each holds the content graphs (asserted
data, ontology, inferred, and any further source graphs) and, in ``{base}/graph/meta``, the
dataset's version (its content hash), so that a restarted service, or another replica, knows
what it serves without re-reading everything. The meta graph is never part of the queried dataset.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import pyoxigraph as ox

from app.errors import BadRequest
from app.rdf.terms import Term
from app.store.graphs import OWNS, VERSION, meta_graph, owned_quads
from app.store.snapshots import clear_snapshots
from app.store.spec import StoreSpec

if TYPE_CHECKING:
    import rdflib

Row = dict[str, Term]


class Backend(Protocol):
    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[Row]: ...

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]: ...

    def ask(self, query: str) -> bool: ...


class OxigraphBackend:
    """Embedded Oxigraph (in memory or on disk). ``default_graphs``: the graphs whose union is the
    default graph (and the only named graphs visible); empty means every graph of the store."""

    def __init__(self, store: ox.Store | Iterable[ox.Quad], base_iri: str) -> None:
        if not isinstance(store, ox.Store):  # quads: a fresh in-memory store holding them
            quads, store = store, ox.Store()
            store.bulk_extend(quads)
        self.store = store
        self.base_iri = base_iri
        self.default_graphs: list[str] = []

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad], base_iri: str) -> "OxigraphBackend":
        return cls(quads, base_iri)

    def dataset_kwargs(self) -> dict:
        if not self.default_graphs:
            return {"use_default_graph_as_union": True}
        graphs = [ox.NamedNode(g) for g in self.default_graphs]
        return {"default_graph": graphs, "named_graphs": graphs}

    def _run(self, query: str,
             bindings: Mapping[str, Term] | None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable(k): v for k, v in (bindings or {}).items()}
        return self.store.query(query, base_iri=self.base_iri, substitutions=substitutions or None,
                                **self.dataset_kwargs())

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[Row]:
        solutions = self._run(query, bindings)
        if not isinstance(solutions, ox.QuerySolutions):
            raise BadRequest("not a SELECT query")
        names = [v.value for v in solutions.variables]
        # A solution iterates its values in the order of the variables: twice as fast as by name.
        return [{n: v for n, v in zip(names, s, strict=True) if v is not None} for s in solutions]

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        triples = self._run(query, bindings)
        if not isinstance(triples, ox.QueryTriples):
            raise BadRequest("not a CONSTRUCT or DESCRIBE query")
        return list(triples)

    def ask(self, query: str) -> bool:
        return bool(self._run(query, None))


class RdflibBackend:
    """rdflib's engine (the reference). Imported lazily: the query workers of the default
    engine never load rdflib."""

    def __init__(self, quads: Iterable[ox.Quad], base_iri: str) -> None:
        import rdflib.plugins.sparql

        from app.rdf.convert import to_rdflib_dataset

        # rdflib would otherwise fetch the IRI of every FROM / FROM NAMED clause over the network.
        rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
        self.dataset = to_rdflib_dataset(quads)
        self.base_iri = base_iri
        self._prepared: dict[str, rdflib.plugins.sparql.sparql.Query] = {}

    def _run(self, query: str, bindings: Mapping[str, Term] | None) -> "rdflib.query.Result":
        from rdflib.plugins.sparql.processor import prepareQuery

        from app.rdf.terms import to_rdflib

        prepared = self._prepared.get(query)
        if prepared is None:
            prepared = self._prepared[query] = prepareQuery(query, base=self.base_iri)
        init: dict[str, rdflib.term.Identifier] = {k: to_rdflib(v) for k, v in (bindings or {}).items()}
        return self.dataset.query(prepared, initBindings=init)

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[Row]:
        from rdflib.query import ResultRow

        from app.rdf.terms import from_rdflib

        result = self._run(query, bindings)
        names = [str(v) for v in result.vars or []]
        rows = []
        for row in result:
            assert isinstance(row, ResultRow)
            rows.append({n: from_rdflib(row[n]) for n in names if row[n] is not None})
        return rows

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        from app.rdf.terms import triple_from_rdflib

        result = self._run(query, bindings)
        return [triple_from_rdflib(triple) for triple in result.graph or ()]

    def ask(self, query: str) -> bool:
        return bool(self._run(query, None).askAnswer)


def make_backend(engine: str, quads: list[ox.Quad], base_iri: str) -> Backend:
    """An in-memory backend holding ``quads`` (used by the query workers and the tests)."""
    if engine == "rdflib":
        return RdflibBackend(quads, base_iri)
    return OxigraphBackend.from_quads(quads, base_iri)


def reader_over(store: ox.Store, query_base: str, meta: str) -> OxigraphBackend:
    """A backend over ``store``'s content graphs (its meta graph left out of the dataset): a copy in
    memory of a dataset served from elsewhere, read for its derived answers (app.api.catalog), which
    at 1M triples take 12.6 s over a store in memory and 48.6 s over RocksDB."""
    backend = OxigraphBackend(store, query_base)
    graphs = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
    if meta in graphs:
        backend.default_graphs = [g for g in graphs if g != meta]
    return backend


class GraphStore(Protocol):
    @property
    def spec(self) -> StoreSpec: ...

    @property
    def backend(self) -> Backend: ...

    @property
    def meta(self) -> str:
        """The graph that records the version."""
        ...

    def content_graphs(self) -> list[str]: ...

    def read_graphs(self) -> dict[str, list[ox.Quad]]: ...

    def read_version(self) -> str | None: ...

    def graph_sizes(self) -> dict[str, int]:
        """Content graph -> its number of triples."""
        ...

    def replace(self, graphs: Mapping[str, list[ox.Triple]], drop: list[str], version: str,
                progress: Callable[[int], None] | None = None,
                record: Callable[[], Sequence[ox.Triple]] | None = None) -> None: ...


class EmbeddedStore:
    """Embedded Oxigraph: in memory, or on disk (RocksDB) when ``spec.path`` is set."""

    def __init__(self, spec: StoreSpec, base_iri: str, query_base: str, store: ox.Store | None = None) -> None:
        self.spec = spec
        self.meta = meta_graph(base_iri)
        self.store = store if store is not None else (ox.Store(spec.path) if spec.kind == "disk" else ox.Store())
        if spec.kind == "disk":  # this process holds the store's lock now: no one else reads a snapshot
            clear_snapshots(spec.path)
        self.backend = OxigraphBackend(self.store, query_base)
        self.backend.default_graphs = self.content_graphs()

    def content_graphs(self) -> list[str]:
        """Every named graph but the meta graph, and every graph recorded as owned (:data:`OWNS`, which
        may be empty): an embedded store is the service's alone (a memory store lives in its process,
        a disk store is locked by it). Builds, loads and writes record what they own all the same."""
        meta = ox.NamedNode(self.meta)
        owned = {q.object.value for q in self.store.quads_for_pattern(meta, OWNS, None, meta)
                 if isinstance(q.object, ox.NamedNode)}  # an owned graph may hold nothing (yet)
        held = {g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode)}
        return sorted((owned | held) - {self.meta})

    def read_graphs(self) -> dict[str, list[ox.Quad]]:
        graphs: dict[str, list[ox.Quad]] = {}
        for name in self.content_graphs():
            graphs[name] = list(self.store.quads_for_pattern(None, None, None, ox.NamedNode(name)))
        return graphs

    def read_version(self) -> str | None:
        for quad in self.store.quads_for_pattern(ox.NamedNode(self.meta), VERSION, None, ox.NamedNode(self.meta)):
            if isinstance(quad.object, ox.Literal):
                return quad.object.value
        return None

    def graph_sizes(self) -> dict[str, int]:
        return {name: sum(1 for _ in self.store.quads_for_pattern(None, None, None, ox.NamedNode(name)))
                for name in self.content_graphs()}

    def replace(self, graphs: Mapping[str, list[ox.Triple]], drop: list[str], version: str,
                progress: Callable[[int], None] | None = None,
                record: Callable[[], Sequence[ox.Triple]] | None = None) -> None:
        """Make the named graphs hold exactly ``graphs``, drop ``drop``, record ``version``.

        In memory this is one bulk load into an empty store; on disk each graph is cleared and
        bulk-loaded, and the version is written last, so an interrupted load is seen as one. The
        meta graph starts afresh (as an in-store build's does: app/build/build.py) with ``record()``,
        the provenance of this replacement, asked for once the graphs are written.
        """
        meta = ox.NamedNode(self.meta)
        self.store.remove_graph(meta) if self.store.contains_named_graph(meta) else None
        for name in [*drop, *graphs]:
            node = ox.NamedNode(name)
            if self.store.contains_named_graph(node):
                self.store.remove_graph(node)
        for name, triples in graphs.items():
            node = ox.NamedNode(name)
            self.store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, node) for t in triples)
            if progress:
                progress(len(triples))
        self.store.extend([ox.Quad(meta, VERSION, ox.Literal(version), meta), *owned_quads(self.meta, graphs),
                           *(ox.Quad(t.subject, t.predicate, t.object, meta) for t in (record() if record else ()))])
        if self.spec.kind == "disk":
            self.store.flush()
        self.backend.default_graphs = self.content_graphs()
