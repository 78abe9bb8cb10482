"""Request limits: a per-client rate limit (429). (The size of a request body: app/web/bodies.py.)

One pure ASGI middleware, in front of everything but the observability middleware and the request
front (so that rejections are still counted, logged and carry a request id):

* **Rate** (``KG_RATE_LIMIT_RPS`` requests per second, bursts of ``KG_RATE_LIMIT_BURST``; 0 turns
  it off): a token bucket per client address (the ASGI ``client``; IPv6 clients by their /64).
  Over the limit: 429 with ``Retry-After``. Probes (``/health``, ``/ready``, ``/metrics``: the
  ``unlimited`` paths app/main.py passes) are not limited. Memory stays bounded: a client idle
  long enough for its bucket to be full again is forgotten (nothing changes for it), and at most
  ``MAX_CLIENTS`` buckets are kept.

Rejections are rendered by ``app.errors`` like every other error: JSON ``{"detail"}`` under
``/api/``, ``text/plain`` elsewhere.
"""

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import RequestError, TooManyRequests, handle_request_error

#: Most client buckets kept at once; beyond it the least recently seen client is forgotten.
MAX_CLIENTS = 100_000


class TokenBuckets:
    """Token buckets per client: ``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int, max_clients: int = MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        # A bucket left alone this long is full again: forgetting it changes nothing for its client.
        self.refill_s = burst / rate
        # client -> [tokens, time of last request]; least recently seen first.
        self.buckets: OrderedDict[str, list[float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Spend one token of ``client``: 0.0 when granted, else the seconds until one is available."""
        now = self.clock()
        bucket = self.buckets.get(client)
        if bucket is None:
            self._evict(now)
            self.buckets[client] = [self.burst - 1.0, now]
            return 0.0
        self.buckets.move_to_end(client)
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _evict(self, now: float) -> None:
        buckets = self.buckets
        while buckets:
            oldest = next(iter(buckets.values()))
            if now - oldest[1] < self.refill_s and len(buckets) < self.max_clients:
                return
            buckets.popitem(last=False)


def client_key(scope: Scope) -> str:
    """The rate-limited unit: the client's IPv4 address, or the /64 of an IPv6 one."""
    client = scope.get("client")
    host = client[0] if client else "unknown"
    if ":" in host:
        try:
            return str(ipaddress.IPv6Network((host, 64), strict=False).network_address) + "/64"
        except ValueError:
            return host
    return host


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, rate_limit_rps: float, rate_limit_burst: int,
                 unlimited: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.unlimited = unlimited
        self.buckets = TokenBuckets(rate_limit_rps, rate_limit_burst) if rate_limit_rps > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.buckets is not None and scope["path"] not in self.unlimited:
            wait = self.buckets.take(client_key(scope))
            if wait:
                retry = max(1, math.ceil(wait))
                rate = self.buckets.rate
                await reject(scope, receive, send, TooManyRequests(
                    f"Too many requests: the limit is {rate:g} per second per client, in bursts of at most "
                    f"{self.buckets.burst:g}; retry after {retry} s.", headers={"Retry-After": str(retry)}))
                return
        await self.app(scope, receive, send)


async def reject(scope: Scope, receive: Receive, send: Send, error: RequestError) -> None:
    """Answer with ``error`` as ``app.errors`` renders it, without running the application."""
    response = await handle_request_error(Request(scope, receive), error)
    await response(scope, receive, send)


def install_limits(app: FastAPI, settings: Settings, unlimited: frozenset[str]) -> None:
    """Add the limit middleware to ``app``; the ``unlimited`` paths (probes) are never rate-limited."""
    app.add_middleware(LimitsMiddleware, rate_limit_rps=settings.rate_limit_rps,
                       rate_limit_burst=settings.rate_limit_burst, unlimited=unlimited)
