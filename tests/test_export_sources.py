"""Dumps and releases per source (issue 26 item 1), over real HTTP: ``/export?source=ID``, the tables and
SHA256SUMS with ``?source=``, a release's files of one source at ``/export/{release}/sources/{id}/{file}``, the
release page listing them, ``kg export --source``; and, without ``source``, the whole dataset's bytes as before.

Expectations are read from the graph (ad-hoc SPARQL, independent of queries/source_dump.rq) and from the whole
dump. Two sources: the second one MADE UP by tests/test_curate.py (its text under tests/, never data/), published
through the review desk into a service of this module's own, as tests/test_timeline_two_sources.py does.
"""

import csv
import hashlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from app.build.graph import KnowledgeGraph
from app.cli import main
from app.config import Settings
from app.ld.export import FILES, export_bytes
from app.rdf.formats import GRAPH_FORMATS, Format
from tests.helpers import PREFIXES, select, serve_in_thread
from tests.test_curate import SOURCE, TOKEN, known_mechanism, publish_made_up

BJRD = rdflib.Namespace("https://bjrd-kg.example.org/ontology#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
IMMUTABLE = "public, max-age=31536000, immutable"
#: What an ontology says of its terms: none of it belongs in a source's dump.
AXIOMS = {RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.inverseOf, OWL.propertyChainAxiom,
          OWL.equivalentClass, OWL.disjointWith, OWL.versionIRI, OWL.imports}
DECLARED = {OWL.Ontology, OWL.Class, RDFS.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
            RDF.Property}


def sums(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {name: digest for digest, name in (line.split("  ", 1) for line in response.text.splitlines())}


def release(client: httpx.Client) -> str:
    return client.get("/export/SHA256SUMS").headers["x-release"]


def raw(client: httpx.Client, path: str, **params: str) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", path, params=params, headers={"Accept-Encoding": "identity"}) as response:
        return response, b"".join(response.iter_raw())


def parsed(body: bytes, fmt: str) -> rdflib.Dataset:
    dataset = rdflib.Dataset()
    dataset.parse(data=body, format=fmt)
    return dataset


def quotes_of(graph: KnowledgeGraph, source: str | None = None) -> set[str]:
    """The graph's quotes (those of ``source`` only, when given), read by a query of the test's own."""
    where = f"?q dcterms:source <{graph.iri('source', source)}> ." if source else ""
    return {str(r["q"]) for r in select(graph, PREFIXES + f"SELECT ?q WHERE {{ ?q a bjrd:Quote . {where} }}")}


def practices_of(graph: KnowledgeGraph) -> set[str]:
    return {str(r["p"]) for r in select(graph, PREFIXES + "SELECT ?p WHERE { ?p a bjrd:Practice }")}


def subjects(dataset: rdflib.Dataset | rdflib.Graph, cls: rdflib.URIRef) -> set[str]:
    return {str(s) for s, _, _ in dataset.triples((None, RDF.type, cls))}


# ---------------------------------------------------------------- one source: the article


def test_source_dump_holds_every_quote_and_practice_and_no_ontology_axioms(client: httpx.Client,
                                                                           graph: KnowledgeGraph) -> None:
    response, body = raw(client, "/export", source="article", format="turtle")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    dump = rdflib.Graph().parse(data=body, format="turtle")
    quotes = quotes_of(graph, "article")
    assert quotes and subjects(dump, BJRD.Quote) == quotes == quotes_of(graph)  # one source: every quote
    assert subjects(dump, BJRD.Practice) == practices_of(graph)
    every_exact = {str(s) for s, _, _ in dump.triples((None, OA.exact, None))}
    assert every_exact == quotes  # each quote with its words
    assert not [t for t in dump if t[1] in AXIOMS]
    assert not [s for s, _, o in dump.triples((None, RDF.type, None)) if o in DECLARED]
    # smaller than the whole: no ontology, and shared concepts by type and labels only
    whole = rdflib.Graph().parse(data=client.get("/export", params={"format": "turtle"}).content, format="turtle")
    assert len(dump) < len(whole) and set(dump) <= set(whole)


def test_shared_concepts_come_with_types_and_labels_only(client: httpx.Client, graph: KnowledgeGraph) -> None:
    dump = rdflib.Graph().parse(data=raw(client, "/export", source="article", format="ntriples")[1], format="nt")
    districts = subjects(dump, BJRD.District)
    every = select(graph, PREFIXES + "SELECT ?d WHERE { ?d a bjrd:District }")
    assert districts == {str(r["d"]) for r in every}
    labels = {RDF.type, RDFS.label, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
              BJRD.paragraph}  # a district's paragraph is a quote of this source
    for d in districts:
        assert {p for _, p, _ in dump.triples((rdflib.URIRef(d), None, None))} <= labels, d
        assert dump.value(rdflib.URIRef(d), RDFS.label) is not None, d
    for _, _, m in dump.triples((None, BJRD.usesMechanism, None)):
        assert (m, RDF.type, BJRD.Mechanism) in dump, m  # every linked mechanism is typed and labelled
        assert dump.value(m, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")) is not None, m


def test_dataset_formats_keep_each_statements_named_graph(client: httpx.Client) -> None:
    source = parsed(raw(client, "/export", source="article", format="nquads")[1], "nquads")
    whole = parsed(client.get("/export", params={"format": "nquads"}).content, "nquads")
    quads = set(source.quads((None, None, None, None)))
    assert quads and quads <= set(whole.quads((None, None, None, None)))
    assert {str(g) for *_, g in quads} >= {f"{g}" for g in ("https://bjrd-kg.example.org/graph/data",
                                                              "https://bjrd-kg.example.org/graph/inferred")}
    trig = parsed(raw(client, "/export", source="article", format="trig")[1], "trig")
    assert set(trig.quads((None, None, None, None))) == quads


def test_inferred_adds_the_inferred_statements_of_the_source(client: httpx.Client) -> None:
    asserted = rdflib.Graph().parse(data=raw(client, "/export", source="article", format="ntriples")[1], format="nt")
    inferred = rdflib.Graph().parse(data=raw(client, "/export", source="article", format="ntriples",
                                             inferred="true")[1], format="nt")
    assert set(asserted) < set(inferred)
    whole_inferred = rdflib.Graph().parse(data=client.get("/export", params={"format": "ntriples",
                                                                          "inferred": "true"}).content, format="nt")
    assert set(inferred) <= set(whole_inferred)


@pytest.mark.parametrize("fmt", [f for f in GRAPH_FORMATS if f.name != "jsonld"], ids=lambda f: f.name)
def test_without_source_the_whole_dump_is_as_before(client: httpx.Client, graph: KnowledgeGraph, fmt: Format) -> None:
    """Every byte of /export without ``source`` is the whole dataset's serialisation (app.ld.export.export_bytes,
    which this change left alone), named as before, and SHA256SUMS lists the release's files only."""
    response, body = raw(client, "/export", format=fmt.name)
    assert body == export_bytes(graph, fmt)
    assert response.headers["link"] == f'</export/{release(client)}/bjrd-kg.{fmt.extension}>; rel="canonical"'
    assert list(sums(client.get("/export/SHA256SUMS"))) == list(FILES)


def test_source_release_files_are_immutable_and_listed_in_their_sha256sums(client: httpx.Client,
                                                                          tmp_path: Path) -> None:
    version = release(client)
    listed_response = client.get("/export/SHA256SUMS", params={"source": "article"})
    listed = sums(listed_response)
    assert list(listed) == list(FILES)
    assert listed_response.headers["link"] == f'</export/{version}/sources/article/SHA256SUMS>; rel="canonical"'
    for name, digest in listed.items():
        response, body = raw(client, f"/export/{version}/sources/article/{name}")
        assert response.status_code == 200, name
        assert hashlib.sha256(body).hexdigest() == digest, name
        assert response.headers["etag"] == f'"{digest}"' and response.headers["cache-control"] == IMMUTABLE
        again = client.get(f"/export/{version}/sources/article/{name}",
                           headers={"If-None-Match": f'"{digest}"', "Accept-Encoding": "identity"})
        assert again.status_code == 304 and again.content == b""
        (tmp_path / name).write_bytes(body)
    pinned = client.get(f"/export/{version}/sources/article/SHA256SUMS")
    assert pinned.content == listed_response.content and pinned.headers["cache-control"] == IMMUTABLE
    (tmp_path / "SHA256SUMS").write_bytes(pinned.content)
    check = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=tmp_path, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_export_with_source_names_its_release_file_and_sends_its_bytes(client: httpx.Client) -> None:
    version = release(client)
    listed = sums(client.get("/export/SHA256SUMS", params={"source": "article"}))
    for fmt in GRAPH_FORMATS:
        response, body = raw(client, "/export", source="article", format=fmt.name)
        name = f"bjrd-kg.{fmt.extension}"
        assert response.headers["link"] == f'</export/{version}/sources/article/{name}>; rel="canonical"'
        assert hashlib.sha256(body).hexdigest() == listed[name], name
    response, body = raw(client, "/export", source="article", format="turtle", inferred="true")
    assert hashlib.sha256(body).hexdigest() == listed["bjrd-kg-inferred.ttl"]


def table_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize("table", ["practices", "facts", "mechanisms", "topics", "matrix"])
def test_one_sources_tables_are_the_whole_tables(client: httpx.Client, table: str) -> None:
    """With the one article every practice and fact is its own, and so is every use of a concept: its table is
    the whole one (concepts no practice uses left out), published under sources/article/ too."""
    whole = table_rows(client.get(f"/export/{table}.csv").content)
    response, body = raw(client, f"/export/{table}.csv", source="article")
    assert response.status_code == 200
    assert response.headers["link"] == f'</export/{release(client)}/sources/article/{table}.csv>; rel="canonical"'
    if table in ("mechanisms", "topics"):
        whole = [r for r in whole if r["count"] != "0"]
    if table == "matrix":
        used = {r["mechanism"] for r in whole if r["uses"] == "1"}
        whole = [r for r in whole if r["mechanism"] in used]
    assert table_rows(body) == whole and whole


def test_the_release_page_lists_each_sources_files(client: httpx.Client) -> None:
    version = release(client)
    page = client.get(f"/export/{version}/", params={"lang": "en"}).text
    listed = sums(client.get("/export/SHA256SUMS", params={"source": "article"}))
    for name, digest in listed.items():
        size = len(raw(client, f"/export/{version}/sources/article/{name}")[1])
        assert (f'<a href="/export/{version}/sources/article/{name}">sources/article/{name}</a></td>'
                f"<td>{size}</td><td><code>{digest}</code>") in page, name
    assert 'id="source-article"' in page


def test_latest_redirects_to_the_sources_file_in_the_current_release(client: httpx.Client) -> None:
    response = client.get("/export/latest/sources/article/bjrd-kg.ttl")
    assert response.status_code == 307
    assert response.headers["location"] == f"/export/{release(client)}/sources/article/bjrd-kg.ttl"


# ---------------------------------------------------------------- unknown and hostile ids

QUERY_ROUTES = ["/export", "/export/SHA256SUMS", "/export/practices.csv", "/export/matrix.csv"]
HOSTILE = ["nope", "", "../", "../../etc/passwd", "article/../article", "article%2F..", "ARTICLE", " article",
           "article\x00", "文章", "a" * 4000, "<script>"]


@pytest.mark.parametrize("source", HOSTILE, ids=lambda s: repr(s[:20]))
@pytest.mark.parametrize("route", QUERY_ROUTES)
def test_an_unknown_or_hostile_source_is_404_naming_the_valid_ids(client: httpx.Client, route: str,
                                                                  source: str) -> None:
    """The dumps' errors are plain text, as every RDF route's (app/errors.py)."""
    response = client.get(route, params={"source": source})
    assert response.status_code == 404, response.text[:200]
    assert response.headers["content-type"].startswith("text/plain")
    assert "Valid source ids: article" in response.text and len(response.text) < 400


@pytest.mark.parametrize("route", QUERY_ROUTES)
def test_source_given_twice_is_400(client: httpx.Client, route: str) -> None:
    response = client.get(route, params=[("source", "article"), ("source", "article")])
    assert response.status_code == 400
    assert "source must be set at most once" in response.text


@pytest.mark.parametrize("path", ["sources/nope/bjrd-kg.ttl", "sources/..%2F..%2Fdata/bjrd-kg.ttl",
                                  "sources/article/..%2F..%2FSHA256SUMS", "sources/%2e%2e/bjrd-kg.ttl",
                                  "sources/article/bjrd-kg.xlsx", "sources/" + "a" * 3000 + "/bjrd-kg.ttl"])
def test_hostile_release_paths_are_404_never_500(client: httpx.Client, path: str) -> None:
    url = httpx.URL(str(client.base_url).rstrip("/") + f"/export/{release(client)}/{path}")
    response = client.get(url)
    assert response.status_code == 404, response.text[:200]


def test_kg_export_source_writes_the_bytes_export_sends(client: httpx.Client, tmp_path: Path) -> None:
    out = tmp_path / "article.trig"
    assert main(["export", "--format", "trig", "--source", "article", "-o", str(out)]) == 0
    assert out.read_bytes() == raw(client, "/export", source="article", format="trig")[1]


def test_kg_export_unknown_source_exits_2_naming_the_valid_ids() -> None:
    done = subprocess.run([sys.executable, "-m", "app", "export", "--format", "turtle", "--source", "../nope"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert "Unknown source id '../nope'" in done.stderr and "Valid source ids: article" in done.stderr


# ---------------------------------------------------------------- two sources (slow: a publish)


@pytest.fixture(scope="module")
def published() -> Iterator[httpx.Client]:
    """A writable service with the made-up source published through the review desk."""
    label, _ = known_mechanism()
    for server in serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=30)):
        with httpx.Client(base_url=server.url, timeout=120) as w:
            publish_made_up(w, label)
            yield w


def dump_of(w: httpx.Client, source: str | None) -> rdflib.Dataset:
    params = {"format": "nquads", **({"source": source} if source else {})}
    response = w.get("/export", params=params)
    assert response.status_code == 200, response.text
    return parsed(response.content, "nquads")


def quads_typed(dataset: rdflib.Dataset, cls: rdflib.URIRef) -> set[str]:
    return {str(s) for s, _, _, _ in dataset.quads((None, RDF.type, cls, None))}


@pytest.mark.slow
def test_two_sources_dumps_are_disjoint_and_their_quotes_make_the_whole(published: httpx.Client) -> None:
    w = published
    ids = [s["id"] for s in w.get("/api/sources").json()]
    assert set(ids) == {"article", SOURCE["id"]}
    whole = dump_of(w, None)
    dumps = {source: dump_of(w, source) for source in ids}
    quotes = {s: quads_typed(d, BJRD.Quote) for s, d in dumps.items()}
    practices = {s: quads_typed(d, BJRD.Practice) for s, d in dumps.items()}
    assert all(quotes.values()) and all(practices.values())
    assert not quotes["article"] & quotes[SOURCE["id"]]
    assert not practices["article"] & practices[SOURCE["id"]]
    assert quotes["article"] | quotes[SOURCE["id"]] == quads_typed(whole, BJRD.Quote)
    assert practices["article"] | practices[SOURCE["id"]] == quads_typed(whole, BJRD.Practice)
    for source, dump in dumps.items():
        iri = rdflib.URIRef(f"https://bjrd-kg.example.org/id/source/{source}")
        cites = {str(s) for s, _, _, _ in whole.quads((None, rdflib.URIRef("http://purl.org/dc/terms/source"), iri,
                                                      None))}
        assert quotes[source] == cites & quads_typed(whole, BJRD.Quote)
        # each statement in the named graph the whole dataset holds it in
        assert set(dump.quads((None, None, None, None))) <= set(whole.quads((None, None, None, None)))
    made_up_graphs = {str(g) for _, _, _, g in dumps[SOURCE["id"]].quads((None, OA.exact, None, None))}
    assert made_up_graphs and not made_up_graphs & {"https://bjrd-kg.example.org/graph/data"}


@pytest.mark.slow
def test_two_sources_tables_split_the_whole_tables(published: httpx.Client) -> None:
    w = published

    def rows(table: str, source: str | None = None) -> list[dict[str, str]]:
        response = w.get(f"/export/{table}.csv", params={"source": source} if source else {})
        assert response.status_code == 200, response.text
        return table_rows(response.content)

    for table in ("practices", "facts"):
        whole = {r["id"] for r in rows(table)}
        article, made_up = ({r["id"] for r in rows(table, s)} for s in ("article", SOURCE["id"]))
        assert not article & made_up and article | made_up == whole, table
        assert made_up or table == "facts"
    used = {m for r in rows("practices", SOURCE["id"]) for m in r["mechanisms"].split(";") if m}
    listed = {r["id"] for r in rows("mechanisms", SOURCE["id"])}
    assert used and used <= listed < {r["id"] for r in rows("mechanisms")}
    matrix = rows("matrix", SOURCE["id"])
    assert {r["mechanism"] for r in matrix} == listed
    assert {(r["district"], r["mechanism"]) for r in matrix if r["uses"] == "1"} >= {
        (r["district"], m) for r in rows("practices", SOURCE["id"]) for m in r["mechanisms"].split(";") if m}


@pytest.mark.slow
def test_two_sources_release_lists_both_and_each_verifies(published: httpx.Client, tmp_path: Path) -> None:
    w = published
    version = release(w)
    page = w.get(f"/export/{version}/", params={"lang": "en"}).text
    for source in ("article", SOURCE["id"]):
        assert f'id="source-{source}"' in page
        listed = sums(w.get("/export/SHA256SUMS", params={"source": source}))
        folder = tmp_path / source
        folder.mkdir()
        for name in listed:
            response = w.get(f"/export/{version}/sources/{source}/{name}", headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200 and response.headers["etag"] == f'"{listed[name]}"'
            (folder / name).write_bytes(response.content)
        (folder / "SHA256SUMS").write_bytes(w.get(f"/export/{version}/sources/{source}/SHA256SUMS").content)
        check = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=folder, capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    article_ttl = sums(w.get("/export/SHA256SUMS", params={"source": "article"}))["bjrd-kg.ttl"]
    assert article_ttl != sums(w.get("/export/SHA256SUMS", params={"source": SOURCE["id"]}))["bjrd-kg.ttl"]
