"""Writes, off unless ``KG_WRITE_TOKEN`` is set: SPARQL 1.1 Update at ``/update`` and the
SPARQL 1.1 Graph Store HTTP Protocol at ``/graph-store`` (``?graph=IRI`` or ``?default``).

Every write needs ``Authorization: Bearer <KG_WRITE_TOKEN>`` (none → 401, wrong → 403) and goes
through the SHACL gate of app/writes/writes.py: 204 (201 for a new graph) with the new version in
``X-Graph-Version``, or 422 with the SHACL report (JSON, or Turtle by ``Accept: text/turtle``)
and nothing changed. A term nothing downstream can read (an ill-typed or directional literal, a
malformed language tag, a literal over ``KG_MAX_LITERAL_BYTES``: 422/413), too many entailments
(422) or a failure at any stage (500, naming it) also leave the store as it was.
Reading a graph (GET/HEAD) is open to everyone.
"""

import asyncio
import hmac
import json
from collections.abc import Callable
from functools import partial
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.deps import GraphDep, MetricsDep, RuntimeDep
from app.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ReadOnlyGraph,
    RequestError,
    Unauthorized,
    UnsupportedMedia,
    WriteRejected,
)
from app.rdf.formats import BY_NAME, GRAPH_FORMATS, lookup
from app.rdf.negotiate import negotiate
from app.rdf.serialize import serialize_triples
from app.rdf.sparql_guard import with_using
from app.rdf.terms import triple_from_rdflib
from app.runtime import Runtime
from app.web.observability import Metrics
from app.web.request_view import MAX_PARAMS, count_params, view_of
from app.writes import isolate
from app.writes.isolate import check_body
from app.writes.provenance import token_id
from app.writes.writes import Change, delete_graph, merge_into_graph, read_only_graphs, replace_graph, sparql_update

router = APIRouter(tags=["writes"])

FORM = "application/x-www-form-urlencoded"
UPDATE = "application/sparql-update"


def require_writer(request: Request, settings: Settings) -> None:
    """Every write needs the token: 403 when writes are off or the token is wrong, 401 without one."""
    token = settings.write_token
    if not token:
        raise Forbidden("Writes are disabled on this service (set KG_WRITE_TOKEN to enable them).")
    given = view_of(request).bearer  # the scheme in any case: the same token apply() names as the writer
    if given is None:
        raise Unauthorized("This write needs an Authorization: Bearer <token> header.")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise Forbidden("The bearer token is not valid for writes.")


def rejection(request: Request, exc: WriteRejected, base_iri: str) -> Response:
    fmt = negotiate(view_of(request).accept, [BY_NAME["json"], *GRAPH_FORMATS])
    if fmt.name == "json":
        body = json.dumps({"detail": str(exc), "conforms": False, "results": exc.report.results()},
                          ensure_ascii=False, indent=1).encode("utf-8")
        return Response(body, status_code=422, media_type="application/json")
    triples = [triple_from_rdflib(t) for t in exc.report.graph]
    return Response(serialize_triples(triples, fmt, base_iri), status_code=422, media_type=fmt.content_type)


async def apply(request: Request, runtime: Runtime, metrics: Metrics, change: Change,
                created: bool = False) -> Response:
    """Validate and commit ``change`` (the runtime swaps in the new graph): 204/201, or 422 with the report."""
    try:
        new_graph = await runtime.commit(change, token_id(view_of(request).bearer or ""))
    except WriteRejected as exc:
        metrics.reject_write("shacl")
        return rejection(request, exc, runtime.settings.base_iri)
    except RequestError:
        metrics.reject_write("bad_request")
        raise
    return Response(status_code=201 if created else 204, headers={"X-Graph-Version": new_graph.version})


def _graph_param(request: Request, graph: KnowledgeGraph) -> str:
    params = parse_qsl(request.url.query, keep_blank_values=True)
    graphs = [v for k, v in params if k == "graph"]
    default = any(k == "default" for k, _ in params)
    if default and not graphs:
        return graph.names.data
    if len(graphs) == 1 and not default and graphs[0].startswith(("http://", "https://", "urn:")):
        return graphs[0]
    raise BadRequest("Name one graph: ?graph=<absolute IRI> or ?default (the article's data graph).")


async def _body_triples(request: Request, settings: Settings, graph_iri: str) -> list[ox.Triple]:
    content_type = view_of(request).media_type
    fmt = lookup(content_type) if content_type else None
    if fmt is None or fmt.kind != "graph" or fmt.rdf is None:
        supported = ", ".join(f.media_type for f in GRAPH_FORMATS if f.kind == "graph")
        raise UnsupportedMedia(f"Send the graph as one of: {supported} (Content-Type {content_type or 'missing'}).")
    body = await request.body()
    await asyncio.to_thread(check_body, body, fmt.name)  # JSON-LD depth, RDF/XML DTDs: before any parser
    nquads = await asyncio.to_thread(isolate.run, "parse_body", (body, fmt.media_type, graph_iri),
                                     timeout_s=settings.update_timeout_s, memory_mb=settings.query_memory_mb,
                                     what=f"parse of the {fmt.name} body")
    return [q.triple for q in isolate.quads_of(nquads)]


def _check_writable(graph: KnowledgeGraph, name: str) -> None:
    reason = read_only_graphs(graph).get(name)
    if reason:
        raise ReadOnlyGraph(f"The graph <{name}> is read-only: {reason}.")


