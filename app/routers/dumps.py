"""Dumps of the dataset: ``/export?format=`` (the graph served now, by format or Accept), and the
same bytes published as a release whose URLs never change: ``/export/{release}/{file}``, with
``/export/SHA256SUMS``, ``/export/latest/{file}`` and an index page per release (``/export/{release}/``); the
spreadsheet tables ``/export/{practices,facts,mechanisms,topics,matrix}.csv``; how to cite the dataset
(``/export/citation``). Each of them per source too: ``?source=ID`` on ``/export``, the tables and
``/export/SHA256SUMS``, and a release's files of one source at ``/export/{release}/sources/{id}/{file}``.
"""

import json
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.build.graph import KnowledgeGraph
from app.deps import GraphDep
from app.errors import BadRequest, NotFound
from app.ld.export import (
    FILES,
    RELEASE_DIGITS,
    Dump,
    build_dump,
    build_source_dump,
    build_source_table,
    build_table,
    release_id,
    sha256sums,
    source_ids,
    source_iri,
    source_sha256sums,
)
from app.ld.tables import TABLES
from app.ld.void import citation
from app.rdf.codings import pick_coding
from app.rdf.formats import GRAPH_FORMATS
from app.routers.linked_data import choose, read_route, service_base
from app.web.request_view import view_of
from app.web.templating import pick_lang, templates

router = APIRouter(tags=["linked data"])

#: Answered from the graph alone: ETags and 304 (app/web/caching.py). The files under
#: /export/{release}/ are not listed: they carry their own ETag (their SHA-256) and a year's
#: immutable Cache-Control.
CACHED = ("/export", "/export/SHA256SUMS", "/export/citation", *(f"/export/{table}.csv" for table in TABLES))
DUMP_FORMATS = list(GRAPH_FORMATS)

SourceParam = Annotated[str | None, Query(description=(
    "A source id (/api/sources): the statements drawn from that one source; unknown: 404 naming the valid "
    "ids; given twice: 400"))]


def one_source(request: Request, graph: KnowledgeGraph, source: str | None) -> str | None:
    """``source`` when the URL gives it at most once (400 otherwise: two readings of it could differ), known
    to the graph (404 naming the valid ids otherwise)."""
    if len(request.query_params.getlist("source")) > 1:
        raise BadRequest("The parameter source must be set at most once (it was given more than once); "
                         "ask for one source per request.")
    if source is not None:
        source_iri(graph, source)
    return source


EXPORT_DOC = """整个数据集，一个文件；同样的字节也以永不改变的版本化网址发布（/export/SHA256SUMS 列出校验和）。

The whole dataset as a file.

* `format`: turtle, ntriples, jsonld, rdfxml (the default graph: the asserted data and ontology;
  `inferred=true` adds the entailments), trig, nquads (every named graph: data, ontology,
  inferred). Without `format`, by Accept (Turtle by default). The JSON-LD dump carries its
  `@context` inline (the one of `/context.jsonld`), so a downloaded copy expands offline.
* `Content-Disposition: attachment; filename=bjrd-kg.<ext>`; br (when the server has Brotli) or
  gzip when Accept-Encoding allows it; `Digest: sha-256=…` and `Repr-Digest: sha-256=:…:` are the
  SHA-256 of the bytes sent.
* The same bytes are published at a URL that never changes, `/export/{release}/bjrd-kg.<ext>`
  (the `Link: rel="canonical"` header); `/export/SHA256SUMS` lists every file of the release.
* `source=ID` (an id of `/api/sources`): the statements drawn from that one source — its description
  (article, issue, periodical, text, author), its quotes, every node whose evidence is one of them
  (practices, facts, …) with all their statements, and the type(s) and labels only of each shared concept
  they link to (districts, mechanisms, topics, themes, units, broader concepts); no ontology axioms. TriG
  and N-Quads keep each statement's named graph. Published at
  `/export/{release}/sources/{id}/bjrd-kg.<ext>`; an unknown id is 404 naming the valid ones, `source`
  given twice 400. Without `source`, the whole dataset as above.
"""


