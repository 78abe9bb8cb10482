"""Running one SPARQL query text from outside: screening, execution, negotiation, serialisation.

This is what ``/sparql`` (inside a query worker process) and ``kg query`` run. The screen
refuses, before any engine sees the text, everything a read-only endpoint must never do:
updates (LOAD included), and SERVICE, through which an engine would open network connections.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from app.errors import BadRequest, QueryRefused
from app.ld.formats import GRAPH_FORMATS, RESULT_FORMATS, Format
from app.ld.negotiate import negotiate
from app.ld.serialize import serialize_triples
from app.store.backends import Backend, OxigraphBackend, RdflibBackend

# Lexical screen: IRIs, strings and comments are blanked out first so that a keyword inside
# them (<http://ex/SERVICE>, "INSERT", # LOAD) is not mistaken for an operation.
_BLANKS = re.compile(
    r"""(?P<iri><[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<comment>\#[^\n]*)""",
    re.DOTALL,
)
_PROLOGUE = re.compile(r"^\s*(?:(?:BASE\s*<>|PREFIX\s+[^\s:]*:\s*<>)\s*)*", re.IGNORECASE)
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:])", re.IGNORECASE)
UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
QUERY_FORMS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}


def _blank(match: re.Match[str]) -> str:
    if match.group("iri"):
        return "<>"
    if match.group("string"):
        return '""'
    return " "


def blank_out(query: str, *, keep_length: bool = False) -> str:
    """``query`` with IRIs, strings and comments blanked (same length if ``keep_length``)."""
    if keep_length:
        return _BLANKS.sub(lambda m: ("<" + " " * (len(m.group()) - 2) + ">") if m.group("iri")
                           else " " * len(m.group()), query)
    return _BLANKS.sub(_blank, query)


def screen(query: str) -> str:
    """The query form (SELECT, ASK, …) or '' if unknown; raises QueryRefused for what is never run."""
    stripped = blank_out(query)
    body = stripped[_PROLOGUE.match(stripped).end():]  # type: ignore[union-attr]
    first = re.match(r"\s*([A-Za-z]+)", body)
    keyword = first.group(1).upper() if first else ""
    if keyword in UPDATE_KEYWORDS:
        raise QueryRefused(
            f"SPARQL Update ({keyword}) is not accepted: /sparql is a read-only query endpoint. "
            "Send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only."
        )
    if _SERVICE.search(stripped):
        raise QueryRefused("SERVICE (federated query) is not allowed on this endpoint: it never contacts other services.")
    return keyword if keyword in QUERY_FORMS else ""


@dataclass(frozen=True)
class QueryResult:
    body: bytes
    format: Format
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE


@dataclass(frozen=True)
class Dataset:
    """The protocol's default-graph-uri / named-graph-uri (empty: the service's default dataset)."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


def _syntax_error(exc: Exception) -> BadRequest:
    return BadRequest(f"SPARQL syntax error: {exc}")


def _oxigraph(backend: OxigraphBackend, query: str, accept: str | None, dataset: Dataset) -> QueryResult:
    kwargs: dict = {"base_iri": backend.base_iri, **backend.dataset_kwargs()}
    if dataset.default_graphs:
        kwargs.pop("use_default_graph_as_union", None)
        kwargs["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs]
    if dataset.named_graphs:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs]
    try:
        result = backend.store.query(query, **kwargs)
    except SyntaxError as exc:
        raise _syntax_error(exc) from exc
    if isinstance(result, ox.QueryTriples):
        fmt = negotiate(accept, GRAPH_FORMATS)
        return QueryResult(serialize_triples(list(result), fmt, backend.base_iri.rstrip("/")), fmt, "CONSTRUCT")
    fmt = negotiate(accept, RESULT_FORMATS)
    form = "ASK" if isinstance(result, ox.QueryBoolean) else "SELECT"
    return QueryResult(result.serialize(format=fmt.results), fmt, form)


def _rdflib(backend: RdflibBackend, query: str, accept: str | None, dataset: Dataset) -> QueryResult:
    from rdflib.plugins.sparql.processor import prepareQuery

    try:
        prepared = prepareQuery(query, base=backend.base_iri)
    except Exception as exc:  # noqa: BLE001 - pyparsing raises many types; all mean a syntax error
        raise _syntax_error(exc) from exc
    target = backend.dataset
    if dataset.default_graphs:
        import rdflib

        target = rdflib.Dataset()
        for g in dataset.default_graphs:
            for triple in backend.dataset.graph(rdflib.URIRef(g)):
                target.add(triple)
    result = target.query(prepared)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        from app.store.terms import from_rdflib

        fmt = negotiate(accept, GRAPH_FORMATS)
        triples = [ox.Triple(*(from_rdflib(t) for t in triple)) for triple in result.graph]
        return QueryResult(serialize_triples(triples, fmt, backend.base_iri.rstrip("/")), fmt, result.type)
    fmt = negotiate(accept, RESULT_FORMATS)
    as_json = result.serialize(format="json")
    parsed = ox.parse_query_results(as_json, format=ox.QueryResultsFormat.JSON)
    return QueryResult(parsed.serialize(format=fmt.results), fmt, "ASK" if result.type == "ASK" else "SELECT")


def run_query(backend: Backend, query: str, accept: str | None, dataset: Dataset = Dataset()) -> QueryResult:
    """Screen, run and serialise ``query`` in the format ``accept`` asks for."""
    screen(query)
    if isinstance(backend, RdflibBackend):
        return _rdflib(backend, query, accept, dataset)
    assert isinstance(backend, OxigraphBackend)
    return _oxigraph(backend, query, accept, dataset)


def offered_for(form: str) -> Sequence[Format]:
    return GRAPH_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS
