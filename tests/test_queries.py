"""The SPARQL files in queries/ as tested artefacts.

Every ``.rq`` parses in both engines; every example returns rows; every ``checks/*-violation.rq``
returns none (and finds a violation planted on purpose); and Oxigraph and rdflib give the same
answers to the named queries and the examples, run with their variables unbound.
"""

import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib.plugins.sparql.processor import prepareQuery

from app.build.graph import KnowledgeGraph, Loaded, load
from app.config import ROOT, Settings
from app.rdf.terms import FLOAT_TYPES, INTEGER_TYPES
from app.store.backends import OxigraphBackend, RdflibBackend
from tests.helpers import TURTLE_PREFIXES

QUERIES = ROOT / "queries"
ALL_QUERIES = sorted(QUERIES.rglob("*.rq"))
EXAMPLES = sorted((QUERIES / "examples").glob("*.rq"))
CHECKS = sorted((QUERIES / "checks").glob("*-violation.rq"))
COMPARED = sorted(QUERIES.glob("*.rq")) + EXAMPLES
QUERY_BASE = "https://bjrd-kg.example.org/"
SEPARATOR = re.compile(r"""separator\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def rel(path: Path) -> str:
    return str(path.relative_to(QUERIES))


def form_of(text: str) -> str:
    """SELECT, ASK or CONSTRUCT (CONSTRUCT and DESCRIBE both give triples), as Oxigraph parses the query."""
    result = ox.Store().query(text, base_iri=QUERY_BASE)
    if isinstance(result, ox.QueryTriples):
        return "CONSTRUCT"
    return "ASK" if isinstance(result, ox.QueryBoolean) else "SELECT"


# ---------------------------------------------------------------- engines


@pytest.fixture(scope="module")
def reference() -> Loaded:
    """The dataset as read from the files (the engines are compared on it once, whatever the store)."""
    return load(Settings())


@pytest.fixture(scope="module")
def oxigraph(reference: Loaded) -> OxigraphBackend:
    return OxigraphBackend(reference.quads, QUERY_BASE)


@pytest.fixture(scope="module")
def rdflib_backend(reference: Loaded) -> RdflibBackend:
    """The reference engine, built once for the module (rdflib is slow)."""
    return RdflibBackend(reference.quads, QUERY_BASE)


# ---------------------------------------------------------------- normalisation for comparison


def _number(term: ox.Literal) -> Decimal | None:
    datatype = term.datatype.value if term.datatype else ""
    if datatype not in INTEGER_TYPES | FLOAT_TYPES:
        return None
    try:
        return Decimal(term.value).normalize()
    except InvalidOperation:
        return None


def normalise(term: ox.NamedNode | ox.BlankNode | ox.Literal, separators: tuple[str, ...]) -> object:
    """A comparable value: blank nodes collapse, numbers compare numerically, concatenations as sorted parts."""
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    number = _number(term)
    if number is not None:
        return ("number", number)
    value = term.value
    # GROUP_CONCAT order is undefined: compare the concatenated parts as a sorted list.
    for sep in separators:
        if sep and sep in value:
            value = sep.join(sorted(value.split(sep)))
    tag = term.language or (term.datatype.value if term.datatype else "")
    return ("literal", value, tag)


def row_key(row: dict, separators: tuple[str, ...]) -> tuple:
    return tuple(sorted((name, normalise(value, separators)) for name, value in row.items()))


def triple_key(triple: ox.Triple) -> tuple:
    return tuple(normalise(t, ()) for t in triple)


def separators_of(text: str) -> tuple[str, ...]:
    if "GROUP_CONCAT" not in text.upper():
        return ()
    found = tuple(a or b for a, b in SEPARATOR.findall(text))
    return found or (" ",)


def run(backend: OxigraphBackend | RdflibBackend, text: str) -> Counter:
    form = form_of(text)
    if form == "CONSTRUCT":
        # A constructed graph is a set: Oxigraph may yield a triple once per solution, rdflib once.
        return Counter(triple_key(t) for t in set(backend.construct(text)))
    if form == "ASK":
        return Counter([backend.ask(text)])
    separators = separators_of(text)
    return Counter(row_key(row, separators) for row in backend.select(text))


def difference(a: Counter, b: Counter) -> Iterator[str]:
    for key in (a - b):
        yield f"only oxigraph: {key}"
    for key in (b - a):
        yield f"only rdflib: {key}"


# ---------------------------------------------------------------- tests


def test_queries_directory_has_examples_and_checks() -> None:
    assert len(EXAMPLES) >= 5
    assert len(CHECKS) >= 5


@pytest.mark.parametrize("path", ALL_QUERIES, ids=rel)
def test_query_parses_in_both_engines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    ox.Store().query(text, base_iri=QUERY_BASE)
    prepareQuery(text, base=QUERY_BASE)


@pytest.mark.parametrize("path", EXAMPLES, ids=rel)
def test_example_has_titles_and_summary(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    header = dict(re.findall(r"^#\+\s*([\w-]+)\s*:\s*(.+?)\s*$", text, flags=re.MULTILINE))
    assert re.search(r"[\u4e00-\u9fff]", header.get("title-zh", "")), "title-zh must be Chinese"
    assert header.get("title-en", "").isascii() and header["title-en"]
    assert len(header.get("summary", "")) > 20


@pytest.mark.parametrize("path", EXAMPLES, ids=rel)
def test_example_returns_results(path: Path, graph: KnowledgeGraph) -> None:
    text = path.read_text(encoding="utf-8")
    if form_of(text) == "CONSTRUCT":
        assert len(graph.backend.construct(text)) >= 1
    else:
        assert len(graph.backend.select(text)) >= 1


@pytest.mark.parametrize("path", EXAMPLES, ids=rel)
def test_example_runs_on_sparql_endpoint(path: Path, client: httpx.Client) -> None:
    """The examples become tabs of the query editor: they must run as sent to /sparql."""
    text = path.read_text(encoding="utf-8")
    construct = form_of(text) == "CONSTRUCT"
    accept = "application/n-triples" if construct else "application/sparql-results+json"
    response = client.post("/sparql", data={"query": text}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    if construct:
        assert len(list(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))) >= 1
    else:
        assert len(response.json()["results"]["bindings"]) >= 1


@pytest.mark.parametrize("path", CHECKS, ids=rel)
def test_check_finds_no_violation(path: Path, graph: KnowledgeGraph) -> None:
    rows = graph.backend.select(path.read_text(encoding="utf-8"))
    assert rows == [], "\n".join(str({k: v.value for k, v in row.items()}) for row in rows)


@pytest.mark.slow
@pytest.mark.parametrize("path", COMPARED, ids=rel)
def test_engines_agree(path: Path, oxigraph: OxigraphBackend, rdflib_backend: RdflibBackend) -> None:
    text = path.read_text(encoding="utf-8")
    expected, actual = run(oxigraph, text), run(rdflib_backend, text)
    assert expected == actual, "\n".join(list(difference(expected, actual))[:20])


# A violation planted into the real graph for each check: the check must then find it, so
# that a check that can never fire is caught. Keyed by file name; a check not listed here
# is still run by test_check_finds_no_violation.
PLANTED = TURTLE_PREFIXES
VIOLATIONS = {
    "practice-without-quote-violation.rq": """
        prac:planted a bjrd:Practice ; rdfs:label "x"@zh , "x"@en ; bjrd:district dist:haidian .""",
    "quote-outside-district-paragraph-violation.rq": """
        prac:planted a bjrd:Practice ; bjrd:district dist:haidian ; bjrd:evidence quote:planted .
        quote:planted oa:exact "东城区人大" ; oa:start 573 ; oa:end 578 .""",
    "quote-length-violation.rq": """
        quote:planted oa:exact "东城区人大" ; oa:start 573 ; oa:end 579 .""",
    "fact-value-not-in-quote-violation.rq": """
        fact:planted a bjrd:Fact ; schema:value 105 ; bjrd:evidence quote:planted .
        quote:planted oa:exact "制定修订区人大及其常委会工作制度104项" .""",
    "mechanism-without-practice-violation.rq": """
        mech:planted a bjrd:Mechanism ; skos:broader mech:deputy-stations .""",
    "label-missing-language-violation.rq": """
        theme:planted a bjrd:Theme ; rdfs:label "x"@zh .""",
    "mechanism-minted-twice-violation.rq": """
        mech:planted skos:inScheme <https://bjrd-kg.example.org/id/scheme/mechanisms> ;
            skos:prefLabel "“月进站”"@zh .""",
    "asserted-entailment-violation.rq": """
        prac:dongcheng-monthly-station-visit bjrd:usesMechanism mech:deputy-stations .""",
}


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_check_finds_planted_violation(name: str, reference: Loaded) -> None:
    planted = ox.parse(PLANTED + VIOLATIONS[name], format=ox.RdfFormat.TURTLE)
    data = ox.NamedNode(reference.names.data)
    quads = reference.quads + [ox.Quad(q.subject, q.predicate, q.object, data) for q in planted]
    backend = OxigraphBackend(quads, QUERY_BASE)
    rows = backend.select((QUERIES / "checks" / name).read_text(encoding="utf-8"))
    assert rows, f"{name} does not detect the planted violation"
