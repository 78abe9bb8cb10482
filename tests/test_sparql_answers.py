"""/sparql answers written by the engine's own writers, and answers reused, over real HTTP.

Within the row cap a SELECT answer is written by the engine straight into bytes; it must be the
very bytes the row-by-row path (``serialize_solutions``, still the path of truncated answers)
makes from the same rows, in every results format. An identical query on the same graph version
is answered again from memory: the same bytes and headers, an ETag, and 304 for a GET that
names it; identical queries that arrive together share one run.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from app.build.graph import KnowledgeGraph
from app.config import ROOT, Settings
from app.rdf.formats import BY_NAME
from app.sparql.run import serialize_solutions
from app.store.backends import OxigraphBackend, make_backend
from tests.helpers import PREFIXES, SUITE_LIMITS, serve_in_thread

EXAMPLES = sorted(p for p in (ROOT / "queries" / "examples").glob("*.rq") if "CONSTRUCT" not in p.read_text())
EXTRA = {
    # Long enough to be written in many chunks.
    "all-iri-triples": "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) } ORDER BY ?s ?p ?o",
    # Literals with what the row counter looks for (braces, quotes, line ends, tabs, markup).
    "awkward-literals": 'SELECT ?x ?y WHERE { VALUES (?x ?y) { ("{\\"type\\":\\"uri\\"}" UNDEF) '
                        '("a\\r\\nb\\tc" "<result>"@en) (UNDEF UNDEF) (<http://example.org/a?b=%7B> 1) } }',
    "no-rows": PREFIXES + "SELECT ?d WHERE { ?d a bjrd:NoSuchClass }",
}
CASES = {**{p.stem: p.read_text(encoding="utf-8") for p in EXAMPLES}, **EXTRA}
RESULT_FORMATS = ["json", "xml", "csv", "tsv"]
SELECT = PREFIXES + "SELECT ?d ?code WHERE { ?d a bjrd:District ; bjrd:divisionCode ?code } ORDER BY ?code"


@pytest.fixture(scope="module")
def engine(graph: KnowledgeGraph) -> OxigraphBackend:
    """A store like the query workers' own: in memory, one built from the same N-Quads the same way
    (GROUP_CONCAT follows a store's internal order, which depends on how it was filled)."""
    if graph.spec.kind == "memory":
        nquads = ox.serialize(graph.loaded.quads, format=ox.RdfFormat.N_QUADS) or b""
        backend = make_backend(graph.settings.engine, list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)),
                               graph.query_base)
    else:
        backend = graph.backend
    if not isinstance(backend, OxigraphBackend) or graph.spec.kind == "sparql":
        pytest.skip("the embedded engine answers /sparql only over the memory and disk stores")
    return backend


def row_by_row(backend: OxigraphBackend, text: str, format_name: str) -> bytes:
    """The answer as the row-by-row path writes it, from the same engine over the same quads."""
    result = backend.store.query(text, base_iri=backend.base_iri, **backend.dataset_kwargs())
    assert isinstance(result, ox.QuerySolutions)
    variables = [v.value for v in result.variables]
    return serialize_solutions(variables, list(result), BY_NAME[format_name], truncated=False)


@pytest.mark.parametrize("format_name", RESULT_FORMATS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_sparql_select_is_byte_identical_to_the_row_by_row_path(client: httpx.Client, engine: OxigraphBackend,
                                                                name: str, format_name: str) -> None:
    text = CASES[name]
    fmt = BY_NAME[format_name]
    response = client.post("/sparql", data={"query": text}, headers={"Accept": fmt.media_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == fmt.content_type
    assert "x-result-truncated" not in response.headers
    assert response.content == row_by_row(engine, text, format_name)


def test_sparql_get_has_an_etag_and_answers_304_to_it(client: httpx.Client) -> None:
    first = client.get("/sparql", params={"query": SELECT})
    assert first.status_code == 200
    etag = first.headers["etag"]
    again = client.get("/sparql", params={"query": SELECT}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "text/csv", "If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag
    assert other.headers["content-type"] == "text/csv; charset=utf-8"


def test_sparql_repeated_query_gets_the_same_bytes_and_headers(client: httpx.Client) -> None:
    for send in (lambda: client.get("/sparql", params={"query": SELECT}),
                 lambda: client.post("/sparql", data={"query": SELECT}),
                 lambda: client.post("/sparql", content=SELECT, headers={"Content-Type": "application/sparql-query"})):
        first, second = send(), send()
        assert first.status_code == second.status_code == 200
        assert second.content == first.content
        for header in ("content-type", "vary", "etag", "x-result-truncated"):
            assert second.headers.get(header) == first.headers.get(header), header
    assert "Accept" in first.headers["vary"]


def test_sparql_answer_ignores_the_spelling_of_the_request(client: httpx.Client) -> None:
    as_get = client.get("/sparql", params={"query": SELECT, "format": "csv"})
    as_post = client.post("/sparql", data={"query": SELECT}, headers={"Accept": "text/csv"})
    assert as_post.status_code == as_get.status_code == 200
    assert as_post.content == as_get.content


def test_sparql_head_of_a_kept_answer_has_its_headers(client: httpx.Client) -> None:
    get = client.get("/sparql", params={"query": SELECT + " LIMIT 7"})
    head = client.head("/sparql", params={"query": SELECT + " LIMIT 7"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))


def test_example_queries_are_select_or_construct() -> None:
    # The byte comparison above covers every SELECT example; a new form would need its own case.
    for path in (ROOT / "queries" / "examples").glob("*.rq"):
        text = Path(path).read_text(encoding="utf-8")
        assert "SELECT" in text or "CONSTRUCT" in text, path


@pytest.fixture(scope="module")
def one_worker() -> Iterator[httpx.Client]:
    """A service with one query worker and no queue: a second query at once would be refused."""
    for server in serve_in_thread(Settings(query_workers=1, query_queue=0, **SUITE_LIMITS)):
        with httpx.Client(base_url=server.url, timeout=30) as c:
            yield c


def test_identical_queries_at_once_share_one_run(one_worker: httpx.Client) -> None:
    query = PREFIXES + """SELECT ?a ?b (COUNT(DISTINCT ?m) AS ?shared) WHERE {
      ?p1 bjrd:district ?a ; bjrd:usesMechanism ?m . ?p2 bjrd:district ?b ; bjrd:usesMechanism ?m .
      FILTER(STR(?a) < STR(?b)) } GROUP BY ?a ?b ORDER BY DESC(?shared) ?a ?b"""
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: one_worker.post("/sparql", data={"query": query}), range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert len({a.content for a in answers}) == 1
