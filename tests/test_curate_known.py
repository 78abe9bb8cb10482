"""Drafts learn what was published: a mechanism published through /curate for one source is known when the
next article is drafted, by /api/drafts (the graph served now, no restart) and by ``kg draft`` over the
persisted store the deployment published into.

Both texts are MADE UP by tests (they report nothing real) and live under tests/, never data/: the second
source is tests/test_curate.py's made-up article, reviewed by its helper (its curator keeps the new
mechanism “街巷议事厅”工作机制 with a Chinese label); the third, below, writes that label in another
district's paragraph. Slow: a publish runs the whole write path.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.config import Settings
from tests.helpers import kg_serve, running_oxigraph, serve_in_thread
from tests.test_curate import AUTH, SOURCE, TOKEN, known_mechanism, publish_made_up

pytestmark = pytest.mark.slow

THIRD = {"id": "made-up-2022-01", "title": "各区人大工作再扫描（测试编造）", "issued": "2022-01"}


def third_article(label: str) -> str:
    """A third article MADE UP for this test: Xicheng takes up ``label``, the second source's new mechanism."""
    return ("（本文为测试编造的文章，并非真实报道。）\n\n"
            f"  西城区人大常委会今年推行{label}，在15个街道设立议事点。\n")


def proposals_for(draft: dict[str, Any], label: str) -> list[dict[str, Any]]:
    """Every mechanism proposal of the draft whose quote is ``label``."""
    return [m for d in draft["districts"] for p in d["practices"] for m in p["mechanisms"] if m["quote"] == label]


def publish_second_source(w: httpx.Client) -> tuple[str, str]:
    """Draft, review and publish the second made-up source; its new mechanism's (id, zh label)."""
    label, _ = known_mechanism()
    decisions = publish_made_up(w, label)
    new = [m for p in decisions["practices"] for m in p["mechanisms"] if m["new"]]
    assert len(new) == 1 and new[0]["label"]
    published = [m for m in w.get("/api/mechanisms").json() if m["id"].startswith(SOURCE["id"])]
    assert [m["label"]["zh"] for m in published] == [new[0]["label"]]
    return published[0]["id"], new[0]["label"]


@pytest.fixture(scope="module")
def desk() -> Iterator[httpx.Client]:
    for server in serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=30)):
        with httpx.Client(base_url=server.url, timeout=120) as w:
            yield w


def test_a_draft_knows_the_mechanism_published_before_it(desk: httpx.Client) -> None:
    label = "“街巷议事厅”工作机制"
    body = {"source": THIRD, "text": third_article(label)}
    before = desk.post("/api/drafts", json=body, headers=AUTH)
    assert before.status_code == 200, before.text
    assert proposals_for(before.json(), label) and all(m["new"] and m["id"] is None
                                                       for m in proposals_for(before.json(), label))
    mechanism, published_label = publish_second_source(desk)
    assert published_label == label
    after = desk.post("/api/drafts", json=body, headers=AUTH)  # the same service: no restart
    assert after.status_code == 200, after.text
    found = proposals_for(after.json(), label)
    assert found and all(m["id"] == mechanism and m["new"] is False for m in found)
    assert {m["rule"] for m in found} == {"known-preferred-label"}
    xicheng = [d for d in after.json()["districts"] if d["id"] == "xicheng"]
    assert len(xicheng) == 1 and any(m["id"] == mechanism for p in xicheng[0]["practices"] for m in p["mechanisms"])


def kg_draft(article: Path, store: str, *options: str,
             capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    code = main(["--store", store, "draft", str(article), "--source", THIRD["id"], "--issued", THIRD["issued"],
                 "--format", "json", *options])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


def test_kg_draft_over_the_disk_store_knows_what_was_published(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A deployment on a disk store (``kg serve`` in a process of its own) publishes the second source;
    once it stops, ``kg draft`` over that store knows the published mechanism, and over the files not."""
    store = f"disk:{tmp_path / 'store'}"
    label = "“街巷议事厅”工作机制"
    article = tmp_path / "third.txt"
    article.write_text(third_article(label), encoding="utf-8")
    # Before anything is built there, the store holds no dataset: the data files are read, as for memory.
    files_draft, err = kg_draft(article, store, capsys=capsys)
    assert "read from the data files" in err and not (tmp_path / "store").exists()
    assert all(m["new"] for m in proposals_for(files_draft, label))
    env = {"KG_STORE": store, "KG_WRITE_TOKEN": TOKEN, "KG_QUERY_WORKERS": "1", "KG_VALIDATE_ON_START": "false"}
    with kg_serve(env) as (_, port), httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as w:
        mechanism, _ = publish_second_source(w)
        # While the service holds the store, kg draft says so (exit 2), and points to /curate.
        assert main(["--store", store, "draft", str(article), "--source", THIRD["id"], "--issued", "2022-01"]) == 2
        assert "/curate" in capsys.readouterr().err
    stored_draft, err = kg_draft(article, store, capsys=capsys)
    assert f"read from the store {store}" in err
    found = proposals_for(stored_draft, label)
    assert found and all(m["id"] == mechanism and m["new"] is False for m in found)
    # The files alone still do not know it: the store is what was read.
    memory_draft, err = kg_draft(article, "memory", capsys=capsys)
    assert "read from the data files" in err and all(m["new"] for m in proposals_for(memory_draft, label))
    # --exclude-district keeps its meaning over the store: Dongcheng alone used the new mechanism.
    excluded, _ = kg_draft(article, store, "--exclude-district", "dongcheng", capsys=capsys)
    assert all(m["new"] for m in proposals_for(excluded, label))


def test_kg_draft_over_a_sparql_store_reads_what_it_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real Oxigraph server: empty, the files are read; once ``kg load`` put a dataset there, the store is,
    with what was written into it since (a MADE-UP mechanism, inserted into its data graph)."""
    label = "测试编造的街巷议事机制"
    article = tmp_path / "third.txt"
    article.write_text(third_article(label), encoding="utf-8")
    with running_oxigraph() as store:
        empty, err = kg_draft(article, store, capsys=capsys)
        assert "read from the data files" in err
        loaded = subprocess.run([sys.executable, "-m", "app", "load", "--into", store], capture_output=True,
                                timeout=300)
        assert loaded.returncode == 0, loaded.stderr
        base = Settings().base_iri
        update = store.split(";update=")[1].split(";")[0]
        mechanism = f"{base}/id/mechanism/made-up-street-hall"
        r = httpx.post(update, data={"update": f"""INSERT DATA {{ GRAPH <{base}/graph/data> {{
            <{mechanism}> a <https://bjrd-kg.example.org/ontology#Mechanism> ;
              <http://www.w3.org/2004/02/skos/core#prefLabel> "{label}"@zh }} }}"""})
        assert r.status_code < 300, r.text
        stored, err = kg_draft(article, store, capsys=capsys)
    assert f"read from the store {store}" in err
    assert not any(m["id"] for m in proposals_for(empty, label))  # the files do not know it
    found = proposals_for(stored, label)
    assert found and all(m["id"] == "made-up-street-hall" and m["new"] is False for m in found)
