"""/curate in Chromium marks a fact whose measure word is not one of the ontology's units before publish.

The article is MADE UP by tests/test_draft_units.py (it reports nothing real; it lives under tests/). Its
朝阳 fact counts in 类, off the ontology's list: the desk says so next to that fact, and only there; once the
curator picks a listed unit the mark goes.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from app.config import Settings
from tests.helpers import LiveServer, serve_in_thread
from tests.test_browser import CHROMIUM
from tests.test_curate import TOKEN
from tests.test_curate_browser import browser, decide, open_page, sign_in_and_draft
from tests.test_draft_units import TEXT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"),
]

__all__ = ["browser"]  # the fixture, shared with tests/test_curate_browser.py


@pytest.fixture(scope="module")
def desk() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=10))


def test_an_unlisted_unit_is_marked_until_a_listed_one_is_picked(browser: Browser, desk: LiveServer) -> None:
    page, traffic = open_page(browser, desk)
    sign_in_and_draft(page, desk, TEXT)
    marks = page.locator(".proposal[data-kind=facts] > .unit-unlisted:not([hidden])")
    assert marks.count() == 1
    assert "“类” is not one of the ontology's units" in marks.first.inner_text()
    key = page.locator(".proposal[data-kind=facts]:has(> .unit-unlisted:not([hidden]))").get_attribute("data-key")
    assert page.locator(".proposal[data-kind=facts]").count() >= 4  # 人次, 场, 件 unmarked
    decide(page, str(key), "edit")
    page.select_option(f"#{key}-unit", "个")
    assert marks.count() == 0
    assert not traffic.errors and not traffic.failed
    page.context.close()
