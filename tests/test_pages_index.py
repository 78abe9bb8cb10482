"""The index tables /id/{kind}/ (issue 25 item 1) over real HTTP: every row the graph has, the fact
table's numbers, sorting, filtering and facets in the query string, and the rows shown as CSV/JSON."""

import csv
import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from app.api import lists
from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, select

CLASSES = {"district": "bjrd:District", "mechanism": "bjrd:Mechanism", "topic": "bjrd:SupervisionTopic",
           "theme": "bjrd:Theme", "fact": "bjrd:Fact", "practice": "bjrd:Practice"}


class TablePage(HTMLParser):
    """The table of an index page: the ids of its rows, the text of each cell by column key, the links."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.cells: list[dict[str, str]] = []
        self.columns: list[str] = []
        self.links: list[str] = []
        self._column = -1
        self._cell: str | None = None
        self._in_body = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "a" and attr.get("href"):
            self.links.append(attr["href"] or "")
        if tag == "th" and attr.get("data-key"):
            self.columns.append(attr["data-key"] or "")
        if tag == "tbody":
            self._in_body = True
        if tag == "tr" and self._in_body and attr.get("data-id"):
            self.ids.append(attr["data-id"] or "")
            self.cells.append({})
            self._column = -1
        if tag == "td" and self._in_body and self.cells:
            self._column += 1
            self._cell = self.columns[self._column]
            self.cells[-1][self._cell] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None
        if tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self.cells[-1][self._cell] += data.strip()


def table(client: httpx.Client, path: str, **params: str) -> TablePage:
    response = client.get(path, params=params, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text[:500]
    return TablePage(response.text)


def tail(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


@pytest.mark.parametrize("kind", list(CLASSES))
def test_index_table_lists_every_entity_of_the_kind(client: httpx.Client, graph: KnowledgeGraph, kind: str) -> None:
    expected = {tail(r["e"]) for r in select(graph, PREFIXES + f"SELECT ?e WHERE {{ ?e a {CLASSES[kind]} }}")}
    page = table(client, f"/id/{kind}/", lang="en")
    assert sorted(page.ids) == sorted(expected)
    rows = client.get(f"/id/{kind}/", params={"format": "json"}).json()
    assert [r["id"] for r in rows] == page.ids


def test_fact_table_shows_value_unit_count_district_quote_and_offsets(client: httpx.Client,
                                                                        graph: KnowledgeGraph) -> None:
    facts = {tail(r["f"]): r for r in select(graph, PREFIXES + """
        SELECT ?f ?value ?unit ?label ?dlabel ?exact ?start WHERE {
          ?f a bjrd:Fact ; schema:value ?value ; schema:unitText ?unit ; rdfs:label ?label ;
             bjrd:district/rdfs:label ?dlabel ; bjrd:evidence ?q . ?q oa:exact ?exact ; oa:start ?start .
          FILTER(LANG(?unit) = "zh" && LANG(?label) = "zh" && LANG(?dlabel) = "zh") }""")}
    page = table(client, "/id/fact/", lang="zh")
    assert page.columns == ["value", "unit", "label", "district", "quote", "start", "end"]
    assert len(page.ids) == len(facts)
    for fid, cells in zip(page.ids, page.cells, strict=True):
        fact = facts[fid]
        assert cells["value"].removeprefix("≥ ") == str(fact["value"]) or cells["value"].startswith("≥")
        assert cells["unit"] == fact["unit"] and cells["label"] == fact["label"]
        assert cells["district"] == fact["dlabel"] and cells["quote"] == fact["exact"]
        assert int(cells["start"]) == fact["start"] and int(cells["end"]) == fact["start"] + len(fact["exact"])
    # Each quote opens its passage in the article; each fact its page.
    assert all(f"/id/fact/{fid}?lang=zh" in page.links for fid in page.ids)
    assert any(re.fullmatch(r"/read\?lang=zh#q-\d+-\d+", link) for link in page.links)


def test_sort_orders_the_rows_and_a_second_click_reverses(client: httpx.Client) -> None:
    up = client.get("/id/fact/", params={"sort": "value", "format": "json"}).json()
    down = client.get("/id/fact/", params={"sort": "-value", "format": "json"}).json()
    assert [r["value"] for r in up] == sorted(r["value"] for r in up)
    assert [r["value"] for r in down] == sorted((r["value"] for r in down), reverse=True)
    page = client.get("/id/fact/", params={"sort": "value"}, headers={"Accept": "text/html"}).text
    header = re.search(r'<th scope="col" data-key="value"[^>]*><a href="([^"]+)"', page)
    assert header is not None
    assert dict(parse_qsl(urlsplit(header.group(1).replace("&amp;", "&")).query))["sort"] == "-value"


def test_mechanisms_list_named_ones_first_by_default(client: httpx.Client, graph: KnowledgeGraph) -> None:
    rows = client.get("/id/mechanism/", params={"format": "json"}).json()
    kinds = [r["kind"] for r in rows]
    assert kinds == sorted(kinds, key=lambda k: k != "named")
    umbrellas = {tail(r["m"]) for r in select(graph, PREFIXES + "SELECT ?m { ?m bjrd:mechanismKind bjrd:Umbrella }")}
    assert {r["id"] for r in rows if r["kind"] == "umbrella"} == umbrellas
    named = [r for r in rows if r["kind"] == "named"]
    assert [r["districts"] for r in named] == sorted((r["districts"] for r in named), reverse=True)


def test_facets_and_words_filter_the_rows(client: httpx.Client, graph: KnowledgeGraph) -> None:
    haidian = {tail(r["f"]) for r in select(graph, PREFIXES + "SELECT ?f { ?f a bjrd:Fact ; bjrd:district "
                                                              "<https://bjrd-kg.example.org/id/district/haidian> }")}
    rows = client.get("/id/fact/", params={"district": "haidian", "format": "json"}).json()
    assert {r["id"] for r in rows} == haidian
    two = client.get("/id/fact/", params=[("district", "haidian"), ("district", "daxing"), ("format", "json")]).json()
    assert {r["id"] for r in two} > haidian
    # Words in any order, any case.
    label = next(r for r in client.get("/id/mechanism/", params={"format": "json", "lang": "en"}).json()
                 if len(r["label"].split()) >= 3)["label"]
    words = label.split()
    reversed_q = f"{words[-1].upper()} {words[0].lower()}"
    found = client.get("/id/mechanism/", params={"format": "json", "lang": "en", "q": reversed_q}).json()
    assert label in {r["label"] for r in found}
    assert all(all(w.casefold() in (r["label"] + " " + r["other"] + " " + r["id"]).casefold()
                   or w.casefold() in str(r).casefold() for w in reversed_q.split()) for r in found)


def test_shared_facet_counts_what_the_home_page_says(client: httpx.Client, graph: KnowledgeGraph) -> None:
    home = client.get("/", params={"lang": "zh"}).text
    figures = dict(re.findall(r'href="([^"]+)" data-view="\w+"><div class="num" data-stat="\w+">(\d+)<', home))
    tables = {href.replace("&amp;", "&"): int(n) for href, n in figures.items() if href.startswith("/id/")}
    assert "/id/mechanism/?shared=yes&lang=zh" in tables
    for href, number in tables.items():
        page = client.get(href, headers={"Accept": "text/html"}).text
        assert len(TablePage(page).ids) == number or page.count("<tr") - 1 == number, href


def test_csv_and_json_links_answer_exactly_the_rows_shown(client: httpx.Client) -> None:
    params = {"district": "chaoyang", "sort": "-start", "lang": "en"}
    page = table(client, "/id/practice/", **params)
    csv_link = next(link for link in page.links if "format=csv" in link).replace("&amp;", "&")
    json_link = next(link for link in page.links if "format=json" in link).replace("&amp;", "&")
    assert dict(parse_qsl(urlsplit(csv_link).query)) == {**params, "format": "csv"}
    answer = client.get("/id/practice/" + csv_link)
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == page.ids
    assert [r["id"] for r in client.get("/id/practice/" + json_link).json()] == page.ids
    assert [int(r["start"]) for r in rows] == sorted((int(r["start"]) for r in rows), reverse=True)


@pytest.mark.parametrize("params", [{"sort": "nope"}, {"q": "x" * 201}, {"sort": "-"}])
def test_index_table_bad_parameter_is_400_saying_which(client: httpx.Client, params: dict[str, str]) -> None:
    response = client.get("/id/fact/", params={**params, "format": "json"})
    assert response.status_code == 400
    name = "sort" if "sort" in params else "(q)"
    assert name in response.text


def test_topics_list_named_ones_first_when_topics_have_a_kind(client: httpx.Client, graph: KnowledgeGraph) -> None:
    umbrellas = {tail(r["t"]) for r in select(graph, PREFIXES + "SELECT ?t { ?t bjrd:topicKind bjrd:Umbrella }")}
    if not umbrellas:
        pytest.skip("the topics have no kind in this graph (the table then keeps the most used first)")
    rows = client.get("/id/topic/", params={"format": "json"}).json()
    kinds = [r["kind"] for r in rows]
    assert kinds == sorted(kinds, key=lambda k: k != "named")
    assert {r["id"] for r in rows if r["kind"] == "umbrella"} == umbrellas


def test_a_long_table_is_cut_on_the_page_but_whole_in_csv(client: httpx.Client,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTML shows at most HTML_ROWS rows and says so; the CSV of the same view has every row."""
    monkeypatch.setattr(lists, "HTML_ROWS", 10)
    params = {"sort": "-end", "q": "的"}  # a view no other test asks for (answers are stored per URL)
    page = client.get("/id/practice/", params=params, headers={"Accept": "text/html"}).text
    rows = client.get("/id/practice/", params={**params, "format": "json"}).json()
    assert len(rows) > 10
    assert len(TablePage(page).ids) == 10 and 'id="rows-cut"' in page
    assert TablePage(page).ids == [r["id"] for r in rows[:10]]
