"""Benchmark /sparql against Oxigraph server on the same data, in one run, as ratios.

    .venv/bin/pip install -e '.[bench]'            # oxigraph (server)
    apt-get install -y wrk                         # the load generator (required here)
    .venv/bin/python bench/sparql.py [--seconds 3] [--web-workers 1]

Both servers hold the same quads (the union of the data, ontology and inferred graphs as the
default graph) and run on loopback on this machine. The queries: every named query of queries/
(route queries, examples and checks, unbound), each given the service's BASE so that relative
IRIs mean the same to both servers, plus a few written here. Before timing, both servers must
give every query the same number of rows (triples).

Two measurements per query and server, throughput with wrk at concurrency 8:

* **uncached**: each request is a new query text (an unused ``PREFIX`` with a counter is put first), so
  nothing is answered from memory: the engine runs every time;
* **repeated**: the same URL again and again (this service answers from its per-version memo;
  Oxigraph server has no answer cache and runs the query each time).

A query is *engine-bound* when Oxigraph answers it uncached at fewer than 2,000 requests/s,
*cheap* otherwise. The summary gives the geometric mean of the ratios per class, against the
issue's targets (engine-bound ≥ 0.8×, cheap ≥ 0.25×, repeated ≥ 1×).
"""

import argparse
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import NO_CLIENT_LIMITS, ROOT, free_port, machine, start, stop, wait_for  # noqa: E402

BIN = Path(sys.executable).parent
ENGINE_BOUND_BELOW = 2000.0  # Oxigraph req/s: below, the engine's work dominates
EXTRA = {
    "extra: shared GROUP BY": """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
SELECT ?m (COUNT(DISTINCT ?d) AS ?n) WHERE { ?p bjrd:usesMechanism ?m ; bjrd:district ?d }
GROUP BY ?m HAVING (COUNT(DISTINCT ?d) >= 2) ORDER BY DESC(?n)""",
    "extra: district-pair self-join": """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
SELECT ?a ?b (COUNT(DISTINCT ?m) AS ?shared) WHERE {
  ?p1 bjrd:district ?a ; bjrd:usesMechanism ?m . ?p2 bjrd:district ?b ; bjrd:usesMechanism ?m .
  FILTER(STR(?a) < STR(?b)) } GROUP BY ?a ?b ORDER BY DESC(?shared)""",
    "extra: list": """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code } ORDER BY ?code""",
    "extra: CONSTRUCT one entity": """CONSTRUCT { <https://bjrd-kg.example.org/id/district/haidian> ?p ?o }
WHERE { <https://bjrd-kg.example.org/id/district/haidian> ?p ?o }""",
}
BASE = "BASE <https://bjrd-kg.example.org/>\n"
#: Every request of a thread gets its own unused PREFIX declaration: a new query text each time, for
#: both servers. (Not a comment: the service blanks comments in the reading it keys answers by, so a
#: query made new by a comment alone is answered from memory.)
UNIQUE_LUA = """
local id, counter = 0, 0
function setup(thread) id = id + 1; thread:set("tid", id) end
function init(args) counter = 0 end
function request()
  counter = counter + 1
  local prefix = "PREFIX%20u" .. tid .. "x" .. counter .. "%3A%20%3Curn%3Ax%3A%3E%0A"
  local path = string.gsub(wrk.path, "query=", function() return "query=" .. prefix end, 1)
  return wrk.format("GET", path)
end
"""


def queries() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder, label in (("", "named"), ("examples", "example"), ("checks", "check")):
        for path in sorted((ROOT / "queries" / folder).glob("*.rq")):
            found[f"{label}: {path.stem}"] = path.read_text(encoding="utf-8")
    return {name: BASE + text for name, text in {**found, **EXTRA}.items()}


def is_graph_query(text: str) -> bool:
    head = re.sub(r"#[^\n]*", "", text).upper()
    return bool(re.search(r"\b(CONSTRUCT|DESCRIBE)\b", head.split("WHERE")[0]))


def answer_size(url: str, text: str, headers: dict[str, str]) -> int:
    """Rows (or triples) of one answer: the servers must agree before their speed is compared."""
    r = httpx.post(url, data={"query": text}, headers=headers, timeout=120)
    r.raise_for_status()
    if "json" in r.headers.get("content-type", ""):
        body = r.json()
        return len(body["results"]["bindings"]) if "results" in body else 1
    return len([line for line in r.text.splitlines() if line.strip()])


