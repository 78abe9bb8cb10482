"""Every page in the reader's language (issue 25 item 8): simplified Chinese as zh-Hans, the search
page's <title>, and the error pages' messages in both languages."""

import re

import httpx
import pytest

PAGES = ["/", "/read", "/search?q=代表", "/compare?districts=daxing,pinggu", "/id/district/haidian",
         "/id/mechanism/", "/id/fact/", "/ontology?format=html", "/void?format=html", "/nothing-here",
         "/id/district/nowhere"]


@pytest.mark.parametrize("path", PAGES)
def test_chinese_pages_say_zh_hans(client: httpx.Client, path: str) -> None:
    text = client.get(path, params={"lang": "zh"}, headers={"Accept": "text/html"}).text
    assert '<html lang="zh-Hans">' in text
    assert not re.search(r'\blang="zh"', text), "every Chinese element is zh-Hans"


@pytest.mark.parametrize(("lang", "title"), [("zh", "搜索：代表"), ("en", "Search: 代表")])
def test_search_title_is_in_the_page_language(client: httpx.Client, lang: str, title: str) -> None:
    text = client.get("/search", params={"q": "代表", "lang": lang}).text
    shown = re.search(r"<title>(.*?)</title>", text, re.DOTALL)
    assert shown is not None and shown.group(1).startswith(title)


@pytest.mark.parametrize("path", ["/nothing-here", "/id/district/nowhere"])
def test_not_found_pages_explain_in_chinese(client: httpx.Client, path: str) -> None:
    response = client.get(path, params={"lang": "zh"}, headers={"Accept": "text/html"})
    assert response.status_code == 404
    main = response.text.split("<main>", 1)[1].split("</main>", 1)[0]
    assert "Not Found" not in main
    visible = re.sub(r"<details.*?</details>", "", main, flags=re.DOTALL)  # the service's own words, folded
    assert "这个地址没有" in visible
    assert not re.search(r"[A-Za-z]{3,} [a-z]{3,} [a-z]{3,}", re.sub(r"<[^>]+>", "", visible)), "no English sentence"


@pytest.mark.parametrize("path", ["/id/district/haidian", "/id/practice/haidian-bill-follow-up-mechanism"])
def test_triple_tables_show_labels_and_language_tags_not_slugs(client: httpx.Client, path: str) -> None:
    text = client.get(path, params={"lang": "en"}, headers={"Accept": "text/html"}).text
    table = text[text.index('class="ld-statements"'):]
    links = re.findall(r'<a href="(/id/[^"?]+)[^"]*"[^>]*>([^<]*)</a>', table)
    assert links
    assert [(href, shown) for href, shown in links if shown == href.rsplit("/", 1)[-1]] == [], "no slug for a label"
    literals = re.findall(r'<span lang="([\w-]+)">[^<]*</span> <span class="muted lang-tag">@(\w+)</span>', table)
    assert {"zh", "en"} <= {tag for _, tag in literals}
    assert all(tag == {"zh-Hans": "zh"}.get(shown, shown) for shown, tag in literals)


@pytest.mark.parametrize("district", ["dongcheng", "tongzhou"])
def test_numbers_left_out_give_their_reason_in_the_page_language(client: httpx.Client, district: str) -> None:
    """未作为数据事实的数字: each reason in Chinese on the Chinese page, in English on the English one."""
    left_out = client.get(f"/api/districts/{district}").json()["excluded_numbers"]
    assert left_out and all(x["reason_zh"] for x in left_out)
    zh = client.get(f"/id/district/{district}?lang=zh", headers={"Accept": "text/html"}).text
    en = client.get(f"/id/district/{district}?lang=en", headers={"Accept": "text/html"}).text
    for x in left_out:
        assert f'<td lang="zh-Hans">{x["reason_zh"]}</td>' in zh and x["reason"] not in zh
        assert x["reason_zh"] not in en
