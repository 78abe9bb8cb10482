"""The review desk (/curate) in a real browser: headless Debian Chromium driven by Playwright.

A curator authenticates, drafts an article MADE UP by this test (tests/test_curate.py writes it; it
reports nothing real), accepts, edits and rejects proposals, adds a fact by selecting text, publishes;
a publish the shapes refuse is explained next to the proposal concerned, and the decisions survive
a reload; at 390×844 the page is no wider than the screen. The routes then answer with the new
source; its graph is deleted afterwards.
"""

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.config import Settings
from tests.helpers import LiveServer, serve_in_thread
from tests.test_browser import CHROMIUM, LAUNCH_ARGS, SCREENSHOTS, TIMEOUT_MS, Traffic
from tests.test_curate import AUTH, SOURCE, TOKEN, known_mechanism, made_up_article

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"),
]

#: The answers the desk expects on its way: the page without a token (401) and a refused publish (422).
EXPECTED = ("/curate", "/api/drafts/publish")


@pytest.fixture(scope="module")
def desk() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=10))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


def open_page(browser: Browser, desk: LiveServer, **options: object) -> tuple[Page, Traffic]:
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "en-US", **options})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    traffic = Traffic(desk.url)
    page.on("console", lambda m: traffic.errors.append(m.text) if m.type == "error"
            and "401" not in m.text and "422" not in m.text else None)
    page.on("pageerror", lambda error: traffic.errors.append(str(error)))
    page.on("requestfailed", lambda request: traffic.failed.append(f"{request.url}: {request.failure}"))
    page.on("response", lambda r: traffic.failed.append(f"{r.url}: HTTP {r.status}")
            if r.status >= 400 and not r.url.split("?")[0].endswith(EXPECTED) else None)
    page.on("request", lambda request: traffic.on_request(request.url))
    return page, traffic


def sign_in_and_draft(page: Page, desk: LiveServer, text: str, lang: str = "en", upload: bool = False) -> None:
    response = page.goto(f"{desk.url}/curate?lang={lang}")
    assert response is not None and response.status == 401
    assert "Authorization: Bearer" in page.locator("#auth-explain").inner_text()
    assert page.locator("#desk").is_hidden()
    page.fill("#token", TOKEN)
    page.click("#token-go")
    page.wait_for_selector("#desk:not([hidden])")
    page.fill("#source-id", SOURCE["id"])
    page.fill("#source-title", SOURCE["title"])
    page.fill("#source-issued", SOURCE["issued"])
    if upload:
        page.set_input_files("#source-file", files=[{"name": "made-up.txt", "mimeType": "text/plain",
                                                     "buffer": text.encode("utf-8")}])
        page.wait_for_function("(text) => document.getElementById('source-text').value === text", arg=text)
    else:
        page.fill("#source-text", text)
    page.click("#draft-go")
    page.wait_for_selector("#proposals .practice")


def decide(page: Page, key: str, what: str) -> None:
    page.click(f'[data-key="{key}"] > .decide .{what}')


def keys_of(page: Page, selector: str) -> list[str]:
    return list(page.eval_on_selector_all(selector, "(ns) => ns.map((n) => n.dataset.key)"))


def select_in_article(page: Page, words: str) -> None:
    """Select ``words`` in the article as a curator would, with the mouse's Range."""
    page.evaluate("""(words) => {
        const span = [...document.querySelectorAll('#article > span')].find((s) => s.textContent.includes(words));
        const node = span.firstChild, at = node.textContent.indexOf(words);
        const range = document.createRange();
        range.setStart(node, at); range.setEnd(node, at + words.length);
        const sel = document.getSelection(); sel.removeAllRanges(); sel.addRange(range);
    }""", words)
    page.wait_for_selector("#add-go:not([disabled])")


