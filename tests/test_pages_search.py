"""GET /search (the HTML search page) over real HTTP: the hits of /api/search, grouped by type."""

import re
from html.parser import HTMLParser

import httpx
import pytest
from playwright.sync_api import Browser

from tests.helpers import LiveServer
from tests.test_browser import CHROMIUM, TIMEOUT_MS, browser

__all__ = ["browser"]  # a fixture, imported to be found here


class Hits(HTMLParser):
    """(group type, hit id, marked text) of every hit on the page, in page order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.hits: list[tuple[str, str]] = []
        self.marks: list[str] = []
        self.groups: list[str] = []
        self.search_forms = 0
        self._group = ""
        self._in_mark = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "section" and attr.get("data-type"):
            self._group = attr["data-type"] or ""
            self.groups.append(self._group)
        if tag == "li" and "search-hit" in (attr.get("class") or ""):
            self.hits.append((self._group, attr.get("data-id") or ""))
        if tag == "mark":
            self._in_mark = True
            self.marks.append("")
        if tag == "form" and attr.get("action") == "/search":
            self.search_forms += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark = False

    def handle_data(self, data: str) -> None:
        if self._in_mark:
            self.marks[-1] += data


GROUP_ORDER = ["district", "practice", "mechanism", "theme", "fact"]


@pytest.mark.parametrize("q", ["月进站", "街道", "subdistricts", "special inquiry"])
def test_search_page_shows_every_api_hit_grouped_by_type(client: httpx.Client, q: str) -> None:
    api = client.get("/api/search", params={"q": q}).json()["results"]
    assert api
    response = client.get("/search", params={"q": q, "lang": "zh"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = Hits(response.text)
    assert page.groups == [g for g in GROUP_ORDER if any(h["type"] == g for h in api)]
    assert sorted(page.hits) == sorted((h["type"], h["id"]) for h in api)
    for group in page.groups:
        assert [i for g, i in page.hits if g == group] == [h["id"] for h in api if h["type"] == group]
    marked = [re.search("«(.*?)»", h["snippet"]).group(1) for h in api]  # type: ignore[union-attr]
    assert sorted(page.marks) == sorted(marked)


def test_search_page_without_query_is_a_form(client: httpx.Client) -> None:
    response = client.get("/search", params={"lang": "en"})
    assert response.status_code == 200
    page = Hits(response.text)
    assert page.hits == [] and page.search_forms == 2


def test_search_page_finds_nothing_politely(client: httpx.Client) -> None:
    response = client.get("/search", params={"q": "zzzqqq", "lang": "en"})
    assert response.status_code == 200
    assert "Nothing found" in response.text and Hits(response.text).hits == []


@pytest.mark.parametrize("path", ["/", "/query", "/explore", "/id/district/haidian", "/id/mechanism/"])
def test_every_page_has_the_search_box(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert Hits(response.text).search_forms == 1


def hit_items(html: str) -> dict[str, str]:
    """hit id -> the HTML of its list item."""
    return {m.group(1): m.group(2) for m in re.finditer(r'<li class="search-hit" data-id="([^"]+)">(.*?)</li>', html,
                                                         re.S)}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_search_page_offers_the_correction_it_searched(client: httpx.Client, lang: str) -> None:
    api = client.get("/api/search", params={"q": "budjet"}).json()
    assert api["did_you_mean"] and api["results"]
    response = client.get("/search", params={"q": "budjet", "lang": lang})
    assert response.status_code == 200
    notice = re.search(r'<p id="did-you-mean"[^>]*data-correction="([^"]+)"[^>]*>(.*?)</p>', response.text, re.S)
    assert notice is not None and notice.group(1) == api["did_you_mean"]
    assert f'href="/search?q={api["did_you_mean"]}&amp;lang={lang}"' in notice.group(2)
    assert ("您是不是要找" if lang == "zh" else "Did you mean") in notice.group(2)
    assert sorted(Hits(response.text).hits) == sorted((h["type"], h["id"]) for h in api["results"])
    plain = client.get("/search", params={"q": api["did_you_mean"], "lang": lang}).text
    assert 'id="did-you-mean"' not in plain


def test_search_page_finds_traditional_characters_as_simplified(client: httpx.Client) -> None:
    api = client.get("/api/search", params={"q": "預算"}).json()
    simplified = client.get("/api/search", params={"q": "预算"}).json()
    assert api["results"] and [h["id"] for h in api["results"]] == [h["id"] for h in simplified["results"]]
    page = Hits(client.get("/search", params={"q": "預算", "lang": "zh"}).text)
    assert sorted(page.hits) == sorted((h["type"], h["id"]) for h in api["results"])
    assert all("预算" in mark for mark in page.marks)


@pytest.mark.parametrize("q", ["代表", "预算", "街道"])
def test_search_page_fact_hits_show_their_value_unit_and_district(client: httpx.Client, q: str) -> None:
    facts = [h for h in client.get("/api/search", params={"q": q, "type": "fact"}).json()["results"]]
    assert facts
    districts = {d["id"]: d["label"]["zh"] for d in client.get("/api/districts").json()}
    items = hit_items(client.get("/search", params={"q": q, "lang": "zh"}).text)
    for fact in facts:
        item = items[fact["id"]]
        shown = re.search(r'<span class="fact-value" data-value="([^"]+)"><strong>([^<]+)</strong> ([^<]*)</span>',
                          item)
        assert shown is not None, fact["id"]
        assert float(shown.group(1)) == float(shown.group(2)) == fact["value"]
        assert shown.group(3).strip() == fact["unit"]["zh"]
        assert f'href="/id/district/{fact["district"]}?lang=zh">{districts[fact["district"]]}</a>' in item
    others = [i for h, i in items.items() if h not in {f["id"] for f in facts}]
    assert all("fact-value" not in item for item in others)


@pytest.mark.parametrize("kind", ["mechanism", "topic", "district"])
def test_search_page_shows_the_concept_the_text_names_as_best_match(client: httpx.Client, kind: str) -> None:
    listed = client.get(f"/api/{kind}s").json()
    entity = listed[len(listed) // 2]
    q = entity["label"]["zh"]
    best = client.get("/api/search", params={"q": q}).json()["best_match"]
    assert best is not None
    html = client.get("/search", params={"q": q, "lang": "zh"}).text
    card = re.search(r'<section id="best-match"[^>]*data-best-type="([^"]+)" data-best-id="([^"]+)">(.*?)</section>',
                     html, re.S)
    assert card is not None and (card.group(1), card.group(2)) == (best["type"], best["id"])
    assert best["label"]["zh"] in card.group(3)
    if best["type"] != "district":
        assert re.findall(r'data-district="([^"]+)"', card.group(3)) == best["districts"]
    assert 'id="best-match"' not in client.get("/search", params={"q": "zzzqqq", "lang": "zh"}).text


def test_search_page_says_when_no_hit_has_every_word(client: httpx.Client) -> None:
    some = client.get("/api/search", params={"q": "月进站 海淀"}).json()
    assert some["every_term"] is False and some["results"]
    for lang, words in (("zh", "没有结果包含全部词语"), ("en", "No result has every word")):
        html = client.get("/search", params={"q": "月进站 海淀", "lang": lang}).text
        assert 'id="some-terms"' in html and words in html
    every = client.get("/api/search", params={"q": "代表 预算"}).json()
    assert every["every_term"] is True and every["results"]
    assert 'id="some-terms"' not in client.get("/search", params={"q": "代表 预算", "lang": "zh"}).text


def test_search_page_names_the_other_names_it_searched(client: httpx.Client) -> None:
    variants = client.get("/api/search", params={"q": "代表之家"}).json()["variants"]
    assert variants
    html = client.get("/search", params={"q": "代表之家", "lang": "zh"}).text
    shown = re.search(r'<span class="variants">(.*?)</span>', html, re.S)
    assert shown is not None
    assert re.findall(r'lang="zh-Hans">([^<]+)</a>', shown.group(1)) == variants


@pytest.mark.slow
@pytest.mark.parametrize("q", ["budjet", "代表之家", "月进站 海淀", "预算"])
def test_search_notices_and_cards_fit_a_phone(browser: Browser, server: LiveServer, q: str) -> None:
    """A best-match card with its districts, a correction, the some-words notice and fact values: no wider
    than a 390 px screen, in either language (Chromium)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        for lang in ("zh", "en"):
            response = page.goto(f"{server.url}/search?q={q}&lang={lang}")
            assert response is not None and response.status == 200
            assert page.locator("#did-you-mean, #best-match, #some-terms, .fact-value").count() >= 1
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, (q, lang)
    finally:
        context.close()
