"""The HTML front end: the home page (what the graph holds), the YASGUI query editor and the
district–mechanism network and matrix.

Pages are rendered from named queries (``stats``, ``page_home_source``) and the example queries
in ``queries/examples/``; the network and matrix are drawn in the browser from ``/api/*``.
Every script and stylesheet is served from ``app/static`` (vendored builds in ``static/vendor``).
"""

from itertools import combinations
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.across.years import item_key, parse_item, year_problem
from app.api.answers import find_district, list_districts, similarity
from app.api.catalog import Catalog, catalog_for, read_catalog
from app.api.compare import compare_districts, compare_items, compared_items
from app.api.models import Comparison
from app.api.search import WORD, found, stem
from app.api.sources import pick_source, sources_of
from app.build.graph import KnowledgeGraph
from app.deps import GraphDep
from app.ld.export import release_id
from app.rdf.formats import EXPORT_FORMATS
from app.rdf.serialize import entity_prefixes
from app.routers.api.common import off_loop
from app.web.reading import pick, read_article, read_opening
from app.web.templating import VENDOR_VERSION, pick_lang, templates

router = APIRouter(tags=["pages"])

#: Answered from the graph alone: ETags and 304 (app/web/caching.py).
CACHED = ("/", "/query*", "/explore*", "/search*", "/compare*", "/read*")

LangQuery = Annotated[str | None, Query(description="Page language: zh or en (default: Accept-Language, then zh)")]
AcceptLanguage = Annotated[str | None, Header(include_in_schema=False)]
SourceQuery = Annotated[str | None, Query(description="Source id (/api/sources); default: the one source, with "
                                                      "several the earliest", examples=["article"])]

SWAGGER_UI = "/static/vendor/swagger-ui"
#: The counts the home page shows, in order: a column of the ``stats`` query, or ``triples``.
STATS = ("districts", "practices", "mechanisms", "shared_mechanisms", "facts", "themes", "topics", "shared_topics",
         "quotes", "triples")
EXAMPLE_PREFIX = "examples/"
#: The groups of the search page, in order.
SEARCH_GROUPS = ("district", "practice", "mechanism", "theme", "topic", "fact")
#: How many districts the compare page puts side by side.
COMPARE_MIN, COMPARE_MAX = 2, 6

#: Browsers ask every site for /favicon.ico; answer with a small mark instead of a 404.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#b3261e"/>'
    '<circle cx="10" cy="11" r="4" fill="#fff"/><circle cx="22" cy="11" r="4" fill="#fff"/>'
    '<rect x="13" y="19" width="6" height="6" rx="1" fill="#fff"/>'
    '<path d="M10 11 16 22 22 11" stroke="#fff" stroke-width="2" fill="none"/></svg>'
)


def render(request: Request, template: str, lang: str, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, {"lang": lang, **context})
    response.headers["Vary"] = "Accept-Language"
    return response


def read_stats(graph: KnowledgeGraph) -> dict[str, int]:
    row = graph.run("stats")[0]
    return {name: int(graph.triples if name == "triples" else row[name]) for name in STATS}


def local_path(graph: KnowledgeGraph, iri: str) -> str:
    """The path an entity IRI resolves at on this service (``{base}/id/…`` → ``/id/…``)."""
    return iri.removeprefix(graph.settings.base_iri) or "/"


def read_source(graph: KnowledgeGraph, lang: str, iri: str | None = None) -> dict[str, str] | None:
    """The source article's metadata (``iri``'s, else the first): each field in ``lang`` (else the other
    language) and in Chinese."""
    rows = [r for r in graph.run("page_home_source") if iri is None or r["article"] == iri]
    if not rows:
        return None
    row = rows[0]
    other = "en" if lang == "zh" else "zh"
    source = {"path": local_path(graph, row["article"]), "issued": str(row.get("issued") or "")}
    for key in ("title", "issue", "section", "author"):
        source[key] = row.get(f"{key}_{lang}") or row.get(f"{key}_{other}") or ""
        source[f"{key}_zh"] = row.get(f"{key}_zh") or source[key]
    return source


def list_examples(graph: KnowledgeGraph, lang: str) -> list[dict[str, str]]:
    """Every ``queries/examples/*.rq``, with its title in ``lang`` (the other language, else its name)."""
    other = "en" if lang == "zh" else "zh"
    examples = []
    for key in sorted(graph.queries):
        if not key.startswith(EXAMPLE_PREFIX):
            continue
        query = graph.queries[key]
        name = key.removeprefix(EXAMPLE_PREFIX)
        title = query.meta.get(f"title-{lang}") or query.meta.get(f"title-{other}") or name
        examples.append({"name": name, "title": title, "summary": query.summary, "query": query.text})
    return examples


