"""The SPARQL checks of queries/shapes/ (app/build/checks.py) find exactly what pySHACL finds.

pySHACL is the reference. Each case is validated by both, as the service validates the real graph:
ontology (and imports) + data + what the rules infer, and the results are compared as sets of
(focus node, source shape, SPARQL constraint, constraint component): on every fixture of
tests/shapes/, on the article, on the article under another base IRI, and on the article with
violations injected by SPARQL updates (one or more per constraint of the shapes).
"""

from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from app.build import checks
from app.build.infer import infer, read_rules
from app.build.load import SourceFiles, parse_turtle, read_asserted, read_shapes
from app.build.validate import Report, validate
from app.config import ROOT, Settings
from app.store.graphs import GraphNames
from tests.injected import INJECTED, PREFIXES

FIXTURES = sorted((ROOT / "tests" / "shapes").glob("S*.ttl"))
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
Key = tuple[str, str, str, str]


def keys(report: Report) -> set[Key]:
    g = report.graph

    def short(node: object) -> str:
        return str(node or "").removeprefix(checks.SHAPES_NS)

    return {(str(g.value(r, SH.focusNode)), short(g.value(r, SH.sourceShape)), short(g.value(r, SH.sourceConstraint)),
             str(g.value(r, SH.sourceConstraintComponent)))
            for r in g.subjects(rdflib.RDF.type, SH.ValidationResult)}


@cache
def context(base_iri: str) -> tuple[Settings, list[ox.Quad], list[ox.Quad], list[ox.Triple]]:
    """(settings, ontology quads, article data quads, shapes) under ``base_iri``."""
    settings = Settings(base_iri=base_iri)
    files = SourceFiles.from_settings(settings)
    ontology, data = read_asserted(settings, files)
    return settings, ontology, data, read_shapes(files, base_iri)


def both(data: list[ox.Quad], base_iri: str = Settings().base_iri) -> tuple[set[Key], set[Key], Report]:
    """(pySHACL's results, the SPARQL checks' results, the checks' report) on ontology + ``data`` + inferred."""
    settings, ontology, _, shapes = context(base_iri)
    names = GraphNames.for_base(base_iri)
    inferred = infer(ontology + data, read_rules(settings.queries_dir), names.inferred)
    reference = validate([q.triple for q in ontology + data + inferred], shapes)
    store = ox.Store()
    store.bulk_extend(ontology + data + inferred)
    ours = checks.validate_in_store(store, names.all(), base_iri + "/", shapes, settings.queries_dir)
    return keys(reference), keys(ours), ours


def fixture_quads(path: Path) -> list[ox.Quad]:
    name = ox.NamedNode(GraphNames.for_base(Settings().base_iri).data)
    return [ox.Quad(*t, name) for t in parse_turtle(path)]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_checks_equal_pyshacl_on_fixture(path: Path) -> None:
    reference, ours, report = both(fixture_quads(path))
    assert ours == reference
    assert report.conforms == (not reference)
    if "invalid" in path.name:
        assert reference, "an invalid fixture must have results"


def test_checks_equal_pyshacl_on_the_article() -> None:
    _, _, data, _ = context(Settings().base_iri)
    reference, ours, report = both(data)
    assert reference == ours == set()
    assert report.conforms


@pytest.mark.slow
def test_checks_equal_pyshacl_under_another_base_iri() -> None:
    base = "http://example.com/kg"
    _, _, data, _ = context(base)
    reference, ours, _ = both(data, base)
    assert reference == ours == set()



@pytest.mark.slow  # pySHACL over the whole graph once per case
@pytest.mark.parametrize(("what", "update", "expected"), INJECTED, ids=[c[0] for c in INJECTED])
def test_checks_equal_pyshacl_on_injected_violation(what: str, update: str, expected: set[str] | None) -> None:
    _, _, data, _ = context(Settings().base_iri)
    name = data[0].graph_name
    store = ox.Store()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in data)
    store.update(PREFIXES + update)
    mutated = [ox.Quad(q.subject, q.predicate, q.object, name) for q in store]
    reference, ours, _ = both(mutated)
    assert ours == reference
    if expected is None:
        assert reference, f"the update ({what}) must violate a shape"
    else:
        assert {shape for _, shape, _, _ in reference} == expected
