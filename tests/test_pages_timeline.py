"""Over the years on the entity pages, over real HTTP: the timeline of every mechanism and topic page is
its /api/{kind}s/{id}/timeline, and a district page's practices by year are recomputed here from the
asserted data (a practice dated by its own dcterms:date or schema:startDate, else by its source's issue).
At 390 px (Chromium, slow) the pages that carry them are no wider than the screen.
"""

import re
from collections import defaultdict

import httpx
import pytest
from playwright.sync_api import Browser

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, LiveServer, select
from tests.test_browser import CHROMIUM, TIMEOUT_MS, browser

__all__ = ["browser"]  # a fixture, imported to be found here


def section(html: str, element_id: str) -> str | None:
    found = re.search(rf'<section id="{element_id}"[^>]*>(.*?)</section>', html, re.S)
    return found.group(1) if found else None


def shown_years(timeline: str) -> list[dict[str, object]]:
    """Each year of a page's timeline: its number, source ids and district ids, in page order."""
    years = []
    for year, body in re.findall(r'<li class="timeline-year" data-year="(\d+)">(.*?)</li>', timeline, re.S):
        years.append({"year": int(year), "sources": re.findall(r'data-source="([^"]+)"', body),
                      "districts": re.findall(r'data-district="([^"]+)"', body)})
    return years


@pytest.mark.parametrize("kind", ["mechanism", "topic"])
def test_every_concept_page_shows_its_timeline(client: httpx.Client, kind: str) -> None:
    concepts = client.get(f"/api/{kind}s").json()
    assert concepts
    spans_years = 0
    for concept in concepts:
        api = client.get(f"/api/{kind}s/{concept['id']}/timeline").json()
        html = client.get(f"/id/{kind}/{concept['id']}", params={"lang": "zh"},
                          headers={"Accept": "text/html"}).text
        timeline = section(html, "timeline")
        assert timeline is not None, concept["id"]
        assert shown_years(timeline) == api["years"], concept["id"]
        first = re.search(r'<p class="timeline-first" data-year="(\d+)" data-source="([^"]+)">(.*?)</p>', timeline,
                          re.S)
        if api["first"] is None:
            assert first is None and "没有做法关联到它" in timeline
            continue
        assert first is not None
        assert (int(first.group(1)), first.group(2)) == (api["first"]["year"], api["first"]["source"])
        assert re.findall(r'data-district="([^"]+)"', first.group(3)) == api["first"]["districts"]
        assert f'href="/api/{kind}s/{concept["id"]}/timeline"' in timeline
        spans_years += len(api["years"]) > 1
    assert spans_years  # some concept was reported in more than one year (2014年成立…)


def test_timeline_speaks_the_pages_language(client: httpx.Client) -> None:
    zh = section(client.get("/id/mechanism/theory-research?lang=zh", headers={"Accept": "text/html"}).text,
                 "timeline")
    en = section(client.get("/id/mechanism/theory-research?lang=en", headers={"Accept": "text/html"}).text,
                 "timeline")
    assert zh is not None and en is not None
    assert "最早见于" in zh and "First reported in" in en
    assert shown_years(zh) == shown_years(en)


@pytest.fixture(scope="module")
def practice_years(graph: KnowledgeGraph) -> dict[str, dict[int, dict[str, bool]]]:
    """district id -> year -> practice id -> whether the text dates it (else its source's issue does)."""
    rows = select(graph, PREFIXES + f"""
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX schema: <https://schema.org/>
        SELECT DISTINCT ?d ?p ?issued ?date ?start WHERE {{
          GRAPH <{graph.names.data}> {{
            ?p a bjrd:Practice ; bjrd:district ?d ; bjrd:evidence ?e .
            ?e dcterms:source ?source .
            OPTIONAL {{ ?source dcterms:issued ?issued }}
            OPTIONAL {{ ?p dcterms:date ?date }}
            OPTIONAL {{ ?p schema:startDate ?start }}
          }}
        }}""")
    years: dict[str, dict[int, dict[str, bool]]] = defaultdict(dict)
    for row in rows:
        own = row.get("date") or row.get("start")
        year = int(str(own or row["issued"])[:4])
        years[str(row["d"]).rsplit("/", 1)[-1]].setdefault(year, {})[str(row["p"]).rsplit("/", 1)[-1]] = bool(own)
    return years


def test_every_district_page_lists_its_practices_by_year(
        client: httpx.Client, practice_years: dict[str, dict[int, dict[str, bool]]]) -> None:
    districts = client.get("/api/districts").json()
    assert len(practice_years) == len(districts)
    for district in districts:
        html = client.get(f"/id/district/{district['id']}", params={"lang": "en"},
                          headers={"Accept": "text/html"}).text
        by_year = section(html, "by-year")
        assert by_year is not None, district["id"]
        lists = re.findall(r'<ul class="by-year-list" data-year="(\d+)">(.*?)</ul>', by_year, re.S)
        expected = practice_years[district["id"]]
        assert [int(y) for y, _ in lists] == sorted(expected), district["id"]
        for year, body in lists:
            shown = dict(re.findall(r'<li data-practice="([^"]+)"[^>]*>(.*?)</li>', body, re.S))
            assert set(shown) == set(expected[int(year)]), (district["id"], year)
            for practice, item in shown.items():
                assert ("dated in the text" in item) == expected[int(year)][practice], practice
        api = {p["id"] for p in client.get(f"/api/districts/{district['id']}").json()["practices"]}
        assert {p for year in expected.values() for p in year} == api


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium")
@pytest.mark.parametrize("path", ["/id/mechanism/theory-research", "/id/topic/zhongguancun",
                                  "/id/district/changping"])
def test_timeline_pages_fit_a_phone(browser: Browser, server: LiveServer, path: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        response = page.goto(f"{server.url}{path}?lang=en")
        assert response is not None and response.status == 200
        assert page.locator("#timeline, #by-year").count() == 1
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