def test_accept_edit_reject_add_refused_then_published(browser: Browser, desk: LiveServer) -> None:
    with httpx.Client(base_url=desk.url, timeout=120) as w:
        label, mechanism = known_mechanism()
        theme = w.get("/api/themes").json()[0]["id"]
        text = made_up_article(label)
        page, traffic = open_page(browser, desk)
        sign_in_and_draft(page, desk, text)
        keys = page.eval_on_selector_all("[data-key]", "(nodes) => nodes.map((n) => n.dataset.key)")
        assert {"p1", "p2"} <= set(keys)
        assert page.locator("#article span.p").count() > 0 and page.locator("#article span.u").count() > 0
        # A click on an underlined passage opens its proposal.
        page.locator("#article span.u").first.click()
        opened = page.locator("#proposals .proposal.open")
        assert opened.count() == 1 and opened.first.locator("q").inner_text() in text
        # Dongcheng: accept the practice and its known mechanism, edit the new one, reject its date.
        decide(page, "p1", "accept")
        page.fill("#p1-label_en", "Made-up practice of Dongcheng")
        page.locator("#p1-label_en").dispatch_event("change")
        page.select_option("#p1-themes", theme)
        m_keys = page.eval_on_selector_all(
            '[data-key="p1"] [data-kind="mechanisms"]',
            "(ns) => ns.map((n) => [n.dataset.key, n.querySelector('.title').textContent])")
        known_key = next(k for k, title in m_keys if title.startswith(mechanism))
        new_key = next(k for k, title in m_keys if "街巷议事厅" in title)
        decide(page, known_key, "accept")
        decide(page, new_key, "edit")
        for name, value in (("label_en", "Street deliberation hall"), ("definition_zh", "街巷中的议事场所（编造）。"),
                            ("definition_en", "A made-up deliberation place in the lanes.")):
            page.fill(f"#{new_key}-{name}", value)
            page.locator(f"#{new_key}-{name}").dispatch_event("change")
        assert "edited" in page.locator(f'[data-key="{new_key}"]').get_attribute("class")  # type: ignore[operator]
        for key in keys_of(page, '[data-key="p1"] [data-kind="facts"]'):
            decide(page, key, "accept")
            decide(page, key, "edit")
            page.fill(f"#{key}-counts_en", "work rules")
            page.locator(f"#{key}-counts_en").dispatch_event("change")
        date_key = page.eval_on_selector('[data-key="p1"] [data-kind="dates"]', "(n) => n.dataset.key")
        decide(page, date_key, "reject")
        assert "rejected" in page.locator(f'[data-key="{date_key}"]').get_attribute("class")  # type: ignore[operator]
        # Haidian: accept the practice (its English label forgotten) and its facts; add a fact by selection.
        decide(page, "p2", "accept")
        page.select_option("#p2-themes", theme)
        for key in keys_of(page, '[data-key="p2"] [data-kind="facts"]'):
            decide(page, key, "accept")
            decide(page, key, "edit")
            page.fill(f"#{key}-counts_en", "members")
            page.locator(f"#{key}-counts_en").dispatch_event("change")
        select_in_article(page, "专家库")
        start = text.index("专家库")
        assert page.locator("#selection").inner_text() == f"“专家库” ({start}–{start + 3})"
        page.select_option("#add-kind", "fact")
        assert page.locator("#add-practice").input_value() == "p2"  # the practice holding the selection
        page.click("#add-go")
        page.wait_for_selector('[data-key="a1"]')
        for name, value in (("value", "1"), ("counts", "专家库"), ("counts_en", "expert pools")):
            page.fill(f"#a1-{name}", value)
            page.locator(f"#a1-{name}").dispatch_event("change")
        page.select_option("#a1-unit", "个")

        # Refused: the shapes want Haidian's practice in English too; said next to it, nothing lost.
        before = w.get("/health").json()["triples"]
        page.click("#publish")
        page.wait_for_selector('[data-key="p2"] > .violations .violation', timeout=120_000)
        assert "English label" in page.locator('[data-key="p2"] > .violations').inner_text()
        assert "English label" in page.locator("#publish-status").inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "curate-refused.png"), full_page=True)
        assert w.get("/health").json()["triples"] == before
        page.reload()
        page.wait_for_selector('[data-key="a1"]')
        assert page.locator("#p1-label_en").input_value() == "Made-up practice of Dongcheng"
        assert "rejected" in page.locator(f'[data-key="{date_key}"]').get_attribute("class")  # type: ignore[operator]
        assert page.locator("#a1-unit").input_value() == "个"
        assert page.locator('[data-key="p2"] > .violations .violation').count() > 0  # the explanation too

        # Fixed and published.
        page.fill("#p2-label_en", "Made-up expert pool of Haidian")
        page.locator("#p2-label_en").dispatch_event("change")
        page.click("#publish")
        page.wait_for_selector("#publish-status.published", timeout=120_000)
        traffic.assert_clean()
        try:
            base = desk.graph.settings.base_iri
            dong = next(p for p in w.get("/api/districts/dongcheng").json()["practices"]
                        if p["iri"] == f"{base}/id/practice/{SOURCE['id']}-dongcheng-1")
            assert mechanism in dong["mechanisms"] and dong["themes"] == [theme]
            assert dong.get("date") is None  # the rejected 今年 was not published
            assert any(m["label"]["en"] == "Street deliberation hall" for m in w.get("/api/mechanisms").json())
            facts = w.get("/api/districts/haidian").json()["facts"]
            assert (1, "个") in {(f["value"], f["unit"]) for f in facts}
            assert any(f["quote"] == "专家库" for f in facts)
        finally:
            graph = f"{base}/graph/source/{SOURCE['id']}"
            assert w.delete("/graph-store", params={"graph": graph}, headers=AUTH).status_code == 204


def test_the_desk_fits_a_phone(browser: Browser, desk: LiveServer) -> None:
    page, traffic = open_page(browser, desk, viewport={"width": 390, "height": 844}, is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    sign_in_and_draft(page, desk, made_up_article("代表家站"), lang="zh", upload=True)
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator('[data-key="p1"] > .decide .accept').inner_text() == "接受"
    decide(page, "p1", "edit")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "curate-phone.png"))
    assert page.locator("#proposals").bounding_box()["width"] <= 390  # type: ignore[index]
    traffic.assert_clean()


def test_the_page_counts_the_texts_bytes_against_the_limit(browser: Browser, desk: LiveServer) -> None:
    """Beside the text box: the limit (KG_MAX_LITERAL_BYTES, in bytes) and the text's size as the server counts
    it (UTF-8 bytes), updated as the text is typed or uploaded, marked once it is over."""
    page, traffic = open_page(browser, desk, viewport={"width": 390, "height": 844}, is_mobile=True)
    text = made_up_article("代表家站")
    sign_in_and_draft(page, desk, text, upload=True)
    limit = Settings().max_literal_bytes
    assert page.locator("#max-bytes").inner_text() == f"{limit:,}"
    assert page.locator("#text-bytes").inner_text() == f"{len(text.encode('utf-8')):,}"
    assert "error" not in (page.locator("#text-limit").get_attribute("class") or "")
    page.fill("#source-text", "东" * (limit // 3 + 1))
    assert page.locator("#text-bytes").inner_text() == f"{3 * (limit // 3 + 1):,}"
    assert "error" in (page.locator("#text-limit").get_attribute("class") or "")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#draft-form").screenshot(path=str(SCREENSHOTS / "curate-limit.png"))
    traffic.assert_clean()