def settle(metrics_url: str, timeout: float = 30.0) -> None:
    """Wait until every query worker is idle: queries cut off at the end of a run kill their worker
    (the client went away), and the next run must not start while they are replaced."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = httpx.get(metrics_url, timeout=10).text
        idle = re.search(r'^kg_query_workers\{state="idle"\} ([\d.]+)', text, re.MULTILINE)
        size = re.search(r"^kg_query_workers_configured ([\d.]+)", text, re.MULTILINE)
        if idle and size and float(idle.group(1)) >= float(size.group(1)):
            return
        time.sleep(0.2)


def wrk(url: str, headers: dict[str, str], seconds: float, script: Path | None) -> float:
    args = ["wrk", "-t2", "-c8", f"-d{max(1, round(seconds))}s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"<!-- {url[:60]}…: {errors.group(1)} error responses under load (counted out) -->", file=sys.stderr)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    assert found is not None and total is not None, out
    seconds_run = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    good = int(total.group(1)) - (int(errors.group(1)) if errors else 0)
    return good / seconds_run


def geomean(values: list[float]) -> float:
    return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per query, server and mode (default 3)")
    parser.add_argument("--web-workers", type=int, default=1, help="front processes of the service (uvicorn --workers)")
    parser.add_argument("--query-workers", type=int, default=0,
                        help="KG_QUERY_WORKERS of the service (default 0: the service's own default)")
    parser.add_argument("--only", default="", help="only the queries whose name contains this")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    tmp = Path(tempfile.mkdtemp())
    script = tmp / "unique.lua"
    script.write_text(UNIQUE_LUA)
    nquads = tmp / "all.nq"
    subprocess.run([BIN / "kg", "export", "--format", "nquads", "-o", nquads], check=True)

    ours, oxi = free_port(), free_port()
    service = ([str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(ours), "--log-level", "warning",
                "--no-access-log", "--workers", str(args.web_workers), "--timeout-keep-alive", "5",
                # as `kg serve` runs (app.server.connections.server_options): httptools with its head deadline and caps
                "--no-server-header", "--no-proxy-headers",
                "--http", "app.server.connections:GuardedHttpToolsProtocol", "app.main:app"])
    servers = [
        start(service, env={"KG_QUERY_WORKERS": str(args.query_workers), **NO_CLIENT_LIMITS}),
        start([BIN / "oxigraph", "serve", "--bind", f"127.0.0.1:{oxi}", "--union-default-graph"]),
    ]
    try:
        wait_for(f"http://127.0.0.1:{ours}/health", timeout=180)
        wait_for(f"http://127.0.0.1:{oxi}/")
        httpx.post(f"http://127.0.0.1:{oxi}/store", content=nquads.read_bytes(),
                   headers={"Content-Type": "application/n-quads"}, timeout=60).raise_for_status()
        metrics = f"http://127.0.0.1:{ours}/metrics"
        endpoints = {"service": f"http://127.0.0.1:{ours}/sparql", "oxigraph": f"http://127.0.0.1:{oxi}/query"}
        print(f"Machine: {machine()}; load average before: {load()}")
        print(f"wrk -t2 -c8, {args.seconds:g} s per query, server and mode; service: uvicorn --workers "
              f"{args.web_workers}, KG_QUERY_WORKERS={args.query_workers}\n")
        print("| query | rows | class | oxigraph req/s | service req/s | ratio | oxigraph repeated | "
              "service repeated | ratio |")
        print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
        ratios: dict[str, list[float]] = {"engine-bound": [], "cheap": [], "repeated": []}
        for name, text in queries().items():
            if args.only not in name:
                continue
            headers = {"Accept": "application/n-triples" if is_graph_query(text)
                       else "application/sparql-results+json"}
            sizes = {server: answer_size(url, text, headers) for server, url in endpoints.items()}
            if sizes["service"] != sizes["oxigraph"]:
                print(f"| {name} | {sizes['service']} ≠ {sizes['oxigraph']} | rows differ: not timed | | | | | | |")
                continue
            urls = {server: f"{url}?query={quote(text, safe='')}" for server, url in endpoints.items()}
            uncached, repeated = {}, {}
            for server, url in urls.items():
                settle(metrics)
                uncached[server] = wrk(url, headers, args.seconds, script)
            for server, url in urls.items():
                settle(metrics)
                repeated[server] = wrk(url, headers, args.seconds, None)
            kind = "engine-bound" if uncached["oxigraph"] < ENGINE_BOUND_BELOW else "cheap"
            ratio, again = uncached["service"] / uncached["oxigraph"], repeated["service"] / repeated["oxigraph"]
            ratios[kind].append(ratio)
            ratios["repeated"].append(again)
            print(f"| {name} | {sizes['service']} | {kind} | {uncached['oxigraph']:.0f} | {uncached['service']:.0f} | "
                  f"{ratio:.2f}× | {repeated['oxigraph']:.0f} | {repeated['service']:.0f} | {again:.2f}× |", flush=True)
        print(f"\nLoad average after: {load()}\n")
        print("| class | queries | geomean ratio | min | max | target |")
        print("|---|---:|---:|---:|---:|---:|")
        for kind, target in (("engine-bound", 0.8), ("cheap", 0.25), ("repeated", 1.0)):
            values = ratios[kind]
            if values:
                print(f"| {kind} | {len(values)} | {geomean(values):.2f}× | {min(values):.2f}× | {max(values):.2f}× | "
                      f"≥ {target:g}× |")
    finally:
        stop(*servers)


if __name__ == "__main__":
    main()
