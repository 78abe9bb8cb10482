"""Benchmark every /api route against a bare uvicorn "hello" ASGI app (the floor), in the same run.

    .venv/bin/python bench/api.py [--seconds 5] [--concurrency 8] [--client auto|wrk|httpx]

Starts the service (``uvicorn app.main:app``) and the floor (``uvicorn bench.api:hello``, a raw
ASGI app answering a fixed JSON body) on free loopback ports, each in its own subprocess with
one worker; checks that every route answers 200, warms it once, then measures p50 and p99 latency
and throughput (requests/s) at concurrency 8 and prints a Markdown table with ratios to the floor.
``wrk`` is used when installed (``apt-get install -y wrk``), else an async httpx client, which
spends more CPU per request than the server does and shares the machine with it: the ratios
still compare like with like, the absolute numbers are then pessimistic. Run by hand, never in
the test suite.
"""

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, machine, start, stop, wait_for  # noqa: E402

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
    ("GET /api/compare (16 districts)", "/api/compare?districts=dongcheng,xicheng,chaoyang,fengtai,shijingshan,"
     "haidian,mentougou,fangshan,tongzhou,shunyi,changping,daxing,huairou,pinggu,miyun,yanqing", {}),
    ("GET /api/matrix (JSON)", "/api/matrix", {}),
    ("GET /api/matrix (CSV)", "/api/matrix", {"Accept": "text/csv"}),
    ("GET /api/search (zh)", "/api/search?q=%E6%9C%88%E8%BF%9B%E7%AB%99", {}),
    ("GET /api/search (en)", "/api/search?q=inspection", {}),
    ("GET /api/districts/{id} If-None-Match → 304", "/api/districts/haidian", {"If-None-Match": "ETAG"}),
]


async def hello(scope: dict, receive: object, send: object) -> None:
    """The floor: the cheapest possible ASGI answer."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,  # type: ignore[operator]
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"17")]})
    await send({"type": "http.response.body", "body": b'{"hello":"world"}'})  # type: ignore[operator]


@dataclass
class Result:
    p50_ms: float
    p99_ms: float
    rps: float
    n: int


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def with_wrk(url: str, headers: dict[str, str], concurrency: int, seconds: float) -> Result:
    args = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{url}: error responses under load:\n{out}")

    def percentile(p: int) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * UNITS[unit]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per route and server (default 5)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "httpx")

    ours, floor = free_port(), free_port()
    uvicorn = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]
    servers = [
        start([*uvicorn, "--port", str(ours), "app.main:app"], env={"KG_QUERY_WORKERS": "1"}),
        start([*uvicorn, "--port", str(floor), "--lifespan", "off", "bench.api:hello"]),
    ]
    try:
        wait_for(f"http://127.0.0.1:{ours}/health", timeout=120)
        wait_for(f"http://127.0.0.1:{floor}/")
        base = f"http://127.0.0.1:{ours}"
        floor_result = measure(client, f"http://127.0.0.1:{floor}/", {}, args.concurrency, args.seconds)
        print(f"Machine: {machine()}")
        print(f"Client: {client}, concurrency {args.concurrency}, {args.seconds:g} s per route; "
              "server: uvicorn, 1 process, loopback\n")
        print("| route | p50 ms | p99 ms | req/s | p50 ÷ floor | p99 ÷ floor | req/s ÷ floor |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        print(f"| floor: bare uvicorn hello | {floor_result.p50_ms:.2f} | {floor_result.p99_ms:.2f} | "
              f"{floor_result.rps:.0f} | 1.00 | 1.00 | 1.00 |")
        for label, path, headers in ROUTES:
            headers = check(base, path, headers)
            result = measure(client, base + path, headers, args.concurrency, args.seconds)
            print(f"| {label} | {result.p50_ms:.2f} | {result.p99_ms:.2f} | {result.rps:.0f} | "
                  f"{result.p50_ms / floor_result.p50_ms:.2f} | {result.p99_ms / floor_result.p99_ms:.2f} | "
                  f"{result.rps / floor_result.rps:.2f} |", flush=True)
    finally:
        stop(*servers)


if __name__ == "__main__":
    main()
