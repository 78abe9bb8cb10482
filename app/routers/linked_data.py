"""Linked data: entity IRIs by content negotiation, type indexes, VoID, the JSON-LD context, the
ontology and the shapes (the dumps: :mod:`app.routers.dumps`).

Entity IRIs ``{KG_BASE_IRI}/id/{type}/{slug}`` are mapped from the request *path* (never the
request host): ``GET /id/district/haidian`` describes ``graph.iri("district", "haidian")``.
A negotiated answer is a direct 200 with ``Content-Location`` naming the suffixed URL of the
representation chosen (``/id/district/haidian.ttl``) and ``Vary: Accept``.
"""

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.api.answers import close_ids, find_district, list_similar, read_district
from app.api.catalog import read_catalog
from app.api.lists import TABLE_FORMATS as INDEX_FORMATS
from app.api.lists import TABLE_KINDS, format_href, read_table, read_view, sort_href
from app.api.timeline import timeline_page
from app.build.graph import KnowledgeGraph
from app.deps import GraphDep, public_base
from app.errors import BadRequest, NotFound
from app.ld.describe import ENTITY_KINDS, describe
from app.ld.entity import EntityView
from app.ld.export import CSV_MEDIA_TYPE, release_id
from app.ld.jsonld import CONTEXT_PATH, compact, context_document
from app.ld.links import Linker, curie
from app.ld.ontology import OntologyDoc, ontology_versions
from app.ld.tables import write_csv
from app.ld.void import void_stats, void_triples
from app.rdf.formats import BY_NAME, Format, lookup
from app.rdf.negotiate import negotiate
from app.rdf.serialize import serialize_triples
from app.routers.pages import read_source
from app.web.request_view import view_of
from app.web.templating import pick_lang, templates

router = APIRouter(tags=["linked data"])

#: Answered from the graph alone: ETags and 304 (app/web/caching.py). The dumps: app/routers/dumps.py.
CACHED = ("/id/*", "/void*", "/.well-known/void*", "/ontology*", "/shapes*", "/context.jsonld*")
Handler = Callable[..., Any]

HTML = BY_NAME["html"]
RDF_FORMATS = [BY_NAME[n] for n in ("turtle", "jsonld", "ntriples", "rdfxml")]
PAGE_FORMATS = [*RDF_FORMATS, HTML]
SUFFIXES = {f.extension: f for f in PAGE_FORMATS}
#: An entity asked for as plain JSON (Accept: application/json) is answered its JSON-LD, which is JSON
#: (its context inline), with the media type asked for; offered last, so that JSON-LD wins a tie.
JSON_AS_JSONLD = replace(BY_NAME["jsonld"], media_type="application/json", aliases=())
ENTITY_FORMATS = [*PAGE_FORMATS, JSON_AS_JSONLD]
RICH_PAGES = ("district", "mechanism", "theme", "topic", "practice", "fact", "quote", "source")
#: The /api list behind each index table (the whole list, as JSON or with ?format=csv).
API_LISTS = {"district": "/api/districts", "mechanism": "/api/mechanisms", "theme": "/api/themes",
             "topic": "/api/topics", "fact": "/export/facts.csv", "practice": "/export/practices.csv"}
#: How many "most similar districts" a district page lists (each linked to /compare).
SIMILAR_SHOWN = 5

LangQuery = Annotated[str | None, Query(
    description="Language of the HTML page: zh or en (default: Accept-Language, then zh).")]
FormatQuery = Annotated[str | None, Query(
    description="A format name (turtle, jsonld, ntriples, rdfxml, html); overrides Accept. The index tables "
    "(/id/{kind}/ of districts, mechanisms, topics, themes, facts, practices) also take csv and json: the rows shown.")]

