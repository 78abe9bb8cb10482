"""One SPARQL query from outside, from its text to the bytes of its answer.

:func:`prepare` runs first, in the request, before any engine sees the text: the screen refuses
what a read-only endpoint never runs (updates, LOAD, SERVICE) and the answer's format is
negotiated from the query form (so a 406 costs nothing). :func:`run_query` then evaluates the
prepared query in the format already chosen: inside a query worker process (``/sparql``) or
directly (``kg query``).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any, cast

import pyoxigraph as ox

from app.errors import BadRequest, NotAcceptable
from app.rdf.formats import GRAPH_FORMATS, RESULT_FORMATS, Format
from app.rdf.namespaces import XSD
from app.rdf.negotiate import negotiate
from app.rdf.serialize import serialize_triples
from app.rdf.sparql_guard import ReadQuery, read_query
from app.sparql.capped import CappedWriter, OverCap
from app.store.backends import Backend, OxigraphBackend, RdflibBackend


@dataclass(frozen=True)
class Answer:
    """The serialised answer of one query, as a query runner hands it to ``/sparql``."""

    body: bytes
    format_name: str
    form: str
    truncated: bool = False


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
    elif term.datatype and term.datatype.value != XSD + "string":
        out["datatype"] = term.datatype.value
    return out


def serialize_solutions(variables: list[str], rows: list, fmt: Format, truncated: bool) -> bytes:
    """SELECT rows in ``fmt``, one by one: the path of an answer longer than the cap (an answer
    within it is written by the engine itself, see :mod:`app.sparql.capped`). A truncated JSON
    answer says so (``"truncated": true``), as does the XML one (a ``link`` in its head); every
    format also gets the X-Result-Truncated header."""
    bindings = [{v: _term_json(row[v]) for v in variables if row[v] is not None} for row in rows]
    document: dict = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    if truncated and fmt.name == "json":
        document["truncated"] = True
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    if truncated and fmt.name == "xml":
        document["head"]["link"] = [TRUNCATED_LINK]
    parsed = ox.parse_query_results(json.dumps(document).encode("utf-8"), format=ox.QueryResultsFormat.JSON)
    body = results_bytes(parsed, fmt)
    if truncated and fmt.name == "xml":
        body = body.replace(b"<head>", f'<head><link href="{TRUNCATED_LINK}"/>'.encode(), 1)
    return body


TRUNCATED_LINK = "urn:bjrd-kg:result-truncated"


def results_bytes(results: ox.QuerySolutions | ox.QueryBoolean, fmt: Format) -> bytes:
    """SELECT or ASK results in the results format ``fmt``."""
    body = results.serialize(format=fmt.results) if fmt.results is not None else None
    if body is None:
        raise NotAcceptable(f"{fmt.media_type} cannot carry SPARQL results")
    return body


@dataclass(frozen=True)
class Dataset:
    """The dataset of a query (:mod:`app.sparql.dataset`): exactly these default and named graphs
    when it names any (either may then be empty); empty: the service's default dataset."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def named(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


def offered_for(form: str) -> Sequence[Format]:
    """The formats an answer of query ``form`` can take. When the screen cannot tell the form the
    text is not a valid query: any format is accepted, so that its syntax error is what is reported."""
    if not form:
        return [*RESULT_FORMATS, *GRAPH_FORMATS]
    return GRAPH_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS


@dataclass(frozen=True)
class PreparedQuery:
    """A screened query, its form and the format its answer will be sent in."""

    text: str  # as the guard read it (:func:`prepare`): one reading, comments gone
    form: str  # SELECT, ASK, CONSTRUCT, DESCRIBE, or "" when the screen cannot tell
    format: Format
    dataset: Dataset = Dataset()
    read: ReadQuery | None = None  # the query as the guard read it (what a remote store is sent)

    @property
    def sent(self) -> str:
        """The text passed on to a store: as read, not as written."""
        return self.read.text if self.read is not None else self.text


#: Accept headers up to this long have their negotiated format kept (a pure function of the form and
#: the header), at most FORMATS_KEPT of them: clients send the same few Accept headers again and again.
FORMAT_KEPT_ACCEPT = 512
FORMATS_KEPT = 256
_formats: dict[tuple[str, str | None], Format] = {}


def format_for(form: str, accept: str | None) -> Format:
    """The answer format of a query of this form (SELECT, ASK, CONSTRUCT, DESCRIBE) for ``accept``;
    406 saying what the form can answer (CSV cannot carry triples, Turtle cannot carry a table).
    Kept for short Accept headers (a 406 is never kept: it is negotiated again)."""
    key = (form, accept)
    kept = _formats.get(key)
    if kept is not None:
        return kept
    fmt = _negotiated(form, accept)
    if accept is None or len(accept) <= FORMAT_KEPT_ACCEPT:
        if len(_formats) >= FORMATS_KEPT:
            _formats.clear()
        _formats[key] = fmt
    return fmt


