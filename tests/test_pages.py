"""The HTML pages (/, /query, /explore) over real HTTP: counts, source, links, languages, examples."""

import html
import json
import re
from html.parser import HTMLParser

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from app.config import ROOT
from app.web.templating import VENDOR_VERSION
from tests.helpers import PREFIXES, select

PAGES = ("/", "/query", "/explore")
EXAMPLES_DIR = ROOT / "queries" / "examples"
TITLE = re.compile(r"^#\+\s*title-(zh|en)\s*:\s*(.*?)\s*$", re.MULTILINE)


class Page(HTMLParser):
    """The parts of a page the tests look at: links, the <html lang>, data-stat numbers, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.lang = ""
        self.stats: dict[str, str] = {}
        self.scripts: dict[str, str] = {}
        self._stat: str | None = None
        self._script: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "html":
            self.lang = attr.get("lang") or ""
        if tag == "a" and attr.get("href"):
            self.links.append(attr["href"] or "")
        if "data-stat" in attr:
            self._stat = attr["data-stat"]
        if tag == "script" and attr.get("id"):
            self._script = attr["id"]

    def handle_data(self, data: str) -> None:
        if self._stat:
            self.stats[self._stat] = self.stats.get(self._stat, "") + data
        if self._script:
            self.scripts[self._script] = self.scripts.get(self._script, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("div", "span"):
            self._stat = None
        if tag == "script":
            self._script = None

    def paths(self) -> set[str]:
        return {link.split("?")[0] for link in self.links}


def get_page(client: httpx.Client, path: str, **headers: str) -> Page:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


def count(graph: KnowledgeGraph, where: str) -> int:
    return select(graph, PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")[0]["n"]


def expected_counts(graph: KnowledgeGraph) -> dict[str, int]:
    """The home page's numbers, counted here without the stats query."""
    kinds = {"districts": "District", "practices": "Practice", "mechanisms": "Mechanism", "facts": "Fact",
             "themes": "Theme", "quotes": "Quote"}
    counts = {name: count(graph, f"SELECT DISTINCT ?x WHERE {{ ?x a bjrd:{cls} }}") for name, cls in kinds.items()}
    # data/README.md, "Shared": named mechanisms only (umbrella categories are never counted).
    counts["shared_mechanisms"] = count(graph, """SELECT DISTINCT ?m WHERE {
        ?m bjrd:mechanismKind bjrd:Named .
        ?p1 bjrd:usesMechanism ?m ; bjrd:district ?d1 .
        ?p2 bjrd:usesMechanism ?m ; bjrd:district ?d2 .
        FILTER (?d1 != ?d2) }""")
    counts["topics"] = count(graph, "SELECT DISTINCT ?x WHERE { ?x a bjrd:SupervisionTopic }")
    # The same rule for topics: named ones only, supervised directly or through a narrower topic.
    counts["shared_topics"] = count(graph, """SELECT DISTINCT ?t WHERE {
        ?t bjrd:topicKind bjrd:Named .
        ?p1 bjrd:supervisesTopic ?t ; bjrd:district ?d1 .
        ?p2 bjrd:supervisesTopic ?t ; bjrd:district ?d2 .
        FILTER (?d1 != ?d2) }""")
    # The default graph is the union of the data, ontology and inferred graphs.
    counts["triples"] = count(graph, "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }")
    return counts


def example_titles() -> dict[str, dict[str, str]]:
    """queries/examples/*.rq -> {"zh": title, "en": title}, read from the files' headers."""
    return {path.stem: dict(TITLE.findall(path.read_text(encoding="utf-8")))
            for path in sorted(EXAMPLES_DIR.glob("*.rq"))}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_home_counts_equal_independent_sparql_counts(client: httpx.Client, graph: KnowledgeGraph, lang: str) -> None:
    page = get_page(client, f"/?lang={lang}")
    shown = {name: int(text.strip()) for name, text in page.stats.items()}
    assert shown == expected_counts(graph)
    assert shown["districts"] == 16


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_home_shows_the_source_article(client: httpx.Client, graph: KnowledgeGraph, lang: str) -> None:
    html = client.get(f"/?lang={lang}").text
    article = select(graph, PREFIXES + """PREFIX schema: <https://schema.org/>
        SELECT ?title ?issue ?section ?author WHERE {
          ?a a schema:Article ; dcterms:title ?title ; dcterms:isPartOf/dcterms:title ?issue ;
             schema:articleSection ?section ; schema:author/schema:name ?author .
          FILTER (lang(?title) = "zh" && lang(?issue) = "zh" && lang(?section) = "zh" && lang(?author) = "zh") }""")
    assert len(article) == 1
    for value in article[0].values():
        assert value in html
    for text in ("《北京人大》2023年第7期", "区乡人大", "薛睿杰"):
        assert text in html