@read_route("/export", "整个数据集 · Dump of the dataset", EXPORT_DOC, on=router)
def read_export(request: Request, graph: GraphDep, format: Annotated[str | None, Query(
        description="turtle, ntriples, jsonld, rdfxml, trig or nquads (overrides Accept)")] = None,
        inferred: Annotated[bool, Query(description="Graph formats: add the inferred triples.")] = False,
        source: SourceParam = None) -> Response:
    """以一种 RDF 格式下载整个数据集或其中一篇来源文章的部分（TriG 与 N-Quads 保留命名图）。

    Dump the dataset, or what one source says, in one RDF format (TriG and N-Quads keep the named graphs)."""
    source = one_source(request, graph, source)
    fmt, _ = choose(request, DUMP_FORMATS, format)
    dump = build_dump(graph, fmt, inferred) if source is None else build_source_dump(graph, source, fmt, inferred)
    name = f"bjrd-kg-inferred.{fmt.extension}" if inferred and fmt.kind == "graph" else f"bjrd-kg.{fmt.extension}"
    headers = {
        "Link": f'<{release_path(graph, source)}{name}>; rel="canonical"',
        "Vary": "Accept, Accept-Encoding",
    }
    return dump_response(request, dump, name, headers)


def release_path(graph: KnowledgeGraph, source: str | None, release: str | None = None) -> str:
    """The folder of the current release's files (``/export/{release}/``), or of one source's in it."""
    folder = f"/export/{release or release_id(graph)}/"
    return folder if source is None else f"{folder}sources/{source}/"


def dump_response(request: Request, dump: Dump, name: str | None, headers: dict[str, str]) -> Response:
    """``dump`` (an attachment named ``name``, if given), compressed as the client allows (br, gzip),
    with the SHA-256 of the bytes sent (``Digest``, ``Repr-Digest``)."""
    coding = pick_coding(view_of(request).accept_encoding)
    body = dump.encoded(coding)
    digest = Dump.digest(body)
    headers = {"Digest": f"sha-256={digest}", "Repr-Digest": f"sha-256=:{digest}:", **headers}
    if name:
        headers["Content-Disposition"] = f"attachment; filename={name}"
    if coding:
        headers["Content-Encoding"] = coding
    return Response(body, media_type=dump.media_type, headers=headers)


RELEASE_DOC = f"""数据集某一版本的一个文件，网址对应的内容永不改变。

One file of a release of the dataset, at a URL whose content never changes.

`release` is the first {RELEASE_DIGITS} hex digits of the SHA-256 content hash of the graph (the
`X-Graph-Version` header, `/health`); `/export/SHA256SUMS` names the current one and lists every
file with its SHA-256. Files: {", ".join(f"`{name}`" for name in FILES)}. Answers carry
`Cache-Control: public, max-age=31536000, immutable` and the file's SHA-256 as `ETag`. A release
that is no longer served (after a write) is 404, naming the current one; `/export/latest/{{file}}`
redirects (307) to the current release. The files of one source are under
`/export/{{release}}/sources/{{id}}/`, with the same names and a `SHA256SUMS` of their own.
"""

IMMUTABLE = "public, max-age=31536000, immutable"


@read_route("/export/SHA256SUMS", "数据文件校验和 · SHA-256 of every dump file", on=router)
def read_sha256sums(request: Request, graph: GraphDep, source: SourceParam = None) -> Response:
    """本版本每个文件的 SHA-256，格式同 sha256sum --check；`source` 给出一篇来源文章的文件。

    The SHA-256 of every file of the current release, as `sha256sum --check` reads them; the files
    are at `/export/{release}/{file}` (the `Link` header names the release). With `source=ID`, those of
    that source's files, at `/export/{release}/sources/{id}/{file}` (the same names, so the check runs in
    the folder they are downloaded to)."""
    source = one_source(request, graph, source)
    release = release_id(graph)
    sums = sha256sums(graph) if source is None else source_sha256sums(graph, source)
    return dump_response(request, sums, None, {
        "Link": f'<{release_path(graph, source, release)}SHA256SUMS>; rel="canonical"',
        "X-Release": release,
        "Vary": "Accept-Encoding",
    })


TABLE_DOCS = {
    "practices": ("做法表格（CSV）· Practices as CSV",
                  "全部做法，按在文中的顺序每项一行（UTF-8 带 BOM，便于电子表格打开）。\n\n"
                  "Every practice, one row each in article order, with the ids and the zh/en labels of the "
                  "mechanisms it names (UTF-8 with BOM)."),
    "facts": ("数据事实表格（CSV）· Facts as CSV",
              "文章所述的全部数字，按在文中的顺序每项一行（UTF-8 带 BOM）。\n\n"
              "Every number the article states, one row each in article order: value, unit, what it counts, "
              "district, quote and offsets (UTF-8 with BOM)."),
    "mechanisms": ("工作机制表格（CSV）· Mechanisms as CSV",
                   "每个工作机制一行：中英文名称、类别、上下位、使用它的区。\n\n"
                   "Every mechanism, one row each by id: zh/en labels, kind (named or umbrella), broader and "
                   "narrower ids, the districts using it and their count."),
    "topics": ("监督议题表格（CSV）· Supervision topics as CSV",
               "每个监督议题一行。\n\n"
               "Every supervision topic, one row each by id, with the same columns as mechanisms.csv."),
    "matrix": ("区—机制矩阵（CSV，长表）· District × mechanism matrix as CSV (long form)",
               "每个区与每个工作机制一行，uses 为 1 或 0。\n\n"
               "One row per district and mechanism (GB/T code order, then mechanism id) with both zh/en labels, "
               "the mechanism's kind and `uses` (1: the district uses it, directly or through a narrower one; "
               "0: not)."),
}