def _negotiated(form: str, accept: str | None) -> Format:
    try:
        return negotiate(accept, offered_for(form))
    except NotAcceptable:
        if not form:
            raise
        graph = form in ("CONSTRUCT", "DESCRIBE")
        what = "RDF triples" if graph else "SPARQL results (a table or a boolean)"
        names = ", ".join(f"{f.name} ({f.media_type})" for f in offered_for(form))
        raise NotAcceptable(f"A {form} query answers {what}, which cannot be sent as {accept}. "
                            f"Ask for one of: {names}.") from None


def prepare(text: str, accept: str | None, dataset: Dataset = Dataset()) -> PreparedQuery:
    """Screen ``text`` (QueryRefused) and negotiate its answer's format (NotAcceptable), without running it."""
    read = read_query(text)
    # The text every engine runs (and answers are reused by) is the one the guard read, on every store.
    return PreparedQuery(read.text, read.form, format_for(read.form, accept), dataset, read)


def _fitting(fmt: Format, offered: Sequence[Format]) -> Format:
    """``fmt``, or the default of ``offered`` when the screen mistook the form (the engine knows better)."""
    return fmt if fmt in offered else offered[0]


def _syntax_error(exc: Exception) -> BadRequest:
    return BadRequest(f"SPARQL syntax error: {exc}")


def _oxigraph(backend: OxigraphBackend, prepared: PreparedQuery, max_rows: int) -> QueryResult:
    query, dataset = prepared.text, prepared.dataset
    kwargs: dict[str, Any] = {"base_iri": backend.base_iri, **backend.dataset_kwargs()}
    if dataset.named:  # exactly this dataset (the query's FROM already resolved into it)
        kwargs.pop("use_default_graph_as_union", None)
        kwargs["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs]
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs]
    try:
        result = backend.store.query(query, **kwargs)
    except SyntaxError as exc:
        raise _syntax_error(exc) from exc
    if isinstance(result, ox.QuerySolutions):
        fmt = _fitting(prepared.format, RESULT_FORMATS)
        writer = CappedWriter(fmt.name, max_rows)
        try:
            result.serialize(cast(IO[bytes], writer), format=fmt.results)
            return QueryResult(writer.getvalue(), fmt, "SELECT")
        except OverCap:
            # Maybe longer than the cap: run it again and count the rows one by one (slow, exact).
            result = backend.store.query(query, **kwargs)
    if isinstance(result, ox.QueryTriples):
        fmt = _fitting(prepared.format, GRAPH_FORMATS)
        triples = list(islice(result, max_rows + 1))
        truncated = len(triples) > max_rows
        body = serialize_triples(triples[:max_rows], fmt, backend.base_iri.rstrip("/"))
        return QueryResult(body, fmt, "CONSTRUCT", truncated)
    fmt = _fitting(prepared.format, RESULT_FORMATS)
    if isinstance(result, ox.QueryBoolean):
        return QueryResult(results_bytes(result, fmt), fmt, "ASK")
    variables = [v.value for v in result.variables]
    rows = list(islice(result, max_rows + 1))
    truncated = len(rows) > max_rows
    return QueryResult(serialize_solutions(variables, rows[:max_rows], fmt, truncated), fmt, "SELECT", truncated)


def _rdflib(backend: RdflibBackend, prepared: PreparedQuery) -> QueryResult:
    from rdflib.plugins.sparql.processor import prepareQuery

    dataset = prepared.dataset
    try:
        parsed_query = prepareQuery(prepared.text, base=backend.base_iri)
    except Exception as exc:  # noqa: BLE001 - pyparsing raises many types; all mean a syntax error
        raise _syntax_error(exc) from exc
    target = backend.dataset
    if dataset.default_graphs:
        import rdflib

        target = rdflib.Dataset()
        for g in dataset.default_graphs:
            for triple in backend.dataset.graph(rdflib.URIRef(g)):
                target.add(triple)
    result = target.query(parsed_query)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        from app.rdf.terms import triple_from_rdflib

        fmt = _fitting(prepared.format, GRAPH_FORMATS)
        triples = [triple_from_rdflib(triple) for triple in result.graph or ()]
        return QueryResult(serialize_triples(triples, fmt, backend.base_iri.rstrip("/")), fmt, result.type)
    fmt = _fitting(prepared.format, RESULT_FORMATS)
    as_json = result.serialize(format="json")
    parsed = ox.parse_query_results(as_json, format=ox.QueryResultsFormat.JSON)
    return QueryResult(results_bytes(parsed, fmt), fmt, "ASK" if result.type == "ASK" else "SELECT")


def run_query(backend: Backend, prepared: PreparedQuery, max_rows: int = 100_000) -> QueryResult:
    """Run ``prepared`` and serialise its answer in the format chosen for it (at most ``max_rows``
    rows or triples: the embedded engine's answers are truncated beyond, and say so)."""
    if isinstance(backend, RdflibBackend):
        return _rdflib(backend, prepared)
    assert isinstance(backend, OxigraphBackend)
    return _oxigraph(backend, prepared, max_rows)
