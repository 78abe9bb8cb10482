"""GET /read over real HTTP: the article's district paragraphs, verbatim and in article order, every
passage a practice quotes highlighted and linked to that practice (expected spans from the graph)."""

import html
import re
from html.parser import HTMLParser

import httpx

from app.store.graph import KnowledgeGraph
from tests.helpers import PREFIXES, select


class Reading(HTMLParser):
    """Per paragraph id: its text, and the characters covered by a link to each practice."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.order: list[str] = []
        self.text: dict[str, str] = {}
        self.linked: dict[str, dict[str, str]] = {}
        self._section = ""
        self._in_text = False
        self._practice: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "section" and "read-paragraph" in (attr.get("class") or ""):
            self._section = attr["id"] or ""
            self.order.append(self._section)
            self.text[self._section] = ""
            self.linked[self._section] = {}
        if tag == "p" and "read-text" in (attr.get("class") or ""):
            self._in_text = True
        if tag == "a" and self._in_text:
            self._practice = attr.get("data-practice")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_text = False
        if tag == "a":
            self._practice = None

    def handle_data(self, data: str) -> None:
        if self._in_text:
            self.text[self._section] += data
            if self._practice:
                linked = self.linked[self._section]
                linked[self._practice] = linked.get(self._practice, "") + data


def test_read_page_is_the_paragraphs_with_practice_links(client: httpx.Client, graph: KnowledgeGraph) -> None:
    response = client.get("/read", params={"lang": "en"})
    assert response.status_code == 200
    page = Reading(response.text)
    rows = select(graph, PREFIXES + """
        SELECT ?d ?text ?start WHERE { ?d a bjrd:District ; bjrd:paragraph [ oa:exact ?text ; oa:start ?start ] }
        ORDER BY ?start""")
    assert page.order == [r["d"].rsplit("/", 1)[-1] for r in rows] and len(rows) == 16
    practices = select(graph, PREFIXES + """
        SELECT ?p ?d ?exact WHERE { ?p a bjrd:Practice ; bjrd:district ?d ; bjrd:evidence/oa:exact ?exact }""")
    for row in rows:
        district = row["d"].rsplit("/", 1)[-1]
        assert html.unescape(page.text[district]) == row["text"]
        mine = [p for p in practices if p["d"] == row["d"]]
        assert mine
        for practice in mine:
            linked = page.linked[district].get(practice["p"].rsplit("/", 1)[-1], "")
            # Where practices overlap, the passage links to the one quoted first: all of it is highlighted,
            # and at least part of every quote links to its own practice.
            highlighted = "".join(page.linked[district].values())
            assert (linked and linked in practice["exact"]) or practice["exact"] in highlighted
            assert practice["exact"] in page.text[district]


def test_read_page_is_linked_from_every_page(client: httpx.Client) -> None:
    for path in ("/", "/explore", "/search?q=x"):
        assert re.search(r'href="/read\?lang=', client.get(path).text), path
