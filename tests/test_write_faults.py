"""Fault injection: a write that fails at any stage leaves the store as it was (issue 23, item 4).

The real write path runs (a token-authorised ``/update`` on a live service over memory, a store on
disk and a real Oxigraph server); a hook at ``app.writes.writes.FAULT_HOOKS`` raises at one stage of
:data:`app.writes.writes.STAGES` in turn: staged, inferred, validated, the new version's catalog,
its exports, written to the store, put in service. Each time: the answer is 500 naming the stage
and saying nothing was written; the store holds exactly the quads it held before (read from the
store itself, the meta graph included); the /api answers and the version are the same; and a
service started anew over the same store serves that version. Without a fault, the same write
commits (so the faults, not the write, made it fail)."""

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from app.config import Settings
from app.store.backends import EmbeddedStore
from app.writes import writes
from tests.helpers import SUITE_LIMITS, LiveServer, running_oxigraph, serve_in_thread

TOKEN = "fault-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "https://bjrd-kg.example.org"
#: A conforming write that changes the article's data graph, adds a graph, and entails triples.
UPDATE = (f"INSERT DATA {{ <{BASE}/id/fact/dongcheng-104-work-rules> <http://schema.org/minValue> 3 . "
          "GRAPH <urn:x-test:faults> { <urn:x:narrow> <http://www.w3.org/2004/02/skos/core#broader> <urn:x:wide> } }")

served = contextmanager(serve_in_thread)


class InjectedFault(RuntimeError):
    pass


def store_quads(server: LiveServer, store: str) -> set[ox.Quad]:
    """Every quad the store holds now, read from the store itself (not from the service's answers)."""
    backend = server.graph.store
    if isinstance(backend, EmbeddedStore):
        return set(backend.store)
    endpoint = store.split("gsp=")[1]
    body = httpx.get(endpoint, headers={"Accept": "application/n-quads"}, timeout=60).content
    return set(ox.parse(body, format=ox.RdfFormat.N_QUADS))


def answers(c: httpx.Client) -> tuple[str, ...]:
    version = c.get("/ready").json()["graph_version"]
    return (version, *(c.get(url).text for url in ("/api/districts/dongcheng", "/api/mechanisms",
                                                   "/export/facts.csv")))


@contextmanager
def failing_at(stage: str) -> Iterator[None]:
    def hook(reached: str) -> None:
        if reached == stage:
            raise InjectedFault(f"injected at {stage}")

    writes.FAULT_HOOKS.append(hook)
    try:
        yield
    finally:
        writes.FAULT_HOOKS.remove(hook)


def post_update(c: httpx.Client) -> httpx.Response:
    return c.post("/update", content=UPDATE.encode(), headers={**AUTH, "Content-Type": "application/sparql-update"})


def fail_each_stage(settings: Settings, store: str, out: Path) -> None:
    """Fail the write at each stage in turn on a service over ``store``: each time the store's quads
    and the answers are as before. Writes them to ``out`` (N-Quads, JSON) for the restart to compare."""
    logged: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("app.writes").addHandler(handler)
    logging.getLogger("app.writes").setLevel(logging.INFO)
    with served(settings) as server, httpx.Client(base_url=server.url, timeout=120) as c:
        before, seen = store_quads(server, store), answers(c)
        for stage in writes.STAGES:
            with failing_at(stage):
                r = post_update(c)
            assert r.status_code == 500, (stage, r.status_code, r.text)
            assert f"at its {stage} stage" in r.text and "InjectedFault" in r.text, r.text
            assert "Nothing was written" in r.text
            assert store_quads(server, store) == before, stage
            assert answers(c) == seen, stage
            assert c.get("/health").status_code == 200
            assert not [line for line in logged if line.startswith("commit")], logged  # the write log: no commit
    (out / "before.nq").write_bytes(ox.serialize(before, format=ox.RdfFormat.N_QUADS) or b"")
    (out / "answers.json").write_text(json.dumps(seen), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["memory", "disk", "sparql"])
def test_a_write_failing_at_any_stage_leaves_the_store_as_it_was(kind: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        store = {"memory": "memory", "disk": f"disk:{tmp_path / 'store'}"}.get(kind, "")
        if kind == "sparql":
            store = stack.enter_context(running_oxigraph())
            subprocess.run([sys.executable, "-m", "app", "load", "--into", store], check=True,
                           stdout=subprocess.DEVNULL)
        # The faults are injected in a process of its own, which then exits: the restart below is a
        # new service over the same store (RocksDB allows one opener per process, and keeps it).
        child = subprocess.run([sys.executable, "-m", "tests.test_write_faults", store, str(tmp_path)],
                               capture_output=True, text=True, timeout=900)
        assert child.returncode == 0, child.stderr[-3000:]
        before = set(ox.parse((tmp_path / "before.nq").read_bytes(), format=ox.RdfFormat.N_QUADS))
        seen = tuple(json.loads((tmp_path / "answers.json").read_text(encoding="utf-8")))
        settings = Settings(store=store, write_token=TOKEN, query_workers=1, **SUITE_LIMITS)
        with served(settings) as server, httpx.Client(base_url=server.url, timeout=120) as c:
            # Started anew over the same store: it serves the version before (memory: the files).
            assert c.get("/ready").status_code == 200
            assert answers(c) == seen
            if kind != "memory":
                assert store_quads(server, store) == before
            r = post_update(c)
            assert r.status_code == 204, r.text
            assert r.headers["x-graph-version"] != seen[0]
            assert answers(c)[0] == r.headers["x-graph-version"]
            assert store_quads(server, store) != before


if __name__ == "__main__":  # the child of the test above: python -m tests.test_write_faults STORE OUTDIR
    fail_each_stage(Settings(store=sys.argv[1], write_token=TOKEN, query_workers=1, **SUITE_LIMITS), sys.argv[1],
                    Path(sys.argv[2]))
