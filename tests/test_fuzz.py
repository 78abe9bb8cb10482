"""Fuzzing over real HTTP, bounded in time: every route of /openapi.json with Schemathesis, and
/sparql with random bytes, random text and mutated example queries (Hypothesis).

Never a 5xx (except the two 503s that are answers by design: a query stopped at its deadline, or
every worker busy), responses conform to the documented schema, and the graph is unchanged.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_from_bytes

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import ROOT, Settings
from app.main import create_app
from tests.helpers import SUITE_LIMITS, LiveServer, serve_in_thread

EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries" / "examples").glob("*.rq"))]
pytestmark = pytest.mark.slow

FUZZ = settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SETTINGS = Settings(query_workers=2, query_timeout_s=1.0, **SUITE_LIMITS)
COUNT_QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[LiveServer]:
    """A server of its own (memory store, 1 s deadline), so the fuzzing cannot disturb other tests."""
    yield from serve_in_thread(SETTINGS)


@pytest.fixture(scope="module")
def graph_before(fuzz_server: LiveServer) -> dict[str, object]:
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as client:
        return graph_state(client)


def graph_state(client: httpx.Client) -> dict[str, object]:
    """What must not change: /health's triple count, the quad count by SPARQL, the graph version."""
    count = client.get("/sparql", params={"query": COUNT_QUADS}, headers={"Accept": "application/sparql-results+json"})
    return {"triples": client.get("/health").json()["triples"],
            "quads": int(count.json()["results"]["bindings"][0]["n"]["value"]),
            "version": client.get("/ready").json()["graph_version"]}


def openapi_document() -> dict[str, object]:
    """The OpenAPI document of the app the fuzz server runs (built by the same factory)."""
    return create_app(SETTINGS).openapi()


# Schemathesis' lazy loader (schemathesis.pytest.from_fixture) does not work with pytest 9, so the
# schema is built when the module is collected and the live server checked to serve the same one.
schema = schemathesis.openapi.from_dict(openapi_document())
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance,
          schemathesis.checks.content_type_conformance]


def test_live_server_serves_the_fuzzed_schema(fuzz_server: LiveServer) -> None:
    response = httpx.get(f"{fuzz_server.url}/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.json() == schema.raw_schema


@schema.parametrize()
@FUZZ
def test_api_conforms_to_openapi(case: schemathesis.Case, fuzz_server: LiveServer,
                                 graph_before: dict[str, object]) -> None:
    case.call_and_validate(base_url=fuzz_server.url, checks=CHECKS, timeout=30)


# ---------------------------------------------------------------- /sparql

@st.composite
def mutated_queries(draw: st.DrawFn) -> str:
    """An example query with a few characters or tokens deleted, inserted or duplicated."""
    tokens = re.findall(r"\s+|\w+|[^\w\s]", draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(tokens) - 1))
        match draw(st.sampled_from(["delete_token", "duplicate_token", "insert_token", "delete_char",
                                    "insert_char", "duplicate_char"])):
            case "delete_token":
                del tokens[i]
            case "duplicate_token":
                tokens.insert(i, tokens[i])
            case "insert_token":
                tokens.insert(i, draw(st.sampled_from(["{", "}", "(", ")", ".", ";", ",", "?x", "<", ">", '"',
                                                       "FILTER", "OPTIONAL", "UNION", "GRAPH", "SERVICE", "*",
                                                       "SELECT", "WHERE", "LIMIT", "-1", "\\", "#", "\x00"])))
            case op:
                token = tokens[i]
                j = draw(st.integers(0, len(token)))
                if op == "delete_char":
                    tokens[i] = token[:j] + token[j + 1:]
                elif op == "insert_char":
                    tokens[i] = token[:j] + draw(st.characters()) + token[j:]
                else:
                    tokens[i] = token[:j] + token[j:j + 1] * 2 + token[j + 1:]
        if not tokens:
            break
    return "".join(tokens)


def send_query(client: httpx.Client, how: str, query: bytes) -> httpx.Response:
    """Send ``query`` (any bytes) by GET, POST form or POST direct, percent-encoding where the protocol does."""
    accept = {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
    if how == "get":
        return client.get("/sparql?query=" + quote_from_bytes(query, safe=""), headers=accept)
    if how == "form":
        return client.post("/sparql", content=b"query=" + quote_from_bytes(query, safe="").encode("ascii"),
                           headers={**accept, "Content-Type": "application/x-www-form-urlencoded"})
    return client.post("/sparql", content=query, headers={**accept, "Content-Type": "application/sparql-query"})


def assert_not_a_server_error(response: httpx.Response) -> None:
    if response.status_code == 503:  # answers by design: stopped at the deadline, or no free worker
        assert "timed out" in response.text or "retry-after" in response.headers, response.text
        return
    assert response.status_code < 500, (response.status_code, response.text[:500], response.request.url)


@pytest.fixture(scope="module")
def sparql_client(fuzz_server: LiveServer, graph_before: dict[str, object]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as client:
        yield client


HOW = ["get", "form", "direct"]


@pytest.mark.parametrize("how", HOW)
@settings(FUZZ, max_examples=50)
@given(query=st.binary(max_size=4096))
def test_sparql_random_bytes_no_server_error(sparql_client: httpx.Client, how: str, query: bytes) -> None:
    assert_not_a_server_error(send_query(sparql_client, how, query))


@pytest.mark.parametrize("how", HOW)
@settings(FUZZ, max_examples=50)
@given(query=st.text(max_size=2048))
def test_sparql_random_text_no_server_error(sparql_client: httpx.Client, how: str, query: str) -> None:
    assert_not_a_server_error(send_query(sparql_client, how, query.encode("utf-8", "surrogatepass")))


@pytest.mark.parametrize("how", HOW)
@settings(FUZZ, max_examples=60)
@given(query=mutated_queries())
def test_sparql_mutated_examples_no_server_error(sparql_client: httpx.Client, how: str, query: str) -> None:
    assert_not_a_server_error(send_query(sparql_client, how, query.encode("utf-8", "surrogatepass")))


def test_graph_unchanged_after_fuzzing(fuzz_server: LiveServer, graph_before: dict[str, object]) -> None:
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as client:
        assert graph_state(client) == graph_before


def test_openapi_has_unique_operation_ids() -> None:
    ids = [op["operationId"] for ops in schema.raw_schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_examples_exist() -> None:
    assert EXAMPLES, f"no example queries in {Path(ROOT, 'queries', 'examples')}"