@router.post("/update",
             summary="SPARQL 1.1 更新（需写入令牌）· SPARQL 1.1 Update (needs the write token)", status_code=204)
async def post_update(request: Request, runtime: RuntimeDep, metrics: MetricsDep) -> Response:
    """执行 SPARQL Update：先经 SHACL 校验，整体生效或不生效。

    Apply a SPARQL Update (form `update=` or `application/sparql-update`), SHACL-gated and atomic.
    `using-graph-uri` / `using-named-graph-uri` (URL or form, repeatable) are the dataset of its
    `DELETE`/`INSERT … WHERE` operations, as `USING` / `USING NAMED`; with `USING` or `WITH` in the
    update as well: 400."""
    require_writer(request, runtime.settings)
    content_type = view_of(request).media_type
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The update is not valid UTF-8.") from None
    params = request.query_params.multi_items()
    if content_type == FORM:
        # At most MAX_PARAMS parameters (400 above); a long form is split off the event loop.
        count_params(body, "form body")
        split = partial(parse_qsl, text, keep_blank_values=True, max_num_fields=MAX_PARAMS)
        form = split() if len(text) <= 64 * 1024 else await asyncio.to_thread(split)
        params = [*form, *params]
        updates = [v for k, v in form if k == "update"]
        if len(updates) != 1:
            raise BadRequest("The form must carry exactly one update parameter.")
        text = updates[0]
    elif content_type != UPDATE:
        raise UnsupportedMedia(f"Send the update as {UPDATE} or as a form ({FORM}).")
    graph, settings = runtime.graph, runtime.settings
    # The protocol's dataset for the operations' WHERE (USING / USING NAMED; 400 with the update's own).
    using = [v for k, v in params if k == "using-graph-uri"]
    using_named = [v for k, v in params if k == "using-named-graph-uri"]
    if using or using_named:
        text = await asyncio.to_thread(with_using, text, using, using_named)
    # Tokenizing an update of up to KG_MAX_BODY_BYTES takes a while: not on the event loop.
    change = await asyncio.to_thread(sparql_update, text, graph.query_base, graph.names.data,
                                     timeout_s=settings.update_timeout_s, memory_mb=settings.query_memory_mb)
    return await apply(request, runtime, metrics, change)


@router.head("/graph-store", include_in_schema=False)
@router.get("/graph-store", summary="图存储协议：读取图 · Graph Store Protocol: read a graph")
async def read_graph(request: Request, graph: GraphDep) -> Response:
    """一个命名图的三元组（?graph=IRI，或 ?default 表示数据图），按内容协商返回。

    The triples of one named graph (`?graph=IRI`, or `?default` for the data graph), by content negotiation."""
    name = _graph_param(request, graph)
    quads = graph.loaded.graphs.get(name)
    if quads is None:
        raise NotFound(f"There is no graph <{name}>; graphs: {', '.join(sorted(graph.loaded.graphs))}.")
    fmt = negotiate(view_of(request).accept, [f for f in GRAPH_FORMATS if f.kind == "graph"])
    body = serialize_triples([q.triple for q in quads], fmt, graph.settings.base_iri)
    return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})


async def write_body(request: Request, runtime: Runtime, metrics: Metrics,
                     change_for: Callable[[str, list[ox.Triple]], Change]) -> Response:
    """PUT and POST: the body's triples, as the change ``change_for`` makes of them (201 for a new graph)."""
    require_writer(request, runtime.settings)
    name = _graph_param(request, runtime.graph)
    _check_writable(runtime.graph, name)
    triples = await _body_triples(request, runtime.settings, name)
    created = name not in runtime.graph.store.content_graphs()
    return await apply(request, runtime, metrics, change_for(name, triples), created=created)


@router.put("/graph-store",
            summary="图存储协议：替换图（需写入令牌）· Graph Store Protocol: replace a graph (needs the write token)")
async def put_graph(request: Request, runtime: RuntimeDep, metrics: MetricsDep) -> Response:
    """以请求体替换一个图的内容（新图 201，否则 204）。

    Replace a graph's content with the body (201 if the graph is new, else 204)."""
    return await write_body(request, runtime, metrics, replace_graph)


@router.post("/graph-store",
             summary="图存储协议：追加到图（需写入令牌）· Graph Store Protocol: add to a graph (needs the write token)")
async def post_graph(request: Request, runtime: RuntimeDep, metrics: MetricsDep) -> Response:
    """把请求体合并进一个图（新图 201，否则 204）。

    Merge the body into a graph (201 if the graph is new, else 204)."""
    return await write_body(request, runtime, metrics, merge_into_graph)


@router.delete("/graph-store",
               summary="图存储协议：删除图（需写入令牌）· Graph Store Protocol: delete a graph (needs the write token)")
async def delete_graph_route(request: Request, runtime: RuntimeDep, metrics: MetricsDep) -> Response:
    """删除一个图（不存在则 404）。

    Delete a graph (404 if there is none)."""
    require_writer(request, runtime.settings)
    name = _graph_param(request, runtime.graph)
    _check_writable(runtime.graph, name)
    if name not in runtime.graph.store.content_graphs():
        raise NotFound(f"There is no graph <{name}>.")
    return await apply(request, runtime, metrics, delete_graph(name))
