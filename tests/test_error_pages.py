"""Errors by who asks: a browser (Accept prefers text/html) gets an HTML page on every path outside
/api/ and /sparql; API clients keep JSON (/api/*, the framework's errors) or text/plain (RDF routes, /sparql)."""

import httpx
import pytest

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/no/such/page", 404),
    ("GET", "/id/district/atlantis", 404),
    ("GET", "/export?format=bogus", 400),
    ("GET", "/search?q=" + "x" * 201, 422),
    ("DELETE", "/", 405),
    ("POST", "/explore", 405),
])
def test_browser_gets_an_html_error_page(client: httpx.Client, method: str, path: str, status: int) -> None:
    response = client.request(method, path, headers={"Accept": BROWSER, "Accept-Language": "en"})
    assert response.status_code == status
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert f'data-status="{status}"' in response.text or status == 404 and "404" in response.text
    assert 'action="/search"' in response.text


def test_browser_404_offers_to_search_for_the_last_path_segment(client: httpx.Client) -> None:
    response = client.get("/districts/haidian", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert 'name="q" value="haidian"' in response.text


@pytest.mark.parametrize(("method", "path", "status", "accept"), [
    ("GET", "/no/such/page", 404, None),
    ("GET", "/no/such/page", 404, "application/json"),
    ("GET", "/api/nothing", 404, BROWSER),
    ("GET", "/api/districts/atlantis", 404, BROWSER),
    ("DELETE", "/", 405, "*/*"),
    ("GET", "/search?q=" + "x" * 201, 422, "application/json"),
])
def test_api_clients_keep_json_errors(client: httpx.Client, method: str, path: str, status: int,
                                      accept: str | None) -> None:
    response = client.request(method, path, headers={"Accept": accept} if accept else {})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()


def test_sparql_errors_stay_plain_text_for_browsers(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": "SELEKT"}, headers={"Accept": BROWSER})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
