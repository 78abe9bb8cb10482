"""Query worker processes: where user SPARQL runs, so that it can really be stopped.

Neither pyoxigraph nor rdflib can cancel a running query from Python, and an abandoned
thread keeps burning a core. So each ``/sparql`` query runs in one of N worker processes
(spawned at start-up, each holding its own copy of the read-only dataset). At the deadline
the worker is killed with SIGKILL — its CPU is free at once — the client gets 503, and a
fresh worker is started in the background. When all N are busy a query is refused with
503 and ``Retry-After`` instead of queueing behind a possibly runaway query.
"""

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import time
from dataclasses import dataclass, field
from typing import Any

from app.errors import BadRequest, Overloaded, QueryTimeout, RequestError

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class WorkerConfig:
    engine: str
    base_iri: str  # the query base (relative IRIs resolve against it)
    nquads: bytes  # the whole dataset


@dataclass(frozen=True)
class Answer:
    body: bytes
    format_name: str
    form: str


def worker_main(conn: multiprocessing.connection.Connection, config: WorkerConfig) -> None:
    """Entry point of a worker process: build the engine once, then answer queries forever."""
    import pyoxigraph as ox

    from app.store.backends import make_backend
    from app.store.sparql import Dataset, run_query

    quads = list(ox.parse(config.nquads, format=ox.RdfFormat.N_QUADS))
    backend = make_backend(config.engine, quads, config.base_iri)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            query, accept, default_graphs, named_graphs = conn.recv()
        except EOFError:
            return
        try:
            result = run_query(backend, query, accept, Dataset(tuple(default_graphs), tuple(named_graphs)))
            conn.send(("ok", result.body, result.format.name, result.form))
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

    def __init__(self, config: WorkerConfig, size: int, timeout_s: float) -> None:
        self.config = config
        self.size = size
        self.timeout_s = timeout_s
        self.idle: list[Worker] = []
        self.all: set[Worker] = set()
        self.timeouts = 0
        self._closing = False

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    async def _spawn(self) -> None:
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(target=worker_main, args=(child, self.config), daemon=True, name="kg-query-worker")
        process.start()
        child.close()
        worker = Worker(process, parent)
        self.all.add(worker)
        try:
            message = await self._receive(worker, timeout=120)
        except (EOFError, asyncio.TimeoutError, OSError):
            logger.error("query worker failed to start")
            self._discard(worker)
            return
        assert message[0] == "ready", message
        if self._closing:
            self._discard(worker)
            return
        self.idle.append(worker)

    async def _receive(self, worker: Worker, timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        fd = worker.conn.fileno()
        loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
        try:
            await asyncio.wait_for(readable, timeout)
        finally:
            loop.remove_reader(fd)
        return worker.conn.recv()

    def _discard(self, worker: Worker) -> None:
        self.all.discard(worker)
        worker.kill()

    async def run(self, query: str, accept: str | None, default_graphs: list[str], named_graphs: list[str]) -> Answer:
        """Run one query in an idle worker under the deadline."""
        if not self.idle:
            raise Overloaded(
                f"All {self.size} query workers are busy; retry shortly.", headers={"Retry-After": "1"}
            )
        worker = self.idle.pop()
        started = time.monotonic()
        try:
            worker.conn.send((query, accept, default_graphs, named_graphs))
            message = await self._receive(worker, timeout=self.timeout_s)
        except asyncio.TimeoutError:
            self.timeouts += 1
            self._discard(worker)
            asyncio.get_running_loop().create_task(self._spawn())
            raise QueryTimeout(
                f"Query timed out: it was stopped after {self.timeout_s:g} s (the limit of this endpoint). "
                "Simplify the query or add a LIMIT."
            ) from None
        except (EOFError, OSError, asyncio.CancelledError):
            # The client went away or the worker died: never hand this worker out again.
            self._discard(worker)
            asyncio.get_running_loop().create_task(self._spawn())
            raise
        self.idle.append(worker)
        logger.debug("query answered in %.1f ms", (time.monotonic() - started) * 1000)
        if message[0] == "ok":
            return Answer(message[1], message[2], message[3])
        _, kind, detail = message
        raise _ERRORS.get(kind, BadRequest)(detail)

    async def close(self) -> None:
        self._closing = True
        for worker in list(self.all):
            self._discard(worker)
        self.idle.clear()


def _error_types() -> dict[str, type[RequestError]]:
    from app import errors

    return {name: cls for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, RequestError)}


_ERRORS = _error_types()
