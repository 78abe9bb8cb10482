"""Load test: 64 concurrent clients for 60 s against the service, with runaway queries mixed in.

    .venv/bin/python bench/load.py [--seconds 60] [--clients 64] [--query-timeout 2]

Starts ``kg serve`` on a free loopback port (its own subprocess, default settings except
``KG_QUERY_TIMEOUT_S``), then runs ``--clients`` asyncio clients (httpx, one connection each)
for ``--seconds``. Each request is one of the /api routes, entity pages under /id/ (Turtle and
HTML), /health, or an example query (queries/examples/*.rq) on /sparql; one request in ten is a
runaway query (a three-way cross product) that the deadline must stop.

Reports errors (anything but 200, and the intended answers: 503 for a runaway query or for a
query while every worker is busy, 429 if a rate limit is set), p50/p99 latency of the normal
requests by kind, throughput, and the resident memory (VmRSS) of the server and of its query
worker processes before and after (target: growth < 10 %). Run by hand, never in the test suite;
it talks to 127.0.0.1 only and stops by itself.
"""

import argparse
import asyncio
import collections
import os
import random
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import NO_CLIENT_LIMITS, ROOT, free_port, machine, start, stop, wait_for

BIN = Path(sys.executable).parent
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DISTRICTS = ["dongcheng", "xicheng", "chaoyang", "fengtai", "shijingshan", "haidian", "mentougou", "fangshan",
             "tongzhou", "shunyi", "changping", "daxing", "huairou", "pinggu", "miyun", "yanqing"]
JSON_RESULTS = {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
MAX_REQUESTS = 2_000_000  # a bound on the loop besides the clock


@dataclass(frozen=True)
class Request:
    kind: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def normal_requests(client: httpx.Client) -> list[Request]:
    """Every kind of normal request the running service offers (routes that answer 200 now)."""
    candidates = [Request("health", "/health")]
    candidates += [Request("api", p) for p in ("/api/districts", "/api/mechanisms", "/api/mechanisms/shared",
                                                "/api/themes", "/api/matrix")]
    candidates += [Request("api", f"/api/districts/{d}") for d in DISTRICTS]
    candidates += [Request("api", "/api/search", {"q": q}) for q in ("代表", "inspection", "月进站")]
    candidates += [Request("api", "/api/compare", {"districts": "haidian,chaoyang,fengtai"})]
    candidates += [Request("id", f"/id/district/{d}", headers={"Accept": a})
                   for d in DISTRICTS for a in ("text/turtle", "text/html")]
    candidates += [Request("sparql", "/sparql", {"query": p.read_text(encoding="utf-8")}, JSON_RESULTS)
                   for p in sorted((ROOT / "queries" / "examples").glob("*.rq"))]
    offered = []
    for request in candidates:
        if client.get(request.path, params=request.params, headers=request.headers).status_code == 200:
            offered.append(request)
        else:
            print(f"  (left out: {request.kind} {request.path} does not answer 200)")
    return offered


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def memory(pid: int) -> dict[str, int]:
    """VmRSS in KiB: the server process, and all its descendants (query workers) together."""
    children = descendants(pid)
    return {"server": rss_kib(pid), "workers": sum(rss_kib(c) for c in children), "processes": 1 + len(children)}


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: collections.Counter[tuple[str, int | str]] = field(default_factory=collections.Counter)
    errors: list[str] = field(default_factory=list)
    sent: int = 0


async def client_loop(http: httpx.AsyncClient, requests: list[Request], stop_at: float, tally: Tally,
                      rng: random.Random, runaway_share: float) -> None:
    while time.monotonic() < stop_at and tally.sent < MAX_REQUESTS:
        tally.sent += 1
        runaway = rng.random() < runaway_share
        request = (Request("runaway", "/sparql", {"query": RUNAWAY}, JSON_RESULTS) if runaway
                   else rng.choice(requests))
        started = time.perf_counter()
        try:
            response = await http.get(request.path, params=request.params, headers=request.headers)
        except httpx.HTTPError as exc:
            tally.statuses[(request.kind, type(exc).__name__)] += 1
            tally.errors.append(f"{request.kind} {request.path}: {type(exc).__name__} {exc}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        tally.statuses[(request.kind, status)] += 1
        intended = status == 200 or status == 429 or (status == 503 and request.kind in ("runaway", "sparql")
                                                      and is_intended_503(response))
        if not intended:
            tally.errors.append(f"{request.kind} {request.path}: HTTP {status} {response.text[:200]!r}")
        elif status == 200 and not runaway:
            tally.latencies[request.kind].append(elapsed)


def is_intended_503(response: httpx.Response) -> bool:
    """A query stopped at its deadline, or refused because every worker is busy (with Retry-After)."""
    return "timed out" in response.text or "retry-after" in response.headers


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def run_load(url: str, requests: list[Request], clients: int, seconds: float,
                   runaway_share: float) -> tuple[Tally, float]:
    tally = Tally()
    # One client (one connection) per simulated user: a single pool shared by 64 connections costs
    # httpcore more CPU per request than the server spends answering it.
    https = [httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=1))
             for _ in range(clients)]
    try:
        await asyncio.gather(*(http.get("/health") for http in https))  # connect before the clock starts
        started = time.monotonic()
        await asyncio.gather(*(client_loop(http, requests, started + seconds, tally, random.Random(n), runaway_share)
                               for n, http in enumerate(https)))
        return tally, time.monotonic() - started
    finally:
        await asyncio.gather(*(http.aclose() for http in https))


