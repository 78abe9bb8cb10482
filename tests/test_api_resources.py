"""What every /api resource does alike, as one table: districts, mechanisms, themes.

A list answers every item with its total in ``X-Total-Count`` and pages by ``limit``/``offset``
(422 naming the bad parameter); one item is ``{list}/{id}``, an unknown id is a JSON 404 naming
the valid ids; every answer carries an ETag and a matching ``If-None-Match`` gets 304.
Each resource's own content is tested in its test_api_<resource>.py.
"""

import httpx
import pytest

#: (list path, kind in the IRI and in messages, an id that exists, how many items: fixed by CONTRACT.md or None)
RESOURCES = [
    pytest.param("/api/districts", "district", "haidian", 16, id="districts"),
    pytest.param("/api/mechanisms", "mechanism", "monthly-station-visit", None, id="mechanisms"),
    pytest.param("/api/themes", "theme", "station-building", None, id="themes"),
]
COLUMNS = ("collection", "kind", "known", "count")


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_api_list_has_every_item_and_its_total(client: httpx.Client, collection: str, kind: str, known: str,
                                               count: int | None) -> None:
    response = client.get(collection)
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()]
    assert len(ids) == len(set(ids)) == (count or len(ids))
    assert known in ids
    assert response.headers["X-Total-Count"] == str(len(ids))


@pytest.mark.parametrize(COLUMNS, RESOURCES)
@pytest.mark.parametrize(("params", "start", "stop"), [
    ({"limit": 5}, 0, 5), ({"limit": 5, "offset": 3}, 3, 8), ({"offset": 14}, 14, None), ({"offset": 200}, 200, None),
    ({"limit": 1000}, 0, None),
])
def test_api_limit_offset_page_the_list(client: httpx.Client, collection: str, kind: str, known: str,
                                        count: int | None, params: dict[str, int], start: int,
                                        stop: int | None) -> None:
    full = client.get(collection).json()
    response = client.get(collection, params=params)
    assert response.status_code == 200
    assert response.json() == full[start:stop]
    assert response.headers["X-Total-Count"] == str(len(full))


@pytest.mark.parametrize(COLUMNS, RESOURCES)
@pytest.mark.parametrize(("params", "name"), [
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "all"}, "limit"), ({"offset": -1}, "offset"),
])
def test_api_bad_paging_is_422(client: httpx.Client, collection: str, kind: str, known: str, count: int | None,
                               params: dict[str, object], name: str) -> None:
    response = client.get(collection, params=params)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", name]]


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_api_item_is_the_one_asked_for(client: httpx.Client, collection: str, kind: str, known: str,
                                       count: int | None) -> None:
    response = client.get(f"{collection}/{known}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == known
    assert body["iri"].endswith(f"/id/{kind}/{known}")
    assert set(body["label"]) == {"zh", "en"}


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_api_unknown_id_is_404_naming_the_valid_ids(client: httpx.Client, collection: str, kind: str, known: str,
                                                    count: int | None) -> None:
    ids = [item["id"] for item in client.get(collection).json()]
    response = client.get(f"{collection}/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert f"Unknown {kind} id 'nowhere'" in detail
    assert all(i in detail for i in ids)


@pytest.mark.parametrize(COLUMNS, RESOURCES)
@pytest.mark.parametrize("item", [False, True], ids=["list", "item"])
def test_api_if_none_match_is_304(client: httpx.Client, collection: str, kind: str, known: str, count: int | None,
                                  item: bool) -> None:
    path = f"{collection}/{known}" if item else collection
    first = client.get(path)
    etag = first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
