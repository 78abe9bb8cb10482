"""The HTML front end: the home page (what the graph holds), the YASGUI query editor and the
district–mechanism network and matrix.

Pages are rendered from named queries (``stats``, ``page_home_source``) and the example queries
in ``queries/examples/``; the network and matrix are drawn in the browser from ``/api/*``.
Every script and stylesheet is served from ``app/static`` (vendored builds in ``static/vendor``).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse

from app.deps import GraphDep
from app.ld.formats import EXPORT_FORMATS
from app.store.engine import KnowledgeGraph
from app.templating import pick_lang, templates

router = APIRouter(tags=["pages"])

LangQuery = Annotated[str | None, Query(description="Page language: zh or en (default: Accept-Language, then zh)")]
AcceptLanguage = Annotated[str | None, Header(include_in_schema=False)]

#: The counts the home page shows, in order: a column of the ``stats`` query, or ``triples``.
STATS = ("districts", "practices", "mechanisms", "shared_mechanisms", "facts", "themes", "quotes", "triples")
EXAMPLE_PREFIX = "examples/"


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


def read_source(graph: KnowledgeGraph, lang: str) -> dict[str, str] | None:
    rows = graph.run("page_home_source")
    if not rows:
        return None
    row = rows[0]
    other = "en" if lang == "zh" else "zh"

    def pick(key: str) -> str:
        return row.get(f"{key}_{lang}") or row.get(f"{key}_{other}") or ""

    return {"path": local_path(graph, row["article"]), "title": pick("title"), "title_zh": row.get("title_zh") or "",
            "issue": pick("issue"), "issue_zh": row.get("issue_zh") or "", "section": pick("section"),
            "section_zh": row.get("section_zh") or "", "author": pick("author"), "author_zh": row.get("author_zh") or "",
            "issued": str(row.get("issued") or "")}


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


@router.get("/", response_class=HTMLResponse, summary="Home page")
def home(request: Request, graph: GraphDep, lang: LangQuery = None,
         accept_language: AcceptLanguage = None) -> HTMLResponse:
    """What the graph holds (counts from the `stats` query), the source article, and where to go next."""
    chosen = pick_lang(lang, accept_language)
    return render(request, "pages/home.html", chosen, stats=read_stats(graph), source=read_source(graph, chosen),
                  export_formats=EXPORT_FORMATS)


@router.get("/query", response_class=HTMLResponse, summary="SPARQL query editor")
def query_page(request: Request, graph: GraphDep, lang: LangQuery = None,
               accept_language: AcceptLanguage = None) -> HTMLResponse:
    """YASGUI on /sparql, with every example query of queries/examples/ as a tab."""
    chosen = pick_lang(lang, accept_language)
    return render(request, "pages/query.html", chosen, examples=list_examples(graph, chosen))


@router.get("/explore", response_class=HTMLResponse, summary="District–mechanism network and matrix")
def explore(request: Request, lang: LangQuery = None, accept_language: AcceptLanguage = None) -> HTMLResponse:
    """The network of districts and the mechanisms they share, and the district × mechanism matrix."""
    return render(request, "pages/explore.html", pick_lang(lang, accept_language))
