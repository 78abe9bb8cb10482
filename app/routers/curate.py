"""The review desk: ``GET /curate`` (the page), ``POST /api/drafts`` (an article -> its draft),
``POST /api/drafts/publish`` (the curator's decisions -> statements, through the SHACL-gated write
path into the source's own graph ``{base}/graph/source/{id}``) and ``POST /api/drafts/turtle`` (the
same statements as a Turtle file, for those who review in git; nothing written).

All three need the write token, by the rules of the write routes (app/routers/writes.py): none ->
401, a wrong one -> 403, and 403 when writes are off. Without a token the page answers 401 and says
how to authenticate (it offers a field for the token, which the page keeps for the tab and sends as
``Authorization: Bearer``). Drafting runs the code of ``kg draft`` off the event loop, knowing what
the graph served now holds (every published source included), on a text of at most
``KG_MAX_LITERAL_BYTES`` bytes as UTF-8 (413 above, before any work: the publish writes the text as
one literal, and a write refuses a longer one). A publication replaces the source's graph (so a
fixed draft can be published again) and is whole or nothing: a quote that is not the text at its
offsets, an unknown id, or a SHACL violation is a 422 listing each problem with the key of the
proposal concerned, and nothing is written.
"""

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.api.catalog import catalog_for
from app.build.graph import KnowledgeGraph
from app.deps import GraphDep, MetricsDep, RuntimeDep
from app.errors import RequestError, WriteRejected
from app.rdf.formats import BY_NAME
from app.rdf.namespaces import BJRD, SKOS
from app.rdf.serialize import serialize_triples
from app.review.drafts import DraftRequest, draft_request, max_text_bytes
from app.review.publish import PublishRequest, Refused, Vocabulary, publication, source_graph, stamp, violations
from app.routers.api.common import off_loop
from app.routers.pages import AcceptLanguage, LangQuery, render
from app.routers.writes import require_writer
from app.web.request_view import view_of
from app.web.templating import pick_lang
from app.writes.provenance import token_id
from app.writes.writes import replace_graph

router = APIRouter(tags=["curate"])

UNITS = f"""PREFIX bjrd: <{BJRD}>
PREFIX skos: <{SKOS}>
SELECT ?unit ?label ?en WHERE {{
  ?unit a bjrd:Unit ; skos:prefLabel|skos:altLabel ?label ; skos:prefLabel ?en .
  FILTER (lang(?label) = "zh" && lang(?en) = "en")
}}"""


def read_units(graph: KnowledgeGraph) -> dict[str, tuple[str, str]]:
    """The ontology's units: each zh label (preferred or alternative) -> (unit IRI, its en label)."""
    rows = graph.backend.select(UNITS)
    return {row["label"].value: (row["unit"].value, row["en"].value) for row in rows}


async def vocabulary(graph: KnowledgeGraph) -> Vocabulary:
    catalog = await catalog_for(graph)
    units = graph.memo.peek(("curate", "units"))
    if units is None:
        units = await off_loop(lambda: graph.memo.get(("curate", "units"), lambda: read_units(graph)))
    assert isinstance(units, dict)
    return Vocabulary(frozenset(catalog.districts), frozenset(catalog.mechanisms), frozenset(catalog.topics),
                      frozenset(catalog.themes), units)


def writer_iri(graph: KnowledgeGraph, request: Request) -> str:
    """The writer as the write audit trail names it (app/writes/provenance.py)."""
    return f"{graph.store.meta}/writer/{token_id(view_of(request).bearer or '')}"


@router.get("/curate", response_class=HTMLResponse, summary="审阅与发布新文章（需写入令牌）· Review and publish a "
                                                            "new article (needs the write token)")
async def curate_page(request: Request, graph: GraphDep, runtime: RuntimeDep, lang: LangQuery = None,
                      accept_language: AcceptLanguage = None) -> HTMLResponse:
    """审阅台：粘贴或上传一篇新文章，逐条接受、修改或驳回草稿，补充遗漏的陈述，然后发布。

    The review desk: paste or upload an article, accept, edit or reject each proposal of its draft,
    add what it missed by selecting text, and publish. Needs the write token: without one the page
    (401) explains how to give it; a wrong one, or writes turned off, is 403."""
    chosen = pick_lang(lang, accept_language)
    token, given = runtime.settings.write_token, view_of(request).bearer
    if not token:
        status, state = 403, "disabled"
    elif given is None:
        status, state = 401, "anonymous"
    elif not hmac.compare_digest(given.encode(), token.encode()):
        status, state = 403, "refused"
    else:
        status, state = 200, "writer"
    catalog = await catalog_for(graph)
    vocab = await vocabulary(graph)

    def label(c: Any) -> dict[str, str]:
        return {"id": c.id, "zh": c.label.zh or c.id, "en": c.label.en or c.label.zh or c.id}

    desk = {"state": state, "lang": chosen, "max_bytes": max_text_bytes(runtime.settings),
            "districts": [label(d) for d in catalog.districts.values()],
            "mechanisms": [label(m) for m in catalog.mechanisms.values()],
            "topics": [label(t) for t in catalog.topics.values()],
            "themes": [label(t) for t in catalog.themes.values()],
            "units": sorted(vocab.units)}
    response = render(request, "pages/curate.html", chosen, desk=desk, state=state)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/api/drafts/writer", summary="当前写入者 · Who the token writes as")
