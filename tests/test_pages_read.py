"""GET /read over real HTTP: the article's district paragraphs, verbatim and in article order, every
passage a practice quotes highlighted and linked to that practice (expected spans from the graph)."""

import html
import re
from html.parser import HTMLParser

import httpx

from app.build.graph import KnowledgeGraph
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
        if tag == "p" and "read-text" in (attr.get("class") or "") and self._section:
            self._in_text = True
        if tag == "a" and self._in_text:
            self._practice = attr.get("data-practice")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = ""
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


def quotes_of(graph: KnowledgeGraph, record_class: str) -> list[dict]:
    return select(graph, PREFIXES + f"""
        SELECT ?r ?q ?start ?end ?exact WHERE {{
          ?r a {record_class} ; bjrd:evidence ?q . ?q oa:start ?start ; oa:end ?end ; oa:exact ?exact }}""")


def test_read_page_has_an_anchor_for_every_quoted_passage(client: httpx.Client, graph: KnowledgeGraph) -> None:
    page = client.get("/read", params={"lang": "zh"}).text
    ids = set(re.findall(r'id="(q-\d+-\d+)"', page))
    quotes = quotes_of(graph, "bjrd:Practice") + quotes_of(graph, "bjrd:Fact") + quotes_of(graph, "bjrd:Theme")
    assert quotes
    assert {f"q-{q['start']}-{q['end']}" for q in quotes} <= ids


def test_read_page_links_every_fact_to_its_fact_page(client: httpx.Client, graph: KnowledgeGraph) -> None:
    page = client.get("/read", params={"lang": "en"}).text
    linked = set(re.findall(r'href="/id/fact/([\w-]+)\?lang=en"', page))
    facts = {row["f"].rsplit("/", 1)[-1] for row in select(graph, PREFIXES + "SELECT ?f { ?f a bjrd:Fact }")}
    assert linked == facts


def test_read_page_includes_the_opening_paragraph_the_themes_cite(client: httpx.Client, graph: KnowledgeGraph,
                                                                   source_text: str) -> None:
    page = client.get("/read", params={"lang": "zh"}).text
    opening = re.search(r'<section class="read-opening" id="opening">(.*?)</section>', page, re.DOTALL)
    assert opening is not None
    text = html.unescape(re.sub(r"<[^>]+>", "", opening.group(1).split("</h2>", 1)[1])).strip()
    themes = quotes_of(graph, "bjrd:Theme")
    assert themes and all(t["exact"] in text for t in themes)
    assert text in source_text  # verbatim: a paragraph of the article


def test_adjacent_passages_keep_a_boundary(client: httpx.Client, graph: KnowledgeGraph) -> None:
    """Where one quoted passage ends and the next begins, the second starts its own band (class q-first)."""
    page = client.get("/read", params={"lang": "zh"}).text
    practices = sorted(quotes_of(graph, "bjrd:Practice"), key=lambda q: q["start"])
    adjacent = [(a, b) for a, b in zip(practices, practices[1:], strict=False) if b["start"] <= a["end"] + 1]
    assert adjacent, "the article has adjacent quoted passages"
    for _, b in adjacent:
        at = page.index(f'id="q-{b["start"]}-{b["end"]}"')
        band = re.compile(r'<a class="([^"]*)"').search(page, page.rindex("<", 0, at))
        assert band is not None and "q-first" in band.group(1), b


def test_practice_fact_and_quote_pages_link_to_their_passage_in_the_article(client: httpx.Client,
                                                                            graph: KnowledgeGraph) -> None:
    for record_class in ("bjrd:Practice", "bjrd:Fact"):
        quote = quotes_of(graph, record_class)[0]
        path = "/id/" + quote["r"].split("/id/", 1)[1]
        page = client.get(path, params={"lang": "zh"}, headers={"Accept": "text/html"}).text
        assert f'href="/read?lang=zh#q-{quote["start"]}-{quote["end"]}">在原文中查看' in page, path
    quote = quotes_of(graph, "bjrd:Practice")[0]
    quote_path = "/id/" + quote["q"].split("/id/", 1)[1]
    page = client.get(quote_path, params={"lang": "en"}, headers={"Accept": "text/html"}).text
    assert f'href="/read?lang=en#q-{quote["start"]}-{quote["end"]}">see in the article' in page
    figcaption = re.search(r'<figcaption class="muted">(.*?)</figcaption>', page, re.DOTALL)
    assert figcaption is not None and f'href="{quote_path}' not in figcaption.group(1), "no link to itself"


def test_titles_and_citations_do_not_double_quotation_marks(client: httpx.Client, graph: KnowledgeGraph) -> None:
    quoted = select(graph, PREFIXES + """SELECT ?q WHERE { ?q a bjrd:Quote ; oa:exact ?e
        FILTER(STRSTARTS(?e, "“")) } LIMIT 1""")
    labelled = select(graph, PREFIXES + """SELECT ?m WHERE { ?m a bjrd:Mechanism ; skos:prefLabel ?l
        FILTER(LANG(?l) = "zh" && STRSTARTS(?l, "“")) } LIMIT 1""")
    assert quoted and labelled
    for iri in (quoted[0]["q"], labelled[0]["m"]):
        page = client.get("/id/" + iri.split("/id/", 1)[1], params={"lang": "zh"}, headers={"Accept": "text/html"})
        assert "““" not in page.text and "””" not in page.text, iri
