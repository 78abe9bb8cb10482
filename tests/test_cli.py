"""The ``kg`` command: documented exit codes (0 conforms, 1 does not, 2 error), stats, export, query.

Subprocesses (``python -m app`` and the installed ``kg`` script) check what a shell sees; the rest
calls :func:`app.cli.main` in-process. A broken copy of data/ and ontology/ is selected through
``KG_DATA_DIR`` / ``KG_ONTOLOGY_DIR``, exactly as a deployment would point at its files.
"""

import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from app.build.graph import KnowledgeGraph, Loaded, load
from app.cli import main
from app.config import ROOT, Settings
from app.rdf.convert import to_rdflib_graph
from app.rdf.formats import EXPORT_FORMATS
from app.store.backends import OxigraphBackend
from tests.helpers import PREFIXES, select

EXAMPLES = ROOT / "queries" / "examples"
# rdflib's parser for each export format: the test reads every format back with a second library.
RDFLIB_PARSERS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "trig": "trig",
                  "nquads": "nquads"}
DATASET_FORMATS = {"trig", "nquads"}
EN_LABEL = '"Haidian District"@en'


def run_kg(*args: str, env: dict[str, str] | None = None, script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "kg")] if script else [sys.executable, "-m", "app"]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KG_")} | (env or {})
    return subprocess.run(
        [*command, *args], check=False, capture_output=True, text=True, env=environ, cwd=ROOT, timeout=120
    )


