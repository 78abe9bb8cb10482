"""GET /search (the HTML search page) over real HTTP: the hits of /api/search, grouped by type."""

import re
from html.parser import HTMLParser

import httpx
import pytest


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
