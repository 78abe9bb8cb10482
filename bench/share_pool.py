"""The query worker pool at scale, by hand: start-up time, and RSS/PSS/shared pages per process.

    .venv/bin/python bench/share_pool.py DIR   # DIR from bench/generate.py --triples 1000000 --out DIR
"""
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyoxigraph as ox

from app.sparql.run import prepare
from app.sparql.workers import QueryWorkers, WorkerConfig


def smaps(pid):
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0]) // 1024
    return out


async def main(data):
    store = ox.Store()
    for f in Path(data).rglob("*.ttl"):
        store.bulk_load(path=str(f), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:g:" + f.stem))
    n = len(store)

    def write(out):
        ox.serialize(store.quads_for_pattern(None, None, None), out, format=ox.RdfFormat.N_QUADS)

    pool = QueryWorkers(WorkerConfig("oxigraph", "http://x/"), size=2, timeout_s=60, queue=8, write_dataset=write)
    t = time.perf_counter()
    await pool.start()
    ready = time.perf_counter() - t
    while pool.spare is None:
        await asyncio.sleep(0.01)
    spare = time.perf_counter() - t
    print(f"quads {n}; pool of 2 ready in {ready:.2f} s, spare at {spare:.2f} s; loadavg {os.getloadavg()[0]:.1f}")
    q = prepare("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "application/sparql-results+json")
    for _ in range(2):
        a = await pool.run(q)
        print(a.body[-60:])
    q2 = prepare("SELECT ?s ?o WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?o } LIMIT 50000", None)
    for _ in range(4):
        await pool.run(q2)
    me = smaps(os.getpid())
    print(f"main (holds its own store): Rss {me['Rss']} Pss {me['Pss']} MB")
    for label, pid in [("zygote", pool.zygote.process.pid)] + [("worker", w.process.pid) for w in pool.all]:
        m = smaps(pid)
        print(
            f"{label} {pid}: Rss {m['Rss']} Pss {m['Pss']} "
            f"Shared_Dirty {m['Shared_Dirty']} Private_Dirty {m['Private_Dirty']} MB"
        )
    t = time.perf_counter()
    w = next(iter(pool.all))
    pool._replace(w)
    while pool.spare is None:
        await asyncio.sleep(0.005)
    print(f"replace + new spare forked and ready: {(time.perf_counter()-t)*1000:.0f} ms")
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
