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
    SimilarDistrict,
    ThemeDetail,
    ThemeWithPractices,
    TopicDetail,
    TopicSummary,
)
from app.api.search_models import SearchResults
from app.routers.api.themes import THEME_EXAMPLE
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
    "/api/themes/{id}": (THEME_EXAMPLE, ThemeWithPractices, "/api/themes/station-building"),
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


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def has_english(text: str) -> bool:
    return sum(c.isascii() and c.isalpha() for c in text) >= 3


def test_every_route_has_a_summary_and_description_in_chinese_and_english(openapi: dict) -> None:
    missing = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            summary, description = operation.get("summary", ""), operation.get("description", "")
            if not ("·" in summary and has_chinese(summary) and has_english(summary)):
                missing.append(f"{method.upper()} {path}: summary {summary!r}")
            if not (has_chinese(description) and has_english(description)):
                missing.append(f"{method.upper()} {path}: description {description[:40]!r}")
    assert not missing, missing
    assert openapi["paths"]["/api/districts"]["get"]["summary"] == "区列表 · List of districts"


def test_openapi_links_back_to_the_site(openapi: dict, client: httpx.Client) -> None:
    assert "[/](/)" in openapi["info"]["description"]  # Swagger UI renders it as a link
    assert has_chinese(openapi["info"]["description"]) and has_english(openapi["info"]["description"])
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_api_example_shows_every_key_of_the_live_answer(client: httpx.Client, path: str) -> None:
    """An example cut short keeps every key (a key the live answer has and the example lacks is undocumented)."""
    example, _, url = ROUTES[path]
    live = client.get(url).json()
    if isinstance(live, list):
        example, live = example[0], live[0]
    assert set(example) == set(live), sorted(set(live) ^ set(example))


def test_compare_example_shows_shared_only_facts_and_counts(openapi: dict) -> None:
    documented_example = openapi["paths"]["/api/compare"]["get"]["responses"]["200"]["content"]["application/json"]
    assert {"shared", "only", "facts", "counts"} <= set(documented_example["example"])
