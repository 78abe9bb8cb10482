"""The /api routes are documented: /openapi.json has a description, a response schema and a real
example for each; the examples validate against the response models and agree with live answers."""

from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from app.api.examples import example
from app.api.models import (
    Comparison,
    DistrictDetail,
    DistrictSummary,
    Matrix,
    MechanismDetail,
    MechanismSummary,
    SearchResults,
    SimilarDistrict,
    ThemeDetail,
    TopicDetail,
    TopicSummary,
)
from tests.helpers import LiveServer

ROUTES = {
    # OpenAPI path: (example, response model, a live URL the example was cut from)
    "/api/districts": (example("districts"), list[DistrictSummary], "/api/districts"),
    "/api/districts/{id}": (example("district"), DistrictDetail, "/api/districts/haidian"),
    "/api/districts/{id}/similar": (example("similar"), list[SimilarDistrict], "/api/districts/haidian/similar"),
    "/api/mechanisms": (example("mechanisms"), list[MechanismSummary], "/api/mechanisms"),
    "/api/mechanisms/shared": (example("shared"), list[MechanismSummary], "/api/mechanisms/shared"),
    "/api/mechanisms/{id}": (example("mechanism"), MechanismDetail, "/api/mechanisms/monthly-station-visit"),
    "/api/themes": ([example("theme")], list[ThemeDetail], "/api/themes"),
    "/api/themes/{id}": (example("theme"), ThemeDetail, "/api/themes/station-building"),
    "/api/compare": (example("comparison"), Comparison, "/api/compare?districts=haidian,chaoyang"),
    "/api/matrix": (example("matrix"), Matrix, "/api/matrix"),
    "/api/search": (example("search"), SearchResults, "/api/search?q=月进站"),
    "/api/topics": ([example("topics")], list[TopicSummary], "/api/topics"),
    "/api/topics/{id}": (example("topic"), TopicDetail, "/api/topics/urban-renewal"),
}


def contained(example: Any, live: Any, key: str = "") -> bool:
    """Whether ``example`` is ``live`` with lists cut short (and the paragraph cut to its start)."""
    if isinstance(example, dict):
        return isinstance(live, dict) and all(k in live and contained(v, live[k], k) for k, v in example.items())
    if isinstance(example, list):
        return isinstance(live, list) and all(any(contained(e, x, key) for x in live) for e in example)
    if key == "paragraph":
        return live.startswith(example)
    if key == "total":
        return True  # the example shows one page of hits
    return example == live


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


@pytest.fixture(scope="module")
def openapi(server: LiveServer) -> dict:
    with httpx.Client(base_url=server.url) as c:
        response = c.get("/openapi.json")
        assert response.status_code == 200
        return response.json()


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_api_route_is_documented_with_an_example(openapi: dict, path: str) -> None:
    operation = openapi["paths"][path]["get"]
    assert operation["description"]
    ok = operation["responses"]["200"]
    # FastAPI writes the OpenAPI document with exclude_none, so null fields drop out of examples.
    assert ok["content"]["application/json"]["example"] == without_nulls(ROUTES[path][0])
    assert "schema" in ok["content"]["application/json"]
    if "{id}" in path or path == "/api/compare":
        assert "404" in operation["responses"]
    assert "422" in operation["responses"] or not operation.get("parameters")


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_api_example_is_valid_and_true(client: httpx.Client, path: str) -> None:
    example, model, url = ROUTES[path]
    TypeAdapter(model).validate_python(example)
    live = client.get(url).json()
    assert contained(example, live)


def test_api_matrix_csv_example_is_the_corner_of_the_live_csv(client: httpx.Client) -> None:
    live = client.get("/api/matrix", headers={"Accept": "text/csv"}).text.splitlines()
    for line, live_line in zip(example("matrix_csv").splitlines(), live, strict=False):
        assert (live_line + ",").startswith(line + ",")


def test_api_list_routes_document_x_total_count(openapi: dict) -> None:
    for path in ("/api/districts", "/api/mechanisms", "/api/mechanisms/shared", "/api/themes", "/api/search"):
        operation = openapi["paths"][path]["get"]
        assert "X-Total-Count" in operation["responses"]["200"]["headers"]
        assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}


@pytest.mark.parametrize("url", [r[2] for r in ROUTES.values()] + ["/api/districts/haidian/similar?x=1"])
def test_api_if_none_match_is_304(client: httpx.Client, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
