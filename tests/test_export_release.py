"""Dumps that travel, over real HTTP: every file of a release at a URL that never changes, its
SHA-256 in SHA256SUMS, immutable caching, br/gzip that decode to the same bytes, the VoID
description pointing at the release, and the spreadsheet downloads checked against the graph."""

import csv
import gzip
import hashlib
import io

import httpx
import pytest
import rdflib
from rdflib.compare import isomorphic

from app.build.graph import KnowledgeGraph, content_hash
from app.ld.export import FILES
from app.rdf.codings import AVAILABLE, brotli
from tests.helpers import PREFIXES, LiveServer, select

IMMUTABLE = "public, max-age=31536000, immutable"


def sums(client: httpx.Client) -> dict[str, str]:
    response = client.get("/export/SHA256SUMS")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    rows = [line.split("  ", 1) for line in response.text.splitlines()]
    return {name: digest for digest, name in rows}


def release(client: httpx.Client) -> str:
    return client.get("/export/SHA256SUMS").headers["x-release"]


def raw(client: httpx.Client, path: str, encoding: str = "identity",
        headers: dict[str, str] | None = None) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", path, headers={"Accept-Encoding": encoding, **(headers or {})}) as response:
        return response, b"".join(response.iter_raw())


def test_release_is_the_graph_content_hash(client: httpx.Client, graph: KnowledgeGraph) -> None:
    assert release(client) == content_hash(graph.loaded.quads)[:12]
    if graph.version != "unversioned":  # a remote store may not record one
        assert graph.version.startswith(release(client))
        assert client.get(f"/export/{graph.version}/bjrd-kg.nt").status_code == 200


def test_sha256sums_lists_every_file_and_each_matches(client: httpx.Client) -> None:
    listed = sums(client)
    assert list(listed) == list(FILES)
    assert {"bjrd-kg.ttl", "bjrd-kg.jsonld", "bjrd-kg.nq", "practices.csv", "facts.csv"} <= set(listed)
    version = release(client)
    for name, digest in listed.items():
        response, body = raw(client, f"/export/{version}/{name}")
        assert response.status_code == 200, name
        assert "content-encoding" not in response.headers
        assert hashlib.sha256(body).hexdigest() == digest, name
        assert response.headers["content-disposition"] == f"attachment; filename={name}"


def test_release_sha256sums_is_the_same_file(client: httpx.Client) -> None:
    current = client.get("/export/SHA256SUMS")
    pinned = client.get(f"/export/{release(client)}/SHA256SUMS")
    assert pinned.status_code == 200 and pinned.content == current.content
    assert pinned.headers["cache-control"] == IMMUTABLE
    assert current.headers["link"] == f'</export/{release(client)}/SHA256SUMS>; rel="canonical"'


@pytest.mark.parametrize("name", ["bjrd-kg.ttl", "facts.csv"])
def test_release_files_are_immutable_with_their_sha256_as_etag(client: httpx.Client, name: str) -> None:
    path = f"/export/{release(client)}/{name}"
    response, _ = raw(client, path)
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["etag"] == f'"{sums(client)[name]}"'
    again = client.get(path, headers={"If-None-Match": response.headers["etag"], "Accept-Encoding": "identity"})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == IMMUTABLE


@pytest.mark.parametrize("coding", AVAILABLE)
def test_release_files_compressed_decode_to_the_listed_bytes(client: httpx.Client, coding: str) -> None:
    name = "bjrd-kg.nt"
    response, body = raw(client, f"/export/{release(client)}/{name}", coding)
    assert response.headers["content-encoding"] == coding
    assert response.headers["etag"] == f'"{sums(client)[name]}-{coding}"'
    decoded = brotli.decompress(body) if coding == "br" and brotli else gzip.decompress(body)
    assert hashlib.sha256(decoded).hexdigest() == sums(client)[name]
    assert len(body) < len(decoded)


def test_export_names_its_release_file_and_sends_the_same_bytes(client: httpx.Client) -> None:
    response, body = raw(client, "/export?format=turtle")
    assert response.headers["link"] == f'</export/{release(client)}/bjrd-kg.ttl>; rel="canonical"'
    assert hashlib.sha256(body).hexdigest() == sums(client)["bjrd-kg.ttl"]
    _, inferred = raw(client, "/export?format=ntriples&inferred=true")
    assert hashlib.sha256(inferred).hexdigest() == sums(client)["bjrd-kg-inferred.nt"]


def test_unknown_release_is_404_naming_the_current_one(client: httpx.Client) -> None:
    response = client.get("/export/000000000000/bjrd-kg.ttl")
    assert response.status_code == 404
    assert release(client) in response.text
    missing = client.get(f"/export/{release(client)}/bjrd-kg.xlsx")
    assert missing.status_code == 404
    assert "bjrd-kg.ttl" in missing.text


