"""Benchmark every /api route against a bare uvicorn "hello" ASGI app (the floor), in the same run.

    .venv/bin/python bench/api.py [--seconds 5] [--concurrency 8] [--client auto|wrk|httpx]

Starts three servers on free loopback ports, each in its own subprocess with one uvicorn worker:
the service (``uvicorn app.main:app``); the /api routers alone (``bench.api:api_only``: the same
graph and router, none of the app's middleware — access log, metrics, limits, CORS, ETag — so the
two columns separate the cost of the routes from the cost of the stack around them); and the
floor (``bench.api:hello``, a raw ASGI app answering a fixed JSON body). It checks that every
route answers, warms it once, then measures p50 and p99 latency and throughput (requests/s) at
concurrency 8, and prints a Markdown table with ratios to the floor.

Latency under load on a shared machine is noisy; a second table is steadier: the CPU time one
request costs the server process (``time.process_time`` around the same ASGI apps driven
in-process, sequentially, without sockets or HTTP parsing), so 10⁶ / (µs per request) is the
request rate one core can sustain. Its floor is a FastAPI app with one async route returning a
dict: in-process, the raw ASGI hello costs next to nothing and is no useful yardstick.
``wrk`` is used when installed (``apt-get install -y wrk``), else an async httpx client, which
spends more CPU per request than the server does and shares the machine with it: the ratios
still compare like with like, the absolute numbers are then pessimistic. Run by hand, never in
the test suite.
"""

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import get_settings
from app.errors import install_error_handlers
from app.routers import api
from app.runtime import Runtime
from app.web.access_log import configure_access_log
from bench.common import free_port, machine, start, stop, wait_for

BIN = Path(sys.executable).parent

#: (label, path and query, extra headers): every /api route, with a typical argument.
ROUTES: list[tuple[str, str, dict[str, str]]] = [
    ("GET /api/districts", "/api/districts", {}),
    ("GET /api/districts/{id}", "/api/districts/haidian", {}),
    ("GET /api/districts/{id}/similar", "/api/districts/haidian/similar", {}),
    ("GET /api/mechanisms", "/api/mechanisms", {}),
    ("GET /api/mechanisms/shared", "/api/mechanisms/shared?min_districts=2", {}),
    ("GET /api/mechanisms/{id}", "/api/mechanisms/deputy-stations", {}),
    ("GET /api/themes", "/api/themes", {}),
    ("GET /api/themes/{id}", "/api/themes/station-building", {}),
    ("GET /api/compare (3 districts)", "/api/compare?districts=haidian,chaoyang,fengtai", {}),
    ("GET /api/compare (16 districts)", ("/api/compare?districts=dongcheng,xicheng,chaoyang,fengtai,shijingshan,"
                                         "haidian,mentougou,fangshan,tongzhou,shunyi,changping,daxing,huairou,"
                                         "pinggu,miyun,yanqing"), {}),
    ("GET /api/matrix (JSON)", "/api/matrix", {}),
    ("GET /api/matrix (CSV)", "/api/matrix", {"Accept": "text/csv"}),
    ("GET /api/search (zh)", "/api/search?q=%E6%9C%88%E8%BF%9B%E7%AB%99", {}),
    ("GET /api/search (en)", "/api/search?q=inspection", {}),
    ("GET /api/districts/{id} If-None-Match → 304", "/api/districts/haidian", {"If-None-Match": "ETAG"}),
]


#: The routes the issue sets targets for.
TARGETED = ("GET /api/districts/{id}", "GET /api/mechanisms/shared")


async def hello(scope: dict, receive: object, send: object) -> None:
    """The floor: the cheapest possible ASGI answer."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,  # type: ignore[operator]
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"17")]})
    await send({"type": "http.response.body", "body": b'{"hello":"world"}'})  # type: ignore[operator]


def api_only() -> FastAPI:
    """The /api routers and the error handlers over the graph, and nothing else (uvicorn --factory)."""

    runtime = Runtime(get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(lifespan=lifespan)
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(api.router)
    return app


def fastapi_hello() -> FastAPI:
    """The framework's floor: one async route answering a fixed dict."""
    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"hello": "world"}

    return app


