"""User SPARQL over an external store (``KG_STORE=sparql:…``): screened here, run there.

A :class:`app.sparql.runner.QueryRunner`, like the worker pool, so ``/sparql`` does not care
where queries run. ``KG_QUERY_TIMEOUT_S`` bounds the whole exchange (connect, send, every read):
then the request is abandoned and the client gets 503 (configure the store's own query timeout
too, e.g. ``oxigraph serve --timeout-s``). Answers are capped at ``KG_MAX_RESULT_ROWS`` and checked
before the client sees a byte (:mod:`app.sparql.upstream`); the dataset parameters may only name
the service's own graphs (400 otherwise: the store may hold other graphs). A client's queries
are admitted, shared out and charged by the same ledger as the worker pool's (:mod:`app.sparql.share`).
"""

import asyncio
import time
from urllib.parse import urlencode

import httpx

from app.errors import BadRequest, NotAcceptable, Overloaded, QueryTimeout, StoreUnavailable
from app.sparql.dataset import check_owned
from app.sparql.run import Answer, PreparedQuery
from app.sparql.share import CALLER, charged
from app.sparql.upstream import plan_for, read_answer
from app.store.remote import FORM, SparqlBackend


class RemoteQueries:
    def __init__(self, backend: SparqlBackend, size: int, timeout_s: float, queue: int,
                 max_rows: int = 100_000) -> None:
        self.backend = backend
        self.max_rows = max_rows
        self.base_iri = backend.base_iri.rstrip("/")
        self.size = size
        self.timeout_s = timeout_s
        self.timeouts = 0
        self.closing = False
        self._slots = asyncio.Semaphore(size + queue)
        self._running = 0
        #: Queries of each client at the store; a client at its share waits on ``_turns``.
        self._held: dict[str, int] = {}
        self._turns = asyncio.Condition()
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
                                        limits=httpx.Limits(max_connections=size))

    @property
    def alive(self) -> int:
        return self.size

    @property
    def idle_count(self) -> int:
        return max(0, self.size - self._running)

    @property
    def queued(self) -> int:
        return max(0, self._running - self.size)

    async def start(self) -> None:
        return None

    async def close(self, graceful: bool = False) -> None:
        """``graceful``: queries in flight finish first (within their deadline)."""
        self.closing = True
        if graceful and self._running:
            self._closer = asyncio.get_running_loop().create_task(self._close_when_idle())
            return
        await self.client.aclose()

    async def _close_when_idle(self) -> None:
        deadline = asyncio.get_running_loop().time() + self.timeout_s + 1
        while self._running and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await self.client.aclose()

    async def run(self, query: PreparedQuery) -> Answer:
        """Send one query within its client's share, as the worker pool does: admitted by the
        client's ledger (429), at most ``workers_per_client`` of its queries at the store at once
        (the rest wait for one of its own), charged the time it held a connection."""
        with charged(CALLER.get()) as charge:
            client = charge.client
            share = charge.caller.ledger.workers_per_client(self.size) if charge.caller is not None else 0
            if client is not None and share:
                async with self._turns:
                    await self._turns.wait_for(lambda: self._held.get(client, 0) < share)
                    self._held[client] = self._held.get(client, 0) + 1
            try:
                if self._slots.locked():
                    raise Overloaded("Too many queries are running against the store; retry shortly.",
                                     headers={"Retry-After": "1"})
                async with self._slots:
                    self._running += 1
                    started = time.monotonic()
                    try:
                        return await self._send(query)
                    finally:
                        charge.held += time.monotonic() - started
                        self._running -= 1
            finally:
                if client is not None and share:
                    async with self._turns:
                        self._held[client] -= 1
                        if not self._held[client]:
                            del self._held[client]
                        self._turns.notify_all()

    async def _send(self, prepared: PreparedQuery) -> Answer:
        """Send, read and check the answer, all within one total deadline (not one per read)."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._exchange(prepared)
        except (TimeoutError, httpx.TimeoutException):
            self.timeouts += 1
            raise QueryTimeout(f"Query timed out: the store did not answer within {self.timeout_s:g} s.") from None

    async def _dataset(self, prepared: PreparedQuery) -> tuple[list[str], list[str]]:
        """The protocol dataset to send, always (so the store never applies a FROM of its own): the
        one the query names, all of it the service's own graphs (else 400), or the service's graphs."""
        if not self.backend.default_graphs:
            await asyncio.to_thread(self.backend.post_query, "ASK {}", "application/sparql-results+json")
        own = self.backend.default_graphs
        dataset = prepared.dataset
        if not dataset.named:
            return own, own
        check_owned(dataset.default_graphs, dataset.named_graphs, own, "default-graph-uri / named-graph-uri")
        return list(dataset.default_graphs), list(dataset.named_graphs)

    async def _exchange(self, prepared: PreparedQuery) -> Answer:
        default_graphs, named_graphs = await self._dataset(prepared)
        # The text as the guard read it (one reading, no comments), never the client's own spelling.
        query = self.backend.with_base(prepared.sent)
        data = [("query", query)] + [("default-graph-uri", g) for g in default_graphs]
        data += [("named-graph-uri", g) for g in named_graphs]
        url = self.backend.spec.query_url
        plan = plan_for(prepared.form)
        request = self.client.build_request("POST", url, content=urlencode(data).encode("ascii"),
                                            headers={"Accept": plan.accept, "Content-Type": FORM})
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException:
            raise
        except httpx.TransportError:
            raise StoreUnavailable("The SPARQL store cannot be reached; retry shortly.") from None
        try:
            if response.status_code == 406:
                raise NotAcceptable(f"The store cannot produce {plan.accept}.")
            if 400 <= response.status_code < 500:
                text = (await response.aread())[:1000].decode("utf-8", "replace")
                raise BadRequest(f"The store rejected the query (SPARQL syntax error or unsupported query): {text}")
            if response.status_code >= 500:
                raise StoreUnavailable(f"The SPARQL store failed: HTTP {response.status_code}.")
            return await read_answer(response, prepared.form, prepared.format, self.max_rows, self.base_iri)
        finally:
            await response.aclose()