def test_latest_redirects_to_the_current_release(client: httpx.Client) -> None:
    response = client.get("/export/latest/bjrd-kg.jsonld")
    assert response.status_code == 307
    assert response.headers["location"] == f"/export/{release(client)}/bjrd-kg.jsonld"


def test_release_jsonld_expands_offline(client: httpx.Client) -> None:
    version = release(client)
    document = client.get(f"/export/{version}/bjrd-kg.jsonld")
    assert isinstance(document.json()["@context"], dict)  # inline, not a URL to fetch
    parsed = rdflib.Graph().parse(data=document.content, format="json-ld")
    ntriples = client.get(f"/export/{version}/bjrd-kg.nt").content
    assert isomorphic(parsed, rdflib.Graph().parse(data=ntriples, format="nt"))


def test_void_data_dumps_are_the_release_files(client: httpx.Client, server: LiveServer) -> None:
    void = rdflib.Graph().parse(data=client.get("/void").content, format="turtle")
    version = release(client)
    dataset = next(void.subjects(rdflib.URIRef("http://rdfs.org/ns/void#subset"), None))
    dumps = {str(d).removeprefix(server.url) for d in void.objects(dataset, rdflib.URIRef(
        "http://rdfs.org/ns/void#dataDump"))}
    assert dumps == {f"/export/{version}/{name}" for name in FILES
                     if name.startswith("bjrd-kg.")}
    assert rdflib.Literal(version) in set(void.objects(None, rdflib.OWL.versionInfo))


def test_home_page_links_the_release_and_the_tables(client: httpx.Client) -> None:
    html = client.get("/", params={"lang": "en"}).text
    for href in (f"/export/{release(client)}/bjrd-kg.ttl", "/export/SHA256SUMS", "/export/practices.csv",
                 "/export/facts.csv"):
        assert f'href="{href}"' in html
        assert client.get(href).status_code == 200


# ---------------------------------------------------------------- CSV


def read_csv(client: httpx.Client, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheet programs look for
    assert b"\r\n" in response.content
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_practices_csv_matches_the_graph(client: httpx.Client, graph: KnowledgeGraph) -> None:
    rows = read_csv(client, "/export/practices.csv")
    expected = select(graph, PREFIXES + """
        SELECT ?p ?d ?zh ?exact ?start WHERE {
          ?p a bjrd:Practice ; bjrd:district ?d ; bjrd:evidence ?q ; rdfs:label ?zh .
          FILTER(lang(?zh) = "zh") ?q oa:exact ?exact ; oa:start ?start }""")
    by_iri = {r["p"]: r for r in expected}
    assert len(rows) == len(by_iri) >= 150
    assert [int(r["start"]) for r in rows] == sorted(int(r["start"]) for r in rows)
    for row in rows:
        truth = by_iri[row["iri"]]
        assert row["id"] == row["iri"].rsplit("/", 1)[-1]
        assert row["district"] == truth["d"].rsplit("/", 1)[-1]
        assert (row["label_zh"], row["quote"], int(row["start"])) == (truth["zh"], truth["exact"], truth["start"])
    asserted = select(graph, PREFIXES + """SELECT ?m WHERE { GRAPH <graph/data> {
        <id/practice/changping-inspection-report-problem-list> bjrd:usesMechanism ?m } }""")
    changping = next(r for r in rows if r["id"] == "changping-inspection-report-problem-list")
    assert set(changping["mechanisms"].split(";")) == {r["m"].rsplit("/", 1)[-1] for r in asserted}
    assert changping["district_zh"] == "昌平区"


def test_facts_csv_matches_the_graph(client: httpx.Client, graph: KnowledgeGraph) -> None:
    rows = read_csv(client, "/export/facts.csv")
    expected = select(graph, PREFIXES + """
        SELECT ?f ?v ?exact WHERE { ?f a bjrd:Fact ; schema:value ?v ; bjrd:evidence ?q . ?q oa:exact ?exact }""")
    by_iri = {r["f"]: r for r in expected}
    assert len(rows) == len(by_iri) >= 40
    for row in rows:
        truth = by_iri[row["iri"]]
        assert float(row["value"]) == float(truth["v"])
        assert row["quote"] == truth["exact"]
    dongcheng = next(r for r in rows if r["id"] == "dongcheng-104-work-rules")
    assert (dongcheng["value"], dongcheng["unit_zh"], dongcheng["district_zh"]) == ("104", "项", "东城区")
