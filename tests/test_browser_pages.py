"""The researcher's pages in Chromium (issue 25): phones, lists, text and data both ways, compare,
and the Content-Security-Policy (issue 23) as a browser enforces it.

Same pattern as tests/test_browser.py (its fixtures and traffic record); slow-marked.
"""

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from app.build.graph import KnowledgeGraph
from app.web.headers import SecurityHeaders
from tests.helpers import PREFIXES, LiveServer, select
from tests.test_browser import CHROMIUM, TIMEOUT_MS, Traffic, browser, page, screenshot

__all__ = ["browser", "page"]  # fixtures, imported to be found here

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]

PHONE = {"width": 390, "height": 844}


@pytest.fixture()
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                  device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def watch(tab: Page, origin: str) -> Traffic:
    traffic = Traffic(origin)
    tab.on("console", lambda message: traffic.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: traffic.errors.append(str(error)))
    tab.on("requestfailed", lambda request: traffic.failed.append(f"{request.url}: {request.failure}"))
    tab.on("request", lambda request: traffic.on_request(request.url))
    return traffic


# ------------------------------------------------------------------ Content-Security-Policy


def test_api_docs_page_runs_under_the_policy(page: tuple[Page, Traffic], server: LiveServer) -> None:
    """/docs (Swagger UI) works with no inline script: its settings are a data block read by a static file."""
    tab, traffic = page
    tab.goto(f"{server.url}/docs")
    tab.wait_for_selector(".opblock-tag", timeout=TIMEOUT_MS)
    assert tab.locator(".opblock").count() > 10
    traffic.assert_clean()


def test_a_script_injected_into_a_page_does_not_run(page: tuple[Page, Traffic], server: LiveServer) -> None:
    """An inline script that got into a page is blocked by the policy the service sends with it (the
    policy used to be computed from the page, trusting whatever script it found)."""
    tab, _ = page
    injected = b"<!doctype html><title>before</title><script>document.title = 'ran'</script><p>x</p>"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await HTMLResponse(injected)(scope, receive, send)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=SecurityHeaders(app)),
                                     base_url="http://testserver") as c:
            return await c.get("/")

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        answer = pool.submit(asyncio.run, get()).result()
    blocked: list[str] = []
    tab.on("console", lambda message: blocked.append(message.text))

    def fulfil(route: Route) -> None:
        route.fulfill(status=200, headers=dict(answer.headers), body=answer.content)

    tab.route(f"{server.url}/injected", fulfil)
    tab.goto(f"{server.url}/injected")
    assert tab.title() == "before"
    assert any("Content Security Policy" in text for text in blocked)


# ------------------------------------------------------------------ phones


def one_of(graph: KnowledgeGraph, cls: str) -> str:
    """The path of the first entity of class ``cls`` (a prefixed name)."""
    iri = select(graph, PREFIXES + f"SELECT ?e WHERE {{ ?e a {cls} }} ORDER BY ?e LIMIT 1")[0]["e"]
    return "/id/" + iri.split("/id/", 1)[1]


def every_page_kind(graph: KnowledgeGraph) -> dict[str, str]:
    """One URL of every kind of HTML page the service has."""
    kinds = {"home": "/", "district": "/id/district/haidian", "compare": "/compare?districts=daxing,pinggu,yanqing",
             "compare-error": "/compare?districts=daxing", "search": "/search?q=代表", "read": "/read",
             "query": "/query", "explore": "/explore", "ontology": "/ontology?format=html",
             "void": "/void?format=html", "entity-404": "/id/district/nowhere", "404": "/nothing-here"}
    for kind in ("district", "mechanism", "topic", "theme", "fact", "practice", "quote", "source"):
        kinds[f"index-{kind}"] = f"/id/{kind}/"
    for name, cls in (("mechanism", "bjrd:Mechanism"), ("topic", "bjrd:SupervisionTopic"), ("theme", "bjrd:Theme"),
                      ("practice", "bjrd:Practice"), ("fact", "bjrd:Fact"), ("quote", "bjrd:Quote"),
                      ("article", "schema:Article"), ("congress", "bjrd:DistrictCongress")):
        kinds[name] = one_of(graph, cls)
    return kinds


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_page_is_wider_than_a_phone(phone: BrowserContext, server: LiveServer, graph: KnowledgeGraph,
                                       lang: str) -> None:
    tab = phone.new_page()
    traffic = watch(tab, server.url)
    wide = {}
    for kind, path in every_page_kind(graph).items():
        tab.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        if kind == "explore":
            tab.wait_for_selector("#network[data-state=ready]")
        if kind == "query":
            tab.wait_for_function("() => window.kgYasgui")
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[kind] = width
        if lang == "en" and kind in ("district", "void", "query", "index-fact"):
            screenshot(tab, f"phone-{kind}.png", full_page=False)
    assert wide == {}, f"pages wider than {PHONE['width']} px"
    # The error pages' own statuses (400, 404) are logged as failed loads; nothing else may be.
    assert [e for e in traffic.errors if not e.startswith("Failed to load resource")] == []