@pytest.fixture()
def broken_copy(tmp_path: Path) -> dict[str, str]:
    """A copy of data/ and ontology/ to break; the environment that points ``kg`` at it."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    return {"KG_DATA_DIR": str(tmp_path / "data"), "KG_ONTOLOGY_DIR": str(tmp_path / "ontology")}


def drop_haidian_english_name(env: dict[str, str]) -> None:
    districts = Path(env["KG_DATA_DIR"]) / "districts.ttl"
    text = districts.read_text(encoding="utf-8")
    assert text.count(f'"海淀区"@zh , {EN_LABEL}') == 1
    districts.write_text(text.replace(f'"海淀区"@zh , {EN_LABEL}', '"海淀区"@zh'), encoding="utf-8")


def break_syntax(env: dict[str, str]) -> Path:
    path = Path(env["KG_DATA_DIR"]) / "sources" / "article" / "districts" / "haidian.ttl"
    path.write_text(path.read_text(encoding="utf-8") + "\nprac:broken a bjrd:Practice ;;; oops\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- validate


def test_cli_validate_real_data_exits_0() -> None:
    done = run_kg("validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Conforms: True" in done.stdout


@pytest.mark.slow
def test_cli_validate_nonconforming_data_exits_1(broken_copy: dict[str, str]) -> None:
    drop_haidian_english_name(broken_copy)
    done = run_kg("validate", env=broken_copy)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Conforms: False" in done.stdout
    assert "https://bjrd-kg.example.org/id/district/haidian" in done.stdout
    assert "S01: a district needs an English name (rdfs:label @en)" in done.stdout
    assert "S01: 区必须有英文名称（rdfs:label @en）" in done.stdout


def test_cli_validate_syntax_error_exits_2(broken_copy: dict[str, str]) -> None:
    path = break_syntax(broken_copy)
    done = run_kg("validate", env=broken_copy)
    assert done.returncode == 2, done.stdout + done.stderr
    assert str(path) in done.stderr


@pytest.mark.slow
def test_cli_validate_json_lists_results_in_process(
    broken_copy: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_haidian_english_name(broken_copy)
    for key, value in broken_copy.items():
        monkeypatch.setenv(key, value)
    assert main(["validate", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["conforms"] is False
    assert [(r["focus"], r["shape"]) for r in report["results"]] == [
        ("https://bjrd-kg.example.org/id/district/haidian", "https://bjrd-kg.example.org/shapes#S01-label-en")
    ]
    assert report["results"][0]["message_en"] == "S01: a district needs an English name (rdfs:label @en)"
    assert report["results"][0]["message_zh"] == "S01: 区必须有英文名称（rdfs:label @en）"


def test_cli_syntax_error_exits_2_in_process(
    broken_copy: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = break_syntax(broken_copy)
    for key, value in broken_copy.items():
        monkeypatch.setenv(key, value)
    assert main(["validate"]) == 2
    assert str(path) in capsys.readouterr().err


def test_cli_console_script_kg_reports_syntax_error(broken_copy: dict[str, str]) -> None:
    path = break_syntax(broken_copy)
    done = run_kg("validate", env=broken_copy, script=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("kg: ")
    assert str(path) in done.stderr


def test_cli_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


# ---------------------------------------------------------------- stats


def test_cli_stats_json_agrees_with_sparql_counts(graph: KnowledgeGraph, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    expected = {}
    for key, cls in [("districts", "District"), ("practices", "Practice"), ("mechanisms", "Mechanism"),
                     ("facts", "Fact"), ("themes", "Theme"), ("topics", "SupervisionTopic"), ("quotes", "Quote")]:
        query = PREFIXES + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a bjrd:{cls} }}"
        expected[key] = select(graph, query)[0]["n"]
    expected["triples"] = select(graph, """SELECT (COUNT(*) AS ?n) WHERE {
        SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }""")[0]["n"]
    districts_of: dict[str, set[str]] = {}
    # data/README.md, "Shared": named mechanisms only, used directly or through a narrower one.
    for row in select(graph, PREFIXES + """SELECT ?m ?d WHERE {
            ?p bjrd:usesMechanism ?m ; bjrd:district ?d . ?m bjrd:mechanismKind bjrd:Named }"""):
        districts_of.setdefault(row["m"], set()).add(row["d"])
    expected["shared_mechanisms"] = sum(len(ds) >= 2 for ds in districts_of.values())
    kinds = select(graph, PREFIXES + "SELECT ?m ?k WHERE { ?m bjrd:mechanismKind ?k }")
    expected["named_mechanisms"] = sum(r["k"].endswith("#Named") for r in kinds)
    expected["umbrella_categories"] = sum(r["k"].endswith("#Umbrella") for r in kinds)
    assert expected["named_mechanisms"] + expected["umbrella_categories"] == expected["mechanisms"]
    assert {k: stats.get(k) for k in expected} == expected
    assert expected["districts"] == 16


def test_cli_stats_text_prints_one_line_per_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats"]) == 0
    lines = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert lines["districts"].strip() == "16"
    assert int(lines["triples"]) > 5000


# ---------------------------------------------------------------- export


@pytest.fixture(scope="module")
def reference() -> Loaded:
    """The dataset as read from the files: what `kg` serves and exports with the default settings."""
    return load(Settings())


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every export format, written once by ``kg export --format F --output FILE``."""
    directory = tmp_path_factory.mktemp("export")
    files = {}
    for name in EXPORT_FORMATS:
        files[name] = directory / f"graph.{name}"
        assert main(["export", "--format", name, "--output", str(files[name])]) == 0
    files["turtle+inferred"] = directory / "graph-inferred.ttl"
    assert main(["export", "--format", "turtle", "--inferred", "--output", str(files["turtle+inferred"])]) == 0
    return files


def test_cli_export_formats_are_all_known() -> None:
    assert set(EXPORT_FORMATS) == set(RDFLIB_PARSERS)


@pytest.mark.parametrize("name", sorted(set(EXPORT_FORMATS) - DATASET_FORMATS))
def test_cli_export_graph_format_is_ontology_and_data(
    name: str, exports: dict[str, Path], reference: Loaded
) -> None:
    parsed = rdflib.Graph().parse(exports[name], format=RDFLIB_PARSERS[name])
    expected = to_rdflib_graph({q.triple for q in reference.ontology + reference.data})
    assert len(parsed) == len(expected)
    assert isomorphic(parsed, expected)


