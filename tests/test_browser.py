"""The pages in a real browser: headless Debian Chromium driven by Playwright, against the live server.

Every test records what the page did: console errors, uncaught exceptions, failed requests,
responses >= 400 and requests to any host but the server must all be absent. Screenshots go to
test-output/screenshots/ (gitignored) and are copied to docs/screenshots/ for the README.

Chromium is the system one (/usr/bin/chromium); Playwright never downloads a browser here.
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.build.graph import KnowledgeGraph
from app.config import ROOT
from tests.helpers import PREFIXES, LiveServer, select

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"),
]

VISIBLE_IDS = ("""(kind) => window.kgGraph.nodes(`[kind = "${kind}"]`)"""
               """.filter((n) => n.visible()).map((n) => n.data("key"))""")


@dataclass
class Traffic:
    """What one page did on the network and in its console."""

    origin: str
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    off_origin: list[str] = field(default_factory=list)
    requests: int = 0

    def on_request(self, url: str) -> None:
        self.requests += 1
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.off_origin.append(url)

    def assert_clean(self) -> None:
        assert self.requests > 0
        assert self.errors == [], "console errors"
        assert self.failed == [], "failed requests"
        assert self.off_origin == [], "requests to other hosts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Browser, server: LiveServer) -> Iterator[tuple[Page, Traffic]]:
    """A fresh Chinese-locale page (own storage) and the record of its traffic."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    traffic = Traffic(server.url)
    page.on("console", lambda message: traffic.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: traffic.errors.append(str(error)))
    page.on("requestfailed", lambda request: traffic.failed.append(f"{request.url}: {request.failure}"))
    page.on("response", lambda response: traffic.failed.append(f"{response.url}: HTTP {response.status}")
            if response.status >= 400 else None)
    page.on("request", lambda request: traffic.on_request(request.url))
    yield page, traffic
    context.close()


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot (of the full page, or of the window for very long pages) under test-output/
    and copy it to docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=full_page)
    shutil.copyfile(path, DOC_SCREENSHOTS / name)
    return path


def follow(page: Page, selector: str) -> str:
    """Click the first link ``selector`` matches; the path it opened (which must answer 200)."""
    with page.expect_navigation() as navigation:
        page.locator(selector).first.click()
    assert navigation.value.status == 200
    return urlsplit(page.url).path


def open_explore(page: Page, server: LiveServer) -> None:
    response = page.goto(f"{server.url}/explore?lang=zh")
    assert response is not None and response.status == 200
    page.wait_for_selector("#network[data-state=ready]")


def api_mechanisms(client: httpx.Client) -> dict[str, int]:
    """Named mechanism id -> number of districts sharing it, as /api/mechanisms says (umbrella categories are
    never counted as shared, so the explore view does not draw them)."""
    return {m["id"]: len(m["districts"]) for m in client.get("/api/mechanisms").json() if m["kind"] == "named"}


#: A hub links to at least three quarters of the 16 districts; the explore view hides hubs by default.
HUB_MIN = 12


def hubs(counts: dict[str, int]) -> set[str]:
    return {m for m, n in counts.items() if n >= HUB_MIN}


def test_home_renders_without_errors(page: tuple[Page, Traffic], server: LiveServer, graph: KnowledgeGraph) -> None:
    tab, traffic = page
    tab.goto(f"{server.url}/?lang=zh")
    tab.wait_for_load_state("networkidle")
    districts = select(graph, PREFIXES + "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a bjrd:District }")[0]["n"]
    assert tab.locator("[data-stat=districts]").inner_text() == str(districts)
    assert tab.locator("a[href^='/query']").count() > 0 and tab.locator("a[href^='/explore']").count() > 0
    screenshot(tab, "home.png")
    traffic.assert_clean()


