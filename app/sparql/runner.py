"""Where ``/sparql`` queries run: the :class:`QueryRunner` interface and the factory that picks one.

Two implementations: :class:`app.sparql.workers.QueryWorkers` (killable worker processes over the
embedded store) and :class:`app.sparql.proxy.RemoteQueries` (the external store of
``KG_STORE=sparql:…``). Both receive a query already screened and negotiated
(:func:`app.sparql.run.prepare`), so a 406 or a refused query never reaches them.
"""

import os
from collections.abc import Callable, Iterable
from typing import IO, Protocol

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.sparql.proxy import RemoteQueries
from app.sparql.run import Answer, PreparedQuery
from app.sparql.workers import QueryWorkers, WorkerConfig
from app.store.backends import EmbeddedStore
from app.store.remote import RemoteStore
from app.store.snapshots import take_snapshot


class QueryRunner(Protocol):
    """Runs prepared queries under the deadline; what ``/sparql``, ``/ready`` and ``/metrics`` use."""

    @property
    def size(self) -> int:
        """Queries that can run at once (worker processes, or connections to the store)."""
        ...

    @property
    def alive(self) -> int:
        """Of ``size``, how many can take a query now or after the one they run."""
        ...

    @property
    def idle_count(self) -> int:
        """How many could start a query at once."""
        ...

    @property
    def queued(self) -> int:
        """Queries waiting for a free slot."""
        ...

    @property
    def timeouts(self) -> int:
        """Queries stopped at their deadline since start."""
        ...

    @property
    def closing(self) -> bool:
        """True once :meth:`close` was called (shutting down, or replaced after a write)."""
        ...

    async def start(self) -> None: ...

    async def close(self, graceful: bool = False) -> None:
        """Stop; ``graceful`` (a new graph version took over): queries in flight finish first."""
        ...

    async def run(self, query: PreparedQuery) -> Answer: ...


def default_workers() -> int:
    """``KG_QUERY_WORKERS=0``: one worker per core, plus one. A worker idles while its answer is handed
    to the main process and sent; with one more, the cores stay busy (``bench/sparql.py`` on 2 cores,
    2 → 3 workers: 725 → 975 and 361 → 464 queries/s on two engine-bound named queries)."""
    return (os.cpu_count() or 1) + 1


def query_runner(graph: KnowledgeGraph) -> QueryRunner:
    """Worker processes over the embedded store, or the remote store itself."""
    settings = graph.settings
    size = settings.query_workers or default_workers()
    queue = 4 * size if settings.query_queue < 0 else settings.query_queue
    if isinstance(graph.store, RemoteStore) and settings.engine != "rdflib":
        return RemoteQueries(graph.store.backend, size, settings.query_timeout_s, queue, settings.max_result_rows)
    if graph.spec.kind == "disk" and settings.engine != "rdflib":
        assert isinstance(graph.store, EmbeddedStore)
        # The workers open a checkpoint of this version, never the store this process writes.
        snapshot = take_snapshot(graph.store.store, graph.spec.path)
        config = WorkerConfig(settings.engine, graph.query_base, store_path=str(snapshot.path),
                              default_graphs=tuple(graph.store.content_graphs()), max_rows=settings.max_result_rows,
                              memory_mb=settings.query_memory_mb, recycle_mb=settings.worker_recycle_mb)
        return QueryWorkers(config, size=size, timeout_s=settings.query_timeout_s, queue=queue,
                            on_closed=snapshot.remove)
    config = WorkerConfig(settings.engine, graph.query_base, max_rows=settings.max_result_rows,
                          memory_mb=settings.query_memory_mb, recycle_mb=settings.worker_recycle_mb)
    return QueryWorkers(config, size=size, timeout_s=settings.query_timeout_s, queue=queue,
                        write_dataset=dataset_writer(graph))


def dataset_writer(graph: KnowledgeGraph) -> Callable[[IO[bytes]], None]:
    """What streams the queried dataset (N-Quads) to the workers' zygote: straight from the store,
    with no bytes object or list of every quad in the main process."""
    store = graph.store

    def quads() -> Iterable[ox.Quad]:
        if isinstance(store, EmbeddedStore):
            for name in store.content_graphs():
                yield from store.store.quads_for_pattern(None, None, None, ox.NamedNode(name))
        else:
            yield from graph.loaded.quads

    def write(output: IO[bytes]) -> None:
        ox.serialize(quads(), output, format=ox.RdfFormat.N_QUADS)

    return write