def read_route(path: str, summary: str, description: str | None = None, *,
               on: APIRouter | None = None) -> Callable[[Handler], Handler]:
    """GET ``path`` (documented) and HEAD ``path`` (the same handler, left out of OpenAPI so that
    operation ids stay unique), on ``on`` (default: this module's router)."""
    target = on or router

    def decorate(handler: Handler) -> Handler:
        target.get(path, summary=summary, description=description, response_class=Response)(handler)
        target.head(path, include_in_schema=False, response_class=Response)(handler)
        return handler

    return decorate


# ------------------------------------------------------------------------------- helpers


def service_base(request: Request) -> str:
    """The service's public URL (``KG_PUBLIC_URL``, default the base IRI), without a trailing slash.

    Never the Host header: these URLs go into publicly cacheable answers."""
    return public_base(request)


def choose(request: Request, offered: list[Format], format_name: str | None) -> tuple[Format, bool]:
    """(format, negotiated?): ``?format=`` if given, else the Accept header."""
    if format_name:
        fmt = lookup(format_name)
        if fmt is None or fmt not in offered:
            valid = ", ".join(f.name for f in offered)
            raise BadRequest(f"Unknown or unavailable format {format_name!r}; use one of: {valid}.")
        return fmt, False
    return negotiate(view_of(request).accept, offered), True


def rdf_body(request: Request, graph: KnowledgeGraph, triples: list[ox.Triple], fmt: Format) -> bytes:
    if fmt.name == "jsonld":
        return compact(triples, service_base(request) + CONTEXT_PATH)
    return serialize_triples(triples, fmt, graph.settings.base_iri)


def rdf_response(request: Request, graph: KnowledgeGraph, triples: list[ox.Triple], fmt: Format,
                 headers: dict[str, str]) -> Response:
    return Response(rdf_body(request, graph, triples, fmt), media_type=fmt.content_type, headers=headers)


def page(request: Request, template: str, lang: str, context: dict[str, object], status_code: int = 200,
         headers: dict[str, str] | None = None) -> Response:
    return templates.TemplateResponse(request, template, {"lang": lang, **context}, status_code=status_code,
                                      headers=headers, media_type=HTML.content_type)


def page_lang(request: Request, lang: str | None) -> str:
    return pick_lang(lang, view_of(request).accept_language)


def alternates(path: str) -> list[dict[str, str]]:
    return [{"name": f.name, "href": f"{path}.{f.extension}", "type": f.media_type} for f in RDF_FORMATS]


def link_header(path: str) -> str:
    return ", ".join(f'<{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"' for f in PAGE_FORMATS)


def not_found(request: Request, html: bool, lang: str, message: str, suggestions: list[str] | None = None) -> Response:
    if html:
        return page(request, "ld/not_found.html", lang,
                    {"message": message, "kinds": ENTITY_KINDS, "suggestions": suggestions or []}, status_code=404)
    raise NotFound(message)


def valid_iri(iri: str) -> bool:
    """Whether ``iri`` is an IRI at all (a path typed with a space in it is not)."""
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


def split_suffix(name: str) -> tuple[str, Format | None]:
    stem, dot, extension = name.rpartition(".")
    if dot and stem and extension in SUFFIXES:
        return stem, SUFFIXES[extension]
    return name, None


# ------------------------------------------------------------------------------- entities


