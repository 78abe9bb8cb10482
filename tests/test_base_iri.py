"""The service published under another base IRI (KG_BASE_IRI), with SHACL validation on at start-up:
every entity and scheme IRI moves to the new base, and nothing it serves names the default base
(the vocabulary namespaces /ontology# and /shapes# stay fixed)."""

import re
from collections.abc import Iterator

import httpx
import pytest
import rdflib

from app.cli import main as kg
from app.config import CANONICAL_BASE, Settings
from tests.helpers import LiveServer, serve_in_thread

#: Two more services (one per base) and two whole validations: CI runs them, the fast loop does not.
pytestmark = pytest.mark.slow

#: A base with a path and one without.
BASES = ("https://kg.example.net/bj", "https://kg.example.net")
#: The vocabulary namespaces, fixed whatever the base.
VOCABULARY = (f"{CANONICAL_BASE}/ontology", f"{CANONICAL_BASE}/shapes#")
DEFAULT_BASE = re.compile(re.escape(CANONICAL_BASE) + r"[^\s\"'<>]*")


def default_base_traces(text: str) -> list[str]:
    """Every mention of the default base that is not the vocabulary namespace."""
    return [m for m in DEFAULT_BASE.findall(text) if not m.startswith(VOCABULARY)]


@pytest.fixture(scope="module", params=BASES)
def moved(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    settings = Settings(base_iri=request.param, query_workers=1, query_timeout_s=5.0, validate_on_start=True)
    yield from serve_in_thread(settings)


def base_of(server: LiveServer) -> str:
    return server.graph.settings.base_iri


def test_service_starts_validated_under_another_base(moved: LiveServer) -> None:
    assert moved.graph.report is not None and moved.graph.report.conforms
    health = httpx.get(f"{moved.url}/health", timeout=30)
    assert health.status_code == 200
    assert health.json()["triples"] == moved.graph.triples


def test_entity_turtle_names_the_new_base(moved: LiveServer) -> None:
    base = base_of(moved)
    turtle = httpx.get(f"{moved.url}/id/district/haidian", headers={"Accept": "text/turtle"}, timeout=30)
    assert turtle.status_code == 200
    parsed = rdflib.Graph().parse(data=turtle.content, format="turtle")
    subject = rdflib.URIRef(f"{base}/id/district/haidian")
    assert (subject, rdflib.RDFS.label, rdflib.Literal("海淀区", lang="zh")) in parsed
    assert default_base_traces(turtle.text) == []


def test_schemes_are_under_the_new_base(moved: LiveServer) -> None:
    base = base_of(moved)
    query = "SELECT DISTINCT ?s WHERE { ?s a <http://www.w3.org/2004/02/skos/core#ConceptScheme> }"
    answer = httpx.get(f"{moved.url}/sparql", params={"query": query},
                       headers={"Accept": "application/sparql-results+json"}, timeout=30)
    schemes = [b["s"]["value"] for b in answer.json()["results"]["bindings"]]
    assert len(schemes) >= 2
    assert all(s.startswith(f"{base}/id/scheme/") for s in schemes), schemes


@pytest.mark.parametrize("path", ["/id/district/haidian", "/id/mechanism/", "/id/district/", "/void", "/shapes",
                                  "/ontology"])
@pytest.mark.parametrize("accept", ["text/html", "text/turtle", "application/ld+json"])
def test_pages_carry_no_trace_of_the_default_base(moved: LiveServer, path: str, accept: str) -> None:
    response = httpx.get(f"{moved.url}{path}", headers={"Accept": accept}, timeout=30)
    if response.status_code == 406:  # an index or document that has no such representation
        pytest.skip(f"{path} has no {accept}")
    assert response.status_code == 200
    assert default_base_traces(response.text) == []


@pytest.mark.parametrize("fmt", ["turtle", "jsonld", "ntriples", "nquads", "trig", "rdfxml"])
def test_dumps_carry_no_trace_of_the_default_base(moved: LiveServer, fmt: str) -> None:
    response = httpx.get(f"{moved.url}/export", params={"format": fmt}, timeout=60)
    assert response.status_code == 200
    assert base_of(moved) + "/id/" in response.text
    assert default_base_traces(response.text) == []


@pytest.mark.parametrize("base", BASES)
def test_kg_validate_conforms_under_another_base(base: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert kg(["--base-iri", base, "validate"]) == 0
    assert "Conforms: True" in capsys.readouterr().out
