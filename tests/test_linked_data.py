"""Linked data over real HTTP: entity IRIs by content negotiation, HTML pages, indexes, dumps,
VoID, the JSON-LD context, /ontology and /shapes, ETag/304.

Expectations come from independent ad-hoc SPARQL over the store (``graph.backend``), from the
loaded quads (``graph.loaded``) or from the article text — never from the routes' own queries.
"""

import base64
import gzip
import hashlib
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS, SKOS

from app.build.graph import KnowledgeGraph
from app.rdf.convert import to_rdflib_graph
from app.rdf.terms import to_rdflib
from tests.helpers import PREFIXES, LiveServer, select

BJRD = rdflib.Namespace("https://bjrd-kg.example.org/ontology#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
RDF_FORMATS = {  # media type -> (suffix, rdflib parser)
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/n-triples": ("nt", "nt"),
    "application/rdf+xml": ("rdf", "xml"),
}
KINDS = ("district", "mechanism", "theme")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class PageText(HTMLParser):
    """The text of an HTML page (entities decoded), its links and its lang attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.langs: set[str] = set()
        self.html_lang = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "html":
            self.html_lang = attr.get("lang") or ""
        if attr.get("lang"):
            self.langs.add(attr["lang"] or "")
        if tag == "a" and attr.get("href"):
            self.links.append(attr["href"] or "")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


# ---------------------------------------------------------------- independent expectations


def entities(graph: KnowledgeGraph, kind: str) -> list[str]:
    prefix = f"{graph.settings.base_iri}/id/{kind}/"
    rows = select(graph, f'SELECT DISTINCT ?e WHERE {{ ?e a ?t FILTER(STRSTARTS(STR(?e), "{prefix}")) }}')
    return sorted(r["e"] for r in rows)


def term(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    """An rdflib term as a parser makes it (xsd:string literals are plain)."""
    if isinstance(node, ox.Literal) and not node.language and node.datatype == ox.NamedNode(XSD_STRING):
        return rdflib.Literal(node.value)
    return to_rdflib(node)


def asserted_by_subject(graph: KnowledgeGraph, kind: str) -> dict[str, set[tuple]]:
    """The asserted triples (data graph) of every entity of a kind, as rdflib terms."""
    prefix = f"{graph.settings.base_iri}/id/{kind}/"
    query = f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{graph.names.data}> {{ ?s ?p ?o }}
                FILTER(STRSTARTS(STR(?s), "{prefix}")) }}"""
    out: dict[str, set[tuple]] = defaultdict(set)
    for row in graph.backend.select(query):
        out[row["s"].value].add((term(row["s"]), term(row["p"]), term(row["o"])))
    return out


def inverse_links(graph: KnowledgeGraph, kind: str) -> dict[str, set[tuple]]:
    """Practices (and for districts facts) linking to each entity: district, usesMechanism, theme."""
    prop = {"district": "bjrd:district", "mechanism": "bjrd:usesMechanism", "theme": "bjrd:theme"}[kind]
    rows = graph.backend.select(PREFIXES + f"SELECT ?s ?o WHERE {{ ?s {prop} ?o }}")
    out: dict[str, set[tuple]] = defaultdict(set)
    for row in rows:
        out[row["o"].value].add((term(row["s"]), rdflib.URIRef(BJRD[prop.split(":")[1]]), term(row["o"])))
    return out


def quotes_of(graph: KnowledgeGraph, kind: str) -> dict[str, set[str]]:
    """Every oa:exact a page must show: a district's practices and facts, a mechanism's or theme's practices."""
    prop = {"district": "bjrd:district", "mechanism": "bjrd:usesMechanism", "theme": "bjrd:theme"}[kind]
    rows = select(graph, PREFIXES + f"SELECT ?e ?exact WHERE {{ ?r {prop} ?e ; bjrd:evidence/oa:exact ?exact }}")
    out: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        out[row["e"]].add(row["exact"])
    return out


def path_of(graph: KnowledgeGraph, iri: str) -> str:
    return iri.removeprefix(graph.settings.base_iri)


def parse(body: bytes | str, media_type: str, base: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=body, format=RDF_FORMATS[media_type][1], publicID=base)


# ---------------------------------------------------------------- entity descriptions


@pytest.mark.parametrize("media_type", [m if m == "text/turtle" else pytest.param(m, marks=pytest.mark.slow)
                                        for m in RDF_FORMATS])  # one format in the fast loop
@pytest.mark.parametrize("kind", KINDS)
def test_entity_rdf_contains_asserted_triples_and_inverse_links(kind: str, media_type: str, client: httpx.Client,
                                                               graph: KnowledgeGraph) -> None:
    asserted = asserted_by_subject(graph, kind)
    inverse = inverse_links(graph, kind)
    assert len(entities(graph, kind)) >= 16 if kind != "theme" else len(entities(graph, kind)) >= 5
    for iri in entities(graph, kind):
        response = client.get(path_of(graph, iri), headers={"Accept": media_type})
        assert response.status_code == 200, iri
        assert response.headers["content-type"].split(";")[0] == media_type
        parsed = parse(response.content, media_type, iri)
        missing = asserted[iri] - set(parsed)
        assert not missing, f"{iri} misses asserted triples {sorted(missing)[:3]}"
        missing_inverse = inverse[iri] - set(parsed)
        assert not missing_inverse, f"{iri} misses inverse links {sorted(missing_inverse)[:3]}"


def test_entity_rdf_labels_every_linked_entity(client: httpx.Client, graph: KnowledgeGraph) -> None:
    iri = graph.iri("district", "haidian")
    parsed = parse(client.get("/id/district/haidian.ttl").content, "text/turtle", iri)
    linked = {o for o in parsed.objects(rdflib.URIRef(iri)) if isinstance(o, rdflib.URIRef)
              and str(o).startswith(graph.settings.base_iri + "/id/")}
    linked |= {s for s in parsed.subjects(BJRD.district, rdflib.URIRef(iri))}
    assert linked
    for node in linked:
        if node == rdflib.URIRef(graph.iri("quote", "haidian-paragraph")):
            continue
        assert set(parsed.objects(node, RDFS.label)), f"no label for {node}"


def test_entity_quotes_carry_offsets_into_the_article(client: httpx.Client, graph: KnowledgeGraph,
                                                      source_text: str) -> None:
    iri = graph.iri("district", "haidian")
    parsed = parse(client.get("/id/district/haidian.nt").content, "application/n-triples", iri)
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    quotes = set(parsed.subjects(oa.exact, None))
    expected = select(graph, PREFIXES + f"SELECT DISTINCT ?q WHERE {{ ?r bjrd:district <{iri}> ; bjrd:evidence ?q }}")
    assert {r["q"] for r in expected} <= {str(q) for q in quotes}
    for quote in quotes:
        exact = str(parsed.value(quote, oa.exact))
        start, end = int(parsed.value(quote, oa.start)), int(parsed.value(quote, oa.end))
        assert source_text[start:end] == exact


@pytest.mark.parametrize("kind", KINDS)
def test_entity_html_shows_every_quote(kind: str, client: httpx.Client, graph: KnowledgeGraph) -> None:
    expected = quotes_of(graph, kind)
    for iri in entities(graph, kind):
        response = client.get(path_of(graph, iri), headers={"Accept": "text/html"})
        assert response.status_code == 200
        page = PageText(response.text)
        missing = [q for q in expected[iri] if q not in page.text]
        assert not missing, f"{iri} does not show {missing[:2]}"
        if kind == "district":
            assert expected[iri], iri


def test_district_html_marks_quotes_inside_their_paragraph(client: httpx.Client, graph: KnowledgeGraph) -> None:
    iri = graph.iri("district", "haidian")
    rows = select(graph, PREFIXES + f"""SELECT ?exact ?ptext WHERE {{
        ?p bjrd:district <{iri}> ; bjrd:evidence/oa:exact ?exact . <{iri}> bjrd:paragraph/oa:exact ?ptext }}""")
    html = client.get("/id/district/haidian", headers={"Accept": "text/html"}).text
    for row in rows:
        assert f"<mark>{row['exact']}</mark>" in html
    assert "<mark>" in html and rows[0]["ptext"][:20] in PageText(html).text


@pytest.mark.parametrize("lang, label_property", [("zh", "zh"), ("en", "en")])
def test_district_html_language_by_query_parameter(lang: str, label_property: str, client: httpx.Client,
                                                   graph: KnowledgeGraph) -> None:
    iri = graph.iri("district", "haidian")
    label = select(graph, PREFIXES + f"""SELECT ?l WHERE {{ <{iri}> rdfs:label ?l
                                          FILTER(LANG(?l) = "{label_property}") }}""")
    page = PageText(client.get(f"/id/district/haidian?lang={lang}", headers={"Accept": "text/html"}).text)
    assert page.html_lang == {"zh": "zh-Hans"}.get(lang, lang)  # simplified Chinese
    assert {"zh-Hans", "en"} <= page.langs
    assert label[0]["l"] in page.text


def test_district_html_language_by_accept_language(client: httpx.Client) -> None:
    response = client.get("/id/district/haidian", headers={"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.8"})
    assert PageText(response.text).html_lang == "en"
    assert "Accept-Language" in response.headers["vary"]


def test_mechanism_html_lists_every_district_using_it(client: httpx.Client, graph: KnowledgeGraph) -> None:
    iri = graph.iri("mechanism", "deputy-stations")
    rows = select(graph, PREFIXES + f"SELECT DISTINCT ?d WHERE {{ ?p bjrd:usesMechanism <{iri}> ; bjrd:district ?d }}")
    page = PageText(client.get("/id/mechanism/deputy-stations?lang=en", headers={"Accept": "text/html"}).text)
    hrefs = {link.split("?")[0] for link in page.links}
    assert len(rows) >= 2
    assert {path_of(graph, r["d"]) for r in rows} <= hrefs


def test_entity_html_links_raw_formats_and_sparql(client: httpx.Client) -> None:
    page = PageText(client.get("/id/theme/supervision", headers={"Accept": "text/html"}).text)
    for suffix in ("ttl", "jsonld", "nt", "rdf"):
        assert f"/id/theme/supervision.{suffix}" in page.links
    # The SPARQL link opens the query editor with the entity's DESCRIBE; that query answers the description.
    sparql = [link for link in page.links if link.startswith("/query?") and "query=" in link]
    assert sparql
    query = dict(parse_qsl(urlsplit(sparql[0]).query))["query"]
    assert query.startswith("DESCRIBE <")
    answer = client.get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"})
    assert answer.status_code == 200
    assert "<https://bjrd-kg.example.org/id/theme/supervision>" in answer.text


# ---------------------------------------------------------------- negotiation and protocol


@pytest.mark.parametrize("accept, media_type", [
    ("text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("text/html", "text/html"),
    ("", "text/turtle"),
    ("*/*", "text/turtle"),
    ("text/html;q=0.5, application/rdf+xml;q=0.9", "application/rdf+xml"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("application/ld+json;q=0, */*;q=0.1", "text/turtle"),
])
def test_entity_accept_chooses_format(accept: str, media_type: str, client: httpx.Client) -> None:
    response = client.get("/id/district/haidian", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]
    extension = {"text/html": "html", **{k: v[0] for k, v in RDF_FORMATS.items()}}[media_type]
    assert response.headers["content-location"] == f"/id/district/haidian.{extension}"


@pytest.mark.parametrize("suffix, media_type", [("ttl", "text/turtle"), ("jsonld", "application/ld+json"),
                                                ("nt", "application/n-triples"), ("rdf", "application/rdf+xml"),
                                                ("html", "text/html")])
def test_entity_suffix_fixes_format(suffix: str, media_type: str, client: httpx.Client) -> None:
    response = client.get(f"/id/mechanism/monthly-station-visit.{suffix}", headers={"Accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "content-location" not in response.headers


def test_entity_accept_image_is_406(client: httpx.Client) -> None:
    response = client.get("/id/district/haidian", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("text/plain")
    assert "text/turtle" in response.text and "application/ld+json" in response.text


@pytest.mark.parametrize("path", ["/id/district/atlantis", "/id/district/atlantis.ttl", "/id/planet/earth"])
def test_entity_unknown_is_404_plain(path: str, client: httpx.Client) -> None:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert "atlantis" in response.text or "planet" in response.text


def test_entity_unknown_is_404_html_for_browsers(client: httpx.Client) -> None:
    response = client.get("/id/district/atlantis", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "/id/district/" in PageText(response.text).links[-20:] or "/id/district/?lang=zh" in response.text


def test_entity_head_has_headers_and_no_body(client: httpx.Client) -> None:
    get = client.get("/id/district/haidian", headers={"Accept": "text/turtle"})
    head = client.head("/id/district/haidian", headers={"Accept": "text/turtle"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["etag"] == get.headers["etag"]


@pytest.mark.parametrize("path, accept", [
    ("/id/district/haidian", "text/turtle"), ("/id/district/haidian", "text/html"), ("/id/mechanism/", "text/html"),
    ("/export?format=nquads", "*/*"), ("/void", "text/turtle"), ("/.well-known/void", "*/*"),
    ("/ontology", "text/html"), ("/shapes", "text/turtle"), ("/context.jsonld", "*/*"),
])
def test_linked_data_if_none_match_is_304(path: str, accept: str, client: httpx.Client) -> None:
    first = client.get(path, headers={"Accept": accept})
    assert first.status_code == 200
    etag = first.headers["etag"]
    again = client.get(path, headers={"Accept": accept, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get(path, headers={"Accept": "application/n-triples" if accept != "application/n-triples" else "*/*",
                                      "If-None-Match": etag})
    assert other.status_code == 200  # another representation: a fresh answer, not the 304 of the first one's ETag
    assert other.headers["etag"] != etag


def test_linked_data_client_dereferences_district(server: LiveServer, graph: KnowledgeGraph) -> None:
    iri = graph.iri("district", "haidian")
    parsed = rdflib.Graph().parse(server.url + "/id/district/haidian")
    assert asserted_by_subject(graph, "district")[iri] <= set(parsed)
    assert (rdflib.URIRef(iri), RDFS.label, rdflib.Literal("海淀区", lang="zh")) in parsed
    as_jsonld = rdflib.Graph().parse(server.url + "/id/district/haidian", format="json-ld")
    assert isomorphic(parsed, as_jsonld)


# ---------------------------------------------------------------- indexes


@pytest.mark.parametrize("kind", ["district", "mechanism", "theme", "practice", "fact", "quote", "congress",
                                  "topic", "scheme", "source"])
def test_index_lists_every_entity(kind: str, client: httpx.Client, graph: KnowledgeGraph) -> None:
    expected = entities(graph, kind)
    page = PageText(client.get(f"/id/{kind}/", headers={"Accept": "text/html"}).text)
    listed = {link.split("?")[0] for link in page.links}
    assert {path_of(graph, iri) for iri in expected} <= listed
    turtle = client.get(f"/id/{kind}/", headers={"Accept": "text/turtle"}).content
    rdf = parse(turtle, "text/turtle", graph.settings.base_iri)
    assert {str(s) for s in rdf.subjects()} == set(expected)


def test_index_district_labels_in_both_languages(client: httpx.Client, graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + "SELECT ?zh ?en WHERE { ?d a bjrd:District ; rdfs:label ?zh , ?en "
                                    'FILTER(LANG(?zh) = "zh" && LANG(?en) = "en") }')
    text = PageText(client.get("/id/district/?lang=en", headers={"Accept": "text/html"}).text).text
    assert len(rows) == 16
    for row in rows:
        assert row["zh"] in text and row["en"] in text


# ---------------------------------------------------------------- dumps


def loaded_graph(graph: KnowledgeGraph, *, inferred: bool) -> rdflib.Graph:
    quads = graph.loaded.ontology + graph.loaded.data + (graph.loaded.inferred if inferred else [])
    return to_rdflib_graph(q.triple for q in quads)


@pytest.fixture(scope="module")
def dumps(server: LiveServer) -> dict[str, bytes]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        return {name: c.get("/export", params={"format": name}).content
                for name in ("turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads")}


def test_export_graph_formats_are_isomorphic_to_the_store(dumps: dict[str, bytes], graph: KnowledgeGraph) -> None:
    expected = loaded_graph(graph, inferred=False)
    parsers = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
    parsed = {name: rdflib.Graph().parse(data=dumps[name], format=fmt) for name, fmt in parsers.items()}
    for name, g in parsed.items():
        assert len(g) == len(expected), name
        assert isomorphic(g, expected), name


def test_export_dataset_formats_are_isomorphic_per_named_graph(dumps: dict[str, bytes], graph: KnowledgeGraph) -> None:
    trig = rdflib.Dataset()
    trig.parse(data=dumps["trig"], format="trig")
    nquads = rdflib.Dataset()
    nquads.parse(data=dumps["nquads"], format="nquads")
    for name in graph.names.all():
        expected = to_rdflib_graph(q.triple for q in graph.loaded.quads if q.graph_name == ox.NamedNode(name))
        from_trig, from_nquads = trig.graph(rdflib.URIRef(name)), nquads.graph(rdflib.URIRef(name))
        assert len(expected) > 0
        assert isomorphic(from_trig, from_nquads), name
        assert isomorphic(from_trig, expected), name


def test_export_inferred_adds_the_entailments(client: httpx.Client, graph: KnowledgeGraph) -> None:
    body = client.get("/export", params={"format": "ntriples", "inferred": "true"}).content
    parsed = rdflib.Graph().parse(data=body, format="nt")
    assert isomorphic(parsed, loaded_graph(graph, inferred=True))
    assert len(parsed) == graph.triples


def test_export_headers_digest_and_filename(client: httpx.Client) -> None:
    response = client.get("/export?format=turtle", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == "attachment; filename=bjrd-kg.ttl"
    assert "content-encoding" not in response.headers
    digest = base64.b64encode(hashlib.sha256(response.content).digest()).decode()
    assert response.headers["digest"] == f"sha-256={digest}"
    assert response.headers["repr-digest"] == f"sha-256=:{digest}:"


def test_export_gzip_when_accepted(server: LiveServer, client: httpx.Client) -> None:
    plain = client.get("/export?format=nquads", headers={"Accept-Encoding": "identity"}).content
    with httpx.Client(base_url=server.url) as raw_client, raw_client.stream(
            "GET", "/export?format=nquads", headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
        headers = response.headers
    assert headers["content-encoding"] == "gzip"
    assert headers["content-disposition"] == "attachment; filename=bjrd-kg.nq"
    assert "Accept-Encoding" in headers["vary"]
    assert gzip.decompress(raw) == plain
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode()
    assert headers["repr-digest"] == f"sha-256=:{digest}:"


@pytest.mark.parametrize("accept, media_type", [("application/trig", "application/trig"),
                                                ("application/n-quads", "application/n-quads"),
                                                ("", "text/turtle")])
def test_export_by_accept(accept: str, media_type: str, client: httpx.Client) -> None:
    response = client.get("/export", headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == media_type


def test_export_unknown_format_is_400(client: httpx.Client) -> None:
    response = client.get("/export?format=csv")
    assert response.status_code == 400
    assert "turtle" in response.text and "nquads" in response.text


# ---------------------------------------------------------------- VoID


def test_void_numbers_match_the_store(client: httpx.Client, graph: KnowledgeGraph, server: LiveServer) -> None:
    response = client.get("/void")
    assert response.headers["content-type"].startswith("text/turtle")
    void = rdflib.Graph().parse(data=response.content, format="turtle")
    dataset = next(void.subjects(rdflib.RDF.type, VOID.Dataset))
    triples = {q.triple for q in graph.loaded.quads}
    subjects = {t.subject for t in triples}
    objects = {t.object for t in triples}
    base = graph.settings.base_iri + "/id/"
    entity_count = len({s for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(base)})

    def number(node: rdflib.term.Node, prop: rdflib.URIRef) -> int:
        return int(void.value(node, prop))

    assert number(dataset, VOID.triples) == len(triples) == client.get("/health").json()["triples"]
    assert number(dataset, VOID.distinctSubjects) == len(subjects)
    assert number(dataset, VOID.distinctObjects) == len(objects)
    assert number(dataset, VOID.entities) == entity_count
    assert void.value(dataset, VOID.sparqlEndpoint) == rdflib.URIRef(server.url + "/sparql")
    assert void.value(dataset, DCTERMS.source) == rdflib.URIRef(graph.iri("source", "article"))
    assert str(void.value(dataset, VOID.uriSpace)) == base
    assert void.value(dataset, DCTERMS.license) is not None
    vocabularies = {str(v) for v in void.objects(dataset, VOID.vocabulary)}
    assert {str(BJRD), str(SKOS), "http://www.w3.org/ns/oa#", "https://schema.org/"} <= vocabularies
    dumps = {str(d) for d in void.objects(dataset, VOID.dataDump)}
    extensions = ("ttl", "nt", "jsonld", "rdf", "trig", "nq")
    release = client.get("/export/SHA256SUMS").headers["x-release"]
    assert {f"{server.url}/export/{release}/bjrd-kg.{e}" for e in extensions} == dumps
    partitions = {void.value(p, VOID["class"]): number(p, VOID.entities)
                  for p in void.objects(dataset, VOID.classPartition)}
    district_class = ox.NamedNode(str(BJRD.District))
    districts = {t.subject for t in triples if t.predicate.value.endswith("#type") and t.object == district_class}
    assert partitions[BJRD.District] == len(districts) == 16
    properties = {void.value(p, VOID.property): number(p, VOID.triples)
                  for p in void.objects(dataset, VOID.propertyPartition)}
    assert sum(properties.values()) == len(triples)
    assert properties[BJRD.usesMechanism] == sum(1 for t in triples if t.predicate.value == str(BJRD.usesMechanism))


def test_void_names_every_source_as_a_subset_with_its_release_files(client: httpx.Client, server: LiveServer) -> None:
    void = rdflib.Graph().parse(data=client.get("/void").content, format="turtle")
    dataset = next(void.subjects(rdflib.RDF.type, VOID.Dataset))
    sources = {s["iri"]: s["id"] for s in client.get("/api/sources").json()}
    assert {str(s) for s in void.objects(dataset, DCTERMS.source)} == set(sources)
    release = client.get("/export/SHA256SUMS").headers["x-release"]
    subsets = list(void.objects(dataset, VOID.subset))
    assert len(subsets) == len(sources)
    for subset in subsets:
        id = sources[str(void.value(subset, DCTERMS.source))]
        folder = f"{server.url}/export/{release}/sources/{id}"
        dumps = {str(d) for d in void.objects(subset, VOID.dataDump)}
        assert {f"{folder}/bjrd-kg.{e}" for e in ("ttl", "nt", "jsonld", "rdf", "trig", "nq")} == dumps
        assert str(void.value(subset, rdflib.RDFS.seeAlso)) == f"{folder}/SHA256SUMS"
        turtle = client.get(f"{folder}/bjrd-kg.ttl".removeprefix(server.url))
        assert turtle.status_code == 200
        assert turtle.content == client.get("/export", params={"source": id, "format": "turtle"}).content


def test_void_well_known_is_the_same_description(client: httpx.Client) -> None:
    a = rdflib.Graph().parse(data=client.get("/void").content, format="turtle")
    b = rdflib.Graph().parse(data=client.get("/.well-known/void", headers={"Accept": "application/n-triples"}).content,
                             format="nt")
    assert isomorphic(a, b)


def test_void_every_dump_url_resolves(client: httpx.Client, server: LiveServer) -> None:
    void = rdflib.Graph().parse(data=client.get("/void").content, format="turtle")
    for dump in void.objects(None, VOID.dataDump):
        assert client.head(str(dump).removeprefix(server.url)).status_code == 200


# ---------------------------------------------------------------- JSON-LD context


def test_context_has_language_maps_and_short_keys(client: httpx.Client) -> None:
    response = client.get("/context.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    context = response.json()["@context"]
    assert context["label"] == {"@id": "rdfs:label", "@container": "@language"}
    assert context["prefLabel"]["@container"] == "@language"
    assert context["usesMechanism"] == {"@id": "bjrd:usesMechanism", "@type": "@id"}
    assert context["exact"] == "oa:exact"


@pytest.mark.parametrize("path", ["/ontology", "/void", "/shapes"])
def test_jsonld_answers_reference_the_published_context(path: str, client: httpx.Client, server: LiveServer) -> None:
    response = client.get(path, headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.json()["@context"] == server.url + "/context.jsonld"


def test_jsonld_dump_carries_its_context_and_expands_offline(client: httpx.Client, graph: KnowledgeGraph) -> None:
    dump = client.get("/export", params={"format": "jsonld"})
    assert dump.status_code == 200
    document = dump.json()
    assert document["@context"] == client.get("/context.jsonld").json()["@context"]
    # No network: rdflib parses the file alone (a remote @context would have to be fetched).
    parsed = rdflib.Graph().parse(data=dump.content, format="json-ld")
    ntriples = client.get("/export", params={"format": "ntriples"}).content
    assert isomorphic(parsed, rdflib.Graph().parse(data=ntriples, format="nt"))


def test_jsonld_district_is_compact_with_language_maps(client: httpx.Client, graph: KnowledgeGraph) -> None:
    iri = graph.iri("district", "haidian")
    labels = select(graph, PREFIXES + f"SELECT ?l WHERE {{ <{iri}> rdfs:label ?l }}")
    document = client.get("/id/district/haidian.jsonld").json()
    node = next(n for n in document["@graph"] if n["id"] == iri)
    assert set(node["label"].values()) == {r["l"] for r in labels}
    assert set(node["label"]) == {"zh", "en"}
    assert node["paragraph"] == graph.iri("quote", "haidian-paragraph")


# ---------------------------------------------------------------- ontology and shapes


def test_ontology_turtle_is_the_ontology_graph(client: httpx.Client, graph: KnowledgeGraph) -> None:
    response = client.get("/ontology")
    assert response.headers["content-type"].startswith("text/turtle")
    expected = to_rdflib_graph(q.triple for q in graph.loaded.ontology)
    assert isomorphic(rdflib.Graph().parse(data=response.content, format="turtle"), expected)
    jsonld = client.get("/ontology", headers={"Accept": "application/ld+json"}).content
    assert isomorphic(rdflib.Graph().parse(data=jsonld, format="json-ld"), expected)


def test_ontology_html_documents_every_class_and_property(client: httpx.Client, graph: KnowledgeGraph) -> None:
    rows = select(graph, """PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?term ?zh ?en WHERE { VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty }
          ?term a ?kind ; rdfs:label ?zh , ?en FILTER(LANG(?zh) = "zh" && LANG(?en) = "en") }""")
    html = client.get("/ontology", headers={"Accept": "text/html"}).text
    text = PageText(html).text
    assert len(rows) >= 15
    for row in rows:
        local = row["term"].split("#")[-1]
        assert f'id="{local}"' in html, local
        assert row["zh"] in text and row["en"] in text
    district = select(graph, PREFIXES + 'SELECT ?l WHERE { ?d a bjrd:District ; rdfs:label ?l '
                                        'FILTER(LANG(?l) = "zh") }')
    assert any(r["l"] in text for r in district), "no example district on the District class"


def test_shapes_turtle_is_the_shapes_file(client: httpx.Client, graph: KnowledgeGraph) -> None:
    response = client.get("/shapes")
    assert response.headers["content-type"].startswith("text/turtle")
    expected = to_rdflib_graph(graph.loaded.shapes)
    assert isomorphic(rdflib.Graph().parse(data=response.content, format="turtle"), expected)
    assert client.get("/shapes", headers={"Accept": "text/html"}).status_code == 406


# ---------------------------------------------------------------- practice, fact and quote pages


def test_practice_html_shows_quote_facts_and_inferred_mechanisms(client: httpx.Client, graph: KnowledgeGraph) -> None:
    iri = graph.iri("practice", "haidian-expert-adviser-pool")
    facts = select(graph, PREFIXES + f"""SELECT ?value ?exact WHERE {{
        ?f bjrd:ofPractice <{iri}> ; schema:value ?value ; bjrd:evidence/oa:exact ?exact }}""")
    quote = select(graph, PREFIXES + f"SELECT ?exact WHERE {{ <{iri}> bjrd:evidence/oa:exact ?exact }}")
    text = PageText(client.get("/id/practice/haidian-expert-adviser-pool?lang=en",
                               headers={"Accept": "text/html"}).text).text
    assert facts and quote
    assert quote[0]["exact"] in text
    for fact in facts:
        assert str(fact["value"]) in text and fact["exact"] in text


def test_fact_html_shows_value_unit_and_quote(client: httpx.Client, graph: KnowledgeGraph) -> None:
    iri = graph.iri("fact", "haidian-63-expert-advisers")
    row = select(graph, PREFIXES + f"""SELECT ?value ?unit ?exact WHERE {{ <{iri}> schema:value ?value ;
        schema:unitText ?unit ; bjrd:evidence/oa:exact ?exact FILTER(LANG(?unit) = "zh") }}""")[0]
    html = client.get("/id/fact/haidian-63-expert-advisers?lang=zh", headers={"Accept": "text/html"}).text
    text = PageText(html).text
    assert str(row["value"]) in text and row["unit"] in text and row["exact"] in text


def test_quote_html_shows_the_quote_in_its_paragraph(client: httpx.Client, graph: KnowledgeGraph,
                                                     source_text: str) -> None:
    iri = graph.iri("quote", "haidian-63-expert-advisers")
    row = select(graph, PREFIXES + f"""SELECT ?exact ?start ?end WHERE {{
        <{iri}> oa:exact ?exact ; oa:start ?start ; oa:end ?end }}""")[0]
    html = client.get("/id/quote/haidian-63-expert-advisers", headers={"Accept": "text/html"}).text
    after = source_text[row["end"]:row["end"] + 5]
    assert f"<mark>{row['exact']}</mark>{after}" in html


# ---------------------------------------------------------------- the named queries bind alike everywhere


@pytest.mark.slow
def test_ld_queries_bind_alike_in_every_engine(graph: KnowledgeGraph) -> None:
    """Substitution (embedded Oxigraph), a VALUES block (remote stores) and initBindings (rdflib) agree."""
    from app.store.backends import OxigraphBackend, RdflibBackend
    from app.store.remote import inject_values

    oxigraph = OxigraphBackend(graph.loaded.quads, graph.query_base)
    reference = RdflibBackend(graph.loaded.quads, graph.query_base)
    base = graph.settings.base_iri
    cases = [(name, {"entity": ox.NamedNode(graph.iri(*entity.split("/")))})
             for name in ("ld_describe", "ld_describe_inverse", "ld_describe_related")
             for entity in ("district/haidian", "mechanism/monthly-station-visit", "quote/haidian-63-expert-advisers")]
    cases += [("ld_index", {"prefix": ox.Literal(f"{base}/id/district/")}),
              ("ld_index_graph", {"prefix": ox.Literal(f"{base}/id/source/")})]
    cases += [("ld_void_entities", {"uri_space": ox.Literal(f"{base}/id/")}),
              ("ld_class_examples", {"class": ox.NamedNode(str(BJRD.Fact))}),
              ("ld_property_examples", {"property": ox.NamedNode(str(BJRD.ofPractice))}),
              ("ld_labels", {"entity": ox.NamedNode(graph.iri("source", "article"))})]

    def answer(backend: OxigraphBackend | RdflibBackend, text: str, bindings: dict) -> set:
        if "CONSTRUCT" in text:
            return {tuple(str(x) for x in t) for t in backend.construct(text, bindings)}
        return {tuple(sorted((k, str(v)) for k, v in row.items())) for row in backend.select(text, bindings)}

    for name, bindings in cases:
        text = graph.query(name).text
        substituted = answer(oxigraph, text, bindings)
        assert substituted, name
        assert answer(oxigraph, inject_values(text, bindings), {}) == substituted, name
        assert answer(reference, text, bindings) == substituted, name
