"""A district compared with itself across years (issue 26 item 4): /api/compare and /compare with items
``id@year``, /api/districts/{id}/years, and the district page's link.

With the one article: every district's years follow from its practices' dates and its source's issue; a plain
comparison is exactly the year comparison of single-year districts without the year; hostile items are 4xx
naming what is wrong. With a second source, MADE UP here (tests/test_curate.py's text, its source dated 2024 so
that it comes after the article), in which Dongcheng keeps one mechanism it has in the article, adds a new one
and drops the rest: kept / new / dropped are derived from what the graph says each source's practices use, and
read back over real HTTP from the API and the page. The two-source tests are slow (a publish runs the write path).
"""

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.draft.known import read_known
from tests.helpers import serve_in_thread
from tests.test_curate import TOKEN, made_up_article, publish_made_up
from tests.test_pages_timeline import section

#: The second source: MADE UP for tests, later than the article (2023-07).
SECOND = {"id": "made-up-2024-01", "title": "各区人大工作扫描（测试编造）", "issued": "2024-01"}
BJRD = "https://bjrd-kg.example.org/ontology#"


def sparql(c: httpx.Client, query: str) -> list[dict[str, str]]:
    r = c.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def kept_mechanism(c: httpx.Client, district: str) -> tuple[str, str]:
    """A named mechanism one of ``district``'s practices names in the article, with a label the drafter spots
    (the choice of tests/test_curate.py's known_mechanism, among the district's): its Chinese label and id."""
    named = {m["id"] for m in c.get("/api/mechanisms").json() if m["kind"] == "named"}
    asserted = {m for p in c.get(f"/api/districts/{district}").json()["practices"] for m in p["mechanisms"]}
    known = read_known(Settings())
    k = next(k for k in sorted(known.mechanisms.values(), key=lambda k: k.id)
             if k.id in named & asserted and 4 <= len(k.label) <= 8 and "“" not in k.label
             and not any(ch.isdigit() for ch in k.label))
    return k.label, k.id


def publish_second_source(w: httpx.Client) -> str:
    """Draft, review and publish the made-up second source; the id of the article mechanism Dongcheng keeps."""
    label, mechanism = kept_mechanism(w, "dongcheng")
    publish_made_up(w, label, SECOND)
    return mechanism


@pytest.fixture(scope="module")
def two_sources() -> Iterator[tuple[httpx.Client, str]]:
    """A writable service with the made-up second source published; the mechanism Dongcheng keeps."""
    for server in serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=30)):
        with httpx.Client(base_url=server.url, timeout=120) as w:
            yield w, publish_second_source(w)


def practice_year(p: dict[str, Any], issued: str) -> int:
    return int(str(p["date"] or p["start_date"] or issued)[:4])


def expected_years(c: httpx.Client, district: str) -> list[dict[str, Any]]:
    """A district's years as its practices say: each dated by its own date, else its source's issue."""
    issued = {s["id"]: s["issued"] for s in c.get("/api/sources").json()}
    detail = c.get(f"/api/districts/{district}").json()
    source_of = {slug(r["p"]): slug(r["source"]) for r in sparql(c, f"""SELECT ?p ?source WHERE {{
        ?p <{BJRD}district> <{detail["iri"]}> ; <{BJRD}evidence>/<http://purl.org/dc/terms/source> ?source }}""")}
    counts: dict[int, Counter[str]] = {}
    for p in detail["practices"]:
        source = source_of[p["id"]]
        counts.setdefault(practice_year(p, issued[source]), Counter())[source] += 1
    return [{"year": y, "practices": sum(counts[y].values()),
             "sources": [{"id": s, "practices": n}
                         for s, n in sorted(counts[y].items(), key=lambda kv: (issued[kv[0]], kv[0]))]}
            for y in sorted(counts)]


# ------------------------------------------------------------------------------------------- the one article


def test_every_districts_years_are_its_practices_dates(client: httpx.Client) -> None:
    for d in client.get("/api/districts").json():
        answer = client.get(f"/api/districts/{d['id']}/years")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": d["id"], "label": d["label"], "years": expected_years(client, d["id"])}


