"""The review desk's API: /api/drafts (the draft of ``kg draft``, by HTTP), /api/drafts/publish (the
reviewed decisions through the SHACL-gated write path into the source's own graph), and the token.

The article below is MADE UP by this test (it reports nothing real): two districts, a mechanism the
graph knows (its label read from the graph), a new “…”工作机制, numbers and 今年. It lives here, never
under data/. Expectations are read from the draft and the graph, not written in.
"""

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.draft.drafter import draft_text
from app.draft.known import read_known
from app.draft.model import SourceInfo
from app.draft.writer import to_json
from tests.helpers import LiveServer, serve_in_thread

TOKEN = "curate-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}
SOURCE = {"id": "made-up-2021-01", "title": "各区人大工作扫描（测试编造）", "issued": "2021-01"}


def made_up_article(label: str) -> str:
    """A short article MADE UP for this test; ``label`` is a known mechanism's Chinese label."""
    return ("（本文为测试编造的文章，并非真实报道。）\n\n"
            f"  东城区人大常委会今年建立“街巷议事厅”工作机制，坚持{label}，制定工作制度12项。\n\n"
            "  海淀区人大组建由45名成员组成的专家库，早上7点出发。\n")


def known_mechanism() -> tuple[str, str]:
    """A named mechanism's preferred label, as the data writes it, and its id."""
    known = read_known(Settings())
    c = next(c for c in sorted(known.mechanisms.values(), key=lambda c: c.id)
             if c.kind == "named" and 4 <= len(c.label) <= 8 and "“" not in c.label
             and not any(ch.isdigit() for ch in c.label))
    return c.label, c.id


@pytest.fixture(scope="module")
def known_label() -> tuple[str, str]:
    return known_mechanism()


@pytest.fixture(scope="module")
def text(known_label: tuple[str, str]) -> str:
    return made_up_article(known_label[0])


@pytest.fixture(scope="module")
def desk() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=10))


@pytest.fixture()
def w(desk: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.url, timeout=120) as c:
        yield c


@pytest.fixture(scope="module")
def drafted(desk: LiveServer, text: str) -> dict[str, Any]:
    r = httpx.post(f"{desk.url}/api/drafts", json={"source": SOURCE, "text": text}, headers=AUTH, timeout=120)
    assert r.status_code == 200, r.text
    return dict(r.json())


def first_theme(w: httpx.Client) -> str:
    return str(w.get("/api/themes").json()[0]["id"])


def practice_of(draft: dict[str, Any], district: str) -> dict[str, Any]:
    return dict(next(d for d in draft["districts"] if d["id"] == district)["practices"][0])


def reviewed(draft: dict[str, Any], theme: str, *, label_en: bool = True) -> dict[str, Any]:
    """Dongcheng's first practice accepted with all its proposals (the new mechanism given its English
    label and definitions); Haidian's practice accepted with its facts, its clock time rejected."""
    dong, hai = practice_of(draft, "dongcheng"), practice_of(draft, "haidian")

    def concept(c: dict[str, Any], key: str) -> dict[str, Any]:
        extra = {"label_en": "Street deliberation hall", "definition_zh": "街巷中的议事场所（测试编造）。",
                 "definition_en": "A made-up deliberation place in the lanes."} if c["new"] else {}
        return {**c, "key": key, **extra}

    practices = [
        {**{k: dong[k] for k in ("quote", "start", "end")}, "key": "p1", "district": "dongcheng",
         "label_zh": dong["quote"], "label_en": "Made-up practice of Dongcheng" if label_en else "",
         "themes": [theme] if label_en else [], "rule": "clause",
         "mechanisms": [concept(c, f"p1-m{i}") for i, c in enumerate(dong["mechanisms"])],
         "topics": [],
         "facts": [{**f, "key": f"p1-f{i}", "counts_en": "work rules"} for i, f in enumerate(dong["facts"])],
         "dates": [{**d, "key": f"p1-d{i}"} for i, d in enumerate(dong["dates"])]},
        {**{k: hai[k] for k in ("quote", "start", "end")}, "key": "p2", "district": "haidian",
         "label_zh": hai["quote"], "label_en": "Made-up expert pool of Haidian", "themes": [theme], "rule": "clause",
         "mechanisms": [], "topics": [], "dates": [],
         "facts": [{**f, "key": f"p2-f{i}", "counts_en": "members"} for i, f in enumerate(hai["facts"])]},
    ]
    return {"source": SOURCE, "text": draft["text"], "practices": practices}


