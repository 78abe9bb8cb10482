"""User SPARQL over an external store (``KG_STORE=sparql:…``): screened here, run there.

A :class:`app.sparql.runner.QueryRunner`, like the worker pool, so ``/sparql`` does not care
where queries run. The
deadline is the HTTP client's: at ``KG_QUERY_TIMEOUT_S`` the request is abandoned and the client
gets 503 (configure the store's own query timeout too, e.g. ``oxigraph serve --timeout-s``).
"""

import asyncio
from urllib.parse import urlencode

import httpx

from app.errors import BadRequest, NotAcceptable, Overloaded, QueryTimeout, StoreUnavailable
from app.sparql.run import Answer, PreparedQuery
from app.store.remote import FORM, SparqlBackend


class RemoteQueries:
    def __init__(self, backend: SparqlBackend, size: int, timeout_s: float, queue: int) -> None:
        self.backend = backend
        self.size = size
        self.timeout_s = timeout_s
        self.timeouts = 0
        self.closing = False
        self._slots = asyncio.Semaphore(size + queue)
        self._running = 0
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
        if self._slots.locked():
            raise Overloaded("Too many queries are running against the store; retry shortly.",
                             headers={"Retry-After": "1"})
        async with self._slots:
            self._running += 1
            try:
                return await self._send(query)
            finally:
                self._running -= 1

    async def _send(self, prepared: PreparedQuery) -> Answer:
        fmt, form = prepared.format, prepared.form or "SELECT"
        default_graphs = list(prepared.dataset.default_graphs)
        named_graphs = list(prepared.dataset.named_graphs)
        if not default_graphs:
            if not self.backend.default_graphs:
                await asyncio.to_thread(self.backend.post_query, "ASK {}", "application/sparql-results+json")
            default_graphs = self.backend.default_graphs
        query = self.backend.with_base(prepared.text)
        data = [("query", query)] + [("default-graph-uri", g) for g in default_graphs]
        data += [("named-graph-uri", g) for g in (named_graphs or default_graphs)]
        url = self.backend.spec.query_url
        try:
            response = await self.client.post(url, content=urlencode(data).encode("ascii"),
                                             headers={"Accept": fmt.media_type, "Content-Type": FORM})
        except httpx.TimeoutException:
            self.timeouts += 1
            raise QueryTimeout(f"Query timed out: the store did not answer within {self.timeout_s:g} s.") from None
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"The SPARQL store at {url} cannot be reached ({exc}); retry shortly.") from None
        if response.status_code == 406:
            raise NotAcceptable(f"The store cannot produce {fmt.media_type}.")
        if 400 <= response.status_code < 500:
            raise BadRequest("The store rejected the query (SPARQL syntax error or unsupported query): "
                             f"{response.text[:1000]}")
        if response.status_code >= 500:
            raise StoreUnavailable(f"The SPARQL store failed: HTTP {response.status_code} {response.text[:300]}")
        return Answer(response.content, fmt.name, form)
