"""The home page lists every source (issue 26 item 1): with one, the one source block as before; with two (the
MADE UP second source of tests/test_compare_years.py, published over the review desk), each source as
/api/sources reads it — title in the page's language, issue, date, district count — linked to its page and to
/read?source=ID. Real HTTP; the two-source test is slow (a publish runs the write path)."""

import html
import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.test_compare_years import SECOND, two_sources  # noqa: F401  (the fixture)


def source_cards(page: str) -> dict[str, str]:
    """The cards of the source list, by source id, in page order."""
    assert 'id="sources"' in page
    return dict(re.findall(r'<div class="card source" data-source="([^"]+)">(.*?)\n</div>', page, re.S))


def test_with_one_source_the_home_page_shows_it_as_before(client: httpx.Client) -> None:
    sources = client.get("/api/sources").json()
    assert len(sources) == 1
    page = client.get("/?lang=zh").text
    assert 'id="sources"' not in page and page.count('class="card source"') == 1
    assert html.escape(sources[0]["title"]) in page and 'href="/read?lang=zh"' in page


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_with_two_sources_the_home_page_lists_both(two_sources: tuple[httpx.Client, str], lang: str) -> None:  # noqa: F811
    w, _ = two_sources
    sources = w.get("/api/sources").json()
    assert [s["id"] for s in sources] == ["article", SECOND["id"]]  # earliest first
    page = w.get(f"/?lang={lang}").text
    cards = source_cards(page)
    assert list(cards) == [s["id"] for s in sources]
    for s in sources:
        card = html.unescape(cards[s["id"]])
        title = s["title"] if lang == "zh" else (s["title_en"] or s["title"])
        path = urlsplit(s["iri"]).path
        assert f'<a href="{path}?lang={lang}">{title}</a>' in card
        assert f'href="/read?source={s["id"]}&lang={lang}"' in card
        assert s["issued"] in card and (s["issue"] or "") in card
        count = len(s["districts"])
        assert re.search(rf"\b{count} (个区|districts?)\b", card)
        assert w.get(path, headers={"Accept": "text/html"}).status_code == 200
        read = w.get(f"/read?source={s['id']}&lang={lang}")
        assert read.status_code == 200
