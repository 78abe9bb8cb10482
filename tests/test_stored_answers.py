"""Answers of the cached read routes are stored once per graph version (app/web/caching.py), over
real HTTP: served again with the same bytes and headers, gzipped once, each encoding with its own
ETag and 304, and still with a request id and the CORS headers of their own request."""

import gzip

import httpx
import pytest

from app.web import caching

PATHS = ["/api/districts/haidian", "/api/mechanisms/shared?min_districts=2", "/api/districts?limit=3",
         "/id/district/haidian.ttl"]


def raw(client: httpx.Client, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize("path", PATHS)
def test_stored_answer_is_the_first_answer_again(client: httpx.Client, path: str) -> None:
    plain = {"Accept-Encoding": "identity"}
    (first, first_body), (second, second_body) = raw(client, path, plain), raw(client, path, plain)
    assert first.status_code == second.status_code == 200
    assert second_body == first_body
    for header in ("content-type", "content-length", "etag", "cache-control", "vary", "x-total-count"):
        assert second.headers.get(header) == first.headers.get(header), header
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert second.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", PATHS[:2])
def test_each_encoding_has_its_etag_and_304(client: httpx.Client, path: str) -> None:
    plain, plain_body = raw(client, path, {"Accept-Encoding": "identity"})
    zipped, zipped_body = raw(client, path, {"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped_body) == plain_body
    assert zipped.headers["etag"] != plain.headers["etag"]
    for response, encoding in ((plain, "identity"), (zipped, "gzip")):
        again = client.get(path, headers={"Accept-Encoding": encoding, "If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["etag"] == response.headers["etag"]
        # Made by the caching middleware, outside the CORS one: it carries the CORS headers itself.
        for header in ("access-control-allow-origin", "access-control-expose-headers"):
            assert again.headers[header] == response.headers[header], header


def test_unknown_id_is_not_stored_as_an_answer(client: httpx.Client) -> None:
    for _ in range(2):
        response = client.get("/api/districts/nowhere")
        assert response.status_code == 404
        assert "etag" not in response.headers
        assert "nowhere" in response.json()["detail"]


@pytest.mark.parametrize("probe", ["/ready", "/health", "/metrics"])
def test_probes_are_never_stored(client: httpx.Client, probe: str) -> None:
    # /ready starts like the cached /read page: a stored /ready would hide a dead worker pool.
    response = client.get(probe)
    assert response.status_code == 200
    assert "etag" not in response.headers


def test_answer_longer_than_a_stored_one_is_sent_whole_uncompressed_with_etag(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above MAX_STORED_BODY an answer is not stored (it would push every other one out) and not
    compressed per request (megabytes of gzip for each request would be a CPU sink): it goes as it is,
    with its URL's ETag, and If-None-Match still gets 304."""
    path = "/api/districts?limit=16&offset=0"
    small = raw(client, path, {"Accept-Encoding": "identity"})[1]
    monkeypatch.setattr(caching, "MAX_STORED_BODY", len(small) // 2)
    long_path = "/api/districts?offset=0&limit=16"  # the same answer under a URL not stored yet
    for _ in range(2):
        response, body = raw(client, long_path, {"Accept-Encoding": "gzip, br"})
        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        assert body == small
        assert response.headers["etag"]
    again = client.get(long_path, headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    head = client.head(long_path)
    assert head.status_code == 200 and head.content == b""


def test_304_of_an_answer_that_picks_its_own_coding_carries_the_cors_headers(client: httpx.Client) -> None:
    first = client.get("/export/practices.csv")
    again = client.get("/export/practices.csv", headers={"If-None-Match": first.headers["etag"]})
    assert first.status_code == 200 and again.status_code == 304
    for header in ("access-control-allow-origin", "access-control-expose-headers"):
        assert again.headers[header] == first.headers[header], header
