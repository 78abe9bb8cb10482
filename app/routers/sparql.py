"""``/sparql``: the SPARQL 1.1 Protocol for queries (read-only), and its service description.

Registered by hand rather than with typed FastAPI parameters because the protocol needs what
typed parameters hide: repeated parameters (``default-graph-uri``), a query given twice (400),
the raw body in two content types, strict UTF-8.
"""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.build.graph import KnowledgeGraph
from app.deps import LiveDep, public_base
from app.errors import BadRequest, NotAcceptable, PayloadTooLarge, QueryRefused, UnsupportedMedia
from app.ld.service import service_description
from app.rdf.formats import BY_NAME, GRAPH_FORMATS, accept_for
from app.rdf.negotiate import MAX_RANGES, bounded_split, negotiate
from app.rdf.serialize import serialize_triples
from app.sparql.dataset import with_dataset
from app.sparql.reuse import reuse_answer
from app.sparql.run import Dataset, prepare
from app.sparql.runner import QueryRunner
from app.web.request_view import parse_params, view_of

router = APIRouter(tags=["sparql"])

#: Query texts up to this long are screened on the event loop (well under a millisecond).
INLINE_SCREEN_CHARS = 4096
#: A GET's answer is a function of the graph version, the URL and Accept: stored per version (app/web/caching).
CACHED = ("/sparql",)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"

DOC = """SPARQL 1.1 协议查询端点（只读）：GET 或 POST 提交查询，结果格式按 Accept 或 format= 选择。

SPARQL 1.1 Protocol query endpoint (read-only).

* `GET /sparql?query=…`, `POST` with `application/x-www-form-urlencoded` (`query=…`) or
  `application/sparql-query` (the query as the body).
* `default-graph-uri` / `named-graph-uri` (repeatable) choose the dataset, and override the query's
  `FROM` / `FROM NAMED`, which are honoured otherwise; with neither, the default graph is the union
  of the data, ontology and inferred graphs, and all three are named graphs. A dataset may only name
  the service's own graphs (400 otherwise).
* Results by `Accept` (q-values honoured) or `format=` (json, xml, csv, tsv, turtle, ntriples,
  jsonld, rdfxml, trig, nquads; also the names clients send: json-ld, n3, rdf+xml, and full media
  types). `json` and `xml` follow the query form: SPARQL results for SELECT and ASK, JSON-LD and
  RDF/XML for CONSTRUCT and DESCRIBE. A format the query form cannot have (CSV for a CONSTRUCT,
  Turtle for a SELECT) is 406.
* Relative IRIs resolve against `{KG_BASE_IRI}/`.
* Answers carry at most `KG_MAX_RESULT_ROWS` rows (triples); a longer one is truncated and says
  so: header `X-Result-Truncated`, `"truncated": true` in JSON results, a `link` in XML results.
* Updates, `SERVICE` and `LOAD` are refused with 400. Each query is stopped at its deadline
  (`KG_QUERY_TIMEOUT_S`, default 10 s) with 503; when every query worker is busy: 503 + Retry-After.
* Without `query`, GET returns the SPARQL Service Description (Turtle by default); a browser
  (Accept prefers text/html) is sent to the query editor `/query` instead (303).
"""


def _url_params(request: Request) -> list[tuple[str, str]]:
    """The URL's parameters, in order and repeated ones kept. Starlette has parsed them already for
    FastAPI (replacing invalid UTF-8 with U+FFFD): those are used, unless a U+FFFD shows, when the
    strict parse tells a client's own U+FFFD from invalid UTF-8 (400)."""
    items = request.query_params.multi_items()
    if any("\ufffd" in k or "\ufffd" in v for k, v in items):
        return parse_params(request.scope.get("query_string", b""), "URL query string")
    return items


def _one_query(values: list[str]) -> str | None:
    if len(values) > 1:
        raise BadRequest("The parameter query must be set at most once (it was given more than once).")
    return values[0] if values else None


async def _answer(request: Request, graph: KnowledgeGraph, runner: QueryRunner, query: str,
                  params: list[tuple[str, str]]) -> Response:
    limit = graph.settings.max_query_bytes
    if len(query.encode("utf-8")) > limit:
        raise PayloadTooLarge(f"The query is larger than the limit of {limit} bytes.")
    accept = view_of(request).accept
    formats = [v for k, v in params if k == "format" and v.strip()]
    if formats:
        accept = _format_accept(formats)
    dataset = Dataset(tuple(v for k, v in params if k == "default-graph-uri"),
                      tuple(v for k, v in params if k == "named-graph-uri"))
    # Screened (the tokenizer guard) and negotiated here, once, before any engine sees it: a 406 or a
    # refused query costs nothing. A long text takes the tokenizer a while: then not on the event loop.
    if len(query) <= INLINE_SCREEN_CHARS:
        prepared = prepare(query, accept, dataset)
    else:
        prepared = await asyncio.to_thread(prepare, query, accept, dataset)
    prepared = await with_dataset(graph, prepared)  # the protocol's, the query's FROM, or the default
    answer = await reuse_answer(graph, prepared, runner.run)
    fmt = BY_NAME[answer.format_name]
    headers = {"Vary": "Accept"}
    if answer.truncated:
        headers["X-Result-Truncated"] = f"true; limit={graph.settings.max_result_rows}"
    return Response(answer.body, media_type=fmt.content_type, headers=headers)