SOURCE_TABLE_DOC = """

`source=ID` (an id of `/api/sources`): the rows of that source only — the practices and facts quoted from
it; for mechanisms and topics the concepts its practices use (directly or through a narrower one), with
the districts using them there; for the matrix every district × those mechanisms, `uses` as that source's
practices say. Published at `/export/{release}/sources/{id}/<table>.csv` (the `Link` header); an unknown
id is 404 naming the valid ones, `source` given twice 400."""


def table_route(table: str) -> None:
    summary, doc = TABLE_DOCS[table]
    doc += SOURCE_TABLE_DOC

    def read_table(request: Request, graph: GraphDep, source: SourceParam = None) -> Response:
        chosen = one_source(request, graph, source)
        if chosen is None:
            return dump_response(request, build_table(graph, table), f"{table}.csv", {"Vary": "Accept-Encoding"})
        return dump_response(request, build_source_table(graph, chosen, table), f"{table}.csv", {
            "Link": f'<{release_path(graph, chosen)}{table}.csv>; rel="canonical"', "Vary": "Accept-Encoding"})

    read_table.__name__ = f"read_{table}_csv"
    read_route(f"/export/{table}.csv", summary, doc, on=router)(read_table)


for _table in TABLES:
    table_route(_table)


@read_route("/export/citation", "引用本数据集 · Cite this dataset", on=router)
def read_citation(request: Request, graph: GraphDep, format: Annotated[str | None, Query(
        description="json (default), text or bibtex")] = None) -> Response:
    """本数据集当前版本的引用格式：一行文字与 BibTeX（仓库根目录另有 CITATION.cff）。

    How to cite the release served now: a line of text and a BibTeX entry (JSON by default; `format=text` or
    `format=bibtex` for the one alone). The repository's CITATION.cff says the same for GitHub and Zenodo."""
    cite = citation(graph, service_base(request))
    chosen = (format or "json").strip().lower()
    if chosen == "text":
        return Response(cite.text + "\n", media_type="text/plain; charset=utf-8")
    if chosen == "bibtex":
        return Response(cite.bibtex, media_type="application/x-bibtex; charset=utf-8",
                        headers={"Content-Disposition": f"inline; filename=bjrd-kg-{cite.release}.bib"})
    if chosen != "json":
        raise BadRequest(f"Unknown format {format!r}; use one of: json, text, bibtex.")
    return Response(json.dumps(asdict(cite), ensure_ascii=False).encode("utf-8"), media_type="application/json")


@read_route("/export/latest/{name}", "最新版本文件 · The current release of a dump file", on=router)
def read_latest(name: str, request: Request, graph: GraphDep) -> Response:
    """重定向（307）到当前版本中的该文件。

    Redirect (307) to the file in the current release."""
    if name not in FILES and name != "SHA256SUMS":
        raise NotFound(f"No dump file {name!r}; the files are: {', '.join(FILES)}, SHA256SUMS.")
    return RedirectResponse(f"/export/{release_id(graph)}/{name}", status_code=307,
                            headers={"Cache-Control": "no-cache"})


