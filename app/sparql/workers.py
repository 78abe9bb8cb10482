"""Query worker processes: where user SPARQL runs, so that it can really be stopped.

Neither pyoxigraph nor rdflib can cancel a running query from Python, and an abandoned
thread keeps burning a core. So each ``/sparql`` query runs in one of N worker processes
(spawned at start-up, each holding its own copy of the read-only dataset). At the deadline
the worker is killed with SIGKILL — its CPU is free at once — the client gets 503, and a
fresh worker is started in the background.

One more worker is kept warm as a spare, never given a query: when a worker dies (killed at its
deadline, a segfault, the OOM killer) the spare takes its place at once and a new spare is started
in the background, so the pool never has fewer than N ready workers for long and ``/ready`` does
not flap while the replacement loads the dataset. An idle worker found dead is replaced the same way
before a query is handed to it.

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

from app.errors import BadRequest, MemoryLimit, Overloaded, QueryTimeout, RequestError
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
    memory_mb: int = 1024  # address space a query may add to the loaded worker (RLIMIT_AS)


def worker_main(conn: multiprocessing.connection.Connection, config: WorkerConfig) -> None:
    """Entry point of a worker process: build the engine once, then answer queries forever."""
    import pyoxigraph as ox

    from app.rdf.formats import BY_NAME
    from app.sparql.run import Dataset, run_query
    from app.store.backends import Backend, OxigraphBackend, make_backend
    from app.store.sandbox import confine_worker

    backend: Backend
    if config.store_path:
        on_disk = OxigraphBackend(ox.Store.read_only(config.store_path), config.base_iri)
        on_disk.default_graphs = list(config.default_graphs)
        backend = on_disk
    elif config.engine == "oxigraph":
        # Parsed straight into the store: no Python list of every quad (about 1 GB at 1M triples).
        store = ox.Store()
        store.bulk_load(input=config.nquads, format=ox.RdfFormat.N_QUADS)
        backend = OxigraphBackend(store, config.base_iri)
    else:
        backend = make_backend(config.engine, list(ox.parse(config.nquads, format=ox.RdfFormat.N_QUADS)),
                               config.base_iri)
    confine_worker(config.memory_mb)  # no sockets from here on, and a memory cap
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
        except MemoryError:
            conn.send(("error", "MemoryLimit", memory_message(config.memory_mb)))
        except RecursionError:
            conn.send(("error", "BadRequest", "The query is nested too deeply for the engine; flatten it."))
        except (ValueError, SyntaxError, TypeError, RuntimeError) as exc:
            # The engine could not evaluate the query (e.g. an unsupported construct).
            conn.send(("error", "BadRequest", f"The query could not be evaluated: {exc}"))
        except OSError:
            # The sandbox refused a system call (a socket): say so without the engine's text.
            conn.send(("error", "BadRequest", ("The query could not be evaluated: it asked for a resource "
                                               "(network, file) that query workers may not use.")))
        except Exception:  # a worker never dies from a query; the query gets 500
            logger.exception("query worker: the engine failed on a query")
            conn.send(("error", "EngineFailure", ("The query engine failed on this query (logged); "
                                                  "simplify the query or report it.")))


def memory_message(memory_mb: int) -> str:
    return (f"The query needed more memory than its limit of {memory_mb} MB (KG_QUERY_MEMORY_MB) and was "
            "stopped; simplify it or add a LIMIT.")


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
        #: A started worker held back to replace one that dies (see the module docstring).
        self.spare: Worker | None = None
        self._spare_pending = False
        self._spare_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        # The spare loads while the service already answers: start-up is no slower for it.
        self._spare_task = asyncio.get_running_loop().create_task(self._spawn(spare=True))

    async def _spawn(self, spare: bool = False) -> None:
        if spare:
            if self._spare_pending or self.spare is not None:
                return
            self._spare_pending = True
        try:
            await self._start_worker(spare)
        finally:
            if spare:
                self._spare_pending = False

    async def _start_worker(self, spare: bool) -> None:
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
        if spare and self.spare is None:
            self.spare = worker
            return
        self._release(worker)

    def _release(self, worker: Worker) -> None:
        """Hand a free worker to the longest-waiting query, or put it back in the idle list."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        if self._closing:  # a retired generation: its last queries are done
            self._discard(worker)
            return
        self.idle.append(worker)

    async def _acquire(self) -> Worker:
        while self.idle:
            worker = self.idle.pop()
            if worker.process.is_alive():
                return worker
            self._replace(worker)  # died while idle (killed from outside): the spare steps in
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
        """Workers that can take a query now or at once: the live ones, the spare included, at most ``size``."""
        return min(self.size, sum(1 for worker in list(self.all) if worker.process.is_alive()))

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
            # The Rust engine aborts the process when an allocation fails (the memory cap) or
            # its stack overflows: only this query fails, a fresh worker takes the next ones.
            raise MemoryLimit(f"The query stopped its worker process: it needed more memory than the limit of "
                              f"{self.config.memory_mb} MB (KG_QUERY_MEMORY_MB) or crashed the engine. Only this "
                              "query failed; the worker was replaced.", headers={"Retry-After": "1"}) from None
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
        """Discard ``worker``; the warm spare (if alive) takes its place, and a new spare is started."""
        self._discard(worker)
        if self._closing:
            return
        spare, self.spare = self.spare, None
        if spare is not None and spare.process.is_alive():
            self._release(spare)
            asyncio.get_running_loop().create_task(self._spawn(spare=True))
        else:
            if spare is not None:
                self._discard(spare)
            asyncio.get_running_loop().create_task(self._spawn())
            asyncio.get_running_loop().create_task(self._spawn(spare=True))  # no-op if one is on its way

    async def close(self, graceful: bool = False) -> None:
        """Stop the pool. ``graceful`` (a new graph version took over): idle workers go now, busy
        ones finish their query — and those already waiting for one — then go; else all go now."""
        self._closing = True
        if self.spare is not None:
            self._discard(self.spare)
            self.spare = None
        busy = [w for w in self.all if w not in self.idle]
        if not (graceful and busy):
            for waiter in self.waiting:
                if not waiter.done():
                    waiter.set_exception(Overloaded("The query workers are restarting on a new graph version; "
                                                    "retry.", headers={"Retry-After": "1"}))
        for worker in list(self.all):
            if not (graceful and worker in busy):
                self._discard(worker)
        self.idle.clear()


def _error_types() -> dict[str, type[RequestError]]:
    from app import errors

    return {name: cls for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, RequestError)}


_ERRORS = _error_types()