def report(tally: Tally, elapsed: float, before: dict[str, int], after: dict[str, int],
           args: argparse.Namespace) -> None:
    total = sum(tally.statuses.values())
    print(f"\nMachine: {machine()}; load average {os.getloadavg()[0]:.2f} at the end (other processes included)")
    print(f"Load: {args.clients} clients for {elapsed:.1f} s, KG_QUERY_TIMEOUT_S={args.query_timeout:g}, "
          f"{total} requests ({total / elapsed:.0f}/s), {args.runaway_share:.0%} of them runaway queries; "
          f"the load generator used {args.client_cpu:.1f} s of CPU (of one core) in that time\n")
    print("| kind | requests | statuses | p50 ms | p99 ms |")
    print("|---|---:|---|---:|---:|")
    kinds = sorted({kind for kind, _ in tally.statuses})
    everything: list[float] = []
    for kind in kinds:
        counts = {status: n for (k, status), n in tally.statuses.items() if k == kind}
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(counts.items(), key=str))
        samples = tally.latencies.get(kind, [])
        everything += samples
        p50 = f"{statistics.median(samples):.1f}" if samples else "–"
        p99 = f"{percentile(samples, 0.99):.1f}" if samples else "–"
        print(f"| {kind} | {sum(counts.values())} | {shown} | {p50} | {p99} |")
    if everything:
        print(f"| **all normal** | {len(everything)} | 200 | {statistics.median(everything):.1f} | "
              f"{percentile(everything, 0.99):.1f} |")
    print(f"\nErrors (anything but 200 and the intended 503/429): {len(tally.errors)}")
    for line in collections.Counter(tally.errors).most_common(10):
        print(f"  {line[1]}× {line[0]}")
    print("\n| memory (VmRSS) | before | after | growth |")
    print("|---|---:|---:|---:|")
    for key in ("server", "workers"):
        growth = (after[key] - before[key]) / before[key] * 100 if before[key] else 0.0
        print(f"| {key} | {before[key] / 1024:.1f} MiB | {after[key] / 1024:.1f} MiB | {growth:+.1f} % |")
    both_before, both_after = before["server"] + before["workers"], after["server"] + after["workers"]
    growth = (both_after - both_before) / both_before * 100
    verdict = "ok" if growth < 10 else "OVER the 10 % target"
    print(f"| total ({before['processes']} → {after['processes']} processes) | {both_before / 1024:.1f} MiB | "
          f"{both_after / 1024:.1f} MiB | {growth:+.1f} % ({verdict}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--runaway-share", type=float, default=0.1, help="share of runaway queries (0.1: one in ten)")
    parser.add_argument("--query-timeout", type=float, default=2.0, help="KG_QUERY_TIMEOUT_S of the server")
    args = parser.parse_args()
    args.seconds = min(args.seconds, 600.0)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start([str(BIN / "kg"), "serve", "--port", str(port), "--log-level", "warning"],
                   # One address sends everything: the per-client /sparql limits would measure themselves.
                   env={"KG_QUERY_TIMEOUT_S": str(args.query_timeout), **NO_CLIENT_LIMITS})
    try:
        wait_for(f"{url}/ready", timeout=120)
        with httpx.Client(base_url=url, timeout=60) as client:
            requests = normal_requests(client)  # also warms every route once
            deadline = time.monotonic() + 30
            while client.get("/ready").json().get("workers_idle", 0) < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
        before = memory(server.pid)
        print(f"{len(requests)} kinds of normal request; server pid {server.pid}")
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        tally, elapsed = asyncio.run(run_load(url, requests, args.clients, args.seconds, args.runaway_share))
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        args.client_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
        time.sleep(args.query_timeout + 1)  # let the last runaway queries end and their workers respawn
        after = memory(server.pid)
        report(tally, elapsed, before, after, args)
    finally:
        stop(server)


if __name__ == "__main__":
    main()
