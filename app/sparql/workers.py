"""Query worker processes: where user SPARQL runs, so that it can really be stopped.

Neither pyoxigraph nor rdflib can cancel a running query from Python, and an abandoned
thread keeps burning a core. So each ``/sparql`` query runs in one of N worker processes. They
are forks of the generation's zygote (:mod:`app.sparql.zygote`), which loaded the read-only
dataset once: the workers share it copy-on-write instead of holding a copy each (at 1M triples
one copy instead of N + 1, see bench/RESULTS-scale.md). At the deadline the worker is killed with
SIGKILL (through its pidfd) — its CPU is free at once — the client gets 503, and a fresh worker is
forked in milliseconds. A write starts a new generation (a new zygote over the new dataset);
the old one's zygote exits with its last worker.

One more worker is kept warm as a spare, never given a query: when a worker dies (killed at its
deadline, a segfault, the OOM killer) the spare takes its place at once and a new spare is forked
in the background, so the pool never has fewer than N ready workers and ``/ready`` does not flap.
An idle worker found dead is replaced the same way before a query is handed to it; a zygote
found dead when a worker is needed is started again (it reloads the dataset). A worker that fails
to start (its store could not be opened, the zygote is gone for good) is tried again in the
background with a growing pause, until one starts or the pool closes: never a worker short for good.

When all N workers are busy, up to ``queue`` more queries wait for one, within their own
deadline; beyond N + ``queue`` concurrent queries the answer is 503 with ``Retry-After``
(``KG_QUERY_QUEUE=0`` refuses as soon as all workers are busy).

Fair share (:mod:`app.web.sparql_limit`): the queries of one client hold at most
``KG_SPARQL_CLIENT_WORKERS`` workers at once (by default N − 1), its further ones wait even when a
worker is idle; a freed worker goes to the waiting query whose client holds the fewest workers,
first come first served among equals. Each query is admitted by its client's ledger (queries in
flight, query-seconds left: 429) and charged the time it held its worker.
"""

import asyncio
import contextlib
import logging
import multiprocessing.connection
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import IO, Any

from app.errors import BadRequest, MemoryLimit, Overloaded, QueryTimeout, RequestError, TooManyRequests
from app.sparql.run import Answer, PreparedQuery
from app.sparql.share import CALLER, FairQueue, Waiter, charged
from app.sparql.worker import WorkerConfig
from app.sparql.zygote import ForkedProcess, Zygote

__all__ = ["QueryWorkers", "WorkerConfig"]

logger = logging.getLogger(__name__)

#: Pauses between attempts to start a worker that failed to start: doubling from the first to the last.
_FIRST_RETRY_S = 0.1
_LAST_RETRY_S = 10.0

@dataclass(eq=False)
class Worker:
    process: ForkedProcess
    conn: multiprocessing.connection.Connection
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=2)
        self.conn.close()