# ------------------------------------------------------------------ index tables


def test_fact_table_sorts_and_filters_in_the_address_and_survives_a_reload(page: tuple[Page, Traffic],
                                                                           server: LiveServer,
                                                                           graph: KnowledgeGraph) -> None:
    tab, traffic = page
    values = sorted(float(r["v"]) for r in select(graph, PREFIXES + "SELECT ?v { ?f a bjrd:Fact ; schema:value ?v }"))
    tab.goto(f"{server.url}/id/fact/?lang=zh")
    cells = tab.locator("#index-table tbody td.col-value")
    assert cells.count() == len(values)
    assert sorted(float(t.lstrip("≥ ")) for t in cells.all_inner_texts()) == values, "every fact shows its value"
    # Sort by value, twice: descending; the address says so.
    with tab.expect_navigation():
        tab.locator("th[data-key=value] a").click()
    with tab.expect_navigation():
        tab.locator("th[data-key=value] a").click()
    assert parse_qs(urlsplit(tab.url).query)["sort"] == ["-value"]
    shown = [float(t.lstrip("≥ ")) for t in cells.all_inner_texts()]
    assert shown == sorted(values, reverse=True)
    # A district facet, then words typed in the filter box: rows and address follow.
    with tab.expect_navigation():
        tab.locator(".facet[data-facet=district] a[data-value=dongcheng]").click()
    quote = tab.locator("#index-table tbody tr:not([hidden]) td.col-quote").first.inner_text()
    tab.fill("#table-q", quote[:4])
    tab.wait_for_function("(q) => new URL(location.href).searchParams.get('q') === q", arg=quote[:4])
    visible = tab.locator("#index-table tbody tr:not([hidden])")
    kept = visible.count()
    assert 1 <= kept < len(values)
    query = parse_qs(urlsplit(tab.url).query)
    assert query["district"] == ["dongcheng"] and query["sort"] == ["-value"]
    assert "q=" in tab.locator("#rows-csv").get_attribute("href")  # type: ignore[operator]
    tab.reload()
    assert tab.input_value("#table-q") == quote[:4]
    assert tab.locator("#index-table tbody tr").count() == kept, "the server shows the same rows after a reload"
    screenshot(tab, "facts-table.png")
    traffic.assert_clean()


# ------------------------------------------------------------------ compare


def test_compare_shows_score_and_rank_and_stacks_on_a_phone(phone: BrowserContext, server: LiveServer) -> None:
    tab = phone.new_page()
    traffic = watch(tab, server.url)
    ids = ["daxing", "pinggu", "yanqing"]
    tab.goto(f"{server.url}/compare?districts={','.join(ids)}&lang=en")
    rows = tab.locator("#compare-pairs tbody tr")
    assert rows.count() == 3
    first = rows.first
    assert first.locator("[data-similarity]").inner_text() != ""
    assert " / 120" in first.locator("[data-rank]").inner_text()
    assert first.locator("[data-similarity]").is_visible() and first.locator("[data-rank]").is_visible()
    lefts = tab.evaluate("() => [...document.querySelectorAll('.only-column')]"
                         ".map((c) => Math.round(c.getBoundingClientRect().left))")
    assert len(lefts) == 3 and len(set(lefts)) == 1, "the districts' columns are stacked"
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(tab, "compare-phone.png", full_page=False)
    assert traffic.errors == []