@dataclass
class Result:
    p50_ms: float
    p99_ms: float
    rps: float
    n: int


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def with_wrk(url: str, headers: dict[str, str], concurrency: int, seconds: float) -> Result:
    args = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{url}: error responses under load:\n{out}")

    def percentile(p: int) -> float:
        found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"no {p}% line in wrk's output:\n{out}")
        return float(found.group(1)) * UNITS[found.group(2)]

    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Result(percentile(50), percentile(99), rps, n)


async def with_httpx(url: str, headers: dict[str, str], concurrency: int, seconds: float) -> Result:
    samples: list[float] = []
    stop_at = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = await client.get(url, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code not in (200, 304):
                raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.text[:200]}")

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        began = time.monotonic()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.monotonic() - began
    samples.sort()
    return Result(statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))],
                  len(samples) / elapsed, len(samples))


def measure(client: str, url: str, headers: dict[str, str], concurrency: int, seconds: float) -> Result:
    if client == "wrk":
        return with_wrk(url, headers, concurrency, seconds)
    return asyncio.run(with_httpx(url, headers, concurrency, seconds))


def check(base: str, path: str, headers: dict[str, str]) -> dict[str, str]:
    """Fail early unless the route answers; fill in a real ETag for the 304 case."""
    if headers.get("If-None-Match") == "ETAG":
        etag = httpx.get(base + path, timeout=30).headers["etag"]
        headers = {**headers, "If-None-Match": etag}
        expected = 304
    else:
        expected = 200
    response = httpx.get(base + path, headers=headers, timeout=30)
    if response.status_code != expected:
        raise RuntimeError(f"{path}: HTTP {response.status_code} (wanted {expected}): {response.text[:300]}")
    return headers


async def cpu_per_request(app: Any, path: str, headers: dict[str, str], n: int) -> float:
    """Server CPU µs per request: the ASGI app called ``n`` times in-process (best of 3 batches)."""
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(raw_path), "raw_path": raw_path.encode(), "query_string": query.encode(),
             "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"bench"), *((k.lower().encode(), v.encode()) for k, v in headers.items())]}
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(n):
            await app({**scope, "state": {}}, receive, send)
        best = min(best, (time.process_time() - started) / n * 1e6)
    if set(statuses) - {200, 304}:
        raise RuntimeError(f"{path}: HTTP {sorted(set(statuses))}")
    return best


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    """Run the app's lifespan around the block (what uvicorn does at start and stop)."""
    to_app: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                   to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    message = await from_app.get()
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"start-up failed: {message}")
    try:
        yield app
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        await from_app.get()
        await task


def selected(only: str) -> list[tuple[str, str, dict[str, str]]]:
    """The ROUTES whose label contains one of the comma-separated ``only`` (all when empty)."""
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    return [route for route in ROUTES if not wanted or any(w in route[0] for w in wanted)]


async def cpu_table(n: int, only: str = "") -> None:
    from app.main import create_app

    print("\n| route | server | CPU µs per request | ÷ floor |")
    print("|---|---|---:|---:|")
    raw = await cpu_per_request(hello, "/", {}, n)
    floor = await cpu_per_request(fastapi_hello(), "/", {}, n)
    print(f"| bare ASGI hello | raw ASGI | {raw:.0f} | {raw / floor:.2f} |")
    print(f"| floor: FastAPI hello (one async route returning a dict) | FastAPI | {floor:.0f} | 1.00 |")
    async with running(create_app()) as service, running(api_only()) as bare:
        etag = await first_etag(service, "/api/districts/haidian")
        for label, path, headers in selected(only):
            if headers.get("If-None-Match") == "ETAG":
                headers = {**headers, "If-None-Match": etag}
            for server, app in (("service", service), ("/api only", bare)):
                if server == "/api only" and "If-None-Match" in headers:
                    continue
                cost = await cpu_per_request(app, path, headers, n)
                print(f"| {label} | {server} | {cost:.0f} | {cost / floor:.2f} |", flush=True)