def rekeyed(dated: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    """A year comparison as the plain one would say it: no year and item, keys as district ids."""
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {keys.get(k, k): walk(v) for k, v in value.items() if k not in ("year", "item")}
        if isinstance(value, list):
            return [keys.get(v, v) if isinstance(v, str) else walk(v) for v in value]
        return value
    return dict(walk(dated))


def test_a_plain_comparison_is_the_one_year_comparison_without_years(client: httpx.Client) -> None:
    """Of districts whose practices are all dated to one year, the plain answer is byte for byte the answer for
    id@year with the year additions taken out: the plain ids answer as they did, and the year path counts the
    same practices. A few pairs and triples, in both orders."""
    years = {d["id"]: [y["year"] for y in client.get(f"/api/districts/{d['id']}/years").json()["years"]]
             for d in client.get("/api/districts").json()}
    single = [d for d, y in years.items() if len(y) == 1]
    assert len(single) >= 5, years
    for ids in (single[:2], single[1::-1], single[2:5], single[-3:]):
        items = {f"{d}@{years[d][0]}": d for d in ids}
        plain = client.get("/api/compare", params={"districts": ",".join(ids)})
        dated = client.get("/api/compare", params={"districts": ",".join(items)})
        assert plain.status_code == dated.status_code == 200
        assert '"year"' not in plain.text and '"item"' not in plain.text
        assert [(d["id"], d["year"], d["item"]) for d in dated.json()["districts"]] == \
            [(d, int(i.split("@")[1]), i) for i, d in items.items()]
        again = json.dumps(rekeyed(dated.json(), items), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        assert again == plain.content


@pytest.mark.parametrize("bad", ["dongcheng@", "dongcheng@20x3", "@2023", "dongcheng@2023@2024", "dongcheng@23",
                                 "dongcheng@２０２３"])
def test_a_malformed_item_is_422_naming_it(client: httpx.Client, bad: str) -> None:
    r = client.get("/api/compare", params={"districts": f"{bad},xicheng"})
    assert r.status_code == 422, r.text
    assert bad in json.dumps(r.json(), ensure_ascii=False) and "four-digit year" in r.text
    page = client.get("/compare", params={"districts": f"{bad},xicheng", "lang": "en"})
    assert page.status_code == 400
    assert "four-digit year" in (section_error(page.text) or "")


def section_error(html: str) -> str | None:
    found = re.search(r'<p class="card error" id="compare-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else None


def test_a_year_the_district_has_no_practice_in_is_404_naming_its_years(client: httpx.Client) -> None:
    years = [y["year"] for y in client.get("/api/districts/dongcheng/years").json()["years"]]
    missing = next(y for y in range(2000, 2100) if y not in years)
    r = client.get("/api/compare", params={"districts": f"dongcheng@{missing},xicheng"})
    assert r.status_code == 404
    detail = r.json()["detail"]
    assert str(missing) in detail and all(str(y) in detail for y in years)
    for lang in ("en", "zh"):
        page = client.get("/compare", params={"districts": f"dongcheng@{missing},xicheng", "lang": lang})
        assert page.status_code == 404
        shown = section_error(page.text) or ""
        assert str(missing) in shown and all(str(y) in shown for y in years)
    unknown = client.get("/api/compare", params={"districts": f"nowhere@{years[0]},xicheng"})
    assert unknown.status_code == 404 and "dongcheng" in unknown.json()["detail"]  # the valid ids
    assert client.get("/api/districts/nowhere/years").status_code == 404


def test_repeated_and_too_many_items_are_refused(client: httpx.Client) -> None:
    year = client.get("/api/districts/dongcheng/years").json()["years"][0]["year"]
    r = client.get("/api/compare", params={"districts": f"dongcheng@{year},dongcheng@{year}"})
    assert r.status_code == 422 and f"dongcheng@{year}" in r.text
    # The same district in every year and in one year are two items.
    assert client.get("/api/compare", params={"districts": f"dongcheng,dongcheng@{year}"}).status_code == 200
    ids = [d["id"] for d in client.get("/api/districts").json()]
    many = [f"{d}@{year}" for d in ids] + ["dongcheng"]
    assert client.get("/api/compare", params={"districts": ",".join(many)}).status_code == 422
    page = client.get("/compare", params={"districts": ",".join(many[:7]), "lang": "en"})
    assert page.status_code == 400 and "2 to 6" in (section_error(page.text) or "")


def test_a_district_of_one_year_has_no_compare_across_years_link(client: httpx.Client) -> None:
    page = client.get("/id/district/dongcheng?lang=en", headers={"Accept": "text/html"}).text
    assert len(client.get("/api/districts/dongcheng/years").json()["years"]) == 1
    assert 'id="compare-years"' not in page


# ------------------------------------------------------------------------------- with a second, made-up source


def named_by_source(c: httpx.Client, district: str) -> dict[str, set[str]]:
    """Per source: the named mechanisms the district's practices quoted from it use (directly or through a
    narrower one, bjrd:usesMechanism), as the graph says."""
    named = {m["id"] for m in c.get("/api/mechanisms").json() if m["kind"] == "named"}
    rows = sparql(c, f"""SELECT DISTINCT ?source ?m WHERE {{ ?p <{BJRD}district> ?d ; <{BJRD}usesMechanism> ?m ;
        <{BJRD}evidence>/<http://purl.org/dc/terms/source> ?source . FILTER(STRENDS(STR(?d), "/{district}")) }}""")
    found: dict[str, set[str]] = {}
    for r in rows:
        if slug(r["m"]) in named:
            found.setdefault(slug(r["source"]), set()).add(slug(r["m"]))
    return found


@pytest.mark.slow
def test_dongcheng_kept_one_mechanism_added_one_and_dropped_the_rest(two_sources: tuple[httpx.Client, str]) -> None:
    w, kept_one = two_sources
    years = w.get("/api/districts/dongcheng/years").json()["years"]
    assert years == expected_years(w, "dongcheng")
    assert [(y["year"], [s["id"] for s in y["sources"]]) for y in years] == \
        [(2023, ["article"]), (2024, [SECOND["id"]])]
    used = named_by_source(w, "dongcheng")
    before, after = used["article"], used[SECOND["id"]]
    kept, new, dropped = before & after, after - before, before - after
    assert kept_one in kept and new and dropped  # what the made-up text was written to say

    answer = w.get("/api/compare", params={"districts": "dongcheng@2023,dongcheng@2024"})
    assert answer.status_code == 200, answer.text
    c = answer.json()
    assert [(d["id"], d["year"], d["item"]) for d in c["districts"]] == \
        [("dongcheng", 2023, "dongcheng@2023"), ("dongcheng", 2024, "dongcheng@2024")]
    assert {m["id"] for m in c["shared_mechanisms"]} == kept
    only = {a["item"]: {m["id"] for m in a["mechanisms"]} for a in c["only"]}
    assert only == {"dongcheng@2023": dropped, "dongcheng@2024": new}
    assert c["counts"]["mechanisms"] == {"dongcheng@2023": len(before), "dongcheng@2024": len(after)}
    assert c["pairs"][0]["districts"] == ["dongcheng@2023", "dongcheng@2024"]
    # Each quote of the new year comes from the made-up text, each of the old one from the article.
    made_up = made_up_article(w.get(f"/api/mechanisms/{kept_one}").json()["label"]["zh"])
    evidence = next(m["evidence"] for m in c["shared"]["mechanisms"] if m["id"] == kept_one)
    assert all(q in made_up for q in evidence["dongcheng@2024"])
    assert not any(q in made_up for q in evidence["dongcheng@2023"])
    # The whole district, over both years, is still the plain id.
    plain = w.get("/api/compare", params={"districts": "dongcheng,xicheng"}).json()
    assert plain["counts"]["mechanisms"]["dongcheng"] == len(before | after)


@pytest.mark.slow
def test_the_page_shows_kept_new_and_dropped(two_sources: tuple[httpx.Client, str]) -> None:
    w, _ = two_sources
    used = named_by_source(w, "dongcheng")
    before, after = used["article"], used[SECOND["id"]]
    page = w.get("/compare", params={"districts": "dongcheng@2023,dongcheng@2024", "lang": "en"})
    assert page.status_code == 200
    shared = section(page.text, "shared-mechanisms") or ""
    assert set(re.findall(r'<tr class="shared-row kind-named" data-id="([^"]+)"', shared)) == before & after
    columns = dict(re.findall(r'data-item="([^"]+)">(.*?)</section>', section_only(page.text), re.S))
    shown = {item: set(re.findall(r'<li data-id="([^"]+)"', body)) for item, body in columns.items()}
    assert shown == {"dongcheng@2023": before - after, "dongcheng@2024": after - before}
    assert "Dongcheng District 2023 · Dongcheng District 2024" in page.text


def section_only(html: str) -> str:
    found = re.search(r'<section id="only">(.*)<section id="facts">', html, re.S)
    return found.group(1) if found else ""


@pytest.mark.slow
def test_the_district_page_links_its_first_and_last_year(two_sources: tuple[httpx.Client, str]) -> None:
    w, _ = two_sources
    years = [y["year"] for y in w.get("/api/districts/dongcheng/years").json()["years"]]
    page = w.get("/id/district/dongcheng?lang=en", headers={"Accept": "text/html"}).text
    link = re.search(r'<a id="compare-years" href="([^"]+)">compare across years</a>', page)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert href == f"/compare?districts=dongcheng@{years[0]},dongcheng@{years[-1]}&lang=en"
    assert w.get(href).status_code == 200
    assert 'id="compare-years"' not in w.get("/id/district/xicheng?lang=en", headers={"Accept": "text/html"}).text
