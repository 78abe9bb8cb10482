"""Compression and cache lifetimes over real HTTP: text answers of 1 KB or more are sent in br
(when the brotli package is installed) or gzip to clients that accept it (and decompress to the
same bytes), by Accept-Encoding q-values; smaller ones are not compressed, already-encoded dumps
are not encoded twice; vendored builds are addressed by version and cached for a year."""

import gzip
import re

import httpx
import pytest

from app.main import GZIP_MIN_BYTES
from app.rdf.codings import AVAILABLE, brotli
from app.web.templating import VENDOR_VERSION


def raw(client: httpx.Client, path: str, encoding: str | None) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (not decoded)."""
    headers = {"Accept-Encoding": encoding} if encoding else {"Accept-Encoding": "identity"}
    with client.stream("GET", path, headers=headers) as response:
        body = b"".join(response.iter_raw())
    return response, body


TEXT_PATHS = ["/api/mechanisms", "/api/districts/haidian", "/?lang=zh", "/id/district/haidian.ttl",
                                  "/static/vendor/cytoscape/cytoscape.min.js", "/static/js/explore.js",
                                  "/openapi.json"]


def decode(body: bytes, coding: str) -> bytes:
    if coding == "br":
        assert brotli is not None
        decoded: bytes = brotli.decompress(body)
        return decoded
    return gzip.decompress(body)


@pytest.mark.parametrize("path", TEXT_PATHS)
@pytest.mark.parametrize(("accept", "coding"), [
    ("gzip", "gzip"),
    ("gzip, deflate, br", AVAILABLE[0]),  # a browser: br when this server has it
    ("br;q=0, gzip", "gzip"),
    ("br, gzip;q=0.5", AVAILABLE[0]),
])
def test_text_answers_over_a_kilobyte_are_compressed(client: httpx.Client, path: str, accept: str,
                                                     coding: str) -> None:
    plain, plain_body = raw(client, path, None)
    assert plain.status_code == 200 and len(plain_body) >= GZIP_MIN_BYTES
    assert "content-encoding" not in plain.headers
    packed, packed_body = raw(client, path, accept)
    assert packed.headers["content-encoding"] == coding
    assert "Accept-Encoding" in packed.headers["vary"]
    assert decode(packed_body, coding) == plain_body
    assert len(packed_body) < len(plain_body)


@pytest.mark.skipif(brotli is None, reason="the optional brotli package is not installed")
def test_brotli_is_smaller_than_gzip_for_the_vendored_javascript(client: httpx.Client) -> None:
    path = "/static/vendor/cytoscape/cytoscape.min.js"
    _, br_body = raw(client, path, "br")
    _, gz_body = raw(client, path, "gzip")
    assert decode(br_body, "br") == gzip.decompress(gz_body)
    assert len(br_body) < len(gz_body)


@pytest.mark.parametrize("accept", ["gzip", "br, gzip"])
def test_small_answers_are_not_compressed(client: httpx.Client, accept: str) -> None:
    response, body = raw(client, "/health", accept)
    assert len(body) < GZIP_MIN_BYTES and "content-encoding" not in response.headers


def test_gzipped_dump_is_encoded_once(client: httpx.Client) -> None:
    plain, plain_body = raw(client, "/export?format=turtle", None)
    zipped, zipped_body = raw(client, "/export?format=turtle", "gzip")
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped_body) == plain_body


@pytest.mark.parametrize("page", ["/explore", "/query", "/docs"])
def test_pages_load_vendored_builds_by_version(client: httpx.Client, page: str) -> None:
    html = client.get(page).text
    vendored = re.findall(r'(?:src|href|url)\s*[=:]\s*["\'](/static/vendor/[^"\']+)["\']', html)
    assert vendored
    for url in vendored:
        assert url.endswith(f"?v={VENDOR_VERSION}"), url
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_own_assets_are_revalidated_after_minutes(client: httpx.Client) -> None:
    for path in ("/static/js/explore.js", "/static/pages.css"):
        assert client.get(path).headers["cache-control"] == "public, max-age=300"


@pytest.mark.parametrize("path", [*TEXT_PATHS, "/export?format=turtle", "/export/practices.csv", "/export/SHA256SUMS",
                                  "/export?source=article&format=nquads", "/sparql?query=ASK%7B%7D", "/void"])
@pytest.mark.parametrize("encoding", ["gzip", "identity", None])
def test_one_vary_line_names_each_header_once(client: httpx.Client, path: str, encoding: str | None) -> None:
    response, _ = raw(client, path, encoding)
    assert response.status_code == 200
    lines = response.headers.get_list("vary")
    assert len(lines) <= 1, lines
    names = [n.strip().lower() for n in (lines[0] if lines else "").split(",") if n.strip()]
    assert len(names) == len(set(names)), lines[0]
