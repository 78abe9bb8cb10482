"""Dumps of the dataset: ``/export?format=`` (the graph served now, by format or Accept), and the
same bytes published as a release whose URLs never change: ``/export/{release}/{file}``, with
``/export/SHA256SUMS`` and ``/export/latest/{file}``; the spreadsheet tables ``/export/practices.csv``
and ``/export/facts.csv``.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.deps import GraphDep
from app.errors import NotFound
from app.ld.export import FILES, RELEASE_DIGITS, Dump, build_dump, build_table, release_id, sha256sums
from app.rdf.codings import pick_coding
from app.rdf.formats import GRAPH_FORMATS
from app.routers.linked_data import choose, read_route

router = APIRouter(tags=["linked data"])

#: Answered from the graph alone: ETags and 304 (app/web/caching.py). The files under
#: /export/{release}/ are not listed: they carry their own ETag (their SHA-256) and a year's
#: immutable Cache-Control.
CACHED = ("/export", "/export/SHA256SUMS", "/export/practices.csv", "/export/facts.csv")
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
    coding = pick_coding(request.headers.get("accept-encoding"))
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


@read_route("/export/practices.csv", "做法表格（CSV）· Practices as CSV", on=router)
def read_practices_csv(request: Request, graph: GraphDep) -> Response:
    """全部做法，按在文中的顺序每项一行（UTF-8 带 BOM，便于电子表格打开）。

    Every practice, one row each in article order (UTF-8 with BOM, for spreadsheets)."""
    return dump_response(request, build_table(graph, "practices"), "practices.csv", {"Vary": "Accept-Encoding"})


@read_route("/export/facts.csv", "数据事实表格（CSV）· Facts as CSV", on=router)
def read_facts_csv(request: Request, graph: GraphDep) -> Response:
    """文章所述的全部数字，按在文中的顺序每项一行（UTF-8 带 BOM）。

    Every number the article states, one row each in article order (UTF-8 with BOM, for spreadsheets)."""
    return dump_response(request, build_table(graph, "facts"), "facts.csv", {"Vary": "Accept-Encoding"})


@read_route("/export/latest/{name}", "最新版本文件 · The current release of a dump file", on=router)
def read_latest(name: str, request: Request, graph: GraphDep) -> Response:
    """重定向（307）到当前版本中的该文件。

    Redirect (307) to the file in the current release."""
    if name not in FILES and name != "SHA256SUMS":
        raise NotFound(f"No dump file {name!r}; the files are: {', '.join(FILES)}, SHA256SUMS.")
    return RedirectResponse(f"/export/{release_id(graph)}/{name}", status_code=307,
                            headers={"Cache-Control": "no-cache"})


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
    coding = pick_coding(request.headers.get("accept-encoding"))
    # One strong ETag per file and coding: the file's SHA-256 never changes at this URL.
    etag = f'"{dump.sha256}' + (f'-{coding}"' if coding else '"')
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    if fresh(request, etag):
        return Response(status_code=304, headers=headers)
    return dump_response(request, dump, None if name == "SHA256SUMS" else name, headers)


def fresh(request: Request, etag: str) -> bool:
    """Whether If-None-Match already names ``etag`` (the versioned files: one ETag whatever the coding)."""
    header = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in header.split(",")) if header else False