class QueryWorkers:
    """A fixed-size pool of query worker processes."""

    def __init__(self, config: WorkerConfig, size: int, timeout_s: float, queue: int = 0,
                 write_dataset: Callable[[IO[bytes]], None] | None = None,
                 on_closed: Callable[[], None] | None = None) -> None:
        self.config = config
        #: Called once the generation's zygote and workers are gone (removes a disk store's snapshot).
        self.on_closed = on_closed
        #: The generation's zygote: it holds the loaded dataset and forks the workers.
        self.zygote = Zygote(config, write_dataset)
        self._restarting = asyncio.Lock()
        self.size = size
        self.timeout_s = timeout_s
        self.queue = queue
        self.idle: list[Worker] = []
        #: Queries waiting for a worker, and the workers each client holds (fair share: the module docstring).
        self.waiting: FairQueue[Worker] = FairQueue()
        self.all: set[Worker] = set()
        self.timeouts = 0
        self.recycled = 0  # workers replaced after an answer (KG_WORKER_RECYCLE_MB)
        self._closing = False
        #: A started worker held back to replace one that dies (see the module docstring).
        self.spare: Worker | None = None
        self._spare_pending = False
        self._tasks: set[asyncio.Task[None]] = set()  # workers being started in the background

    async def start(self) -> None:
        await self.zygote.start()
        started = await asyncio.gather(*(self._start_worker(spare=False) for _ in range(self.size)))
        # Workers that failed to start are tried again in the background (/ready is 503 while none is alive).
        for _ in range(started.count(False)):
            self._background(self._spawn())
        # The spare loads while the service already answers: start-up is no slower for it.
        self._background(self._spawn(spare=True))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task the pool holds until it ends (the event loop keeps only weak references)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _spawn(self, spare: bool = False) -> None:
        """Start a worker (or the spare) for one missing place, trying again with a growing pause until
        one starts or the pool closes: a worker that fails to start (a zygote gone, a store that could
        not be opened) must not leave the pool a worker short for good."""
        if spare:
            if self._spare_pending or self.spare is not None:
                return
            self._spare_pending = True
        try:
            pause = _FIRST_RETRY_S
            while not await self._start_worker(spare):
                await asyncio.sleep(pause)
                pause = min(2 * pause, _LAST_RETRY_S)
                if self._closing:
                    return
        finally:
            if spare:
                self._spare_pending = False

    async def _start_worker(self, spare: bool) -> bool:
        """Fork one worker and wait until it is ready; False if it could not be started."""
        zygote = self.zygote
        try:
            conn, process = await asyncio.to_thread(zygote.fork)
        except (EOFError, OSError):
            if self._closing:
                return True
            try:
                await self._restart_zygote(zygote)
                conn, process = await asyncio.to_thread(self.zygote.fork)
            except (EOFError, OSError):
                logger.exception("no query worker could be started; trying again")
                return False
        worker = Worker(process, conn)
        self.all.add(worker)
        try:
            message = await self._receive(worker, timeout=120)
        except (TimeoutError, EOFError, OSError):
            message = ("failed", "it did not say it was ready")
        if message[0] != "ready":
            self._discard(worker)
            if self._closing:
                return True
            logger.error("a query worker failed to start (%s); trying again", message[1])
            return False
        if self._closing:
            self._discard(worker)
            return True
        if spare and self.spare is None:
            self.spare = worker
            return True
        self._release(worker)
        return True

    async def _restart_zygote(self, failed: Zygote) -> None:
        """The zygote died (the OOM killer, a signal): a new one loads the dataset again (once)."""
        async with self._restarting:
            if self.zygote is not failed:
                return
            logger.error("the query zygote is gone; starting a new one")
            failed.close()
            self.zygote = Zygote(self.config, failed.write_dataset)
            await self.zygote.start()

    def _hand(self, waiter: Waiter[Worker], worker: Worker) -> None:
        self.waiting.hold(waiter.client, 1)
        waiter.future.set_result(worker)

    def _release(self, worker: Worker) -> None:
        """Hand a free worker to the waiting query next in turn, or put it back in the idle list."""
        waiter = self.waiting.next()
        if waiter is not None:
            self._hand(waiter, worker)
            return
        if self._closing:  # a retired generation: its last queries are done
            self._discard(worker)
            return
        self.idle.append(worker)

    def _dispatch(self) -> None:
        """Give idle workers to waiting queries that may now have one (their client let one go)."""
        while self.idle and self.waiting:
            waiter = self.waiting.next()
            if waiter is None:
                return
            worker = self.idle.pop()
            if worker.process.is_alive():
                self._hand(waiter, worker)
            else:
                self.waiting.appendleft(waiter)
                self._replace(worker)

    async def _acquire(self, client: str | None = None) -> Worker:
        while self.idle and self.waiting.may_hold(client):
            worker = self.idle.pop()
            if worker.process.is_alive():
                self.waiting.hold(client, 1)
                return worker
            self._replace(worker)  # died while idle (killed from outside): the spare steps in
        if len(self.waiting) >= self.queue:
            if not self.waiting.may_hold(client):
                raise TooManyRequests(
                    f"This client's queries hold {self.waiting.share} of the {self.size} query workers, its most at "
                    "once (KG_SPARQL_CLIENT_WORKERS); wait for one to finish.", headers={"Retry-After": "1"})
            raise Overloaded(
                f"All {self.size} query workers are busy and {self.queue} queries are waiting; retry shortly.",
                headers={"Retry-After": "1"},
            )
        waiter: Waiter[Worker] = Waiter(asyncio.get_running_loop().create_future(), client)
        self.waiting.append(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.future), self.timeout_s)
        except (TimeoutError, asyncio.CancelledError) as exc:
            if waiter.future.done() and not waiter.future.cancelled():  # a worker arrived as the wait ended
                self.waiting.hold(client, -1)
                self._release(waiter.future.result())
            else:
                waiter.future.cancel()
                with contextlib.suppress(ValueError):
                    self.waiting.remove(waiter)  # it no longer counts against the queue
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
        if self._closing and not self.all:  # the generation's last worker: its zygote goes too
            self._close_zygote()

    def _close_zygote(self) -> None:
        self.zygote.close()
        on_closed, self.on_closed = self.on_closed, None
        if on_closed is not None:
            on_closed()

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
        """Run one query in an idle worker under the deadline, within its client's share.

        A worker found dead when the query is handed to it (killed from outside, out of memory)
        is replaced and the query goes to another one; a worker that dies while running it
        gives 503."""
        with charged(CALLER.get()) as charge:
            client = charge.client
            if charge.caller is not None:
                self.waiting.share = charge.caller.ledger.workers_per_client(self.size)
            for attempt in range(2):
                worker = await self._acquire(client)
                started = time.monotonic()
                try:
                    worker.conn.send((query.text, query.form, query.format.name, query.dataset.default_graphs,
                                      query.dataset.named_graphs))
                except OSError:
                    self._done(worker, client, replace=True)
                    if attempt == 0:
                        continue
                    raise Overloaded("The query worker was not available; retry.",
                                     headers={"Retry-After": "1"}) from None
                try:
                    return await self._await_answer(worker, client)
                finally:
                    charge.held += time.monotonic() - started
        raise AssertionError("unreachable")

    def _done(self, worker: Worker, client: str | None, replace: bool) -> None:
        """``client``'s query let ``worker`` go: replaced, or handed on; a waiting query of a client
        that was at its share may now have an idle worker."""
        self.waiting.hold(client, -1)
        if replace:
            self._replace(worker)
        else:
            self._release(worker)
        self._dispatch()

    async def _await_answer(self, worker: Worker, client: str | None) -> Answer:
        started = time.monotonic()
        try:
            message = await self._receive(worker, timeout=self.timeout_s)
            body = worker.conn.recv_bytes() if message[0] == "ok" else b""
        except TimeoutError:
            self.timeouts += 1
            self._done(worker, client, replace=True)
            raise QueryTimeout(
                f"Query timed out: it was stopped after {self.timeout_s:g} s (the limit of this endpoint). "
                "Simplify the query or add a LIMIT."
            ) from None
        except (EOFError, OSError):
            self._done(worker, client, replace=True)
            # The Rust engine aborts the process when an allocation fails (the memory cap) or
            # its stack overflows: only this query fails, a fresh worker takes the next ones.
            raise MemoryLimit(f"The query stopped its worker process: it needed more memory than the limit of "
                              f"{self.config.memory_mb} MB (KG_QUERY_MEMORY_MB) or crashed the engine. Only this "
                              "query failed; the worker was replaced.", headers={"Retry-After": "1"}) from None
        except asyncio.CancelledError:
            # The client went away: stop the query with the worker, never hand it out again.
            self._done(worker, client, replace=True)
            raise
        if message[-1]:  # it made too much of the shared dataset its own: a fresh fork takes its place
            self.recycled += 1
        self._done(worker, client, replace=bool(message[-1]))
        logger.debug("query answered in %.1f ms", (time.monotonic() - started) * 1000)
        if message[0] == "ok":
            return Answer(body, message[1], message[2], message[3])
        _, kind, detail, _ = message
        raise _ERRORS.get(kind, BadRequest)(detail)

    def _replace(self, worker: Worker) -> None:
        """Discard ``worker``; the warm spare (if alive) takes its place, and a new spare is started."""
        self._discard(worker)
        if self._closing:
            return
        spare, self.spare = self.spare, None
        if spare is not None and spare.process.is_alive():
            self._release(spare)
            self._background(self._spawn(spare=True))
        else:
            if spare is not None:
                self._discard(spare)
            self._background(self._spawn())
            self._background(self._spawn(spare=True))  # no-op if one is on its way

    async def close(self, graceful: bool = False) -> None:
        """Stop the pool. ``graceful`` (a new graph version took over): idle workers go now, busy
        ones finish their query — and those already waiting for one — then go; else all go now."""
        self._closing = True  # workers being started see it and go (never cancelled: a fork would be lost)
        if self.spare is not None:
            self._discard(self.spare)
            self.spare = None
        busy = [w for w in self.all if w not in self.idle]
        if not (graceful and busy):
            for waiter in self.waiting:
                if not waiter.future.done():
                    waiter.future.set_exception(Overloaded("The query workers are restarting on a new graph version; "
                                                    "retry.", headers={"Retry-After": "1"}))
        for worker in list(self.all):
            if not (graceful and worker in busy):
                self._discard(worker)
        self.idle.clear()
        if not self.all:
            self._close_zygote()


def _error_types() -> dict[str, type[RequestError]]:
    from app import errors

    return {name: cls for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, RequestError)}


_ERRORS = _error_types()