@router.get("/", response_class=HTMLResponse, summary="首页 · Home page")
def home(request: Request, graph: GraphDep, lang: LangQuery = None,
         accept_language: AcceptLanguage = None) -> HTMLResponse:
    """图谱内容（计数）、来源文章、下载与去处。

    What the graph holds (counts from the `stats` query), the source article (with several, every source as
    /api/sources lists them, earliest first, each linked to its page and to `/read?source=ID`), and where to go
    next."""
    chosen = pick_lang(lang, accept_language)
    return render(request, "pages/home.html", chosen, stats=read_stats(graph), source=read_source(graph, chosen),
                  sources=list_sources_shown(graph, chosen), export_formats=EXPORT_FORMATS, release=release_id(graph))


def list_sources_shown(graph: KnowledgeGraph, lang: str) -> list[dict[str, Any]]:
    """Every source of /api/sources (earliest first) as the home page lists them: the title in ``lang`` (else
    the other language) and the other, issue, date, how many districts, its page's path."""
    listed = []
    for s in sources_of(read_catalog(graph), graph):
        title = (s.title_en or s.title) if lang == "en" else s.title
        other = s.title if lang == "en" else (s.title_en or "")
        listed.append({"id": s.id, "title": title, "other": other if other != title else "", "issue": s.issue or "",
                       "issued": s.issued or "", "districts": len(s.districts), "path": local_path(graph, s.iri)})
    return listed


@router.get("/query", response_class=HTMLResponse, summary="SPARQL 查询编辑器 · SPARQL query editor")
def query_page(request: Request, graph: GraphDep, lang: LangQuery = None,
               accept_language: AcceptLanguage = None) -> HTMLResponse:
    """基于 /sparql 的 YASGUI 编辑器，每个示例查询一个标签页。

    YASGUI on /sparql, with every example query of queries/examples/ as a tab."""
    chosen = pick_lang(lang, accept_language)
    return render(request, "pages/query.html", chosen, examples=list_examples(graph, chosen),
                  editor={"prefixes": entity_prefixes(graph.settings.base_iri), "base": graph.settings.base_iri})


@router.get("/explore", response_class=HTMLResponse,
            summary="区—机制网络与矩阵 · District–mechanism network and matrix")
def explore(request: Request, lang: LangQuery = None, accept_language: AcceptLanguage = None) -> HTMLResponse:
    """各区与其共用工作机制的关系网络，以及区 × 机制矩阵。

    The network of districts and the mechanisms they share, and the district × mechanism matrix."""
    return render(request, "pages/explore.html", pick_lang(lang, accept_language))


def mark_parts(snippet: str) -> tuple[str, str, str]:
    """A search snippet ``…before «match» after…`` as (before, match, after)."""
    before, _, rest = snippet.partition("«")
    match, _, after = rest.partition("»")
    return before, match, after


def search_groups(graph: KnowledgeGraph, catalog: Catalog, q: str, lang: str) -> list[dict[str, Any]]:
    """The hits of ``q`` grouped by type (districts, practices, mechanisms, themes, facts), best first; a fact
    with its value and unit."""
    groups: dict[str, list[dict[str, Any]]] = {kind: [] for kind in SEARCH_GROUPS}
    for hit in found(catalog, q).hits:
        label, other = pick(hit.label, lang)
        district = catalog.districts.get(hit.district) if hit.district and hit.type != "district" else None
        groups[hit.type].append({
            "id": hit.id, "label": label, "other": other, "field": hit.field, "href": local_path(graph, hit.iri),
            "district": {"id": district.id, "label": getattr(district.label, lang)} if district else None,
            "parts": mark_parts(hit.snippet),
            "value": hit.value, "unit": pick(hit.unit, lang)[0] if hit.unit else None,
        })
    return [{"kind": kind, "hits": hits} for kind, hits in groups.items() if hits]


