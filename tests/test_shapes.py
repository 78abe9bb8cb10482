"""SHACL shapes (ontology/shapes.ttl): the real graph conforms, and the fixtures in tests/shapes/ show
what each shape accepts and refuses.

A fixture is validated as the real graph is: together with the ontology (and its imports), after the
inference rules of queries/rules/ have run. ``S0N-valid.ttl`` must conform; ``S0N-invalid-*.ttl`` must
not, with a result from shape S0N (or one of its property shapes or constraints) carrying that shape's
zh and en ``sh:message``. An invalid fixture may name the exact shape it violates in a comment line
``# violates: S0N-…``. Adding a fixture file adds a test.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from app.build.graph import load, validate_loaded
from app.build.infer import infer, read_rules
from app.build.load import SourceFiles, parse_turtle, read_asserted, read_shapes
from app.build.validate import Report, validate
from app.config import ROOT, Settings
from app.store.graphs import GraphNames

FIXTURES = ROOT / "tests" / "shapes"
VALID = sorted(FIXTURES.glob("S*-valid.ttl"))
INVALID = sorted(FIXTURES.glob("S*-invalid-*.ttl"))
SHAPES = "https://bjrd-kg.example.org/shapes#"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@cache
def context() -> tuple[list[ox.Quad], list[ox.Triple], list[tuple[str, str]], str]:
    """(ontology quads, shapes, inference rules, inferred graph name) for the default settings."""
    settings = Settings()
    files = SourceFiles.from_settings(settings)
    ontology, _ = read_asserted(settings, files)
    inferred = GraphNames.for_base(settings.base_iri).inferred
    return ontology, read_shapes(files, settings.base_iri), read_rules(settings.queries_dir), inferred


@cache
def shapes_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology" / "shapes.ttl")


def validate_fixture(path: Path) -> Report:
    ontology, shapes, rules, inferred_name = context()
    data_name = ox.NamedNode(GraphNames.for_base(Settings().base_iri).data)
    data = [ox.Quad(*t, data_name) for t in parse_turtle(path)]
    asserted = ontology + data
    inferred = infer(asserted, rules, inferred_name)
    return validate([q.triple for q in asserted + inferred], shapes)


def shape_id(iri: str) -> str:
    return iri.removeprefix(SHAPES)


def messages(shape: str) -> set[tuple[str, str]]:
    """(zh, en) sh:message pairs of a shape and of its SPARQL constraints."""
    g = shapes_graph()
    node = rdflib.URIRef(SHAPES + shape)
    out = set()
    for source in [node, *g.objects(node, SH.sparql)]:
        by_lang = {m.language: str(m) for m in g.objects(source, SH.message) if isinstance(m, rdflib.Literal)}
        if by_lang:
            out.add((by_lang.get("zh", ""), by_lang.get("en", "")))
    return out


def node_shapes() -> list[str]:
    g = shapes_graph()
    return sorted(shape_id(str(s)) for s in g.subjects(rdflib.RDF.type, SH.NodeShape) if str(s).startswith(SHAPES))


def declared_violation(path: Path) -> str | None:
    text = path.read_text(encoding="utf-8")
    match = re.search(r"^#\s*violates:\s*(S\d\d[\w-]*)\s*$", text, flags=re.MULTILINE)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Result:
    shape: str  # id of sh:sourceShape (S01-code, or S01 for a SPARQL constraint of S01)
    constraint: str  # id of sh:sourceConstraint ('' unless a SPARQL constraint)
    focus: str
    messages: frozenset[str]


def results_of(report: Report) -> list[Result]:
    """The report's results, read from its graph: pySHACL drops the language tags of SPARQL-constraint
    messages, so the messages are compared as strings."""
    g = report.graph
    return [
        Result(
            shape_id(str(g.value(r, SH.sourceShape))),
            shape_id(str(g.value(r, SH.sourceConstraint) or "")),
            str(g.value(r, SH.focusNode)),
            frozenset(str(m) for m in g.objects(r, SH.resultMessage)),
        )
        for r in g.subjects(rdflib.RDF.type, SH.ValidationResult)
    ]


def carries_message_of(result: Result, shape: str) -> bool:
    """The result's messages include the zh and the en sh:message of ``shape`` (or of its SPARQL constraint)."""
    return any({zh, en} <= result.messages for zh, en in messages(shape))


def results_text(report: Report) -> str:
    lines = [f"{r.shape} {r.constraint} {r.focus}: {' | '.join(sorted(r.messages))}" for r in results_of(report)]
    return "\n".join(lines) or report.text


# ---------------------------------------------------------------- the real graph


def test_real_graph_conforms() -> None:
    report = validate_loaded(load(Settings()))
    assert report.conforms, results_text(report)


# ---------------------------------------------------------------- the shapes themselves


def test_shapes_are_numbered_consecutively_from_s01() -> None:
    shapes = node_shapes()
    assert len(shapes) >= 7  # district, practice, mechanism, theme, fact, quote, supervision topic
    assert shapes == [f"S{n:02d}" for n in range(1, len(shapes) + 1)]


def test_every_shape_has_zh_and_en_messages() -> None:
    g = shapes_graph()
    missing = []
    for node in node_shapes():
        for prop in g.objects(rdflib.URIRef(SHAPES + node), SH.property):
            pairs = messages(shape_id(str(prop)))
            if not any(zh and en for zh, en in pairs):
                missing.append(shape_id(str(prop)))
            if not shape_id(str(prop)).startswith(node + "-"):
                missing.append(f"{shape_id(str(prop))} (id does not start with {node}-)")
    assert missing == []


@pytest.mark.parametrize("shape", node_shapes())
def test_every_shape_has_valid_and_invalid_fixtures(shape: str) -> None:
    assert (FIXTURES / f"{shape}-valid.ttl").exists()
    assert list(FIXTURES.glob(f"{shape}-invalid-*.ttl"))


# ---------------------------------------------------------------- fixtures


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_conforms(path: Path) -> None:
    report = validate_fixture(path)
    assert report.conforms, results_text(report)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_on_its_shape(path: Path) -> None:
    shape = path.name[:3]
    report = validate_fixture(path)
    assert not report.conforms
    results = results_of(report)
    # The fixture is minimal: it breaks its own shape and nothing else.
    assert [r for r in results if not r.shape.startswith(shape)] == [], results_text(report)
    matching = [r for r in results if carries_message_of(r, r.constraint or r.shape)]
    assert matching, f"no result carries the zh and en sh:message of its shape:\n{results_text(report)}"
    declared = declared_violation(path)
    if declared:
        assert any(declared in (r.shape, r.constraint) for r in matching), \
            f"expected a violation of {declared}:\n{results_text(report)}"
