"""Per-client limits on the SPARQL queries a client runs, on by default: by what they cost.

A query costs a worker process for up to its deadline, so one client must neither hold every worker
nor use more than its share of their time. The limits are applied where that cost arises — where a
query takes a worker (:meth:`app.sparql.workers.QueryWorkers.run`) — not on a request path: whatever
route, spelling or encoding led there, the query is counted, and an answer that takes no worker (a
stored or reused one, a refused query, a 406) is never counted nor refused.

* **Workers held** (``KG_SPARQL_CLIENT_WORKERS``, default ``-1``: the pool's size − 1, at least 1):
  one client's queries run on at most that many workers at once; its further queries wait in the
  pool's queue, and a freed worker goes to the waiting query whose client holds the fewest workers
  (first come, first served among equals). So another client always finds a worker one client
  cannot take.
* **Queries in flight** (``KG_SPARQL_CONCURRENCY``, default 4): running or waiting for a worker, per
  client; 429 with ``Retry-After: 1`` above it.
* **Query-seconds per minute** (``KG_SPARQL_QUERY_SECONDS``, default 60, as Wikidata's query service
  counts): each client has a balance of that many seconds of worker time, refilled continuously at
  that many per minute; a query is charged the time it held its worker when it ends. While the
  balance is not positive the client's queries are refused with 429 and a ``Retry-After`` saying when
  it is again. Cheap queries cost milliseconds: a scripted loop of hundreds of them, or a protocol
  conformance run, is never refused; runaway queries (stopped at the deadline) soon are.

The client is the ASGI ``client`` address (IPv6 by its /64, as in :mod:`app.web.limits`), read once
per request by :class:`ClientMiddleware` into a context variable the pool reads
(:mod:`app.sparql.share`). Behind a reverse
proxy, have the proxy pass the real address (uvicorn ``--proxy-headers`` with
``--forwarded-allow-ips`` set to the proxy only) or every client shares one limit. Queries the
service runs for itself (no request) are not limited. 0 turns a limit off.
"""

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.sparql.share import CALLER, Caller, QueryLedger
from app.web.limits import client_key


class ClientMiddleware:
    """Reads the client of every HTTP request once, for the query limits (see the module)."""

    def __init__(self, app: ASGIApp, ledger: QueryLedger) -> None:
        self.app = app
        self.ledger = ledger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = CALLER.set(Caller(client_key(scope), self.ledger))
        try:
            await self.app(scope, receive, send)
        finally:
            CALLER.reset(token)


def install_sparql_limit(app: FastAPI, settings: Settings) -> None:
    ledger = QueryLedger(settings.sparql_concurrency, settings.sparql_query_seconds, settings.sparql_client_workers)
    app.state.query_ledger = ledger
    app.add_middleware(ClientMiddleware, ledger=ledger)
