"""The query ledger: per-client accounts of the SPARQL queries a client runs (what they cost).

Kept by the service (one :class:`QueryLedger` per app, across graph versions), read by the worker
pool where a query takes a worker (:mod:`app.sparql.workers`); the client of the request being
served is put in :data:`CALLER` by :class:`app.web.sparql_limit.ClientMiddleware`. The rules are
described there.
"""

import asyncio
import contextlib
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.errors import TooManyRequests

#: Most client accounts kept at once; beyond it the least recently seen client is forgotten.
MAX_CLIENTS = 100_000
#: The balance's refill period: ``KG_SPARQL_QUERY_SECONDS`` are given back every this many seconds.
PERIOD_S = 60.0


@dataclass
class _Account:
    balance: float  # query-seconds left (may go below 0: a query is charged when it ends)
    seen: float  # when the balance was last brought up to date
    in_flight: int = 0


class QueryLedger:
    """The accounts of one service's clients: queries in flight and query-seconds left."""

    def __init__(self, concurrency: int, seconds_per_minute: float, client_workers: int = -1,
                 max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        self.concurrency = concurrency
        self.budget = seconds_per_minute
        self.rate = seconds_per_minute / PERIOD_S
        self.client_workers = client_workers
        self.max_clients = max_clients
        self.clock = clock
        # Least recently seen first; an account back to a full balance with nothing in flight is forgotten.
        self.accounts: OrderedDict[str, _Account] = OrderedDict()

    def workers_per_client(self, size: int) -> int:
        """How many of a pool of ``size`` workers one client may hold at once (0: no cap)."""
        if self.client_workers < 0:
            return max(1, size - 1)
        return self.client_workers

    def _account(self, client: str) -> _Account:
        now = self.clock()
        account = self.accounts.get(client)
        if account is None:
            self._forget(now)
            account = self.accounts[client] = _Account(self.budget, now)
        else:
            self.accounts.move_to_end(client)
            if self.budget:
                account.balance = min(self.budget, account.balance + (now - account.seen) * self.rate)
            account.seen = now
        return account

    def _forget(self, now: float) -> None:
        """Forget the least recently seen accounts that are full again with nothing in flight (nothing
        changes for their clients), and the oldest beyond ``max_clients`` whatever they hold."""
        accounts = self.accounts
        while accounts:
            client, oldest = next(iter(accounts.items()))
            full = not self.budget or oldest.balance + (now - oldest.seen) * self.rate >= self.budget
            if len(accounts) < self.max_clients and not (full and not oldest.in_flight):
                return
            del accounts[client]

    def enter(self, client: str) -> None:
        """Admit one query of ``client`` or raise 429 (too many in flight, or no query-seconds left)."""
        account = self._account(client)
        if self.concurrency and account.in_flight >= self.concurrency:
            raise TooManyRequests(
                f"Too many queries at once: at most {self.concurrency} of one client run or wait for a worker "
                "(KG_SPARQL_CONCURRENCY); wait for one to finish.", headers={"Retry-After": "1"})
        if self.budget and account.balance <= 0:
            retry = max(1, math.ceil(-account.balance / self.rate)) if self.rate else 1
            raise TooManyRequests(
                f"Too many query-seconds: each client may use {self.budget:g} seconds of query time a minute "
                f"(KG_SPARQL_QUERY_SECONDS) and this client has used them; retry after {retry} s. Cheap "
                "queries cost little: add a LIMIT, or simplify the query.", headers={"Retry-After": str(retry)})
        account.in_flight += 1

    def leave(self, client: str, seconds: float) -> None:
        """One query of ``client`` ended, having held a worker for ``seconds``."""
        account = self._account(client)
        account.in_flight = max(0, account.in_flight - 1)
        if self.budget:
            account.balance -= seconds

    def balance(self, client: str) -> float:
        return self._account(client).balance


@dataclass(frozen=True)
class Caller:
    """Who sent the request being served: its client key and its service's ledger."""

    client: str
    ledger: QueryLedger


#: The caller of the request this task serves (None outside a request: the service's own queries).
CALLER: ContextVar[Caller | None] = ContextVar("sparql_caller", default=None)


class QueryCharge:
    """One query's account, from :meth:`QueryLedger.enter` to :meth:`QueryLedger.leave`: ``held``
    is the time it held a worker (set by the pool), charged when it ends."""

    def __init__(self, caller: Caller | None) -> None:
        self.caller = caller
        self.client = caller.client if caller is not None else None
        self.held = 0.0


@contextlib.contextmanager
def charged(caller: Caller | None) -> Iterator[QueryCharge]:
    """Admit a query of ``caller`` (429 if its limits say no) and charge it when it ends."""
    charge = QueryCharge(caller)
    if caller is None:
        yield charge
        return
    caller.ledger.enter(caller.client)
    try:
        yield charge
    finally:
        caller.ledger.leave(caller.client, charge.held)


T = TypeVar("T")


@dataclass(eq=False)
class Waiter(Generic[T]):
    """A query waiting for a worker: its future and its client (None: the service's own query)."""

    future: asyncio.Future[T]
    client: str | None


class FairQueue(deque[Waiter[T]]):
    """The queries waiting for a worker, and the workers each client's queries hold now.

    A freed worker goes to the waiting query whose client holds the fewest workers and may hold one
    more (``share``; 0: no cap), the longest waiting among equals; the service's own queries first."""

    def __init__(self) -> None:
        super().__init__()
        self.share = 0
        self.held: dict[str, int] = {}

    def may_hold(self, client: str | None) -> bool:
        return client is None or not self.share or self.held.get(client, 0) < self.share

    def hold(self, client: str | None, n: int) -> None:
        """``client``'s queries hold ``n`` more workers (or fewer: ``n`` < 0)."""
        if client is not None:
            held = self.held.get(client, 0) + n
            if held > 0:
                self.held[client] = held
            else:
                self.held.pop(client, None)

    def _holds(self, waiter: Waiter[T]) -> int:
        return self.held.get(waiter.client, 0) if waiter.client is not None else -1

    def next(self) -> Waiter[T] | None:
        """The waiting query next in turn, taken from the queue (those no longer waiting are dropped);
        None if no waiting query may have a worker now."""
        best: Waiter[T] | None = None
        for waiter in list(self):
            if waiter.future.done():
                self.remove(waiter)
            elif self.may_hold(waiter.client) and (best is None or self._holds(waiter) < self._holds(best)):
                best = waiter
        if best is not None:
            self.remove(best)
        return best