def search_extras(graph: KnowledgeGraph, catalog: Catalog, q: str, lang: str) -> dict[str, Any]:
    """What /api/search answers besides the hits, for the page: the correction searched (``did_you_mean``),
    whether every hit has every term, the other names searched, and the concept the whole text names."""
    result = found(catalog, q)
    best = result.best_match
    card = None
    if best is not None:
        label, other = pick(best.label, lang)
        districts = [catalog.districts[d] for d in best.districts if d in catalog.districts]
        card = {"type": best.type, "id": best.id, "label": label, "other": other, "href": local_path(graph, best.iri),
                "definition": pick(best.definition, lang)[0] if best.definition else None,
                "districts": [{"id": d.id, "label": pick(d.label, lang)[0]} for d in districts]}
    return {"did_you_mean": result.did_you_mean, "every_term": result.every_term, "variants": result.variants,
            "best": card}


@router.get("/search", response_class=HTMLResponse, summary="搜索页 · Search page")
async def search_html(request: Request, graph: GraphDep,
                      q: Annotated[str, Query(max_length=200, description="Text to find (as /api/search)")] = "",
                      lang: LangQuery = None, accept_language: AcceptLanguage = None) -> HTMLResponse:
    """按类型分组的搜索结果，每条带标亮的原文段落；最佳匹配、拼写更正与异称一并显示。

    Search results grouped by type, each with its highlighted passage (the matching of /api/search), a fact
    with its value and unit; above them the concept the whole text names (best match), the correction searched
    when the text finds nothing (did you mean), the other names searched, and when no hit has every word."""
    chosen = pick_lang(lang, accept_language)
    q = q.strip()
    catalog = await catalog_for(graph)
    groups = await off_loop(lambda: search_groups(graph, catalog, q, chosen)) if q else []
    extras = await off_loop(lambda: search_extras(graph, catalog, q, chosen)) if q else {}
    stems = sorted({stem(w) for w in WORD.findall(q)}) if q else []
    return render(request, "pages/search.html", chosen, q=q, groups=groups, stems=stems,
                  total=sum(len(g["hits"]) for g in groups), **extras)


def compare_problem(catalog: Catalog, graph: KnowledgeGraph, ids: list[str]) -> tuple[int, dict[str, str]] | None:
    """(status, message in zh and en) when ``ids`` (items: an id, or id@year) cannot be compared side by side,
    else None."""
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        return 400, {"zh": f"请给出 {COMPARE_MIN} 至 {COMPARE_MAX} 个区的 id，以逗号分隔（现有 {len(ids)} 个）。",
                     "en": f"Give {COMPARE_MIN} to {COMPARE_MAX} district ids separated by commas (got {len(ids)})."}
    items = []
    for i in ids:
        try:
            items.append(parse_item(i))
        except ValueError as e:
            return 400, {"zh": f"“{i}”不是区 id 或“区 id@四位年份”（如 dongcheng@2023）。", "en": f"{e}."}
    keys = [item_key(item) for item in items]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        return 400, {"zh": f"每个区只能给出一次；重复的：{', '.join(repeated)}。",
                     "en": f"Each district may be given once; repeated: {', '.join(repeated)}."}
    unknown = [d for d, _ in items if d not in catalog.districts]
    if unknown:
        return 404, {"zh": f"没有这个区 id：{', '.join(unknown)}。可用的 id：{', '.join(catalog.districts)}。",
                     "en": f"Unknown district id {', '.join(unknown)}. Valid ids: {', '.join(catalog.districts)}."}
    problems = [p for p in (year_problem(catalog, graph, item) for item in items) if p is not None]
    return (404, problems[0]) if problems else None


def pair_ranks(catalog: Catalog) -> tuple[dict[frozenset[str], int], int]:
    """The rank of every pair of districts by similarity (1 = most similar; ties share a rank), computed
    with the function /api/compare scores pairs with, and how many pairs there are (120 for 16 districts)."""
    def build() -> tuple[dict[frozenset[str], int], int]:
        scores = {frozenset((a, b)): similarity(catalog, catalog.district_named[a], catalog.district_named[b])
                  for a, b in combinations(catalog.districts, 2)}
        ordered = sorted(scores.values(), reverse=True)
        return {pair: ordered.index(score) + 1 for pair, score in scores.items()}, len(scores)

    ranks: tuple[dict[frozenset[str], int], int] = catalog.memo.get(("pair-ranks", catalog.version), build, size=2)
    return ranks


@router.get("/compare", response_class=HTMLResponse, summary="并排比较各区 · Districts side by side",
            responses={400: {"description": "Fewer than 2 or more than 6 districts, one given twice, or a malformed "
                                            "item (dongcheng@, @2023, dongcheng@20x3)"},
                       404: {"description": "An unknown district id, or a year the district has no practice in "
                                            "(the message names its years)"}})
