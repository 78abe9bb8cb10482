"""Query worker processes: where user SPARQL runs, so that it can really be stopped.

Neither pyoxigraph nor rdflib can cancel a running query from Python, and an abandoned
thread keeps burning a core. So each ``/sparql`` query runs in one of N worker processes
(spawned at start-up, each holding its own copy of the read-only dataset). At the deadline
the worker is killed with SIGKILL — its CPU is free at once — the client gets 503, and a
fresh worker is started in the background.

When all N workers are busy, up to ``queue`` more queries wait (first come, first served)
for one, within their own deadline; beyond N + ``queue`` concurrent queries the answer is
503 with ``Retry-After`` (``KG_QUERY_QUEUE=0`` refuses as soon as all workers are busy).
"""

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from app.errors import BadRequest, Overloaded, QueryTimeout, RequestError
from app.sparql.run import Answer, PreparedQuery

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class WorkerConfig:
    engine: str
    base_iri: str  # the query base (relative IRIs resolve against it)
    nquads: bytes = b""  # the whole dataset (memory store) …
    store_path: str = ""  # … or the on-disk store, opened read-only
    default_graphs: tuple[str, ...] = ()  # the graphs whose union is the default graph
    max_rows: int = 100_000  # longest answer (rows or triples); longer ones are truncated


def worker_main(conn: multiprocessing.connection.Connection, config: WorkerConfig) -> None:
    """Entry point of a worker process: build the engine once, then answer queries forever."""
    import pyoxigraph as ox

    from app.rdf.formats import BY_NAME
    from app.sparql.run import Dataset, run_query
    from app.store.backends import Backend, OxigraphBackend, make_backend

    backend: Backend
    if config.store_path:
        on_disk = OxigraphBackend(ox.Store.read_only(config.store_path), config.base_iri)
        on_disk.default_graphs = list(config.default_graphs)
        backend = on_disk
    else:
        backend = make_backend(config.engine, list(ox.parse(config.nquads, format=ox.RdfFormat.N_QUADS)),
                               config.base_iri)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            text, form, format_name, default_graphs, named_graphs = conn.recv()
        except EOFError:
            return
        try:
            prepared = PreparedQuery(text, form, BY_NAME[format_name], Dataset(default_graphs, named_graphs))
            result = run_query(backend, prepared, config.max_rows)
            # The body goes as raw bytes after its description: no pickled copy of it on either side.
            conn.send(("ok", result.format.name, result.form, result.truncated))
            conn.send_bytes(result.body)
        except RequestError as exc:
            conn.send(("error", type(exc).__name__, exc.detail))
        except (ValueError, OSError, SyntaxError, TypeError) as exc:
            # The engine could not evaluate the query (e.g. an unsupported construct).
            conn.send(("error", "BadRequest", f"The query could not be evaluated: {exc}"))


@dataclass(eq=False)
class Worker:
    process: Any
    conn: multiprocessing.connection.Connection
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            self.process.kill()
        self.process.join(timeout=2)
        self.conn.close()