async def first_etag(app: Any, path: str) -> str:
    found: list[str] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            found.extend(v.decode() for k, v in message["headers"] if k.lower() == b"etag")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "state": {},
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "headers": [(b"host", b"bench")]}
    await app(scope, receive, send)
    return found[0]


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per route and server (default 5)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--routes", default="", help="only the routes whose label contains one of these "
                        "(comma-separated), e.g. 'districts/{id},shared'")
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--web-workers", type=int, default=1, help="front processes of the service (uvicorn --workers)")
    parser.add_argument("--cpu", type=int, default=500, metavar="N",
                        help="requests per batch for the CPU-time table (0: skip it; default 500)")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "httpx")

    ours, bare, floor = free_port(), free_port(), free_port()
    uvicorn = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]
    servers = [
        # The service with the HTTP protocol `kg serve` runs (httptools with its head deadline and caps).
        start([*uvicorn, "--port", str(ours), "--workers", str(args.web_workers), "--timeout-keep-alive", "5",
               "--no-server-header", "--no-proxy-headers",  # as `kg serve` (app.server.connections.server_options)
               "--http", "app.server.connections:GuardedHttpToolsProtocol", "app.main:app"],
              env={"KG_QUERY_WORKERS": "1"}),
        start([*uvicorn, "--port", str(bare), "--factory", "bench.api:api_only"]),
        start([*uvicorn, "--port", str(floor), "--lifespan", "off", "bench.api:hello"]),
    ]
    try:
        wait_for(f"http://127.0.0.1:{ours}/health", timeout=120)
        wait_for(f"http://127.0.0.1:{bare}/api/districts", timeout=120)
        wait_for(f"http://127.0.0.1:{floor}/")
        targeted: dict[str, Result] = {}
        floor_result = measure(client, f"http://127.0.0.1:{floor}/", {}, args.concurrency, args.seconds)
        print(f"Machine: {machine()}; load average before: {load()}")
        print(f"Client: {client}, concurrency {args.concurrency}, {args.seconds:g} s per route and server; "
              f"servers: uvicorn on loopback, the service with {args.web_workers} process(es), the others 1\n")
        print("| route | server | p50 ms | p99 ms | req/s | p50 ÷ floor | p99 ÷ floor | req/s ÷ floor |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        print(f"| floor: bare uvicorn hello | raw ASGI | {floor_result.p50_ms:.2f} | {floor_result.p99_ms:.2f} | "
              f"{floor_result.rps:.0f} | 1.00 | 1.00 | 1.00 |")
        for label, path, headers in selected(args.routes):
            for server, port in (("service", ours), ("/api only", bare)):
                base = f"http://127.0.0.1:{port}"
                if server == "/api only" and "If-None-Match" in headers:
                    continue  # 304s come from the service's ETag middleware
                sent = check(base, path, headers)
                result = measure(client, base + path, sent, args.concurrency, args.seconds)
                print(f"| {label} | {server} | {result.p50_ms:.2f} | {result.p99_ms:.2f} | {result.rps:.0f} | "
                      f"{result.p50_ms / floor_result.p50_ms:.2f} | {result.p99_ms / floor_result.p99_ms:.2f} | "
                      f"{result.rps / floor_result.rps:.2f} |", flush=True)
                if server == "service" and label in TARGETED:
                    targeted[label] = result
        print(f"\nLoad average after: {load()}\n")
        print("| target route | req/s ÷ floor (≥ 0.5) | p99 ms at c=8 (< 5) |")
        print("|---|---:|---:|")
        for label, result in targeted.items():
            ratio = result.rps / floor_result.rps
            print(f"| {label} | {ratio:.2f} {'met' if ratio >= 0.5 else 'missed'} | "
                  f"{result.p99_ms:.2f} {'met' if result.p99_ms < 5 else 'missed'} |")
    finally:
        stop(*servers)
    if args.cpu:
        with open(os.devnull, "w") as devnull:
            # The service writes its JSON access log as `kg serve` does (batched, on standard output),
            # here to /dev/null, as in the subprocesses above.
            with contextlib.redirect_stdout(devnull):
                configure_access_log()
            asyncio.run(cpu_table(args.cpu, args.routes))


if __name__ == "__main__":
    main()
