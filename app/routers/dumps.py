"""Dumps of the dataset: ``/export?format=`` (the graph served now, by format or Accept), and the
same bytes published as a release whose URLs never change: ``/export/{release}/{file}``, with
``/export/SHA256SUMS``, ``/export/latest/{file}`` and an index page per release (``/export/{release}/``); the
spreadsheet tables ``/export/{practices,facts,mechanisms,topics,matrix}.csv``; how to cite the dataset
(``/export/citation``).
"""

import json
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.deps import GraphDep
from app.errors import BadRequest, NotFound
from app.ld.export import FILES, RELEASE_DIGITS, Dump, build_dump, build_table, release_id, sha256sums
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
"""


@read_route("/export", "整个数据集 · Dump of the dataset", EXPORT_DOC, on=router)
def read_export(request: Request, graph: GraphDep, format: Annotated[str | None, Query(
        description="turtle, ntriples, jsonld, rdfxml, trig or nquads (overrides Accept)")] = None,
        inferred: Annotated[bool, Query(description="Graph formats: add the inferred triples.")] = False) -> Response:
    """以一种 RDF 格式下载整个数据集（TriG 与 N-Quads 保留命名图）。

    Dump the dataset in one RDF format (TriG and N-Quads keep the named graphs)."""
    fmt, _ = choose(request, DUMP_FORMATS, format)
    dump = build_dump(graph, fmt, inferred)
    name = f"bjrd-kg-inferred.{fmt.extension}" if inferred and fmt.kind == "graph" else f"bjrd-kg.{fmt.extension}"
    headers = {
        "Link": f'</export/{release_id(graph)}/{name}>; rel="canonical"',
        "Vary": "Accept, Accept-Encoding",
    }
    return dump_response(request, dump, name, headers)


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
redirects (307) to the current release.
"""

IMMUTABLE = "public, max-age=31536000, immutable"


@read_route("/export/SHA256SUMS", "数据文件校验和 · SHA-256 of every dump file", on=router)
def read_sha256sums(request: Request, graph: GraphDep) -> Response:
    """本版本每个文件的 SHA-256，格式同 sha256sum --check。

    The SHA-256 of every file of the current release, as `sha256sum --check` reads them; the files
    are at `/export/{release}/{file}` (the `Link` header names the release)."""
    release = release_id(graph)
    return dump_response(request, sha256sums(graph), None, {
        "Link": f'</export/{release}/SHA256SUMS>; rel="canonical"',
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


def table_route(table: str) -> None:
    summary, doc = TABLE_DOCS[table]

    def read_table(request: Request, graph: GraphDep) -> Response:
        return dump_response(request, build_table(graph, table), f"{table}.csv", {"Vary": "Accept-Encoding"})

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
    """某一版本的全部文件：名称、大小、SHA-256，以及引用方式。

    The files of a release as an HTML page: each with its size in bytes and SHA-256 (as SHA256SUMS lists them),
    and how to cite the release (text and BibTeX). `latest` redirects (307) to the current release."""
    current = release_id(graph)
    if release == "latest":
        return RedirectResponse(f"/export/{current}/", status_code=307, headers={"Cache-Control": "no-cache"})
    if release != current and not (release == graph.version and release.startswith(current)):
        raise NotFound(f"Release {release!r} is not served; the current release is {current} "
                       f"(files listed in /export/{current}/).")
    files = [{"name": name, "size": len(f.build(graph).body), "sha256": f.build(graph).sha256}
             for name, f in FILES.items()]
    sums = sha256sums(graph)
    files.append({"name": "SHA256SUMS", "size": len(sums.body), "sha256": sums.sha256})
    language = pick_lang(lang, view_of(request).accept_language)
    return templates.TemplateResponse(request, "ld/release.html", {
        "lang": language, "release": current, "files": files, "cite": citation(graph, service_base(request)),
    }, media_type="text/html; charset=utf-8", headers={"Vary": "Accept-Language"})


@read_route("/export/{release}/{name}", "版本化数据文件 · A dump file of one release (immutable)", RELEASE_DOC,
            on=router)
def read_release_file(release: str, name: str, request: Request, graph: GraphDep) -> Response:
    """某一版本的一个数据文件；其内容永不改变。

    One file of a release; its bytes never change."""
    current = release_id(graph)
    if release != current and not (release == graph.version and release.startswith(current)):
        raise NotFound(f"Release {release!r} is not served; the current release is {current} "
                       f"(files listed in /export/SHA256SUMS).")
    if name == "SHA256SUMS":
        dump = sha256sums(graph)
    elif name in FILES:
        dump = FILES[name].build(graph)
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
