"""Shared pieces of the benchmarks: free ports, starting servers, latency and throughput.

Run by hand, never in the test suite. Every figure is measured in the same run as its
baseline, and reported as a ratio to it.
"""

import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start(cmd: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(list(cmd), env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(*processes: subprocess.Popen) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


@dataclass
class Latency:
    p50_ms: float
    p99_ms: float
    n: int


def sequential(url: str, params: dict[str, str], headers: dict[str, str], seconds: float = 3.0,
               max_n: int = 2000) -> Latency:
    """p50/p99 of requests sent one after another (concurrency 1) for ``seconds``."""
    samples = []
    with httpx.Client(timeout=60) as client:
        client.get(url, params=params, headers=headers)  # warm-up
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at and len(samples) < max_n:
            t = time.perf_counter()
            r = client.get(url, params=params, headers=headers)
            samples.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {r.status_code}: {r.text[:200]}")
    samples.sort()
    return Latency(statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))], len(samples))


def throughput(url: str, params: dict[str, str], headers: dict[str, str], concurrency: int = 8,
               seconds: float = 5.0) -> float:
    """Requests per second at ``concurrency``: wrk when installed, else an async httpx client."""
    full = str(httpx.URL(url, params=params))
    if shutil.which("wrk"):
        args = ["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency"]
        for k, v in headers.items():
            args += ["-H", f"{k}: {v}"]
        out = subprocess.run(args + [full], capture_output=True, text=True, check=True).stdout
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if errors:
            raise RuntimeError(f"{url}: {errors.group(1)} error responses under load")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return asyncio.run(_async_throughput(full, headers, concurrency, seconds))


async def _async_throughput(url: str, headers: dict[str, str], concurrency: int, seconds: float) -> float:
    done = 0
    stop_at = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            r = await client.get(url, headers=headers)
            r.raise_for_status()
            done += 1

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        started = time.monotonic()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return done / (time.monotonic() - started)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB RAM, Python {sys.version.split()[0]}"


#: The benchmarks' clients all share one address: the per-client /sparql limits (on by default) are
#: lifted so that the server, not the limit, is measured.
NO_CLIENT_LIMITS = {"KG_SPARQL_CONCURRENCY": "0", "KG_SPARQL_QUERY_SECONDS": "0", "KG_SPARQL_CLIENT_WORKERS": "0"}
