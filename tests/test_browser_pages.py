"""The researcher's pages in Chromium (issue 25): phones, lists, text and data both ways, compare,
and the Content-Security-Policy (issue 23) as a browser enforces it.

Same pattern as tests/test_browser.py (its fixtures and traffic record); slow-marked.
"""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from app.web.headers import SecurityHeaders
from tests.helpers import LiveServer
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