async def whoami(request: Request, graph: GraphDep, runtime: RuntimeDep) -> dict[str, str]:
    """令牌对应的写入者（审计记录中的名称）。

    The writer the bearer token writes as, named as the write audit trail names it (401 without a
    token, 403 for a wrong one)."""
    require_writer(request, runtime.settings)
    return {"writer": writer_iri(graph, request), "token_id": token_id(view_of(request).bearer or "")}


@router.post("/api/drafts", summary="起草：文章 → 草稿（需写入令牌）· Draft an article (needs the write token)")
async def post_draft(request: Request, runtime: RuntimeDep,
                     body: Annotated[DraftRequest, Body()]) -> JSONResponse:
    """以 `kg draft` 的同一代码为新文章起草（不写入任何内容）。

    The draft of a new article, by the code of `kg draft` (CONTRACT.md "Sources and drafts" JSON, plus
    `text` and each date's `role` and `rule`), knowing every mechanism and topic the graph holds now,
    those published for other sources included. Nothing is written. A text over KG_MAX_LITERAL_BYTES
    bytes as UTF-8 (the longest literal a publish can write) is 413, before any drafting."""
    require_writer(request, runtime.settings)
    graph = runtime.graph
    return JSONResponse(await off_loop(lambda: draft_request(body, graph)))


@router.post("/api/drafts/turtle", response_class=Response,
             summary="审阅过的草稿的 Turtle（供 git 使用，需写入令牌）· A reviewed draft as Turtle, for git "
                     "(needs the write token)")
async def publication_turtle(request: Request, runtime: RuntimeDep,
                             body: Annotated[PublishRequest, Body()]) -> Response:
    """发布时将写入的陈述，以 Turtle 文件返回，不写入任何内容。

    The statements a publish would write (the same checks, the same triples), as a Turtle file to keep
    under `data/sources/{id}/` and review in git; nothing is written and the shapes are not run
    (`kg validate` or a publish does that). 422 as for a publish."""
    require_writer(request, runtime.settings)
    graph = runtime.graph
    vocab = await vocabulary(graph)
    writer = writer_iri(graph, request)
    when = datetime.now(UTC).replace(microsecond=0)
    try:
        triples, _ = await off_loop(lambda: publication(body, vocab, graph.settings, writer, when))
    except Refused as exc:
        return JSONResponse({"detail": exc.detail, "conforms": False, "violations": exc.problems}, status_code=422)
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    turtle = await off_loop(lambda: serialize_triples(ordered, BY_NAME["turtle"], graph.settings.base_iri))
    return Response(turtle, media_type="text/turtle; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{body.source.id}.ttl"'})


@router.post("/api/drafts/publish",
             summary="发布审阅过的草稿（需写入令牌）· Publish a reviewed draft (needs the write token)")
async def publish(request: Request, runtime: RuntimeDep, metrics: MetricsDep,
                  body: Annotated[PublishRequest, Body()]) -> JSONResponse:
    """把接受的陈述经 SHACL 校验写入来源自己的命名图（替换之前发布的内容）。

    The accepted statements, with the source (title, issue, text and its SHA-256) and PROV (drafting
    rule and confidence, the writer, when), replace the graph `{base}/graph/source/{id}` through the
    SHACL-gated write path. 201 with the graph and the new version; 422 with `violations` (each with
    the `key` of the proposal it concerns) when a quote is not the text at its offsets, an id is
    unknown, or the shapes refuse it; then nothing is written."""
    require_writer(request, runtime.settings)
    graph = runtime.graph
    vocab = await vocabulary(graph)
    writer = writer_iri(graph, request)
    when = datetime.now(UTC).replace(microsecond=0)
    try:
        triples, keys = await off_loop(lambda: publication(body, vocab, graph.settings, writer, when))
    except Refused as exc:
        metrics.reject_write("bad_request")
        return JSONResponse({"detail": exc.detail, "conforms": False, "violations": exc.problems}, status_code=422)
    name = source_graph(graph.settings.base_iri, body.source.id)
    try:
        new_graph = await runtime.commit(replace_graph(name, triples), token_id(view_of(request).bearer or ""))
    except WriteRejected as exc:
        metrics.reject_write("shacl")
        found = violations(exc.report.results(), keys)
        return JSONResponse({"detail": f"the shapes refuse {len(found)} statement(s); nothing was written",
                             "conforms": False, "violations": found}, status_code=422)
    except RequestError:
        metrics.reject_write("bad_request")
        raise
    return JSONResponse({"graph": name, "version": new_graph.version, "triples": len(triples),
                         "source": f"{graph.settings.base_iri}/id/source/{body.source.id}",
                         "writer": writer, "accepted": stamp(when)},
                        status_code=201, headers={"X-Graph-Version": new_graph.version})
