"""Benchmark /sparql against Oxigraph server and rdflib-endpoint on the same data, same run.

    .venv/bin/pip install -e '.[bench]'   # oxigraph (server), rdflib-endpoint
    .venv/bin/python bench/sparql.py      # prints a Markdown table; wrk is used when installed

For each query: sequential p50/p99 (concurrency 1) and throughput at concurrency 8, each also
as a ratio to Oxigraph server. All three servers hold the same triples (the union of the data,
ontology and inferred graphs as default graph) and run on loopback on this machine.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    NO_CLIENT_LIMITS,
    ROOT,
    free_port,
    machine,
    sequential,
    start,
    stop,
    throughput,
    wait_for,
)

BIN = Path(sys.executable).parent
EXTRA = {
    "shared GROUP BY": """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
SELECT ?m (COUNT(DISTINCT ?d) AS ?n) WHERE { ?p bjrd:usesMechanism ?m ; bjrd:district ?d }
GROUP BY ?m HAVING (COUNT(DISTINCT ?d) >= 2) ORDER BY DESC(?n)""",
    "district-pair self-join": """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
SELECT ?a ?b (COUNT(DISTINCT ?m) AS ?shared) WHERE {
  ?p1 bjrd:district ?a ; bjrd:usesMechanism ?m . ?p2 bjrd:district ?b ; bjrd:usesMechanism ?m .
  FILTER(STR(?a) < STR(?b)) } GROUP BY ?a ?b ORDER BY DESC(?shared)""",
    "list (cheap)": """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code } ORDER BY ?code""",
    "CONSTRUCT one entity (cheap)": """CONSTRUCT { <https://bjrd-kg.example.org/id/district/haidian> ?p ?o }
WHERE { <https://bjrd-kg.example.org/id/district/haidian> ?p ?o }""",
}


# The examples use relative IRIs (resolved against this service's base); the other servers do
# not know that base, so every query states it.
BASE = "BASE <https://bjrd-kg.example.org/>\n"


def queries() -> dict[str, str]:
    found = {f"example {p.stem}": p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries" / "examples").glob("*.rq"))}
    return {name: BASE + text for name, text in {**found, **EXTRA}.items()}


def answer_size(url: str, text: str, headers: dict[str, str]) -> int:
    """Rows (or triples) of one answer: the servers must agree before their speed is compared."""
    r = httpx.post(url, data={"query": text}, headers=headers, timeout=120)
    r.raise_for_status()
    if "json" in r.headers.get("content-type", ""):
        return len(r.json()["results"]["bindings"])
    return len([line for line in r.text.splitlines() if line.strip()])


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    nquads, ntriples = tmp / "all.nq", tmp / "union.nt"
    subprocess.run([BIN / "kg", "export", "--format", "nquads", "-o", nquads], check=True)
    subprocess.run([BIN / "kg", "export", "--format", "ntriples", "--inferred", "-o", ntriples], check=True)

    ours, oxi, rdfe = free_port(), free_port(), free_port()
    servers = [
        start([BIN / "kg", "serve", "--port", str(ours), "--log-level", "warning"], env=NO_CLIENT_LIMITS),
        start([BIN / "oxigraph", "serve", "--bind", f"127.0.0.1:{oxi}", "--union-default-graph"]),
        start([BIN / "rdflib-endpoint", "serve", "--host", "127.0.0.1", "--port", str(rdfe), str(nquads)]),
    ]
    try:
        for port in (ours, oxi, rdfe):
            wait_for(f"http://127.0.0.1:{port}/")
        httpx.post(f"http://127.0.0.1:{oxi}/store", content=nquads.read_bytes(),
                   headers={"Content-Type": "application/n-quads"}, timeout=60).raise_for_status()
        endpoints = {
            "this service": f"http://127.0.0.1:{ours}/sparql",
            "oxigraph serve": f"http://127.0.0.1:{oxi}/query",
            "rdflib-endpoint": f"http://127.0.0.1:{rdfe}/",
        }
        print(f"Machine: {machine()}\n")
        print("| query | server | rows | p50 ms (c=1) | p99 ms (c=1) | req/s (c=8) | p50 vs oxigraph | req/s vs oxigraph |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, text in queries().items():
            construct = "CONSTRUCT" in text.upper().split("WHERE")[0]
            headers = {"Accept": "application/n-triples" if construct else "application/sparql-results+json"}
            results = {}
            sizes = {server: answer_size(url, text, headers) for server, url in endpoints.items()}
            for server, url in endpoints.items():
                slow = server == "rdflib-endpoint"
                lat = sequential(url, {"query": text}, headers, seconds=2.0 if slow else 3.0, max_n=200 if slow else 3000)
                rps = throughput(url, {"query": text}, headers, seconds=3.0 if slow else 5.0)
                results[server] = (lat, rps)
            base_lat, base_rps = results["oxigraph serve"]
            for server, (lat, rps) in results.items():
                rows = f"{sizes[server]}" + ("" if sizes[server] == sizes["this service"] else " ≠")
                print(f"| {name} | {server} | {rows} | {lat.p50_ms:.2f} | {lat.p99_ms:.2f} | {rps:.0f} | "
                      f"{lat.p50_ms / base_lat.p50_ms:.2f}× | {rps / base_rps:.2f}× |")
    finally:
        stop(*servers)


if __name__ == "__main__":
    main()