def _format_accept(formats: list[str]) -> str:
    """The Accept that ``format=`` values stand for. Clients may repeat format= with alternatives of one
    format, or give a list of media types (SPARQLWrapper: format=json-ld&format=application/ld+json,
    application/x-json+ld, and an empty value when it has none): any known one will do, in the order
    given. At most MAX_RANGES alternatives are read (400 above), each known one once: the Accept made
    is a few media types long, whatever the request."""
    parts: list[str] = []
    for value in formats:
        for part in bounded_split(value, ",", MAX_RANGES + 1):
            name = part.split(";", 1)[0].strip()
            if name:
                parts.append(name)
        if len(parts) > MAX_RANGES:
            raise BadRequest(f"format= names more than {MAX_RANGES} formats (the limit); name one.")
    accepts = list(dict.fromkeys(media for media in map(accept_for, parts) if media))
    if not accepts:
        valid = ", ".join(f.name for f in BY_NAME.values() if f.kind != "html")
        raise BadRequest(f"Unknown format {formats[-1][:100]!r}; use one of: {valid} (or a media type).")
    return ", ".join(accepts)


@router.head("/sparql", include_in_schema=False)
@router.get("/sparql", summary="SPARQL 查询（GET）或服务描述 · SPARQL query (GET) or service description",
            description=DOC, response_class=Response)
async def sparql_get(request: Request, live: LiveDep) -> Response:
    """以 ?query= 执行 SPARQL 查询；不带 query 时返回服务描述（浏览器转到查询编辑器）。

    Run a SPARQL query given as `?query=`; without it, describe the service."""
    graph, runner = live
    params = _url_params(request)
    query = _one_query([v for k, v in params if k == "query"])
    if any(k == "update" for k, _ in params):
        raise QueryRefused("SPARQL Update is not accepted: /sparql is a read-only query endpoint.")
    if query is None:
        if _prefers_html(view_of(request).accept):
            return RedirectResponse("/query", status_code=303, headers={"Vary": "Accept"})
        return _service_description(request, graph)
    return await _answer(request, graph, runner, query, params)


@router.post("/sparql", summary="SPARQL 查询（POST）· SPARQL query (POST)", description=DOC, response_class=Response)
async def sparql_post(request: Request, live: LiveDep) -> Response:
    """执行以表单（query=）或直接（application/sparql-query）提交的 SPARQL 查询。

    Run a SPARQL query sent as a form (`query=`) or directly (`application/sparql-query`)."""
    graph, runner = live
    media = view_of(request).media_type
    if not media:
        raise BadRequest(f"A POST to /sparql needs a Content-Type: {FORM} or {DIRECT}.")
    # Counted as it arrives against the query's cap (app/web/bodies.py): 413 as soon as it passes.
    body = await request.body()
    url_params = _url_params(request)
    if media == FORM:
        params = parse_params(body, "form body") + url_params
        if any(k == "update" for k, _ in params):
            raise QueryRefused("SPARQL Update is not accepted: /sparql is a read-only query endpoint.")
        query = _one_query([v for k, v in params if k == "query"])
        if query is None:
            raise BadRequest("The form body has no query parameter.")
        return await _answer(request, graph, runner, query, params)
    if media == DIRECT:
        if any(k == "query" for k, _ in url_params):
            raise BadRequest("The query is both in the body and in the URL: send it once.")
        try:
            query = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"The query body is not valid UTF-8 (byte {exc.start}).") from None
        return await _answer(request, graph, runner, query, url_params)
    if media == UPDATE:
        raise QueryRefused("SPARQL Update is not accepted: /sparql is a read-only query endpoint.")
    raise UnsupportedMedia(f"Unsupported Content-Type {media!r}: send {FORM} or {DIRECT}.")


def _prefers_html(accept: str | None) -> bool:
    """Whether HTML beats every RDF format for this Accept (a browser opening /sparql)."""
    html = BY_NAME["html"]
    try:
        return negotiate(accept, [*GRAPH_FORMATS, html]) is html
    except NotAcceptable:
        return False


def _service_description(request: Request, graph: KnowledgeGraph) -> Response:
    fmt = negotiate(view_of(request).accept, GRAPH_FORMATS)
    base = public_base(request)  # never the Host header: the description is publicly cacheable
    endpoint, void_url = base + "/sparql", base + "/void"
    body = serialize_triples(service_description(graph, endpoint, void_url), fmt, graph.settings.base_iri)
    return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})