@read_route("/id/{kind}/", "某类实体的索引 · Index of the entities of one type (HTML or RDF)")
def read_index(kind: str, request: Request, graph: GraphDep, lang: LangQuery = None,
               format: FormatQuery = None) -> Response:
    """某一类型（区、机制、主题……）的全部实体，HTML 列表或按 Accept 返回 RDF。

    Every entity of one type (district, mechanism, theme, …), as an HTML list or as RDF by Accept.
    Districts, mechanisms, topics, themes, facts and practices are a table (app/api/lists.py): `q`
    filters (every word, any order), `sort` orders (`-` to reverse), `district`, `kind`, `shared`,
    `theme`, `topic` and `year` are facets, and `format=csv` or `format=json` answers the rows shown."""
    if kind in TABLE_KINDS and format in INDEX_FORMATS:
        return index_table(request, graph, kind, page_lang(request, lang), format)
    fmt, negotiated = choose(request, PAGE_FORMATS, format)
    language = page_lang(request, lang)
    if kind not in ENTITY_KINDS:
        return not_found(request, fmt is HTML, language,
                         f"No entity type {kind!r}; the types are: {', '.join(ENTITY_KINDS)}.")
    prefix = ox.Literal(f"{graph.settings.base_iri}/id/{kind}/")
    headers = {"Vary": "Accept, Accept-Language"} if negotiated else {}
    if fmt is not HTML:
        return rdf_response(request, graph, graph.construct("ld_index_graph", prefix=prefix), fmt, headers)
    if kind in TABLE_KINDS:
        return index_table(request, graph, kind, language, None, headers)
    usage = {row["entity"]: row for row in graph.run("ld_index_usage")}
    linker = Linker(graph, language)
    rows = []
    for row in graph.run("ld_index", prefix=prefix):
        used = usage.get(row["entity"], {})
        label = row.get(f"label_{language}") or row.get("label_zh") or row.get("label_en")
        rows.append({"href": linker.href(row["entity"]), "iri": row["entity"], "label_zh": row.get("label_zh"),
                     "label_en": row.get("label_en"), "label": label, "code": row.get("code"),
                     "practices": used.get("practices", 0), "districts": used.get("districts", 0),
                     "slug": row["entity"].rsplit("/", 1)[-1]})
    if kind in ("mechanism", "theme", "topic"):
        rows.sort(key=lambda r: (-r["districts"], -r["practices"], r["slug"]))
    return page(request, "ld/index.html", language, {
        "kind": kind, "rows": rows, "kinds": ENTITY_KINDS,
        "alternates": [{"name": f.name, "href": f"/id/{kind}/?format={f.name}", "type": f.media_type}
                       for f in RDF_FORMATS],
    }, headers=headers)


def index_table(request: Request, graph: KnowledgeGraph, kind: str, lang: str, fmt: str | None,
                headers: dict[str, str] | None = None) -> Response:
    """The table of ``kind`` as the query string asks: HTML, or the rows shown as CSV or JSON."""
    view = read_view(kind, request.query_params.multi_items())
    table = read_table(graph, read_catalog(graph), kind, view, lang)
    if fmt == "json":
        body = json.dumps(table.records(), ensure_ascii=False).encode("utf-8")
        return Response(body, media_type="application/json")
    if fmt == "csv":
        keys = ["id", "iri", *(c.key for c in table.columns)]
        return Response(write_csv(keys, ([r[k] for k in keys] for r in table.records())),
                        media_type=CSV_MEDIA_TYPE, headers={"Content-Disposition": f'inline; filename="{kind}.csv"'})
    return page(request, "ld/table.html", lang, {
        "kind": kind, "table": table, "kinds": ENTITY_KINDS, "sort_href": sort_href, "format_href": format_href,
        "api": API_LISTS.get(kind),
        "alternates": [{"name": f.name, "href": f"/id/{kind}/?format={f.name}", "type": f.media_type}
                       for f in RDF_FORMATS],
    }, headers=headers)


