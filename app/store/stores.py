"""The three places the graph can live, behind one interface (chosen by ``KG_STORE``).

:class:`EmbeddedStore` wraps an Oxigraph store in memory (``memory``) or on disk
(``disk:PATH``); :class:`RemoteStore` wraps any SPARQL 1.1 Protocol store (``sparql:…``).
Each holds the content graphs (asserted data, ontology, inferred, and any further source
graphs) and, in ``{base}/graph/meta``, the dataset's version (its content hash), so that a
restarted service, or another replica, knows what it serves without re-reading everything.
The meta graph is never part of the queried dataset.
"""

from collections.abc import Callable, Mapping
from typing import Protocol

import pyoxigraph as ox

from app.store.backends import Backend, OxigraphBackend
from app.store.remote import SparqlBackend
from app.store.spec import StoreSpec

VERSION = ox.NamedNode("http://purl.org/dc/terms/hasVersion")


class GraphStore(Protocol):
    spec: StoreSpec
    backend: Backend

    def content_graphs(self) -> list[str]: ...

    def read_graphs(self) -> dict[str, list[ox.Quad]]: ...

    def read_version(self) -> str | None: ...

    def replace(self, graphs: Mapping[str, list[ox.Triple]], drop: list[str], version: str,
                progress: Callable[[int], None] | None = None) -> None: ...


def meta_graph(base_iri: str) -> str:
    return f"{base_iri}/graph/meta"


class EmbeddedStore:
    """Embedded Oxigraph: in memory, or on disk (RocksDB) when ``spec.path`` is set."""

    def __init__(self, spec: StoreSpec, base_iri: str, query_base: str, store: ox.Store | None = None) -> None:
        self.spec = spec
        self.meta = meta_graph(base_iri)
        self.store = store if store is not None else (ox.Store(spec.path) if spec.kind == "disk" else ox.Store())
        self.backend = OxigraphBackend(self.store, query_base)
        self.backend.default_graphs = self.content_graphs()

    def content_graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode) and g.value != self.meta)

    def read_graphs(self) -> dict[str, list[ox.Quad]]:
        graphs: dict[str, list[ox.Quad]] = {}
        for name in self.content_graphs():
            graphs[name] = list(self.store.quads_for_pattern(None, None, None, ox.NamedNode(name)))
        return graphs

    def read_version(self) -> str | None:
        for quad in self.store.quads_for_pattern(ox.NamedNode(self.meta), VERSION, None, ox.NamedNode(self.meta)):
            return quad.object.value
        return None

    def replace(self, graphs: Mapping[str, list[ox.Triple]], drop: list[str], version: str,
                progress: Callable[[int], None] | None = None) -> None:
        """Make the named graphs hold exactly ``graphs``, drop ``drop``, record ``version``.

        In memory this is one bulk load into an empty store; on disk each graph is cleared and
        bulk-loaded, and the version is written last, so an interrupted load is seen as one.
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
        self.store.add(ox.Quad(meta, VERSION, ox.Literal(version), meta))
        if self.spec.kind == "disk":
            self.store.flush()
        self.backend.default_graphs = self.content_graphs()


class RemoteStore:
    """A SPARQL 1.1 Protocol store over HTTP."""

    def __init__(self, spec: StoreSpec, base_iri: str, query_base: str, timeout_s: float) -> None:
        self.spec = spec
        self.meta = meta_graph(base_iri)
        # The service's own (trusted) named queries may take longer than a user's query on a large
        # store, e.g. the aggregates computed at start-up; user queries keep their deadline (proxy.py).
        self.backend = SparqlBackend(spec, query_base, max(60.0, 6 * timeout_s))
        self.backend.exclude_graphs = {self.meta}

    def content_graphs(self) -> list[str]:
        return [g for g in self.backend.named_graphs() if g != self.meta]

    def read_graphs(self) -> dict[str, list[ox.Quad]]:
        return {name: self.backend.quads(name) for name in self.content_graphs()}

    def read_version(self) -> str | None:
        rows = self.backend.select(
            f"SELECT ?v WHERE {{ GRAPH <{self.meta}> {{ <{self.meta}> <{VERSION.value}> ?v }} }}"
        )
        return rows[0]["v"].value if rows else None

    async def ping(self) -> str | None:
        """None when the store answers a trivial query within 2 s, else what is wrong."""
        import httpx

        url = self.spec.query_url
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                response = await client.get(url, params={"query": "ASK {}"},
                                            headers={"Accept": "application/sparql-results+json"})
        except httpx.HTTPError as exc:
            return f"The SPARQL store at {url} cannot be reached ({exc or type(exc).__name__}); retry shortly."
        if response.status_code >= 400:
            return f"The SPARQL store at {url} answers HTTP {response.status_code}."
        return None

    def refresh_dataset(self) -> None:
        self.backend.default_graphs = self.content_graphs()

    def replace(self, graphs: Mapping[str, list[ox.Triple]], drop: list[str], version: str,
                progress: Callable[[int], None] | None = None) -> None:
        for name in drop:
            self.backend.update(f"DROP SILENT GRAPH <{name}>")
        self.backend.replace_graphs(graphs, progress)
        meta = ox.NamedNode(self.meta)
        self.backend.replace_graphs({self.meta: [ox.Triple(meta, VERSION, ox.Literal(version))]})
        self.refresh_dataset()


def open_store(spec: StoreSpec, base_iri: str, query_base: str, timeout_s: float) -> GraphStore:
    if spec.kind == "sparql":
        return RemoteStore(spec, base_iri, query_base, timeout_s)
    return EmbeddedStore(spec, base_iri, query_base)
