"""The live state of one service: the graph, the query runner and the write lock.

:meth:`Runtime.start` (the app's lifespan) builds and validates the graph and starts the query
runner; :meth:`Runtime.commit` applies a write and swaps in the new graph with a fresh runner;
:meth:`Runtime.close` stops both. Routers reach the runtime only through ``app.deps``.
"""

import asyncio
import logging
import time

from app.api.catalog import catalog_for
from app.api.staged import build_derived
from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.errors import RequestError, ValidationFailed
from app.sparql.runner import QueryRunner, query_runner
from app.store.heap import collector_paused, freeze_survivors, trim_heap
from app.store.remote import RemoteStore
from app.store.spec import StoreSpec
from app.writes.provenance import Author, now
from app.writes.writes import Change, failure, meta_quads, prepare, reached, successor, undo, write

logger = logging.getLogger("app")


class Runtime:
    """What the service answers from right now; replaced as a whole after each committed write."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._graph: KnowledgeGraph | None = None
        self._runner: QueryRunner | None = None
        #: Writers wait for each other; readers keep the graph they started with.
        self.write_lock = asyncio.Lock()
        self._version_checked = -1e9

    @property
    def started(self) -> bool:
        return self._graph is not None and self._runner is not None

    @property
    def graph(self) -> KnowledgeGraph:
        if self._graph is None:
            raise RuntimeError("the service has not started: no graph yet")
        return self._graph

    @property
    def runner(self) -> QueryRunner:
        if self._runner is None:
            raise RuntimeError("the service has not started: no query runner yet")
        return self._runner

    @property
    def version(self) -> str | None:
        """The version of the graph served now (None before start-up has finished)."""
        return self._graph.version if self._graph is not None else None

    def snapshot(self) -> tuple[KnowledgeGraph | None, QueryRunner | None]:
        """(graph, runner), either None before start-up has finished (for probes and metrics)."""
        return self._graph, self._runner

    async def start(self) -> None:
        """Load (and validate) the graph, start the query runner, compute the /api answers."""
        settings = self.settings
        started = time.perf_counter()
        # In memory nothing is persisted, so SHACL validation can run while the query workers
        # start; a store on disk or elsewhere is only written after validation (in build).
        in_memory = StoreSpec.parse(settings.store).kind == "memory"
        # Millions of small objects are made here and live as long as the version: the collector is
        # paused while they are made, and they are frozen out of its reach after (app.store.heap).
        with collector_paused():
            graph = await asyncio.to_thread(KnowledgeGraph.build, settings, check=False if in_memory else None)
            trim_heap()  # the build's scratch memory, before the query workers' zygote and the catalog
            runner = query_runner(graph)
            check = in_memory and settings.validate_on_start
            try:
                # Aggregates (shared mechanisms, matrix, similarity …) are computed once per graph
                # version, here rather than on the first request.
                # A store on disk just built: its answers are read from the copy in memory it was built in.
                _, report, _ = await asyncio.gather(
                    runner.start(), asyncio.to_thread(graph.validate) if check else asyncio.sleep(0),
                    catalog_for(graph, graph.built_reader() if settings.engine == "oxigraph" else None)
                )
                if report is not None and not report.conforms:
                    raise ValidationFailed(report.text)
            except BaseException:
                await runner.close()
                raise
        graph.drop_built()
        freeze_survivors()
        trim_heap()  # the catalog queries' rows, indexed and dropped, and the copy built in memory
        self._graph, self._runner = graph, runner
        logger.info("ready in %.2f s: %d triples, %d query workers", time.perf_counter() - started,
                    graph.triples, runner.size)

    async def follow_store(self) -> bool:
        """A remote store reloaded behind the service's back (``kg load``) has a new recorded version:
        then serve it (a new graph, runner and /api answers, so every cache key changes). Checked at
        most every ``KG_STORE_VERSION_CHECK_S`` seconds (``/ready`` calls this); True when a new
        version was swapped in."""
        graph = self._graph
        now = time.monotonic()
        if graph is None or not isinstance(graph.store, RemoteStore):
            return False
        if now - self._version_checked < self.settings.store_version_check_s:
            return False
        self._version_checked = now
        version = await asyncio.to_thread(graph.store.read_version)
        if version is None or version == graph.version or self.write_lock.locked():
            return False
        async with self.write_lock:
            store = graph.store
            await asyncio.to_thread(store.refresh_dataset)
            # The same store (and its connections), a new version: every memo and cache key is new.
            new_graph = await asyncio.to_thread(KnowledgeGraph, self.settings, store, version)
            runner = query_runner(new_graph)
            await asyncio.gather(runner.start(), catalog_for(new_graph))
            old_runner, self._runner, self._graph = self._runner, runner, new_graph
            if old_runner is not None:
                await old_runner.close(graceful=True)
        logger.info("the store was reloaded: now serving version %s (was %s)",
                    new_graph.version[:12], graph.version[:12])
        return True

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.close()
        if self._graph is not None:
            self._graph.close()

    async def commit(self, change: Change, token_id: str = "anonymous") -> KnowledgeGraph:
        """Validate and commit ``change``; swap in the new graph and a fresh query runner.

        Whole or not at all: the change is staged, inferred and validated in a scratch store
        (app.writes.writes.prepare), then everything the new version derives (its /api catalog and
        search index, tables, the dumps' serializers over what it adds, the rdflib view) is built
        from that staged copy; only then is it written to the store, and the new graph put in
        service. A failure before the write leaves the store untouched; one after it (the new
        query runner does not start) undoes the write. Raises WriteRejected (the change does not
        conform) or a RequestError saying what failed; then nothing changed."""
        author = Author(token_id, change.kind, now())
        async with self.write_lock:
            graph = self.graph
            staged = await asyncio.to_thread(prepare, graph, change)
            stage = "catalog"
            try:
                new_graph = await asyncio.to_thread(successor, graph, staged)
                # The derived answers, before the commit: read from the scratch store, which holds the new
                # version in memory (four times faster than over a store on disk, at 1M triples), unless
                # the rdflib engine is asked for.
                reader = (staged.scratch.reader(new_graph.query_base, graph.store.meta)
                          if self.settings.engine == "oxigraph" else None)
                await catalog_for(new_graph, reader)
                reached("catalog")
                stage = "exports"
                await asyncio.to_thread(build_derived, new_graph, staged.delta)
                reached("exports")
                stage = "commit"
                meta = await asyncio.to_thread(meta_quads, graph)
            except RequestError:
                raise
            except Exception as exc:
                raise failure(stage, exc) from exc
            runner = None
            try:
                await asyncio.to_thread(write, graph, staged, new_graph, author)
                stage = "record"
                runner = query_runner(new_graph)
                await runner.start()
                reached("record")
            except BaseException as exc:
                if runner is not None:
                    await runner.close()
                try:
                    await asyncio.to_thread(undo, graph, staged, meta)
                except Exception:
                    logger.exception("a write failed at its %s stage and could not be undone", stage)
                    raise failure(stage, exc, undone=False) from exc
                if not isinstance(exc, Exception) or isinstance(exc, RequestError):
                    raise
                raise failure(stage, exc) from exc
            old_runner, self._runner, self._graph = self._runner, runner, new_graph
            logging.getLogger("app.writes").info(staged.summary)  # the write log: served now, so committed
            if old_runner is not None:
                # Queries in flight finish on the old version (on disk: on its snapshot, app.store.snapshots).
                await old_runner.close(graceful=True)
        logger.info("write (%s) committed: version %s", change.kind, new_graph.version[:12])
        return new_graph