@pytest.mark.parametrize("name", sorted(DATASET_FORMATS))
def test_cli_export_dataset_format_keeps_named_graphs(
    name: str, exports: dict[str, Path], reference: Loaded
) -> None:
    dataset = rdflib.Dataset().parse(exports[name], format=RDFLIB_PARSERS[name])
    names = reference.names
    for graph_name, quads in [(names.data, reference.data), (names.ontology, reference.ontology),
                              (names.inferred, reference.inferred)]:
        parsed = dataset.graph(rdflib.URIRef(graph_name))
        assert len(parsed) == len(quads), graph_name
        assert isomorphic(parsed, to_rdflib_graph(q.triple for q in quads)), graph_name


@pytest.mark.slow
def test_cli_export_formats_are_isomorphic(exports: dict[str, Path]) -> None:
    graphs = {name: rdflib.Graph().parse(exports[name], format=RDFLIB_PARSERS[name])
              for name in EXPORT_FORMATS if name not in DATASET_FORMATS}
    first, *rest = graphs
    for name in rest:
        assert isomorphic(graphs[first], graphs[name]), f"{first} and {name} differ"
    merged: dict[str, rdflib.Graph] = {}
    for name in sorted(DATASET_FORMATS):
        merged[name] = rdflib.Graph()
        for quad in rdflib.Dataset().parse(exports[name], format=RDFLIB_PARSERS[name]).quads((None, None, None, None)):
            merged[name].add(quad[:3])
    union, *others = merged.values()
    assert all(isomorphic(union, other) for other in others), "the dataset formats differ"
    with_inferred = rdflib.Graph().parse(exports["turtle+inferred"], format="turtle")
    assert isomorphic(with_inferred, union)


# ---------------------------------------------------------------- query


def test_cli_query_example_prints_rows(reference: Loaded, capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / "shared_mechanisms.rq"
    assert main(["query", str(path)]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split("\t")[:2] == ["?mechanism", "?label_zh"]
    expected = OxigraphBackend(reference.quads, Settings().base_iri + "/")
    assert len(rows) == len(expected.select(path.read_text(encoding="utf-8"))) >= 12
    assert rows[0].startswith("<https://bjrd-kg.example.org/id/mechanism/")


def test_cli_query_subprocess_prints_rows() -> None:
    done = run_kg("query", str(EXAMPLES / "facts_with_quotes.rq"), "--format", "json")
    assert done.returncode == 0, done.stderr
    bindings = json.loads(done.stdout)["results"]["bindings"]
    assert len(bindings) >= 35
    assert all(b["quote"]["value"] for b in bindings)


def test_cli_query_construct_prints_turtle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", str(EXAMPLES / "district_practices_construct.rq")]) == 0
    parsed = rdflib.Graph().parse(data=capsys.readouterr().out, format="turtle")
    practices = set(parsed.subjects(rdflib.RDF.type, rdflib.URIRef("https://bjrd-kg.example.org/ontology#Practice")))
    assert practices and all(str(p).startswith("https://bjrd-kg.example.org/id/practice/haidian-") for p in practices)


def test_cli_query_reads_standard_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PREFIXES + "SELECT ?d WHERE { ?d a bjrd:District }"))
    assert main(["query", "-", "--format", "csv"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header == "d"
    assert Counter(r.rsplit("/", 1)[0] for r in rows) == {"https://bjrd-kg.example.org/id/district": 16}


def test_cli_query_syntax_error_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.rq"
    path.write_text("SELECT ?x WHERE { ?x ", encoding="utf-8")
    assert main(["query", str(path)]) == 2
    assert "syntax" in capsys.readouterr().err.lower()


def test_cli_query_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", str(tmp_path / "absent.rq")]) == 2
    assert "absent.rq" in capsys.readouterr().err


def test_cli_export_turtle_to_stdout_parses(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["export"]) == 0
    triples = ox.parse(capsysbinary.readouterr().out, format=ox.RdfFormat.TURTLE)
    assert sum(1 for _ in triples) > 3000