@read_route("/id/{kind}/{name}", "解析实体 IRI · An entity IRI, dereferenced by content negotiation")
def read_entity(kind: str, name: str, request: Request, graph: GraphDep, lang: LangQuery = None) -> Response:
    """{base}/id/{kind}/{slug} 的描述：按 Accept 或后缀返回 Turtle、JSON-LD、N-Triples、RDF/XML 或 HTML。

    The description of {base}/id/{kind}/{slug}: Turtle, JSON-LD, N-Triples, RDF/XML or HTML by Accept,
    or fixed by a suffix (.ttl .jsonld .nt .rdf .html)."""
    slug, fixed = split_suffix(name)
    fmt = fixed or negotiate(view_of(request).accept, ENTITY_FORMATS)
    language = page_lang(request, lang)
    iri = graph.iri(kind, slug)
    triples = describe(graph, iri) if kind in ENTITY_KINDS and valid_iri(iri) else []
    if not triples and kind == "district":
        catalog = read_catalog(graph)
        canonical = find_district(catalog, slug)
        if canonical is not None and canonical != slug:
            target = f"/id/district/{canonical}" + (f".{fixed.extension}" if fixed else "")
            query = request.url.query
            return RedirectResponse(f"{target}?{query}" if query else target, status_code=301)
        close = close_ids(catalog.districts, slug, catalog)
        if close:
            names = ", ".join(f"/id/district/{c}" for c in close)
            return not_found(request, fmt is HTML, language, f"No entity <{iri}>. Did you mean {names}?",
                             [f"/id/district/{c}" for c in close])
    if not triples:
        return not_found(request, fmt is HTML, language,
                         f"No entity <{iri}>. See /id/{kind}/ for the known ones." if kind in ENTITY_KINDS else
                         f"No entity type {kind!r}; the types are: {', '.join(ENTITY_KINDS)}.")
    path = f"/id/{kind}/{slug}"
    headers = {"Link": link_header(path)}
    if fixed is None:
        headers["Vary"] = "Accept, Accept-Language"
        headers["Content-Location"] = f"{path}.{fmt.extension}"
    elif fmt is HTML:
        headers["Vary"] = "Accept-Language"
    # Rendered once per graph version, IRI, format, language and service URL.
    key = ("entity-body", iri, fmt.name, language if fmt is HTML else "", service_base(request))
    body = graph.memo.get(key, lambda: render_entity(request, graph, kind, path, triples, fmt, language), size=2048)
    return Response(body, media_type=fmt.content_type, headers=headers)


def render_entity(request: Request, graph: KnowledgeGraph, kind: str, path: str, triples: list[ox.Triple],
                  fmt: Format, lang: str) -> bytes:
    """One representation of an entity description: RDF, or its HTML page."""
    if fmt.name == "jsonld":
        return compact(triples, None)  # the context inline: any JSON-LD processor reads it offline
    if fmt is not HTML:
        return rdf_body(request, graph, triples, fmt)
    iri = graph.iri(kind, path.rsplit("/", 1)[-1])
    view = EntityView(graph, iri, triples, lang).context()
    template = templates.get_template(f"ld/{kind}.html" if kind in RICH_PAGES else "ld/entity.html")
    context = {**view, "request": request, "lang": lang, "alternates": alternates(path), "path": path}
    # For the "how to cite" line: the source article as the graph describes it.
    context["cited_source"] = read_source(graph, lang)
    context["release"] = release_id(graph)
    if kind == "district":
        catalog, district_id = read_catalog(graph), iri.rsplit("/", 1)[-1]
        context["similar"] = list_similar(catalog, district_id)[:SIMILAR_SHOWN]
        context["district_id"] = district_id
        context["detail"] = read_district(catalog, district_id)
        context["mechanism_labels"] = {m: c.label for m, c in catalog.mechanisms.items()}
    if kind in ("mechanism", "topic", "district"):  # over the years: app.api.timeline
        context.update(timeline_page(graph, read_catalog(graph), kind, iri.rsplit("/", 1)[-1], lang))
    return template.render(context).encode("utf-8")


# ------------------------------------------------------------------------------- VoID


@read_route("/void", "VoID 数据集描述 · VoID description")
@read_route("/.well-known/void", "VoID 数据集描述（约定位置）· VoID description (well-known location)")
def read_void(request: Request, graph: GraphDep, lang: LangQuery = None, format: FormatQuery = None) -> Response:
    """数据集的 VoID 描述：规模、类与属性划分、数据转储（本版本的文件）与 SPARQL 端点。

    The VoID description of the dataset: sizes, class and property partitions, dumps, endpoint."""
    fmt, negotiated = choose(request, PAGE_FORMATS, format)
    base = service_base(request)
    stats = graph.memo.get(("void", base), lambda: void_stats(graph, base), size=8)
    headers = {"Vary": "Accept, Accept-Language"} if negotiated else {}
    if fmt is not HTML:
        return rdf_response(request, graph, void_triples(stats), fmt, headers)
    language = page_lang(request, lang)
    linker = Linker(graph, language)
    return page(request, "ld/void.html", language, {
        "stats": stats, "curie": curie, "term": linker.term,
        "alternates": [{"name": f.name, "href": f"{request.url.path}?format={f.name}", "type": f.media_type}
                       for f in RDF_FORMATS],
    }, headers=headers)


