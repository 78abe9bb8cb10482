"""District identifiers people type: another case, the Chinese name with or without 区, the English name
or the GB/T 2260 code answer 301 to the canonical id on /api/districts/{x} and /id/district/{x}; the
404 suggests close ids. Names and codes come from /api/districts."""

from urllib.parse import quote

import httpx
import pytest


@pytest.fixture(scope="module")
def districts(server: object) -> list[dict]:
    with httpx.Client(base_url=server.url) as c:  # type: ignore[attr-defined]
        return c.get("/api/districts").json()


def names_of(d: dict) -> list[str]:
    return [d["id"].upper(), d["id"].capitalize(), d["label"]["zh"], d["label"]["zh"].removesuffix("区"), d["code"],
            d["label"]["en"]]


def test_every_name_of_every_district_redirects_to_its_id(client: httpx.Client, districts: list[dict]) -> None:
    assert len(districts) == 16
    for d in districts:
        for name in names_of(d):
            for prefix, suffix in (("/api/districts/", ""), ("/id/district/", ""), ("/id/district/", ".ttl")):
                response = client.get(prefix + quote(name) + suffix)
                assert response.status_code == 301, (prefix, name)
                assert response.headers["location"] == f"{prefix}{d['id']}{suffix}"


def test_redirect_keeps_the_query_string_and_lands_on_the_district(client: httpx.Client) -> None:
    response = client.get("/id/district/" + quote("海淀"), params={"lang": "en"}, headers={"Accept": "text/html"})
    assert response.status_code == 301
    assert response.headers["location"] == "/id/district/haidian?lang=en"
    landed = client.get("/api/districts/110108", follow_redirects=True)
    assert landed.status_code == 200 and landed.json()["id"] == "haidian"


def test_canonical_id_is_not_redirected(client: httpx.Client) -> None:
    assert client.get("/api/districts/haidian").status_code == 200
    assert client.get("/id/district/haidian", headers={"Accept": "text/turtle"}).status_code == 200


@pytest.mark.parametrize("typo", ["haidain", "haidia"])
def test_unknown_district_404_suggests_close_ids(client: httpx.Client, typo: str) -> None:
    api = client.get(f"/api/districts/{typo}")
    assert api.status_code == 404
    assert "Did you mean: haidian" in api.json()["detail"]
    page = client.get(f"/id/district/{typo}", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/id/district/haidian?lang=' in page.text


def test_unknown_district_still_names_every_valid_id(client: httpx.Client, districts: list[dict]) -> None:
    detail = client.get("/api/districts/atlantis").json()["detail"]
    assert all(d["id"] in detail for d in districts)
