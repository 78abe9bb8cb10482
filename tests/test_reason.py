"""Inference inside the store (app/store/reason.py) gives exactly the reference's inferred graph
(app/store/infer.py): on the article, and on a generated graph of about 10,000 triples."""

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from app.config import ROOT, Settings
from app.store import infer, reason
from app.store.graphs import GraphNames
from app.store.load import SourceFiles, read_asserted


def both(settings: Settings) -> tuple[set[ox.Triple], set[ox.Triple]]:
    """(reference inferred triples, in-store inferred triples) for the files of ``settings``."""
    files = SourceFiles.from_settings(settings)
    names = GraphNames.for_base(settings.base_iri)
    ontology, data = read_asserted(settings, files)
    reference = {q.triple for q in infer.infer(ontology + data, infer.read_rules(settings.queries_dir), names.inferred)}
    store = ox.Store()
    store.bulk_extend(ontology + data)
    rules = reason.read_rules(settings.queries_dir)
    count = reason.materialise(store, [names.ontology, names.data], names.inferred, rules)
    in_store = {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(names.inferred))}
    assert count == len(in_store)
    # Scratch graphs are gone: only the asserted and the inferred graph remain.
    assert sorted(g.value for g in store.named_graphs()) == sorted(names.all())
    return reference, in_store


def test_reason_equals_reference_on_the_article() -> None:
    reference, in_store = both(Settings())
    assert len(reference) > 1000
    assert in_store - reference == set()
    assert reference - in_store == set()


@pytest.fixture(scope="module")
def generated_10k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "data-10k"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", "10000", "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def test_reason_equals_reference_on_a_generated_10k_graph(generated_10k: Path) -> None:
    reference, in_store = both(Settings(data_dir=generated_10k))
    assert len(reference) > 4000
    assert in_store - reference == set()
    assert reference - in_store == set()


def test_reason_equals_reference_with_another_base_iri() -> None:
    reference, in_store = both(Settings(base_iri="http://example.com/kg"))
    assert reference == in_store


def test_rule_delta_atoms_are_in_their_rules() -> None:
    rules = reason.read_rules(ROOT / "queries")
    assert {r.name for r in rules} == {p.stem for p in (ROOT / "queries" / "rules").glob("*.rq")}
    assert all(r.deltas for r in rules)
    chain = next(r for r in rules if r.name == "owl-property-chain")
    assert "http://www.w3.org/2002/07/owl#propertyChainAxiom" in chain.schema
    assert [predicate for _, predicate in chain.deltas] == ["?p1", "?p2"]
    assert "propertyChainAxiom" in chain.schema_query