# ------------------------------------------------------------------------------- context, ontology, shapes


@read_route("/context.jsonld", "JSON-LD 上下文 · The JSON-LD context of every JSON-LD answer")
def read_context() -> Response:
    """JSON-LD 上下文：bjrd、SKOS、RDFS、Web Annotation 与 schema.org 术语的短键名。

    The JSON-LD context: short keys for the bjrd, SKOS, RDFS, Web Annotation and schema.org terms."""
    body = json.dumps(context_document(), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    return Response(body, media_type=BY_NAME["jsonld"].content_type)


@read_route("/ontology", "本体 · The ontology (RDF by Accept, or HTML documentation)")
def read_ontology(request: Request, graph: GraphDep, lang: LangQuery = None, format: FormatQuery = None) -> Response:
    """bjrd 本体：默认 Turtle，亦可 JSON-LD、N-Triples、RDF/XML 或 HTML 文档。

    The bjrd ontology: Turtle by default, JSON-LD, N-Triples, RDF/XML, or HTML documentation."""
    return ontology_response(request, graph, None, lang, format)


@read_route("/ontology/{version}", "本体的某一版本 · One version of the ontology (its owl:versionIRI)")
def read_ontology_version(version: str, request: Request, graph: GraphDep, lang: LangQuery = None,
                          format: FormatQuery = None) -> Response:
    """某一版本的本体（其 owl:versionIRI），内容协商同 /ontology。

    The ontology as published at `version` (its `owl:versionIRI`, e.g. /ontology/1.0.0), by content
    negotiation like /ontology; the current version is the ontology served at /ontology."""
    versions = ontology_versions(graph)
    if version not in versions:
        raise NotFound(f"No ontology version {version!r}; the versions are: "
                       f"{', '.join(f'/ontology/{v}' for v in versions)} (the current one is /ontology).")
    return ontology_response(request, graph, version, lang, format)


def ontology_response(request: Request, graph: KnowledgeGraph, version: str | None, lang: str | None,
                      format_name: str | None) -> Response:
    fmt, negotiated = choose(request, PAGE_FORMATS, format_name)
    headers = {"Vary": "Accept, Accept-Language"} if negotiated else {}
    triples = ontology_versions(graph)[version] if version else [q.triple for q in graph.loaded.ontology]
    if fmt is not HTML:
        return rdf_response(request, graph, triples, fmt, headers)
    language = page_lang(request, lang)

    def build() -> dict[str, object]:
        doc = OntologyDoc(graph, language, triples)
        return {"ontology": doc.ontology(), "terms": doc.terms()}

    context = graph.memo.get(("ontology-doc", version, language), build, size=16)
    path = request.url.path
    return page(request, "ld/ontology.html", language, {
        **context,
        "alternates": [{"name": f.name, "href": f"{path}?format={f.name}", "type": f.media_type}
                       for f in RDF_FORMATS],
    }, headers=headers)


@read_route("/shapes", "SHACL 约束 · The SHACL shapes")
def read_shapes(request: Request, graph: GraphDep, format: Annotated[str | None, Query(
        description="turtle, jsonld, ntriples or rdfxml (overrides Accept)")] = None) -> Response:
    """数据所符合的 SHACL 约束（默认 Turtle）。

    The SHACL shapes the data conforms to (Turtle by default)."""
    fmt, negotiated = choose(request, RDF_FORMATS, format)
    headers = {"Vary": "Accept"} if negotiated else {}
    return rdf_response(request, graph, list(graph.loaded.shapes), fmt, headers)
