"""Writes at scale: what one small write costs, against the build of the same graph in the same process.

    .venv/bin/python bench/write.py --data /tmp/kgscale/data-1000000 [--store disk:/tmp/kgw/store]

Builds the graph of ``--data`` (``KG_DATA_DIR``; bench/generate.py makes one) in ``--store``
(``memory``, or ``disk:DIR``, emptied first), then stages and commits five writes through
app.writes.writes, as the routes do: a Graph Store POST of one triple, a SPARQL ``INSERT DATA``
of one triple, a ``DELETE … WHERE`` that removes both, and the most used mechanism put under
another (``skos:broader``) and taken out again: every practice using it gains a link, then loses
it. Prints each write's seconds (staging, with inference and validation; commit; the new
version's /api catalog, read from the scratch store as app.runtime does) and its ratio to the
build's, and the peak RSS of the process. Not timed: the new query workers (started meanwhile by
the service). The triple count after the writes is checked against a count of the store. Run by hand.
"""

import argparse
import json
import logging
import os
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyoxigraph as ox

from app.api.catalog import build_catalog
from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.writes import writes

COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="KG_DATA_DIR of the graph")
    parser.add_argument("--store", default="memory", help="memory or disk:DIR (DIR is emptied)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.store.startswith("disk:"):
        shutil.rmtree(args.store.removeprefix("disk:"), ignore_errors=True)
    os.environ.update(KG_DATA_DIR=str(args.data), KG_STORE=args.store)
    settings = Settings()
    started = time.perf_counter()
    graph = KnowledgeGraph.build(settings)
    build_s = time.perf_counter() - started
    base = settings.base_iri
    haidian = f"<{base}/id/district/haidian>"
    triple = ox.Triple(ox.NamedNode(f"{base}/id/district/haidian"), ox.NamedNode(COMMENT),
                       ox.Literal("bench", language="en"))
    used = graph.backend.select("SELECT ?m (COUNT(?p) AS ?n) WHERE { ?p <https://bjrd-kg.example.org/ontology#"
                                "usesMechanism> ?m } GROUP BY ?m ORDER BY DESC(?n) LIMIT 2")
    busiest, other = (row["m"] for row in used)
    broader = f"<{busiest.value}> <http://www.w3.org/2004/02/skos/core#broader> <{other.value}>"
    changes = {
        "post one triple": writes.merge_into_graph(graph.names.data, [triple]),
        "update: INSERT DATA": writes.sparql_update(f'INSERT DATA {{ {haidian} <{COMMENT}> "bench 2"@en }}', base + "/",
                                                    graph.names.data),
        "update: DELETE WHERE": writes.sparql_update(f"DELETE WHERE {{ {haidian} <{COMMENT}> ?c }}", base + "/",
                                                     graph.names.data),
        # the most used mechanism put under another: every practice using it gains a link
        "update: add broader": writes.sparql_update(f"INSERT DATA {{ {broader} }}", base + "/", graph.names.data),
        "update: remove broader": writes.sparql_update(f"DELETE DATA {{ {broader} }}", base + "/", graph.names.data),
    }
    rows = []
    for name, change in changes.items():
        started = time.perf_counter()
        staged = writes.prepare(graph, change)
        prepared = time.perf_counter()
        graph = writes.commit(graph, staged)
        committed = time.perf_counter()
        build_catalog(graph, staged.scratch.reader(graph.query_base, graph.store.meta))
        done = time.perf_counter()
        rows.append({"write": name, "stage_s": round(prepared - started, 2), "commit_s": round(committed - prepared, 2),
                     "catalog_s": round(done - committed, 2),
                     "total_s": round(done - started, 2), "vs_build": round((done - started) / build_s, 2),
                     "changed": staged.delta.counts()})
    counted = graph.backend.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
    assert int(counted[0]["n"].value) == graph.triples, (counted, graph.triples)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbuild of {graph.triples} triples in {args.store}: {build_s:.1f} s; peak RSS {peak_mb:.0f} MB")
    for row in rows:
        print(f"{row['write']:<22} stage {row['stage_s']:6.2f} s  commit {row['commit_s']:5.2f} s  "
              f"catalog {row['catalog_s']:6.2f} s  "
              f"total {row['total_s']:6.2f} s  = {row['vs_build']:.2f} x the build  {row['changed']}")
    if args.out:
        args.out.write_text(json.dumps({"store": args.store, "triples": graph.triples, "build_s": round(build_s, 2),
                                        "peak_rss_mb": round(peak_mb), "writes": rows}, indent=2))


if __name__ == "__main__":
    main()