def test_home_links_to_pages_data_and_downloads(client: httpx.Client) -> None:
    page = get_page(client, "/?lang=zh")
    assert {"/query", "/explore", "/id/district/", "/id/mechanism/", "/id/theme/", "/docs", "/void", "/sparql",
            "/id/source/article"} <= page.paths()
    exports = {link for link in page.links if link.startswith("/export?format=")}
    formats = ("turtle", "jsonld", "ntriples", "nquads", "trig", "rdfxml")
    assert {f"/export?format={name}" for name in formats} <= exports


@pytest.mark.parametrize("path", PAGES)
def test_page_links_all_resolve(client: httpx.Client, path: str) -> None:
    page = get_page(client, f"{path}?lang=en")
    local = sorted({link for link in page.links if link.startswith("/")})
    assert local
    for link in local:
        response = client.get(link, headers={"Accept": "text/html,*/*;q=0.8"}, follow_redirects=True)
        assert response.status_code == 200, f"{path} links to {link}: HTTP {response.status_code}"


@pytest.mark.parametrize(("path", "lang", "accept_language", "expected"), [
    ("/", None, None, "zh"),
    ("/", "en", None, "en"),
    ("/", "zh", "en-GB,en;q=0.9", "zh"),
    ("/", None, "en-US,en;q=0.9", "en"),
    ("/", None, "zh-CN,zh;q=0.9,en;q=0.5", "zh"),
    ("/query", "en", None, "en"),
    ("/query", None, "en", "en"),
    ("/explore", "en", None, "en"),
    ("/explore", None, None, "zh"),
])
def test_page_language_follows_lang_then_accept_language(client: httpx.Client, path: str, lang: str | None,
                                                        accept_language: str | None, expected: str) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get(path, params={"lang": lang} if lang else None, headers=headers)
    assert response.status_code == 200
    assert Page(response.text).lang == {"zh": "zh-Hans"}.get(expected, expected)  # simplified Chinese
    assert "Accept-Language" in response.headers["vary"]
    heading = {"/": ("图谱内容", "What the graph holds"), "/query": ("SPARQL 查询", "SPARQL query"),
               "/explore": ("关系网络", "Network")}[path]
    assert heading[0 if expected == "zh" else 1] in response.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_switches_to_the_other_language(client: httpx.Client, lang: str) -> None:
    other = "en" if lang == "zh" else "zh"
    for path in PAGES:
        assert f"?lang={other}" in get_page(client, f"{path}?lang={lang}").links


@pytest.mark.parametrize("path", PAGES)
def test_page_links_to_the_other_pages(client: httpx.Client, path: str) -> None:
    assert set(PAGES) <= get_page(client, f"{path}?lang=zh").paths()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_query_page_has_one_tab_per_example_with_its_title(client: httpx.Client, lang: str) -> None:
    titles = example_titles()
    assert titles, "queries/examples/ holds no .rq file"
    page = get_page(client, f"/query?lang={lang}")
    tabs = json.loads(page.scripts["kg-examples"])
    assert [tab["name"] for tab in tabs] == sorted(titles)
    for tab in tabs:
        assert tab["title"] == titles[tab["name"]][lang]
        assert tab["query"] == (EXAMPLES_DIR / f"{tab['name']}.rq").read_text(encoding="utf-8")
    text = html.unescape(client.get(f"/query?lang={lang}").text)
    for name, title in titles.items():
        assert f'data-example="{name}"' in text
        assert title[lang] in text


def test_query_page_loads_yasgui_from_static(client: httpx.Client) -> None:
    html = client.get("/query").text
    assert f'<script src="/static/vendor/yasgui/yasgui.min.js?v={VENDOR_VERSION}"></script>' in html
    assert f'href="/static/vendor/yasgui/yasgui.min.css?v={VENDOR_VERSION}"' in html
    assert 'data-endpoint="/sparql"' in html


def test_explore_page_loads_cytoscape_from_static(client: httpx.Client) -> None:
    html = client.get("/explore").text
    assert f'<script src="/static/vendor/cytoscape/cytoscape.min.js?v={VENDOR_VERSION}"></script>' in html
    assert 'id="network"' in html and 'id="matrix"' in html and 'id="min-districts"' in html


@pytest.mark.parametrize("path", PAGES)
def test_page_answers_304_to_its_etag(client: httpx.Client, path: str) -> None:
    first = client.get(path, headers={"Accept-Language": "en"})
    again = client.get(path, headers={"Accept-Language": "en", "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    other = client.get(path, headers={"Accept-Language": "zh", "If-None-Match": first.headers["etag"]})
    assert other.status_code == 200


def test_favicon_is_an_svg(client: httpx.Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg")