@read_route("/export/{release}/", "版本目录 · The files of one release", on=router)
def read_release_index(release: str, request: Request, graph: GraphDep, lang: Annotated[str | None, Query(
        description="zh or en (default: Accept-Language, then zh)")] = None) -> Response:
    """某一版本的全部文件：名称、大小、SHA-256，以及引用方式；每篇来源文章的文件另列。

    The files of a release as an HTML page: each with its size in bytes and SHA-256 (as SHA256SUMS lists them),
    then each source's files (`sources/{id}/…`, as its own SHA256SUMS lists them), and how to cite the release
    (text and BibTeX). `latest` redirects (307) to the current release."""
    current = release_id(graph)
    if release == "latest":
        return RedirectResponse(f"/export/{current}/", status_code=307, headers={"Cache-Control": "no-cache"})
    if release != current and not (release == graph.version and release.startswith(current)):
        raise NotFound(f"Release {release!r} is not served; the current release is {current} "
                       f"(files listed in /export/{current}/).")
    sources = [{"id": source, "files": listed(graph, source)} for source in source_ids(graph)]
    language = pick_lang(lang, view_of(request).accept_language)
    return templates.TemplateResponse(request, "ld/release.html", {
        "lang": language, "release": current, "files": listed(graph, None), "sources": sources,
        "cite": citation(graph, service_base(request)),
    }, media_type="text/html; charset=utf-8", headers={"Vary": "Accept-Language"})


#: Sources whose file listing (names, sizes, SHA-256: a few hundred bytes) one graph version keeps, so that the
#: release page is not rebuilt from every source's files when more sources than their bytes' memo holds are listed.
LISTINGS_KEPT = 1024


def listed(graph: KnowledgeGraph, source: str | None) -> list[dict[str, object]]:
    """The files of the release (or of one source in it), each with its size and SHA-256, then SHA256SUMS."""

    def build() -> list[dict[str, object]]:
        dumps = {name: f.build(graph, source) for name, f in FILES.items()}
        dumps["SHA256SUMS"] = sha256sums(graph) if source is None else source_sha256sums(graph, source)
        return [{"name": name, "size": len(d.body), "sha256": d.sha256} for name, d in dumps.items()]

    return graph.memo.get(("release_listing", source), build, size=LISTINGS_KEPT)


@read_route("/export/{release}/{name}", "版本化数据文件 · A dump file of one release (immutable)", RELEASE_DOC,
            on=router)
def read_release_file(release: str, name: str, request: Request, graph: GraphDep) -> Response:
    """某一版本的一个数据文件；其内容永不改变。

    One file of a release; its bytes never change."""
    return release_file(request, graph, release, name, None)


@read_route("/export/{release}/sources/{source}/{name}",
            "一篇来源文章的版本化数据文件 · A dump file of one source in a release (immutable)", RELEASE_DOC, on=router)
def read_release_source_file(release: str, source: str, name: str, request: Request, graph: GraphDep) -> Response:
    """某一版本中一篇来源文章的数据文件（与 /export?source= 同样的字节）；其内容永不改变。

    One file of one source in a release (the bytes `/export?source=` and the tables' `?source=` send); its bytes
    never change. `latest` redirects (307) to the current release; an unknown source is 404 naming the valid ids."""
    if release == "latest":
        source_iri(graph, source)
        if name not in FILES and name != "SHA256SUMS":
            raise NotFound(f"No dump file {name!r}; the files are: {', '.join(FILES)}, SHA256SUMS.")
        return RedirectResponse(f"{release_path(graph, source)}{name}", status_code=307,
                                headers={"Cache-Control": "no-cache"})
    return release_file(request, graph, release, name, source)


def release_file(request: Request, graph: KnowledgeGraph, release: str, name: str, source: str | None) -> Response:
    """A file of the release ``release`` (the whole dataset's, or ``source``'s), with its SHA-256 as a strong
    ETag and immutable caching; 404 for a release not served now, an unknown source or file."""
    current = release_id(graph)
    if release != current and not (release == graph.version and release.startswith(current)):
        raise NotFound(f"Release {release!r} is not served; the current release is {current} "
                       f"(files listed in /export/SHA256SUMS).")
    if source is not None:
        source_iri(graph, source)
    if name == "SHA256SUMS":
        dump = sha256sums(graph) if source is None else source_sha256sums(graph, source)
    elif name in FILES:
        dump = FILES[name].build(graph, source)
    else:
        raise NotFound(f"No dump file {name!r}; the files are: {', '.join(FILES)}, SHA256SUMS.")
    coding = pick_coding(view_of(request).accept_encoding)
    # One strong ETag per file and coding: the file's SHA-256 never changes at this URL.
    etag = f'"{dump.sha256}' + (f'-{coding}"' if coding else '"')
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    if fresh(request, etag):
        return Response(status_code=304, headers=headers)
    return dump_response(request, dump, None if name == "SHA256SUMS" else name, headers)


def fresh(request: Request, etag: str) -> bool:
    """Whether If-None-Match already names ``etag`` (the versioned files: one ETag whatever the coding)."""
    header = view_of(request).if_none_match or ""
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in header.split(",")) if header else False