class QueryWorkers:
    """A fixed-size pool of query worker processes."""

    def __init__(self, config: WorkerConfig, size: int, timeout_s: float, queue: int = 0) -> None:
        self.config = config
        self.size = size
        self.timeout_s = timeout_s
        self.queue = queue
        self.idle: list[Worker] = []
        self.waiting: deque[asyncio.Future[Worker]] = deque()
        self.all: set[Worker] = set()
        self.timeouts = 0
        self._closing = False

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    async def _spawn(self) -> None:
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(target=worker_main, args=(child, self.config), daemon=True, name="kg-query-worker")
        # Starting a spawned process blocks until the child has read its arguments: not on the loop.
        await asyncio.to_thread(process.start)
        child.close()
        worker = Worker(process, parent)
        self.all.add(worker)
        try:
            message = await self._receive(worker, timeout=120)
        except (TimeoutError, EOFError, OSError):
            logger.error("query worker failed to start")
            self._discard(worker)
            return
        assert message[0] == "ready", message
        if self._closing:
            self._discard(worker)
            return
        self._release(worker)

    def _release(self, worker: Worker) -> None:
        """Hand a free worker to the longest-waiting query, or put it back in the idle list."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self.idle.append(worker)

    async def _acquire(self) -> Worker:
        if self.idle:
            return self.idle.pop()
        if len(self.waiting) >= self.queue:
            raise Overloaded(
                f"All {self.size} query workers are busy and {self.queue} queries are waiting; retry shortly.",
                headers={"Retry-After": "1"},
            )
        waiter: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), self.timeout_s)
        except (TimeoutError, asyncio.CancelledError) as exc:
            if waiter.done() and not waiter.cancelled():  # a worker arrived as the wait ended: pass it on
                self._release(waiter.result())
            else:
                waiter.cancel()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise Overloaded(
                f"No query worker became free within {self.timeout_s:g} s; retry shortly.",
                headers={"Retry-After": "1"},
            ) from None

    async def _receive(self, worker: Worker, timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()
        fd = worker.conn.fileno()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(fd, ready)
        try:
            await asyncio.wait_for(readable, timeout)
        finally:
            loop.remove_reader(fd)
            # uvloop makes a watched descriptor non-blocking; the message may still be arriving.
            os.set_blocking(fd, True)
        return worker.conn.recv()

    def _discard(self, worker: Worker) -> None:
        self.all.discard(worker)
        worker.kill()

    @property
    def alive(self) -> int:
        return sum(1 for worker in list(self.all) if worker.process.is_alive())

    @property
    def idle_count(self) -> int:
        return len(self.idle)

    @property
    def queued(self) -> int:
        return len(self.waiting)

    @property
    def closing(self) -> bool:
        return self._closing

    async def run(self, query: PreparedQuery) -> Answer:
        """Run one query in an idle worker under the deadline.

        A worker found dead when the query is handed to it (killed from outside, out of memory)
        is replaced and the query goes to another one; a worker that dies while running it
        gives 503."""
        for attempt in range(2):
            worker = await self._acquire()
            try:
                worker.conn.send((query.text, query.form, query.format.name, query.dataset.default_graphs,
                                  query.dataset.named_graphs))
            except OSError:
                self._replace(worker)
                if attempt == 0:
                    continue
                raise Overloaded("The query worker was not available; retry.", headers={"Retry-After": "1"}) from None
            return await self._await_answer(worker)
        raise AssertionError("unreachable")

    async def _await_answer(self, worker: Worker) -> Answer:
        started = time.monotonic()
        try:
            message = await self._receive(worker, timeout=self.timeout_s)
            body = worker.conn.recv_bytes() if message[0] == "ok" else b""
        except TimeoutError:
            self.timeouts += 1
            self._replace(worker)
            raise QueryTimeout(
                f"Query timed out: it was stopped after {self.timeout_s:g} s (the limit of this endpoint). "
                "Simplify the query or add a LIMIT."
            ) from None
        except (EOFError, OSError):
            self._replace(worker)
            raise Overloaded("The query worker died while running the query (out of memory?); retry.",
                             headers={"Retry-After": "1"}) from None
        except asyncio.CancelledError:
            # The client went away: stop the query with the worker, never hand it out again.
            self._replace(worker)
            raise
        self._release(worker)
        logger.debug("query answered in %.1f ms", (time.monotonic() - started) * 1000)
        if message[0] == "ok":
            return Answer(body, message[1], message[2], message[3])
        _, kind, detail = message
        raise _ERRORS.get(kind, BadRequest)(detail)

    def _replace(self, worker: Worker) -> None:
        self._discard(worker)
        if not self._closing:
            asyncio.get_running_loop().create_task(self._spawn())

    async def close(self) -> None:
        self._closing = True
        for waiter in self.waiting:
            if not waiter.done():
                waiter.set_exception(Overloaded("The query workers are restarting on a new graph version; retry.",
                                                headers={"Retry-After": "1"}))
        for worker in list(self.all):
            self._discard(worker)
        self.idle.clear()


def _error_types() -> dict[str, type[RequestError]]:
    from app import errors

    return {name: cls for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, RequestError)}


_ERRORS = _error_types()
