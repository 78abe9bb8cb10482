"""Running one SPARQL query text from outside: screening, execution, negotiation, serialisation.

This is what ``/sparql`` (inside a query worker process) and ``kg query`` run. The screen
(app.sparql.guard, a SPARQL tokenizer) refuses, before any engine sees the text, everything a
read-only endpoint must never do: updates (LOAD included), SERVICE, deep nesting.
"""

import json
import re
from collections.abc import Sequence
from itertools import islice
from dataclasses import dataclass

import pyoxigraph as ox

from app.errors import BadRequest
from app.ld.formats import GRAPH_FORMATS, RESULT_FORMATS, Format
from app.ld.negotiate import negotiate
from app.ld.serialize import serialize_triples
from app.sparql.guard import screen_query
from app.store.backends import Backend, OxigraphBackend, RdflibBackend

# Used to place VALUES in the named queries (our own text, not user input).
_BLANKS = re.compile(
    r"""(?P<iri><[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<comment>\#[^\n]*)""",
    re.DOTALL,
)


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
    return screen_query(query)


@dataclass(frozen=True)
class QueryResult:
    body: bytes
    format: Format
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    truncated: bool = False  # more rows (triples) than the limit: only the first ones are here


def _term_json(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype and term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        out["datatype"] = term.datatype.value
    return out


def serialize_solutions(variables: list[str], rows: list, fmt: Format, truncated: bool) -> bytes:
    """SELECT rows in ``fmt``. A truncated JSON answer says so (``"truncated": true``), as does
    the XML one (a ``link`` in its head); every format also gets the X-Result-Truncated header."""
    bindings = [{v: _term_json(row[v]) for v in variables if row[v] is not None} for row in rows]
    document: dict = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    if truncated and fmt.name == "json":
        document["truncated"] = True
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    if truncated and fmt.name == "xml":
        document["head"]["link"] = [TRUNCATED_LINK]
    parsed = ox.parse_query_results(json.dumps(document).encode("utf-8"), format=ox.QueryResultsFormat.JSON)
    body = parsed.serialize(format=fmt.results)
    if truncated and fmt.name == "xml":
        body = body.replace(b"<head>", f'<head><link href="{TRUNCATED_LINK}"/>'.encode(), 1)
    return body


TRUNCATED_LINK = "urn:bjrd-kg:result-truncated"


@dataclass(frozen=True)
class Dataset:
    """The protocol's default-graph-uri / named-graph-uri (empty: the service's default dataset)."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


def _syntax_error(exc: Exception) -> BadRequest:
    return BadRequest(f"SPARQL syntax error: {exc}")


def _oxigraph(backend: OxigraphBackend, query: str, accept: str | None, dataset: Dataset,
              max_rows: int) -> QueryResult:
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
        triples = list(islice(result, max_rows + 1))
        truncated = len(triples) > max_rows
        body = serialize_triples(triples[:max_rows], fmt, backend.base_iri.rstrip("/"))
        return QueryResult(body, fmt, "CONSTRUCT", truncated)
    fmt = negotiate(accept, RESULT_FORMATS)
    if isinstance(result, ox.QueryBoolean):
        return QueryResult(result.serialize(format=fmt.results), fmt, "ASK")
    variables = [v.value for v in result.variables]
    rows = list(islice(result, max_rows + 1))
    truncated = len(rows) > max_rows
    return QueryResult(serialize_solutions(variables, rows[:max_rows], fmt, truncated), fmt, "SELECT", truncated)


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


def run_query(backend: Backend, query: str, accept: str | None, dataset: Dataset = Dataset(),
              max_rows: int = 100_000) -> QueryResult:
    """Screen, run and serialise ``query`` in the format ``accept`` asks for (at most ``max_rows``
    rows or triples: the embedded engine's answers are truncated beyond, and say so)."""
    screen(query)
    if isinstance(backend, RdflibBackend):
        return _rdflib(backend, query, accept, dataset)
    assert isinstance(backend, OxigraphBackend)
    return _oxigraph(backend, query, accept, dataset, max_rows)


def offered_for(form: str) -> Sequence[Format]:
    return GRAPH_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS
