"""Writes, off unless ``KG_WRITE_TOKEN`` is set: SPARQL 1.1 Update at ``/update`` and the
SPARQL 1.1 Graph Store HTTP Protocol at ``/graph-store`` (``?graph=IRI`` or ``?default``).

Every write needs ``Authorization: Bearer <KG_WRITE_TOKEN>`` (none → 401, wrong → 403) and goes
through the SHACL gate of app/store/writes.py: 204 (201 for a new graph) with the new version in
``X-Graph-Version``, or 422 with the SHACL report (JSON, or Turtle by ``Accept: text/turtle``)
and nothing changed. Reading a graph (GET/HEAD) is open to everyone.
"""

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api_catalog import catalog_for
from app.errors import BadRequest, NotFound, ReadOnlyGraph, RequestError, UnsupportedMedia
from app.ld.formats import GRAPH_FORMATS, lookup
from app.ld.negotiate import negotiate
from app.ld.serialize import serialize_triples
from app.observability import record_rejected_write
from app.sparql import isolate
from app.sparql.isolate import check_body
from app.store.engine import KnowledgeGraph
from app.store.writes import (Change, WriteRejected, commit, delete_graph, merge_into_graph, prepare,
                              read_only_graphs, replace_graph, sparql_update)

logger = logging.getLogger(__name__)
router = APIRouter(tags=["writes"])

FORM = "application/x-www-form-urlencoded"
UPDATE = "application/sparql-update"


class Unauthorized(RequestError):
    status_code = 401
    headers = {"WWW-Authenticate": 'Bearer realm="bjrd-kg"'}


class Forbidden(RequestError):
    status_code = 403


def require_writer(request: Request) -> None:
    token = request.app.state.settings.write_token
    if not token:
        raise Forbidden("Writes are disabled on this service (set KG_WRITE_TOKEN to enable them).")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthorized("This write needs an Authorization: Bearer <token> header.")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Forbidden("The bearer token is not valid for writes.")


def rejection(request: Request, exc: WriteRejected) -> Response:
    record_rejected_write(request.app, "shacl")
    fmt = negotiate(request.headers.get("accept"), [lookup("json"), *GRAPH_FORMATS])  # type: ignore[list-item]
    if fmt.name == "json":
        body = json.dumps({"detail": str(exc), "conforms": False, "results": exc.report.results()},
                          ensure_ascii=False, indent=1).encode("utf-8")
        return Response(body, status_code=422, media_type="application/json")
    triples = [ox.Triple(*map(_to_ox, t)) for t in exc.report.graph]
    return Response(serialize_triples(triples, fmt, request.app.state.settings.base_iri), status_code=422,
                    media_type=fmt.content_type)


def _to_ox(term):  # noqa: ANN001, ANN202 - rdflib term to pyoxigraph term
    from app.store.terms import from_rdflib

    return from_rdflib(term)


async def apply(request: Request, change: Change, created: bool = False) -> Response:
    """Validate and commit ``change``; swap in the new graph and fresh query workers."""
    from app.main import query_runner

    state = request.app.state
    if not hasattr(state, "write_lock"):
        state.write_lock = asyncio.Lock()
    async with state.write_lock:
        graph: KnowledgeGraph = state.graph
        try:
            new = await asyncio.to_thread(prepare, graph, change)
        except WriteRejected as exc:
            return rejection(request, exc)
        except RequestError:
            record_rejected_write(request.app, "bad_request")
            raise
        disk = graph.spec.kind == "disk"
        if disk:  # read-only openers of the store must not run while it is written
            await state.workers.close()
        new_graph = await asyncio.to_thread(commit, graph, new)
        workers = query_runner(new_graph)
        await asyncio.gather(workers.start(), catalog_for(new_graph))  # derived answers refreshed before the swap
        old_workers, state.workers, state.graph = state.workers, workers, new_graph
        if not disk:
            await old_workers.close(graceful=True)  # queries in flight finish on the old version
    logger.info("write (%s) committed: version %s", change.kind, new_graph.version[:12])
    return Response(status_code=201 if created else 204, headers={"X-Graph-Version": new_graph.version})


def _graph_param(request: Request) -> str:
    params = parse_qsl(request.url.query, keep_blank_values=True)
    graphs = [v for k, v in params if k == "graph"]
    default = any(k == "default" for k, _ in params)
    if default and not graphs:
        return request.app.state.graph.names.data
    if len(graphs) == 1 and not default and graphs[0].startswith(("http://", "https://", "urn:")):
        return graphs[0]
    raise BadRequest("Name one graph: ?graph=<absolute IRI> or ?default (the article's data graph).")