# ------------------------------------------------------------------ query editor

COUNTS = """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?district (COUNT(?practice) AS ?n) WHERE { ?practice bjrd:district ?district }
GROUP BY ?district ORDER BY DESC(?n)"""


RUN = ("() => { window.kgDone = false; window.kgYasgui.once('queryResponse', () => { window.kgDone = true; });"
       " window.kgYasgui.getTab().getYasqe().query(); }")


def run_query(tab: Page, query: str) -> None:
    tab.evaluate("(q) => window.kgYasgui.getTab().getYasqe().setValue(q)", query)
    tab.evaluate(RUN)
    tab.wait_for_function("() => window.kgDone")
    tab.wait_for_timeout(200)


def test_entity_sparql_link_opens_the_editor_with_its_describe(page: tuple[Page, Traffic],
                                                               server: LiveServer) -> None:
    tab, traffic = page
    tab.goto(f"{server.url}/id/theme/supervision?lang=en")
    with tab.expect_navigation():
        tab.locator(".ld-formats a", has_text="SPARQL").click()
    assert urlsplit(tab.url).path == "/query"
    tab.wait_for_function("() => window.kgYasgui")
    query = tab.evaluate("() => window.kgYasgui.getTab().getYasqe().getValue()")
    assert query == "DESCRIBE <https://bjrd-kg.example.org/id/theme/supervision>"
    sent: list[str] = []
    tab.on("request", lambda request: sent.append(request.post_data or "") if "/sparql" in request.url else None)
    tab.evaluate(RUN)
    tab.wait_for_function("() => window.kgDone")
    assert sent and all("lang=" not in body for body in sent), "the page's lang is not sent to /sparql"
    assert not tab.evaluate("() => window.kgYasgui.getTab().yasr.results.hasError()")
    traffic.assert_clean()


def test_query_results_padded_labelled_charted_and_shared_with_used_prefixes(page: tuple[Page, Traffic],
                                                                             server: LiveServer,
                                                                             graph: KnowledgeGraph) -> None:
    tab, traffic = page
    tab.goto(f"{server.url}/query?lang=zh")
    tab.wait_for_function("() => window.kgYasgui")
    tab.evaluate("() => { window.kgYasgui.addTab(true); }")
    run_query(tab, COUNTS)
    cell = tab.locator(".yasr table.dataTable tbody td").nth(1)
    assert float(cell.evaluate("(td) => parseFloat(getComputedStyle(td).paddingLeft)")) >= 6
    # Labels: the district IRIs show their Chinese labels.
    names = {r["d"]: r["l"] for r in select(graph, PREFIXES + """SELECT ?d ?l { ?d a bjrd:District ;
        rdfs:label ?l FILTER(LANG(?l) = "zh") }""")}
    tab.check("#kg-labels")
    tab.wait_for_function("() => [...document.querySelectorAll('.yasr a.iri')]"
                          ".some((a) => a.textContent.endsWith('区'))")
    shown = tab.evaluate("() => [...document.querySelectorAll('.yasr a.iri')].map((a) => [a.title, a.textContent])")
    assert shown and all(text == names[iri] for iri, text in shown)
    # A bar chart: one bar per row.
    rows = tab.evaluate("() => window.kgYasgui.getTab().yasr.results.getBindings().length")
    tab.check("#kg-chart")
    assert tab.locator("#kg-chart-view svg rect").count() == rows == len(names)
    screenshot(tab, "query-chart.png")
    # The share link keeps only the prefixes the query uses.
    tab.evaluate("() => window.kgYasgui.getTab().getYasqe().setValue(window.kgYasgui.getTab().getYasqe().getValue())")
    link = tab.evaluate("() => window.kgYasgui.getTab().getShareableLink()")
    shared = parse_qs(urlsplit(link).fragment)["query"][0]
    declared = [line for line in shared.splitlines() if line.startswith("PREFIX")]
    assert declared == ["PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>"]
    traffic.assert_clean()


