"""Per-client limits on ``/sparql``, on by default: concurrent queries and a request rate.

A query costs a worker process for up to its deadline, so one client must not hold them all:

* at most ``KG_SPARQL_CONCURRENCY`` queries of one client run at once (default 4);
* at most ``KG_SPARQL_RATE_RPS`` queries a second in bursts of ``KG_SPARQL_RATE_BURST``
  (default 20 and 40), a token bucket per client.

Over either: 429 with ``Retry-After``. The client is the ASGI ``client`` address (IPv6 by its /64,
as in :mod:`app.web.limits`); behind a reverse proxy, have the proxy pass the real address (uvicorn
``--proxy-headers`` with ``--forwarded-allow-ips`` set to the proxy only) or every client shares one
limit. 0 turns a limit off.
"""

import math
from collections import Counter

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import TooManyRequests
from app.web.limits import TokenBuckets, client_key, reject

PATHS = frozenset({"/sparql"})


class SparqlLimitMiddleware:
    def __init__(self, app: ASGIApp, concurrency: int, rate_rps: float, burst: int) -> None:
        self.app = app
        self.concurrency = concurrency
        self.buckets = TokenBuckets(rate_rps, burst) if rate_rps > 0 else None
        self.running: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in PATHS:
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        if self.concurrency and self.running[client] >= self.concurrency:
            await reject(scope, receive, send, TooManyRequests(
                f"Too many queries at once: at most {self.concurrency} of one client run concurrently "
                "(KG_SPARQL_CONCURRENCY); wait for one to finish.", headers={"Retry-After": "1"}))
            return
        if self.buckets is not None:
            wait = self.buckets.take(client)
            if wait:
                retry = max(1, math.ceil(wait))
                await reject(scope, receive, send, TooManyRequests(
                    f"Too many queries: the limit is {self.buckets.rate:g} per second per client in bursts of "
                    f"{self.buckets.burst:g} (KG_SPARQL_RATE_RPS, KG_SPARQL_RATE_BURST); retry after {retry} s.",
                    headers={"Retry-After": str(retry)}))
                return
        self.running[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.running[client] -= 1
            if self.running[client] <= 0:
                del self.running[client]


def install_sparql_limit(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(SparqlLimitMiddleware, concurrency=settings.sparql_concurrency,
                       rate_rps=settings.sparql_rate_rps, burst=settings.sparql_rate_burst)
