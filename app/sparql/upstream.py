"""The answer of a remote store, read with the embedded path's limits before anything is sent.

A store's answer is asked for in a line-based format (SELECT: TSV, one row a line; CONSTRUCT and
DESCRIBE: N-Triples, one triple a line; ASK: JSON, one value), read only up to
``max_rows + 1`` lines (then the stream is closed: a huge answer is never buffered), parsed with
pyoxigraph (so a cut or garbled answer is a 502, never a 200 with broken JSON) and serialised in
the format the client negotiated — the same code, and the same truncation, as the embedded engine.
"""

from dataclasses import dataclass

import httpx
import pyoxigraph as ox

from app.errors import BadGateway
from app.rdf.formats import GRAPH_FORMATS, RESULT_FORMATS, Format
from app.rdf.serialize import serialize_triples
from app.sparql.run import Answer, results_bytes, serialize_solutions

TSV = "text/tab-separated-values"
NTRIPLES = "application/n-triples"
RESULTS_JSON = "application/sparql-results+json"
#: A line longer than this is not a row any store sends for this service's data.
MAX_LINE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Plan:
    """How to ask the store for an answer of one query form."""

    accept: str
    line_based: bool


def plan_for(form: str) -> Plan:
    if form in ("CONSTRUCT", "DESCRIBE"):
        return Plan(NTRIPLES, True)
    if form == "SELECT":
        return Plan(TSV, True)
    # ASK (or a form the screen could not tell): a whole small document.
    return Plan(f"{RESULTS_JSON}, {NTRIPLES};q=0.9", False)


async def read_lines(response: httpx.Response, limit: int) -> tuple[list[bytes], bool]:
    """Up to ``limit`` complete lines of the body, and whether there were more."""
    lines: list[bytes] = []
    pending = b""
    async for chunk in response.aiter_bytes():
        pending += chunk
        while True:
            end = pending.find(b"\n")
            if end < 0:
                break
            lines.append(pending[:end + 1])
            pending = pending[end + 1:]
            if len(lines) > limit:
                return lines[:limit], True
        if len(pending) > MAX_LINE_BYTES:
            raise BadGateway(f"The SPARQL store sent a line longer than {MAX_LINE_BYTES} bytes.")
    if pending:
        lines.append(pending)
    return lines, False


async def read_answer(response: httpx.Response, form: str, fmt: Format, max_rows: int, base_iri: str) -> Answer:
    """The store's streamed ``response`` as an Answer in ``fmt``; BadGateway when it is not valid."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media == TSV:
            lines, more = await read_lines(response, max_rows + 1)  # + the header line
            parsed = ox.parse_query_results(b"".join(lines), format=ox.QueryResultsFormat.TSV)
            assert isinstance(parsed, ox.QuerySolutions)
            variables = [v.value for v in parsed.variables]
            rows = list(parsed)
            chosen = fmt if fmt in RESULT_FORMATS else RESULT_FORMATS[0]
            return Answer(serialize_solutions(variables, rows, chosen, more), chosen.name, "SELECT", more)
        if media == NTRIPLES:
            lines, more = await read_lines(response, max_rows)
            triples = [q.triple for q in ox.parse(b"".join(lines), format=ox.RdfFormat.N_TRIPLES)]
            chosen = fmt if fmt in GRAPH_FORMATS else GRAPH_FORMATS[0]
            return Answer(serialize_triples(triples, chosen, base_iri), chosen.name, form or "CONSTRUCT", more)
        if media == RESULTS_JSON:
            body = await response.aread()
            result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            chosen = fmt if fmt in RESULT_FORMATS else RESULT_FORMATS[0]
            if isinstance(result, ox.QuerySolutions):  # a SELECT the screen could not tell
                variables = [v.value for v in result.variables]
                rows = list(result)
                more = len(rows) > max_rows
                body = serialize_solutions(variables, rows[:max_rows], chosen, more)
                return Answer(body, chosen.name, "SELECT", more)
            return Answer(results_bytes(result, chosen), chosen.name, "ASK")
    except (SyntaxError, ValueError) as exc:
        raise BadGateway(f"The SPARQL store sent an answer that is not valid {media}: {str(exc)[:200]}") from None
    except httpx.TimeoutException:
        raise  # the deadline's, not a broken answer
    except httpx.TransportError:
        raise BadGateway("The SPARQL store's answer broke off before it was complete; retry.") from None
    raise BadGateway(f"The SPARQL store answered in {media or 'no media type'}, which was not asked for.")