def test_query_syntax_error_is_explained_and_wrapped(phone: BrowserContext, server: LiveServer,
                                                    client: httpx.Client) -> None:
    broken = "SELECT ?x WHERE {\n  ?x ?y\n}"
    told = client.post("/sparql", data={"query": broken})
    assert told.status_code == 400
    where = re.search(r"(?:at |line )(\d+)(?::|, column )(\d+)", told.text)
    assert where is not None, told.text
    tab = phone.new_page()
    tab.goto(f"{server.url}/query?lang=en")
    tab.wait_for_function("() => window.kgYasgui")
    run_query(tab, broken)
    box = tab.locator(".kg-query-error")
    box.wait_for()
    # Where the server's parser stopped, as a sentence (the raw message stays, folded).
    assert f"line {where.group(1)}, column {where.group(2)}" in box.inner_text()
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(tab, "query-error-phone.png", full_page=False)


# ------------------------------------------------------------------ explore

SHOWN_LABEL_BOXES = """() => window.kgGraph.nodes()
  .filter((n) => n.visible() && !n.hasClass('quiet') && !n.hasClass('crowded'))
  .map((n) => n.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false }))
  .filter((b) => b.w > 0)"""


def overlapping(boxes: list[dict[str, float]]) -> int:
    return sum(1 for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if a["x1"] < b["x2"] and b["x1"] < a["x2"] and a["y1"] < b["y2"] and b["y1"] < a["y2"])


@pytest.mark.parametrize("width", [1440, 390])
def test_explore_labels_do_not_overlap_in_english(browser: Browser, server: LiveServer, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 1000 if width > 500 else 844}, locale="en-US")
    tab = context.new_page()
    traffic = watch(tab, server.url)
    tab.goto(f"{server.url}/explore?lang=en&topics=1&hubs=1")
    tab.wait_for_selector("#network[data-state=ready]")
    boxes = tab.evaluate(SHOWN_LABEL_BOXES)
    # On a wide screen every district keeps its label; on a phone fewer fit (the others show on a tap).
    assert len(boxes) >= (16 if width > 500 else 6)
    assert overlapping(boxes) == 0
    if width > 500:
        screenshot(tab, "explore-en.png", full_page=False)
    assert traffic.errors == []
    context.close()


def test_explore_matrix_sort_is_kept_in_the_address(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    tab.goto(f"{server.url}/explore?lang=zh")
    tab.wait_for_selector("#network[data-state=ready]")
    tab.locator("#matrix th[data-sort=total]").click()
    assert parse_qs(urlsplit(tab.url).query)["sort"] == ["-total"]
    order = tab.evaluate("() => [...document.querySelectorAll('#matrix tbody th a')].map((a) => a.textContent)")
    tab.reload()
    tab.wait_for_selector("#network[data-state=ready]")
    assert tab.locator("#matrix th[data-sort=total]").get_attribute("aria-sort") == "descending"
    assert tab.evaluate("() => [...document.querySelectorAll('#matrix tbody th a')].map((a) => a.textContent)") == order
    traffic.assert_clean()


# ------------------------------------------------------------------ read


def test_read_address_marks_the_whole_passage(page: tuple[Page, Traffic], server: LiveServer,
                                              graph: KnowledgeGraph) -> None:
    """/read#q-S-E marks every piece of that passage (a passage is cut where others begin or end)."""
    rows = select(graph, PREFIXES + """SELECT ?start ?end ?exact WHERE { ?p a bjrd:Practice ; bjrd:evidence ?q .
        ?q oa:start ?start ; oa:end ?end ; oa:exact ?exact } ORDER BY DESC(?end - ?start) LIMIT 1""")
    start, end, exact = rows[0]["start"], rows[0]["end"], rows[0]["exact"]
    tab, traffic = page
    tab.goto(f"{server.url}/read?lang=zh#q-{start}-{end}")
    marked = tab.evaluate("() => [...document.querySelectorAll('.read-text a.targeted')].map((a) => a.textContent)")
    assert "".join(marked) == exact
    assert tab.evaluate(f"() => document.getElementById('q-{start}-{end}') !== null")
    traffic.assert_clean()
