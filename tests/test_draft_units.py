"""The genre's measure words are units of the ontology, and kg draft knows which are.

The ontology's list of units is closed (shape S05-unit-listed): a fact counted in 人次, 场 or 件 (words the
yearly scans of the genre use all the time) must be publishable, and a fact whose measure word is not on
the list must be marked in the draft (``+unlisted-unit`` on its rule, its confidence halved: the JSON keeps
the contract's shape), not refused only at publish. The article below is MADE UP by this test (it reports
nothing real) and lives here, never under data/. Expectations are read from the ontology, the shapes and
the draft, not written in.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SKOS

from app.config import ROOT, Settings
from app.draft.drafter import draft_text
from app.draft.known import read_known
from app.draft.model import SourceInfo
from app.draft.numbers import MEASURES, listed_units
from app.draft.writer import to_json, to_turtle
from tests.helpers import serve_in_thread

BJRD = rdflib.Namespace("https://bjrd-kg.example.org/ontology#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SHAPE = rdflib.Namespace("https://bjrd-kg.example.org/shapes#")
TOKEN = "units-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SOURCE = {"id": "made-up-units-2024", "title": "各区人大工作扫描（测试编造）", "issued": "2024-01"}
#: MADE UP for this test: counts in 人次, 场 and 件 (listed now), and one in 类 (not a unit of the ontology).
TEXT = ("（本文为测试编造的文章，并非真实报道。）\n\n"
        "  东城区人大常委会组织代表进站接待群众1200人次，召开座谈会8场。\n\n"
        "  海淀区人大常委会督办代表建议35件。\n\n"
        "  朝阳区人大常委会梳理问题清单4类。\n")


def ontology_units() -> dict[rdflib.term.Node, set[str]]:
    g = rdflib.Graph().parse(ROOT / "ontology" / "bjrd.ttl")
    return {u: {str(label) for p in (SKOS.prefLabel, SKOS.altLabel) for label in g.objects(u, p)
                if getattr(label, "language", None) == "zh"} for u in g.subjects(RDF.type, BJRD.Unit)}


def test_the_shapes_list_is_the_ontologys_units() -> None:
    shapes = rdflib.Graph().parse(ROOT / "ontology" / "shapes.ttl")
    listed = shapes.value(SHAPE["S05-unit-listed"], SH["in"])
    assert listed is not None
    assert set(Collection(shapes, listed)) == set(ontology_units())


def test_the_drafter_reads_every_unit_and_checks_against_the_ontology() -> None:
    labels = set().union(*ontology_units().values())
    assert listed_units() == labels
    assert {"人次", "场", "件", "期", "条", "批", "篇", "份", "天", "小时", "元"} <= labels
    # Every listed measure word (but %, a sign) is one the drafter reads after a number.
    assert labels - {"%"} <= set(MEASURES)


def drafted_facts(text: str) -> list[dict[str, Any]]:
    draft = to_json(draft_text(text, read_known(Settings()), SourceInfo(**SOURCE)))
    return [f for d in draft["districts"] for p in d["practices"] for f in p["facts"]]


def test_the_turtle_draft_notes_the_unlisted_unit() -> None:
    turtle = to_turtle(draft_text(TEXT, read_known(Settings()), SourceInfo(**SOURCE)), Settings().base_iri).decode()
    assert turtle.count("is not one of the ontology's units") == 1 and "measure word 类" in turtle


def test_a_measure_word_off_the_list_is_marked_in_the_draft() -> None:
    facts = {f["unit"]: f for f in drafted_facts(TEXT)}
    assert {"人次", "场", "件", "类"} <= set(facts)
    assert "类" not in listed_units()
    off = facts["类"]
    assert off["rule"].endswith("+unlisted-unit") and off["value"] == 4
    for unit in ("人次", "场", "件"):
        assert "unlisted" not in facts[unit]["rule"]
        assert off["confidence"] < facts[unit]["confidence"]


@pytest.fixture(scope="module")
def desk() -> Iterator[httpx.Client]:
    for server in serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=30)):
        with httpx.Client(base_url=server.url, timeout=120) as w:
            yield w


def reviewed(draft: dict[str, Any], theme: str, listed_only: bool) -> dict[str, Any]:
    """Each district's first practice accepted with its facts (those in listed units only, if asked)."""
    practices = []
    for d in draft["districts"]:
        p = d["practices"][0]
        facts = [{**f, "key": f"{d['id']}-f{i}", "counts_en": "made-up count"} for i, f in enumerate(p["facts"])
                 if "+unlisted-unit" not in f["rule"] or not listed_only]
        practices.append({**{k: p[k] for k in ("quote", "start", "end")}, "key": d["id"], "district": d["id"],
                          "label_zh": p["quote"], "label_en": f"Made-up practice of {d['id']}", "themes": [theme],
                          "rule": "clause", "mechanisms": [], "topics": [], "dates": [], "facts": facts})
    return {"source": SOURCE, "text": draft["text"], "practices": practices}


@pytest.mark.slow
def test_facts_in_the_genres_units_publish_and_an_unlisted_one_is_refused(desk: httpx.Client) -> None:
    r = desk.post("/api/drafts", json={"source": SOURCE, "text": TEXT}, headers=AUTH)
    assert r.status_code == 200, r.text
    draft = r.json()
    facts = [f for d in draft["districts"] for p in d["practices"] for f in p["facts"]]
    assert [f["unit"] for f in facts if f["rule"].endswith("+unlisted-unit")] == ["类"]
    # The review desk offers the listed units, which the page's mark is read against.
    page = desk.get("/curate", headers=AUTH).text
    data = re.search(r'<script type="application/json" id="curate-data">(.*?)</script>', page, re.S)
    assert data and set(json.loads(data.group(1))["units"]) == listed_units()
    theme = desk.get("/api/themes").json()[0]["id"]
    # What the draft marked is what the shapes refuse: publishing the marked fact is a 422 naming S05.
    refused = desk.post("/api/drafts/publish", json=reviewed(draft, theme, listed_only=False), headers=AUTH)
    assert refused.status_code == 422, refused.text
    assert {v["key"] for v in refused.json()["violations"]} == {"chaoyang-f0"}
    assert all(v["message"].startswith("S05") for v in refused.json()["violations"])
    published = desk.post("/api/drafts/publish", json=reviewed(draft, theme, listed_only=True), headers=AUTH)
    assert published.status_code == 201, published.text
    for district in ("dongcheng", "haidian"):
        shown = {(f["value"], f["unit"]) for f in desk.get(f"/api/districts/{district}").json()["facts"]}
        wanted = {(f["value"], f["unit"]) for d in draft["districts"] if d["id"] == district
                  for f in d["practices"][0]["facts"]}
        assert wanted and wanted <= shown