async def compare_html(request: Request, graph: GraphDep,
                       districts: Annotated[str | None, Query(description="2 to 6 district ids, comma-separated",
                                                              examples=["daxing,pinggu,yanqing"])] = None,
                       lang: LangQuery = None, accept_language: AcceptLanguage = None) -> Response:
    """2–6个区并排：共同点、各自独有的做法、引文与数据事实。

    What 2–6 districts share (named mechanisms, then umbrellas, then themes), what each does alone,
    the quotes behind each, and their facts in one table (the answer of /api/compare).
    Without `districts`, a form to choose them; districts given by name or code (海淀, 110108) are
    redirected (301) to their ids. An item `id@YYYY` is the district in one year, as in /api/compare
    (`dongcheng@2021,dongcheng@2023`: what it kept, and what was new or dropped)."""
    chosen = pick_lang(lang, accept_language)
    catalog = await catalog_for(graph)
    given = [part.strip() for part in (districts or "").replace("，", ",").split(",") if part.strip()]
    ids = [(find_district(catalog, name) or name) + at + year for name, at, year in (p.partition("@") for p in given)]
    if ids != given:
        # Names people type (海淀, Haidian, 110108, 海淀@2023): to the URL with the ids.
        return RedirectResponse(f"/compare?districts={','.join(ids)}&lang={chosen}", status_code=301)
    problem = await off_loop(lambda: compare_problem(catalog, graph, ids)) if districts is not None else None
    comparison: Comparison | None = None
    if districts is not None and problem is None:
        items = [parse_item(i) for i in ids]
        if all(year is None for _, year in items):
            comparison = await off_loop(lambda: compare_districts(catalog, tuple(ids)))
        else:
            comparison = await off_loop(lambda: compare_items(catalog, compared_items(catalog, graph, items)))
    ranks, pairs = pair_ranks(catalog) if comparison else ({}, 0)
    scored = [{"pair": p, "rank": ranks.get(frozenset(p.districts), 0)} for p in comparison.pairs] if comparison else []
    response = render(request, "pages/compare.html", chosen, comparison=comparison, ids=ids,
                      problem=problem[1][chosen] if problem else None, all_districts=list_districts(catalog),
                      limits=(COMPARE_MIN, COMPARE_MAX), scored=scored, all_pairs=pairs)
    if problem:
        response.status_code = problem[0]
    return response


@router.get("/read", response_class=HTMLResponse, summary="阅读原文 · The article, every quoted passage highlighted")
async def read_html(request: Request, graph: GraphDep, lang: LangQuery = None,
                    accept_language: AcceptLanguage = None, source: SourceQuery = None) -> HTMLResponse:
    """文章各区段落，每段被做法引用的文字都标亮并链接到该做法；`source` 选择文章（默认最早的一篇）。

    The article's paragraph about each district in article order; every passage a practice quotes is
    highlighted and links to that practice (numbers that facts state are marked too). `source` (an id of
    /api/sources) chooses the article; by default the one source (with several, the earliest); an unknown id
    is 404 naming the valid ones."""
    chosen = pick_lang(lang, accept_language)
    catalog = await catalog_for(graph)
    article = await off_loop(lambda: pick_source(catalog, graph, source))
    paragraphs = await off_loop(lambda: read_article(graph, catalog, chosen, article))
    opening = await off_loop(lambda: read_opening(graph, paragraphs, chosen, article))
    return render(request, "pages/read.html", chosen, paragraphs=paragraphs, opening=opening,
                  source=read_source(graph, chosen, article.iri if article else None))


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """The site icon (SVG)."""
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document, from the vendored build (no CDN, no validator badge).

    Its settings travel as a JSON data block read by /static/js/docs.js: the page runs no inline script."""
    config = {"url": request.app.openapi_url or "/openapi.json", "layout": "BaseLayout", "deepLinking": True,
              "showExtensions": True, "showCommonExtensions": True, "validatorUrl": None}
    return templates.TemplateResponse(request, "pages/docs.html", {
        "title": f"{request.app.title} — API", "config": config,
        "js_url": f"{SWAGGER_UI}/swagger-ui-bundle.js?v={VENDOR_VERSION}",
        "css_url": f"{SWAGGER_UI}/swagger-ui.css?v={VENDOR_VERSION}"})