def test_query_first_example_shows_the_rows_sparql_returns(page: tuple[Page, Traffic], server: LiveServer,
                                                          client: httpx.Client, graph: KnowledgeGraph) -> None:
    tab, traffic = page
    tab.goto(f"{server.url}/query?lang=zh")
    tab.wait_for_function("() => window.kgYasgui && window.kgExamples")
    names = tab.evaluate("window.kgExamples")
    assert names == sorted(name.removeprefix("examples/") for name in graph.queries if name.startswith("examples/"))
    assert tab.locator(".tabsList .tab").count() == len(names)
    first = names[0]
    assert tab.evaluate("window.kgYasgui.getTab().getId()") == first
    title = graph.queries[f"examples/{first}"].meta["title-zh"]
    assert tab.locator(".tabsList .tab.active a > span").inner_text() == title

    answer = client.post("/sparql", data={"query": graph.queries[f"examples/{first}"].text},
                         headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, f"the first example ({first}) must be a SELECT query"
    expected = len(answer.json()["results"]["bindings"])
    assert expected > 0

    tab.locator(".tabPanel.active .yasqe_queryButton").click()
    tab.wait_for_function("() => { const r = window.kgYasgui.getTab().yasr.results; return r && r.getBindings(); }")
    assert tab.evaluate("window.kgYasgui.getTab().yasr.results.getBindings().length") == expected
    tab.locator(".tabPanel.active select.tableSizer").select_option("-1")
    rows = tab.locator(".tabPanel.active .yasr table.dataTable tbody tr")
    assert rows.count() == expected
    screenshot(tab, "query.png")
    traffic.assert_clean()


def test_query_editor_config_keeps_requests_on_origin(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    stale = ('{"namespace":"triply","val":{"endpointHistory":["https://dbpedia.org/sparql"],"tabs":["stale"],'
             '"active":"stale","tabConfig":{"stale":{"id":"stale","name":"stale","yasqe":{"value":"ASK {}"},'
             '"yasr":{"settings":{}},"requestConfig":{"endpoint":"https://dbpedia.org/sparql"}}}},'
             '"exp":2592000,"time":' + "9999999999}")
    tab.add_init_script(f"window.localStorage.setItem('yagui__config', {stale!r});")
    tab.goto(f"{server.url}/query?lang=en")
    tab.wait_for_function("() => window.kgYasgui")
    config = tab.evaluate("""() => {
        const t = window.kgYasgui.getTab();
        return { endpoint: t.getEndpoint(), tabs: Object.keys(window.kgYasgui._tabs),
                 autocompleters: t.yasqe.config.autocompleters, prefixCcApi: t.yasqe.config.prefixCcApi,
                 storage: Object.keys(window.localStorage) };
    }""")
    assert config["endpoint"] == f"{server.url}/sparql"
    assert "stale" not in config["tabs"]
    assert sorted(config["tabs"]) == sorted(tab.evaluate("window.kgExamples"))
    assert "property" not in config["autocompleters"] and "class" not in config["autocompleters"]
    assert config["prefixCcApi"] is None
    assert set(config["storage"]) <= {"yagui__config", "bjrd-kg.query"}, "YASGUI itself must not persist anything"
    traffic.assert_clean()


COUNT_QUERY = """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
SELECT ?district (COUNT(?practice) AS ?n) WHERE { ?practice bjrd:district ?district }
GROUP BY ?district ORDER BY ?district"""


@pytest.mark.slow
def test_query_results_show_prefixed_names_local_links_and_numbers(page: tuple[Page, Traffic], server: LiveServer,
                                                                 client: httpx.Client, graph: KnowledgeGraph) -> None:
    tab, traffic = page
    response = tab.goto(f"{server.url}/query?lang=en")
    assert response is not None and response.status == 200
    tab.wait_for_function("() => window.kgYasgui && window.kgYasgui.getTab()")
    first = tab.evaluate("window.kgYasgui.getTab().getYasqe().getValue()")
    assert first == graph.queries[f"examples/{tab.evaluate('window.kgExamples')[0]}"].text
    tab.evaluate("(q) => { const y = window.kgYasgui.getTab().getYasqe(); y.setValue(q); y.query(); }", COUNT_QUERY)
    tab.wait_for_function("() => { const r = window.kgYasgui.getTab().yasr.results; return r && r.getBindings(); }")
    expected = client.post("/sparql", data={"query": COUNT_QUERY},
                           headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    rows = tab.locator(".tabPanel.active .yasr table.dataTable tbody tr")
    assert rows.count() == len(expected) == 16
    base = graph.settings.base_iri
    for i, binding in enumerate(expected):
        link = rows.nth(i).locator("a.iri")
        district = binding["district"]["value"]
        assert link.inner_text() == "dist:" + district.rsplit("/", 1)[-1]
        assert link.get_attribute("href") == district.removeprefix(base)
        assert rows.nth(i).locator(".number").inner_text() == binding["n"]["value"]
    assert "^^" not in tab.locator(".tabPanel.active .yasr table.dataTable").inner_text()
    with tab.expect_navigation():
        rows.nth(0).locator("a.iri").click()
    assert urlsplit(tab.url).path == expected[0]["district"]["value"].removeprefix(base)
    traffic.assert_clean()


@pytest.mark.slow
def test_query_is_kept_across_reloads(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    tab.goto(f"{server.url}/query?lang=en")
    tab.wait_for_function("() => window.kgYasgui && window.kgYasgui.getTab()")
    names = tab.evaluate("window.kgExamples")
    tab.evaluate("(id) => { window.kgYasgui.selectTabId(id); }", names[1])
    tab.wait_for_function("(id) => window.kgYasgui.getTab().getId() === id && window.kgYasgui.getTab().getYasqe()",
                          arg=names[1])
    tab.evaluate("(q) => { window.kgYasgui.getTab().getYasqe().setValue(q); window.kgSaveQuery(); }", COUNT_QUERY)
    tab.reload()
    tab.wait_for_function("() => window.kgYasgui && window.kgYasgui.getTab() && window.kgYasgui.getTab().getYasqe()")
    assert tab.evaluate("window.kgYasgui.getTab().getId()") == names[1]
    assert tab.evaluate("window.kgYasgui.getTab().getYasqe().getValue()") == COUNT_QUERY
    assert tab.evaluate("window.kgExamples") == names
    traffic.assert_clean()


@pytest.mark.slow
def test_new_query_tab_declares_the_service_prefixes(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    tab.goto(f"{server.url}/query?lang=en")
    tab.wait_for_function("() => window.kgYasgui && window.kgYasgui.getTab()")
    tab.evaluate("() => { window.kgYasgui.addTab(true); }")
    tab.wait_for_function("() => window.kgYasgui.getTab().getYasqe()")
    text = tab.evaluate("window.kgYasgui.getTab().getYasqe().getValue()")
    editor = tab.evaluate("JSON.parse(document.getElementById('kg-editor').textContent)")
    assert editor["prefixes"]["bjrd"] == "https://bjrd-kg.example.org/ontology#"
    for prefix, namespace in editor["prefixes"].items():
        assert f"PREFIX {prefix}: <{namespace}>" in text
    # Typing a prefixed name of the service declares its prefix.
    tab.evaluate("() => { const y = window.kgYasgui.getTab().getYasqe(); y.setValue(''); y.focus(); }")
    tab.keyboard.type("SELECT * WHERE { ?d a dist:", delay=20)
    tab.wait_for_function("() => window.kgYasgui.getTab().getYasqe().getValue().includes('PREFIX dist:')")
    typed = tab.evaluate("window.kgYasgui.getTab().getYasqe().getValue()")
    assert f"PREFIX dist: <{editor['prefixes']['dist']}>" in typed
    traffic.assert_clean()


def test_explore_draws_every_district_and_the_shared_mechanisms(page: tuple[Page, Traffic], server: LiveServer,
                                                               client: httpx.Client, graph: KnowledgeGraph) -> None:
    tab, traffic = page
    open_explore(tab, server)
    districts = [d["id"] for d in client.get("/api/districts").json()]
    count = select(graph, PREFIXES + "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a bjrd:District }")[0]["n"]
    assert len(districts) == count == 16
    assert sorted(tab.evaluate(VISIBLE_IDS, "district")) == sorted(districts)
    counts = api_mechanisms(client)
    assert hubs(counts), "some mechanism links to most districts"
    shared = {m for m, n in counts.items() if n >= 2} - hubs(counts)
    assert set(tab.evaluate(VISIBLE_IDS, "mechanism")) == shared
    assert tab.locator("#matrix tbody tr").count() == count
    assert tab.locator("#matrix thead th.mech").count() == len(shared)
    tab.wait_for_timeout(200)
    screenshot(tab, "explore.png")
    traffic.assert_clean()


def test_explore_min_districts_3_hides_mechanisms_shared_by_fewer(page: tuple[Page, Traffic], server: LiveServer,
                                                                   client: httpx.Client) -> None:
    tab, traffic = page
    open_explore(tab, server)
    tab.fill("#min-districts", "3")
    counts = api_mechanisms(client)
    visible = set(tab.evaluate(VISIBLE_IDS, "mechanism"))
    assert visible == {m for m, n in counts.items() if n >= 3} - hubs(counts)
    assert all(counts[m] >= 3 for m in visible)
    assert not visible & {m for m, n in counts.items() if n < 3}
    assert len(tab.evaluate(VISIBLE_IDS, "district")) == 16
    headers = tab.locator("#matrix thead th.mech").all()
    assert len(headers) == len(visible)
    traffic.assert_clean()


def test_explore_topic_layer_shows_the_shared_topics_when_asked(page: tuple[Page, Traffic], server: LiveServer,
                                                                 client: httpx.Client) -> None:
    tab, traffic = page
    open_explore(tab, server)
    topics = client.get("/api/topics").json()
    assert tab.evaluate(VISIBLE_IDS, "topic") == []
    tab.check("#topics")
    # named topics only: an umbrella grouping reaches several districts but is never drawn (data/README.md)
    assert set(tab.evaluate(VISIBLE_IDS, "topic")) == {t["id"] for t in topics
                                                       if len(t["districts"]) >= 2 and t["kind"] == "named"}
    assert "topics=1" in tab.url
    tab.fill("#min-districts", "3")
    assert set(tab.evaluate(VISIBLE_IDS, "topic")) == {t["id"] for t in topics
                                                       if len(t["districts"]) >= 3 and t["kind"] == "named"}
    tab.uncheck("#topics")
    assert tab.evaluate(VISIBLE_IDS, "topic") == []
    traffic.assert_clean()


def test_explore_theme_filter_keeps_the_theme_mechanisms(page: tuple[Page, Traffic], server: LiveServer,
                                                         client: httpx.Client) -> None:
    tab, traffic = page
    open_explore(tab, server)
    counts = api_mechanisms(client)
    themes = client.get("/api/themes").json()
    theme = max(themes, key=lambda t: len(t["mechanisms"]))
    detail = client.get(f"/api/themes/{theme['id']}").json()
    in_theme = {m["id"] if isinstance(m, dict) else m for m in detail["mechanisms"]}
    tab.select_option("#theme", theme["id"])
    tab.wait_for_selector("#network[data-state=ready]")
    assert set(tab.evaluate(VISIBLE_IDS, "mechanism")) == {m for m in in_theme if 2 <= counts.get(m, 0) < HUB_MIN}
    traffic.assert_clean()


def test_explore_matrix_sorts_by_a_clicked_header(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    open_explore(tab, server)
    header = tab.locator("#matrix thead th.mech").nth(3)
    mechanism = header.get_attribute("data-sort")
    column = "() => [...document.querySelectorAll('#matrix thead th')].findIndex((th) => th.dataset.sort === %r)"
    for order in ("descending", "ascending"):
        tab.locator(f"#matrix thead th[data-sort='{mechanism}']").click()
        assert tab.locator(f"#matrix thead th[data-sort='{mechanism}']").get_attribute("aria-sort") == order
        index = tab.evaluate(column % mechanism)
        values = tab.evaluate("(i) => [...document.querySelectorAll('#matrix tbody tr')].map((tr) => "
                              "Number(tr.children[i].dataset.value))", index)
        assert values == sorted(values, reverse=order == "descending")
        assert 0 < sum(values) < len(values)
    traffic.assert_clean()


def test_explore_csv_link_downloads_the_matrix_shown(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    open_explore(tab, server)
    link = tab.locator("#matrix-csv")
    assert link.get_attribute("download") == "district-mechanism-matrix.csv"
    with tab.expect_download() as download:
        link.click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    shown = tab.evaluate("() => [...document.querySelectorAll('#matrix thead th.mech')].map((th) => th.dataset.sort)")
    assert lines[0].split(",") == ["district", *shown]
    assert len(lines) == 2 + 16
    traffic.assert_clean()


def test_explore_clicking_a_district_opens_its_page(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    open_explore(tab, server)
    # A district whose centre no other node covers, in page coordinates.
    target = tab.evaluate("""() => {
        const cy = window.kgGraph, box = cy.container().getBoundingClientRect();
        const visible = cy.nodes().filter((n) => n.visible());
        for (const node of visible.filter((n) => n.data("kind") === "district")) {
            const p = node.renderedPosition();
            const covered = visible.some((o) => o !== node && (() => {
                const b = o.renderedBoundingBox({ includeLabels: false });
                return p.x >= b.x1 && p.x <= b.x2 && p.y >= b.y1 && p.y <= b.y2; })());
            if (!covered) return { id: node.data("key"), x: box.left + p.x, y: box.top + p.y };
        }
        return null;
    }""")
    assert target is not None
    traffic.assert_clean()
    with tab.expect_navigation() as navigation:
        tab.mouse.click(target["x"], target["y"])
    assert urlsplit(tab.url).path == f"/id/district/{target['id']}"
    assert navigation.value.status == 200


# ------------------------------------------------------------------ explore: hubs, address, highlight, layout


def address(tab: Page) -> dict[str, list[str]]:
    """The page's query parameters as the page itself sees them (history.replaceState is synchronous
    there; Playwright's page.url learns of it a moment later)."""
    return parse_qs(tab.evaluate("location.search").lstrip("?"))


@pytest.mark.slow
def test_explore_filters_are_kept_in_the_address(page: tuple[Page, Traffic], server: LiveServer,
                                                 client: httpx.Client) -> None:
    tab, traffic = page
    open_explore(tab, server)
    counts = api_mechanisms(client)
    tab.fill("#min-districts", "3")
    assert address(tab)["min"] == ["3"]
    tab.check("#hubs")
    assert address(tab)["hubs"] == ["1"]
    assert set(tab.evaluate(VISIBLE_IDS, "mechanism")) == {m for m, n in counts.items() if n >= 3}
    tab.select_option("#district", "daxing")
    shared_url = tab.evaluate("location.href")
    assert address(tab)["district"] == ["daxing"]
    # The address alone reproduces the view.
    tab.goto(shared_url)
    tab.wait_for_selector("#network[data-state=ready]")
    assert tab.input_value("#min-districts") == "3" and tab.is_checked("#hubs")
    assert tab.input_value("#district") == "daxing"
    assert set(tab.evaluate(VISIBLE_IDS, "mechanism")) == {m for m, n in counts.items() if n >= 3}
    tab.uncheck("#hubs")
    assert "hubs" not in address(tab)
    assert set(tab.evaluate(VISIBLE_IDS, "mechanism")) == {m for m, n in counts.items() if 3 <= n < HUB_MIN}
    traffic.assert_clean()


@pytest.mark.slow
def test_explore_district_selector_highlights_its_mechanisms_and_neighbours(
        page: tuple[Page, Traffic], server: LiveServer, client: httpx.Client) -> None:
    tab, traffic = page
    open_explore(tab, server)
    tab.select_option("#district", "pinggu")
    counts = api_mechanisms(client)
    mechanisms = client.get("/api/mechanisms").json()
    own = {m["id"] for m in mechanisms if "pinggu" in m["districts"] and 2 <= counts.get(m["id"], 0) < HUB_MIN}
    neighbours = {d for m in mechanisms if m["id"] in own for d in m["districts"]}
    lit = tab.evaluate("""() => window.kgGraph.nodes().filter((n) => n.visible() && !n.hasClass("dimmed"))
        .map((n) => n.data("kind") + ":" + n.data("key"))""")
    assert set(lit) == {f"mechanism:{m}" for m in own} | {f"district:{d}" for d in neighbours}
    assert tab.locator("#matrix tbody tr.chosen").get_attribute("data-district") == "pinggu"
    link = tab.locator("#compare-link")
    assert link.is_visible()
    compared = parse_qs(urlsplit(link.get_attribute("href")).query)["districts"][0].split(",")
    assert compared[0] == "pinggu" and len(compared) == 3 and set(compared[1:]) <= neighbours
    with tab.expect_navigation() as navigation:
        link.click()
    assert navigation.value.status == 200 and urlsplit(tab.url).path == "/compare"
    traffic.assert_clean()


@pytest.mark.slow
def test_explore_matrix_scrolls_in_its_box_with_whole_headers(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    open_explore(tab, server)
    tab.check("#hubs")
    tab.fill("#min-districts", "1")
    box = tab.evaluate("""() => { const w = document.querySelector('.matrix-wrap');
        return { client: w.clientWidth, scroll: w.scrollWidth, page: document.documentElement.scrollWidth,
                 window: window.innerWidth, overflow: getComputedStyle(w).overflowX }; }""")
    assert box["scroll"] > box["client"], "the full matrix is wider than its box"
    assert box["overflow"] == "auto" and box["page"] <= box["window"], "it scrolls inside the box, not the page"
    cut = tab.evaluate("""() => [...document.querySelectorAll('#matrix thead th.mech span')]
        .filter((s) => s.scrollHeight > s.clientHeight + 1 || s.scrollWidth > s.clientWidth + 1)
        .map((s) => s.textContent)""")
    assert cut == []
    labels = tab.evaluate("() => [...document.querySelectorAll('#matrix thead th.mech span')]"
                          ".map((s) => s.textContent)")
    assert all("…" not in text for text in labels)
    traffic.assert_clean()


@pytest.mark.slow
def test_explore_labels_are_legible(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    open_explore(tab, server)
    sizes = tab.evaluate("""() => { const cy = window.kgGraph, z = cy.zoom();
        return cy.nodes().filter((n) => n.visible()).map((n) => parseFloat(n.style('font-size')) * z); }""")
    assert min(sizes) >= 11.9
    traffic.assert_clean()


@pytest.mark.slow
def test_explore_is_usable_on_a_phone(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True,
                                  has_touch=True)
    tab = context.new_page()
    traffic = Traffic(server.url)
    tab.on("console", lambda message: traffic.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: traffic.errors.append(str(error)))
    tab.on("request", lambda request: traffic.on_request(request.url))
    tab.goto(f"{server.url}/explore?lang=en&district=pinggu")
    tab.wait_for_selector("#network[data-state=ready]")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390, "nothing sticks out sideways"
    network = tab.locator("#network").bounding_box()
    assert network is not None and network["width"] >= 300 and network["height"] >= 400
    assert tab.locator("#district").bounding_box()["width"] <= 390  # type: ignore[index]
    screenshot(tab, "explore-phone.png")
    traffic.assert_clean()
    context.close()


# ------------------------------------------------------------------ search, compare, district page


@pytest.mark.slow
def test_search_page_shows_the_hits_with_their_passages(page: tuple[Page, Traffic], server: LiveServer,
                                                        graph: KnowledgeGraph) -> None:
    tab, traffic = page
    q = "月进站"
    # What must be found, from the graph: every entity whose label, definition or quote has the text.
    expected = {(r["e"].rsplit("/", 1)[-1]) for r in select(graph, PREFIXES + f"""
        SELECT DISTINCT ?e WHERE {{
          VALUES ?class {{ bjrd:District bjrd:Mechanism bjrd:Theme bjrd:Practice bjrd:Fact }}
          ?e a ?class ; rdfs:label|skos:definition|bjrd:evidence/oa:exact|bjrd:paragraph/oa:exact ?t
          FILTER(CONTAINS(STR(?t), "{q}")) }}""")}
    assert expected
    response = tab.goto(f"{server.url}/search?q={q}&lang=zh")
    assert response is not None and response.status == 200
    shown = set(tab.evaluate("() => [...document.querySelectorAll('li.search-hit')].map((li) => li.dataset.id)"))
    assert shown == expected
    marks = tab.evaluate("() => [...document.querySelectorAll('li.search-hit mark')].map((m) => m.textContent)")
    assert marks and all(q in m for m in marks)
    tab.fill("header.site .site-search input[name=q]", "subdistricts")
    with tab.expect_navigation():
        tab.press("header.site .site-search input[name=q]", "Enter")
    assert parse_qs(urlsplit(tab.url).query)["q"] == ["subdistricts"]
    assert tab.locator("li.search-hit").count() > 0
    tab.goto(f"{server.url}/search?q={q}&lang=zh")
    screenshot(tab, "search.png")
    traffic.assert_clean()


@pytest.mark.slow
def test_compare_page_shows_three_districts_side_by_side(page: tuple[Page, Traffic], server: LiveServer,
                                                         client: httpx.Client) -> None:
    tab, traffic = page
    ids = ["daxing", "pinggu", "yanqing"]
    api = client.get("/api/compare", params={"districts": ",".join(ids)}).json()
    response = tab.goto(f"{server.url}/compare?districts={','.join(ids)}&lang=zh")
    assert response is not None and response.status == 200
    rows = tab.evaluate("() => [...document.querySelectorAll('#shared-mechanisms tr.shared-row')]"
                        ".map((r) => r.dataset.id)")
    assert rows == [m["id"] for m in api["shared"]["mechanisms"] + api["shared"]["umbrellas"]]
    columns = tab.evaluate("() => [...document.querySelectorAll('.only-column')].map((c) => c.dataset.district)")
    assert columns == ids
    assert tab.locator("#compare-facts tbody tr").count() == sum(max(1, len(g["facts"])) for g in api["facts"])
    # The picker builds the districts parameter.
    tab.locator(".compare-picker summary").click()
    tab.check(".district-checks input[value=miyun]")
    with tab.expect_navigation():
        tab.locator("#compare-form button").click()
    assert parse_qs(urlsplit(tab.url).query)["districts"] == [",".join(sorted([*ids, "miyun"],
        key=[d["id"] for d in client.get("/api/districts").json()].index))]
    tab.goto(f"{server.url}/compare?districts={','.join(ids)}&lang=zh")
    screenshot(tab, "compare.png")
    traffic.assert_clean()


@pytest.mark.slow
def test_district_page_renders_with_similar_districts(page: tuple[Page, Traffic], server: LiveServer,
                                                      client: httpx.Client) -> None:
    tab, traffic = page
    response = tab.goto(f"{server.url}/id/district/daxing?lang=zh")
    assert response is not None and response.status == 200
    similar = [s["id"] for s in client.get("/api/districts/daxing/similar").json()]
    shown = tab.evaluate("() => [...document.querySelectorAll('#similar li')].map((li) => li.dataset.district)")
    assert shown == similar[:len(shown)] and shown
    screenshot(tab, "district.png")
    with tab.expect_navigation() as navigation:
        tab.locator("#similar li a").first.click()
    assert navigation.value.status == 200
    assert parse_qs(urlsplit(tab.url).query)["districts"] == [f"daxing,{similar[0]}"]
    traffic.assert_clean()


@pytest.mark.slow
def test_read_page_links_highlights_to_practices(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    response = tab.goto(f"{server.url}/read?lang=zh")
    assert response is not None and response.status == 200
    first = tab.locator("#daxing a.hl").first
    practice = first.get_attribute("data-practice")
    screenshot(tab, "read.png")
    with tab.expect_navigation() as navigation:
        first.click()
    assert navigation.value.status == 200 and urlsplit(tab.url).path == f"/id/practice/{practice}"
    traffic.assert_clean()


@pytest.mark.slow
def test_article_page_shows_author_quotes_and_opens_the_text(page: tuple[Page, Traffic], server: LiveServer,
                                                             graph: KnowledgeGraph) -> None:
    tab, traffic = page
    response = tab.goto(f"{server.url}/id/source/article?lang=zh")
    assert response is not None and response.status == 200
    article = graph.iri("source", "article")
    quotes = select(graph, PREFIXES + "SELECT (COUNT(DISTINCT ?q) AS ?n) WHERE "
                    f"{{ ?q dcterms:source <{article}> ; oa:exact ?e }}")[0]["n"]
    assert tab.locator("table.citations tbody tr").count() == quotes
    assert tab.locator(".ld-author a").inner_text() == "薛睿杰"
    screenshot(tab, "article.png", full_page=False)  # 219 rows: the window shows what the page is
    assert follow(tab, "a.read-link") == "/read"
    tab.go_back()
    assert follow(tab, ".ld-author a") == "/id/person/xue-ruijie"
    traffic.assert_clean()


@pytest.mark.slow
def test_ontology_page_links_its_version_iri(page: tuple[Page, Traffic], server: LiveServer) -> None:
    tab, traffic = page
    response = tab.goto(f"{server.url}/ontology?lang=zh")
    assert response is not None and response.status == 200
    version = tab.locator(".ld-version .version-info").inner_text()
    assert follow(tab, ".ld-version a") == f"/ontology/{version}"
    assert tab.locator(".ld-version .version-info").inner_text() == version
    traffic.assert_clean()


@pytest.mark.slow
def test_home_download_links_fetch_the_release_and_the_tables(page: tuple[Page, Traffic], server: LiveServer,
                                                             client: httpx.Client) -> None:
    tab, traffic = page
    tab.goto(f"{server.url}/?lang=zh")
    release = client.get("/export/SHA256SUMS").headers["x-release"]
    hrefs = tab.evaluate(
        "() => [...document.querySelectorAll('.release a, .tables a')].map((a) => a.getAttribute('href'))")
    assert f"/export/{release}/bjrd-kg.ttl" in hrefs and "/export/practices.csv" in hrefs
    for href in hrefs:
        assert client.get(href).status_code == 200, href
    traffic.assert_clean()