def publish_made_up(w: httpx.Client, label: str, source: dict[str, str] = SOURCE) -> dict[str, Any]:
    """Draft the made-up article naming ``label`` as ``source``, review it (:func:`reviewed`) and publish
    it through the review desk's API; the decisions published."""
    draft = w.post("/api/drafts", json={"source": source, "text": made_up_article(label)}, headers=AUTH)
    assert draft.status_code == 200, draft.text
    decisions = {**reviewed(draft.json(), first_theme(w)), "source": source}
    r = w.post("/api/drafts/publish", json=decisions, headers=AUTH)
    assert r.status_code == 201, r.text
    return decisions


def graph_state(w: httpx.Client) -> tuple[str, int]:
    h = w.get("/health")
    return h.headers.get("X-Graph-Version", ""), int(h.json()["triples"])


def source_graph(desk: LiveServer) -> str:
    return f"{desk.graph.settings.base_iri}/graph/source/{SOURCE['id']}"


def test_without_a_token_the_api_is_401_and_the_page_says_how(w: httpx.Client, text: str) -> None:
    body = {"source": SOURCE, "text": text}
    assert w.post("/api/drafts", json=body).status_code == 401
    assert w.post("/api/drafts", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert w.post("/api/drafts/publish", json={**body, "practices": []}).status_code == 401
    assert w.get("/api/drafts/writer").status_code == 401
    page = w.get("/curate?lang=en")
    assert page.status_code == 401 and "text/html" in page.headers["content-type"]
    assert "Authorization: Bearer &lt;token&gt;" in page.text and 'id="token"' in page.text
    assert w.get("/curate", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert w.get("/curate", headers=AUTH).status_code == 200


def test_with_writes_off_every_route_is_403() -> None:
    for server in serve_in_thread(Settings(query_workers=1)):
        with httpx.Client(base_url=server.url, timeout=60) as c:
            assert c.post("/api/drafts", json={"source": SOURCE, "text": "x"}, headers=AUTH).status_code == 403
            page = c.get("/curate?lang=en", headers=AUTH)
            assert page.status_code == 403 and "Writes are turned off" in page.text


def test_the_draft_is_kg_drafts(drafted: dict[str, Any], text: str) -> None:
    """The same code as ``kg draft``: the JSON equals the drafter's, every quote is its slice."""
    expected = to_json(draft_text(text, read_known(Settings()), SourceInfo(**SOURCE)))
    dates = [d for dist in drafted["districts"] for p in dist["practices"] for d in p["dates"]]
    assert dates and all({"role", "rule"} <= set(d) for d in dates)
    for dist in drafted["districts"]:
        for p in dist["practices"]:
            for d in p["dates"]:
                del d["role"], d["rule"]
    assert {k: v for k, v in drafted.items() if k != "text"} == expected
    assert drafted["text"] == text
    for dist in drafted["districts"]:
        for p in dist["practices"]:
            for item in [p, *p["mechanisms"], *p["topics"], *p["facts"], *p["dates"]]:
                assert text[item["start"]:item["end"]] == item["quote"]


def padded(text: str, size: int) -> str:
    """``text`` and a closing paragraph of filler (MADE UP, in no district's section) making it ``size`` UTF-8 bytes."""
    text += "\n  （以下为填充文字，测试编造。）"
    missing = size - len(text.encode("utf-8"))
    assert missing >= 0
    return text + "填" * (missing // 3) + "x" * (missing % 3)


def test_a_text_the_publish_could_not_write_is_413_at_draft_time(w: httpx.Client, text: str) -> None:
    """The text is published as one literal: one byte over KG_MAX_LITERAL_BYTES is refused when the draft
    is asked for, naming the setting, the text's size and the limit (before, it drafted, and the publish
    failed an hour of review later)."""
    limit = Settings().max_literal_bytes
    over = padded(text, limit + 1)
    r = w.post("/api/drafts", json={"source": SOURCE, "text": over}, headers=AUTH)
    assert r.status_code == 413, r.text[:300]
    detail = r.json()["detail"]
    assert "KG_MAX_LITERAL_BYTES" in detail and f"{limit + 1:,} bytes" in detail and f"{limit:,}" in detail
    r = w.post("/api/drafts/publish", json={"source": SOURCE, "text": over, "practices": []}, headers=AUTH)
    assert r.status_code == 413 and "KG_MAX_LITERAL_BYTES" in r.json()["detail"]


def test_the_page_states_the_limit_of_the_setting(w: httpx.Client) -> None:
    for lang, shown in (("en", "bytes as UTF-8"), ("zh", "字节（UTF-8")):
        page = w.get(f"/curate?lang={lang}", headers=AUTH).text
        limit = Settings().max_literal_bytes
        assert f'data-max-bytes="{limit}"' in page and f'<span id="max-bytes">{limit:,}</span> {shown}' in page
    for server in serve_in_thread(Settings(write_token=TOKEN, query_workers=1, max_literal_bytes=3000)):
        page = httpx.get(f"{server.url}/curate?lang=en", headers=AUTH).text
        assert 'data-max-bytes="3000"' in page and '<span id="max-bytes">3,000</span> bytes' in page


@pytest.mark.parametrize("bad", [r"\ud800", r"\u0001"], ids=["lone-surrogate", "control"])
def test_a_text_no_literal_can_hold_is_422_naming_the_character(w: httpx.Client, text: str, bad: str) -> None:
    """JSON can send what no literal holds (``bad`` is its escape): refused by name, not a 500 at publish."""
    body = f'{{"source": {json.dumps(SOURCE)}, "text": {json.dumps(text)[:-1] + bad}"}}'
    r = w.post("/api/drafts", content=body.encode(), headers={**AUTH, **JSON})
    assert r.status_code == 422, r.text
    assert "U+" + bad[2:].upper() in r.json()["detail"]


@pytest.mark.slow
def test_a_text_of_the_limit_drafts_and_publishes_one_byte_more_does_not() -> None:
    limit = 3000
    label, _ = known_mechanism()
    for server in serve_in_thread(Settings(write_token=TOKEN, query_workers=1, max_literal_bytes=limit)):
        with httpx.Client(base_url=server.url, timeout=120) as c:
            at_limit = padded(made_up_article(label), limit)
            r = c.post("/api/drafts", json={"source": SOURCE, "text": at_limit}, headers=AUTH)
            assert r.status_code == 200, r.text
            assert r.json()["text"] == at_limit and len(at_limit.encode()) == limit
            published = c.post("/api/drafts/publish", json=reviewed(r.json(), first_theme(c)), headers=AUTH)
            assert published.status_code == 201, published.text
            text = sparql(c, f"""SELECT ?text WHERE {{ GRAPH <{published.json()['graph']}> {{
                <{published.json()['source']}> <https://schema.org/encoding>/<https://schema.org/text> ?text }} }}""")
            assert text == [{"text": at_limit}]
            r = c.post("/api/drafts", json={"source": SOURCE, "text": padded(made_up_article(label), limit + 1)},
                       headers=AUTH)
            assert r.status_code == 413 and f"{limit + 1:,} bytes" in r.json()["detail"]


def test_a_bad_source_is_422_naming_the_field(w: httpx.Client, text: str) -> None:
    r = w.post("/api/drafts", json={"source": {**SOURCE, "issued": "2021-13"}, "text": text}, headers=AUTH)
    assert r.status_code == 422 and "source.issued" in r.json()["detail"]
    r = w.post("/api/drafts", json={"source": {**SOURCE, "id": "Bad Id"}, "text": text}, headers=AUTH)
    assert r.status_code == 422 and "source.id" in r.json()["detail"]


def test_a_quote_that_is_not_the_text_at_its_offsets_is_refused(w: httpx.Client, desk: LiveServer,
                                                               drafted: dict[str, Any]) -> None:
    """An added statement's quote is checked against the text, verbatim, before anything is made."""
    decisions = reviewed(drafted, first_theme(w))
    dong = decisions["practices"][0]
    # The curator's selection, one character off: the quote no longer is the text there.
    start = drafted["text"].index("专家库")
    added = {"key": "a1", "quote": "专家库", "start": start, "end": start + 3, "rule": "curator",
             "value": 45, "unit": "名", "counts": "专家库成员", "counts_en": "members of the pool"}
    decisions["practices"][1]["facts"].append({**added, "start": start + 1, "end": start + 4})
    before = graph_state(w)
    r = w.post("/api/drafts/publish", json=decisions, headers=AUTH)
    assert r.status_code == 422, r.text
    problems = r.json()["violations"]
    assert [p["key"] for p in problems] == ["a1"]
    assert "专家库" in problems[0]["message"] and str(start + 1) in problems[0]["message"]
    assert graph_state(w) == before
    assert w.get("/graph-store", params={"graph": source_graph(desk)}).status_code == 404
    # A verbatim quote from another practice's clause is not this practice's evidence.
    hai = decisions["practices"][1]
    decisions["practices"][1]["facts"][-1] = {**added, "start": start, "end": start + 3}
    dong["facts"].append({**added, "key": "a2"})  # the right words, but in Haidian's clause
    r = w.post("/api/drafts/publish", json=decisions, headers=AUTH)
    assert r.status_code == 422, r.text
    problems = r.json()["violations"]
    assert [p["key"] for p in problems] == ["a2"] and f"({dong['start']}–{dong['end']})" in problems[0]["message"]
    assert graph_state(w) == before
    dong["facts"].pop()
    assert hai["start"] <= start < hai["end"]
    # Numbers that are no numbers (JSON's NaN and Infinity, as Python writes them) are refused by name.
    for bad in (float("nan"), float("inf")):
        hai["facts"][0]["value"] = bad
        r = w.post("/api/drafts/publish", content=json.dumps(decisions), headers={**AUTH, **JSON})
        assert r.status_code == 422 and [p["key"] for p in r.json()["violations"]] == [hai["facts"][0]["key"]]
        assert "not a number" in r.json()["violations"][0]["message"]
    hai["facts"][0]["value"] = drafted["districts"][1]["practices"][0]["facts"][0]["value"]
    assert graph_state(w) == before
    # A practice moved off its clause is refused the same way.
    decisions["practices"][1]["facts"].pop()
    dong["start"] += 1
    r = w.post("/api/drafts/publish", json=decisions, headers=AUTH)
    assert r.status_code == 422 and {p["key"] for p in r.json()["violations"]} == {"p1"}


@pytest.mark.slow
def test_a_publish_the_shapes_refuse_is_422_in_plain_words_and_writes_nothing(
        w: httpx.Client, desk: LiveServer, drafted: dict[str, Any]) -> None:
    decisions = reviewed(drafted, first_theme(w), label_en=False)
    before = graph_state(w)
    r = w.post("/api/drafts/publish", json=decisions, headers=AUTH)
    assert r.status_code == 422, r.text
    found = r.json()["violations"]
    on_p1 = [v for v in found if v["key"] == "p1"]
    assert {"S02: a practice needs an English label", "S02: a practice needs at least one theme"} <= \
        {v["message"] for v in on_p1}
    assert all(v["message_zh"] for v in on_p1)
    assert graph_state(w) == before
    assert w.get("/graph-store", params={"graph": source_graph(desk)}).status_code == 404


@pytest.mark.slow
def test_a_publish_goes_into_the_sources_graph_with_provenance(
        w: httpx.Client, desk: LiveServer, drafted: dict[str, Any], known_label: tuple[str, str]) -> None:
    theme = first_theme(w)
    decisions = reviewed(drafted, theme)
    # The curator adds a fact the draft did not make, by selecting it.
    start = drafted["text"].index("专家库")
    decisions["practices"][1]["facts"].append({"key": "a1", "quote": "专家库", "start": start, "end": start + 3,
                                               "rule": "curator", "value": 1, "unit": "个", "counts": "专家库",
                                               "counts_en": "expert pools"})
    before_version, before_triples = graph_state(w)
    r = w.post("/api/drafts/publish", json=decisions, headers=AUTH)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["graph"] == source_graph(desk) and r.headers["X-Graph-Version"] != before_version
    try:
        base = desk.graph.settings.base_iri
        dong = practice_of(drafted, "dongcheng")
        practice = f"{base}/id/practice/{SOURCE['id']}-dongcheng-1"
        # The routes answer with the new source: the practice under its district, the known mechanism's
        # districts and timeline, the new mechanism.
        district = w.get("/api/districts/dongcheng").json()
        published = next(p for p in district["practices"] if p["iri"] == practice)
        assert published["quote"] == dong["quote"] and published["themes"] == [theme]
        assert known_label[1] in published["mechanisms"]
        users = next(d for d in w.get(f"/api/mechanisms/{known_label[1]}").json()["districts"]
                     if d["id"] == "dongcheng")
        assert any(known_label[0] in quote for quote in users["evidence"])
        timeline = w.get(f"/api/mechanisms/{known_label[1]}/timeline").json()
        year = next(y for y in timeline["years"] if y["year"] == int(SOURCE["issued"][:4]))
        assert SOURCE["id"] in year["sources"] and "dongcheng" in year["districts"]
        assert {"article", SOURCE["id"]} <= {s for y in timeline["years"] for s in y["sources"]}  # across both
        # The new entities have their pages, the drafting activities answer too.
        assert w.get(practice.removeprefix(base), headers={"Accept": "text/html"}).status_code == 200
        assert w.get(f"/id/drafting/{SOURCE['id']}-dongcheng-1", headers={"Accept": "text/turtle"}).status_code < 500
        new = next(m for m in w.get("/api/mechanisms").json() if m["id"].startswith(SOURCE["id"]))
        assert new["label"] == {"zh": "“街巷议事厅”工作机制", "en": "Street deliberation hall"}
        facts = w.get("/api/districts/haidian").json()["facts"]
        assert {(f["value"], f["unit"]) for f in facts} >= {(45, "名"), (1, "个")}
        # The source: its text, checksum and issue; every statement's rule, writer and time.
        writer = w.get("/api/drafts/writer", headers=AUTH).json()["writer"]
        rows = sparql(w, f"""PREFIX schema: <https://schema.org/> PREFIX dcterms: <http://purl.org/dc/terms/>
            SELECT ?sha ?text ?issued WHERE {{ GRAPH <{out['graph']}> {{ <{out['source']}> dcterms:issued ?issued ;
              schema:encoding ?t . ?t schema:sha256 ?sha ; schema:text ?text }} }}""")
        assert rows == [{"sha": hashlib.sha256(drafted["text"].encode()).hexdigest(), "text": drafted["text"],
                         "issued": SOURCE["issued"]}]
        rows = sparql(w, f"""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX dcterms: <http://purl.org/dc/terms/>
            PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
            SELECT ?rule ?who ?when WHERE {{ GRAPH <{out['graph']}> {{
              {{ <{practice}> bjrd:evidence ?q }} UNION {{ ?fact bjrd:ofPractice <{practice}> ; bjrd:evidence ?q }}
              ?q prov:wasGeneratedBy/skos:notation ?rule ; prov:wasAttributedTo ?who ;
                 dcterms:dateAccepted ?when }} }}""")
        expected_rules = {"clause"} | {c["rule"] for c in dong["mechanisms"]} | {f["rule"] for f in dong["facts"]}
        assert {row["rule"] for row in rows} == expected_rules
        assert {row["who"] for row in rows} == {writer} and {row["when"] for row in rows} == {out["accepted"]}
        added = sparql(w, f"""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
            PREFIX oa: <http://www.w3.org/ns/oa#>
            SELECT ?exact WHERE {{ GRAPH <{out['graph']}> {{ ?q oa:exact ?exact ;
              prov:wasGeneratedBy/skos:notation "curator" }} }}""")
        assert added == [{"exact": "专家库"}]
        # Published again (fixed, say), the graph is replaced, not doubled.
        triples_once = graph_state(w)[1]
        assert w.post("/api/drafts/publish", json=decisions, headers=AUTH).status_code == 201
        assert graph_state(w)[1] == triples_once
    finally:
        assert w.delete("/graph-store", params={"graph": source_graph(desk)}, headers=AUTH).status_code == 204
    assert graph_state(w)[1] == before_triples


def sparql(w: httpx.Client, query: str) -> list[dict[str, str]]:
    r = w.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def test_the_reviewed_draft_as_turtle_for_git(w: httpx.Client, desk: LiveServer, drafted: dict[str, Any]) -> None:
    """The statements a publish would write, as a file: every quote the text at its offsets, nothing written."""
    import rdflib

    before = graph_state(w)
    r = w.post("/api/drafts/turtle", json=reviewed(drafted, first_theme(w)), headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    assert f'{SOURCE["id"]}.ttl' in r.headers["content-disposition"]
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    quotes = list(g.subjects(oa.exact, None))
    assert len(quotes) >= len(drafted["districts"])
    for q in quotes:
        start, end = int(g.value(q, oa.start)), int(g.value(q, oa.end))  # type: ignore[arg-type]
        assert drafted["text"][start:end] == str(g.value(q, oa.exact))
    practices = set(g.subjects(rdflib.RDF.type, rdflib.URIRef("https://bjrd-kg.example.org/ontology#Practice")))
    assert len(practices) == 2
    assert graph_state(w) == before


@pytest.mark.parametrize("body", [
    '{"source": {"id": NaN, "title": "t", "issued": "2021-01"}, "text": "x"}',
    '{"source": {"id": Infinity, "title": "t", "issued": "2021-01"}, "text": "x"}',
    '{"source": {"id": -Infinity, "title": "t", "issued": "2021-01"}, "text": "x"}',
    '{"source": {"id": 1e400, "title": "t", "issued": "2021-01"}, "text": "x"}',
    '{"source": {"id": ["' + "x" * 100_000 + '"], "title": "t", "issued": "2021-01"}, "text": "x"}',
], ids=["nan", "infinity", "minus-infinity", "overflow", "huge"])
def test_a_body_json_cannot_echo_is_still_a_422(w: httpx.Client, body: str) -> None:
    """The framework's own handler echoed the refused input, and strict JSON cannot write NaN: a 500.
    The refusal names the field, and echoes at most a short text of what was sent."""
    r = w.post("/api/drafts", content=body, headers={**AUTH, **JSON})
    assert r.status_code == 422, r.text
    (error,) = [e for e in r.json()["detail"] if e["loc"][:3] == ["body", "source", "id"]]
    assert len(json.dumps(error)) < 1000