async def _body_triples(request: Request, graph_iri: str) -> list[ox.Triple]:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    fmt = lookup(content_type) if content_type else None
    if fmt is None or fmt.kind != "graph" or fmt.rdf is None:
        supported = ", ".join(f.media_type for f in GRAPH_FORMATS if f.kind == "graph")
        raise UnsupportedMedia(f"Send the graph as one of: {supported} (Content-Type {content_type or 'missing'}).")
    body = await request.body()
    await asyncio.to_thread(check_body, body, fmt.name)  # JSON-LD depth, RDF/XML DTDs: before any parser
    settings = request.app.state.settings
    nquads = await asyncio.to_thread(isolate.run, "parse_body", (body, fmt.media_type, graph_iri),
                                     timeout_s=settings.update_timeout_s, memory_mb=settings.query_memory_mb,
                                     what=f"parse of the {fmt.name} body")
    return [q.triple for q in isolate.quads_of(nquads)]


def _check_writable(request: Request, name: str) -> None:
    reason = read_only_graphs(request.app.state.graph).get(name)
    if reason:
        raise ReadOnlyGraph(f"The graph <{name}> is read-only: {reason}.")


@router.post("/update", summary="SPARQL 1.1 Update (needs the write token)", status_code=204)
async def post_update(request: Request) -> Response:
    """Apply a SPARQL Update (form `update=` or `application/sparql-update`), SHACL-gated and atomic."""
    require_writer(request)
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The update is not valid UTF-8.") from None
    if content_type == FORM:
        updates = [v for k, v in parse_qsl(text, keep_blank_values=True) if k == "update"]
        if len(updates) != 1:
            raise BadRequest("The form must carry exactly one update parameter.")
        text = updates[0]
    elif content_type != UPDATE:
        raise UnsupportedMedia(f"Send the update as {UPDATE} or as a form ({FORM}).")
    graph: KnowledgeGraph = request.app.state.graph
    settings = request.app.state.settings
    # Tokenizing an update of up to KG_MAX_BODY_BYTES takes a while: not on the event loop.
    change = await asyncio.to_thread(sparql_update, text, graph.query_base, graph.names.data,
                                     timeout_s=settings.update_timeout_s, memory_mb=settings.query_memory_mb)
    return await apply(request, change)


@router.head("/graph-store", include_in_schema=False)
@router.get("/graph-store", summary="Graph Store Protocol: read a graph")
async def read_graph(request: Request) -> Response:
    """The triples of one named graph (`?graph=IRI`, or `?default` for the data graph), by content negotiation."""
    name = _graph_param(request)
    graph: KnowledgeGraph = request.app.state.graph
    quads = graph.loaded.graphs.get(name)
    if quads is None:
        raise NotFound(f"There is no graph <{name}>; graphs: {', '.join(sorted(graph.loaded.graphs))}.")
    fmt = negotiate(request.headers.get("accept"), [f for f in GRAPH_FORMATS if f.kind == "graph"])
    body = serialize_triples([q.triple for q in quads], fmt, graph.settings.base_iri)
    return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})


async def write_body(request: Request, change_for: Callable[[str, list[ox.Triple]], Change]) -> Response:
    """PUT and POST: the body's triples, as the change ``change_for`` makes of them (201 for a new graph)."""
    require_writer(request)
    name = _graph_param(request)
    _check_writable(request, name)
    triples = await _body_triples(request, name)
    created = name not in request.app.state.graph.loaded.graphs
    return await apply(request, change_for(name, triples), created=created)


@router.put("/graph-store", summary="Graph Store Protocol: replace a graph (needs the write token)")
async def put_graph(request: Request) -> Response:
    """Replace a graph's content with the body (201 if the graph is new, else 204)."""
    return await write_body(request, replace_graph)


@router.post("/graph-store", summary="Graph Store Protocol: add to a graph (needs the write token)")
async def post_graph(request: Request) -> Response:
    """Merge the body into a graph (201 if the graph is new, else 204)."""
    return await write_body(request, merge_into_graph)


@router.delete("/graph-store", summary="Graph Store Protocol: delete a graph (needs the write token)")
async def delete_graph_route(request: Request) -> Response:
    """Delete a graph (404 if there is none)."""
    require_writer(request)
    name = _graph_param(request)
    _check_writable(request, name)
    if name not in request.app.state.graph.loaded.graphs:
        raise NotFound(f"There is no graph <{name}>.")
    return await apply(request, delete_graph(name))
