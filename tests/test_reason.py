"""Inference inside the store gives exactly the reference's inferred graph (app/build/infer.py),
both ways it is done: semi-naive rounds (app/build/reason.py) and the compiled plan
(app/build/plan.py, which falls back to the rounds when the schema needs them). On the article,
under another base IRI, on a generated graph of about 10,000 triples, and with schema triples
added by the data (some the plan covers, some that make inference add to the schema)."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from app.build import infer, plan, reason
from app.build.load import SourceFiles, read_asserted
from app.config import ROOT, Settings
from app.store.graphs import GraphNames

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
Materialise = Callable[[ox.Store, list[str], str, list[reason.Rule]], int]
WAYS: dict[str, Materialise] = {"rounds": reason.materialise, "plan": plan.materialise}

PREFIXES = """@prefix bjrd: <https://bjrd-kg.example.org/ontology#> . @prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
"""
#: Schema in the data that the plan covers: new sub-properties, inverses (also of a property with
#: literal objects), domains, ranges, a blank-node class, a transitive property, a chain into the
#: mechanism hierarchy, and a cycle of sub-properties.
COVERED = PREFIXES + """
bjrd:usesMechanism rdfs:subPropertyOf ex:uses . ex:uses owl:inverseOf ex:usedBy .
ex:usedBy rdfs:domain ex:Used . ex:Used rdfs:subClassOf ex:Thing . ex:Thing rdfs:subClassOf ex:Used .
ex:note owl:inverseOf ex:noteOf ; rdfs:range ex:Note ; rdfs:domain ex:Noted .
ex:a ex:note "a literal" , ex:b . ex:x a _:c . _:c rdfs:subClassOf ex:Thing .
ex:partOf a owl:TransitiveProperty ; owl:inverseOf ex:hasPart .
ex:a ex:partOf ex:b . ex:b ex:partOf ex:c . ex:c ex:partOf ex:a . ex:d ex:hasPart ex:a .
ex:via owl:propertyChainAxiom ( ex:partOf bjrd:usesMechanism ) . ex:c bjrd:usesMechanism ex:m .
ex:m skos:broader ex:m2 . ex:m2 skos:broader ex:m3 .
ex:p1 rdfs:subPropertyOf ex:p2 . ex:p2 rdfs:subPropertyOf ex:p1 . ex:a ex:p1 ex:b .
ex:long owl:propertyChainAxiom ( ex:partOf ex:partOf ex:partOf ) .
"""
#: Schema in the data from which inference derives more schema: the plan must leave it to the rounds.
DERIVES_SCHEMA = [
    PREFIXES + "ex:kind rdfs:subPropertyOf rdfs:subClassOf . bjrd:Practice ex:kind ex:Work . "
               "ex:Work rdfs:subClassOf ex:Thing .",
    PREFIXES + "ex:kindOf rdfs:range owl:TransitiveProperty . ex:a ex:kindOf ex:rel . "
               "ex:x ex:rel ex:y . ex:y ex:rel ex:z .",
    PREFIXES + "ex:sameAs rdfs:subPropertyOf rdf:type . ex:a ex:sameAs ex:Thing . ex:Thing rdfs:subClassOf ex:Top .",
]


def both(settings: Settings, materialise: Materialise, extra: str = "") -> tuple[set[ox.Triple], set[ox.Triple]]:
    """(reference inferred triples, in-store inferred triples) for the files of ``settings``,
    plus the Turtle ``extra`` in the data graph."""
    files = SourceFiles.from_settings(settings)
    names = GraphNames.for_base(settings.base_iri)
    ontology, data = read_asserted(settings, files)
    data += [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(names.data))
             for t in ox.parse(extra.encode(), format=ox.RdfFormat.TURTLE)]
    reference = {q.triple for q in infer.infer(ontology + data, infer.read_rules(settings.queries_dir), names.inferred)}
    store = ox.Store()
    store.bulk_extend(ontology + data)
    rules = reason.read_rules(settings.queries_dir)
    count = materialise(store, [names.ontology, names.data], names.inferred, rules)
    in_store = {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(names.inferred))}
    assert count == len(in_store)
    # Scratch graphs are gone: only the asserted and the inferred graph remain.
    assert sorted(g.value for g in store.named_graphs()) == sorted(names.all())
    return reference, in_store


@pytest.mark.parametrize("way", WAYS)
def test_reason_equals_reference_on_the_article(way: str) -> None:
    reference, in_store = both(Settings(), WAYS[way])
    assert len(reference) > 1000
    assert in_store - reference == set()
    assert reference - in_store == set()


@pytest.fixture(scope="module")
def generated_10k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "data-10k"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", "10000", "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return out


@pytest.mark.parametrize("way", WAYS)
def test_reason_equals_reference_on_a_generated_10k_graph(generated_10k: Path, way: str) -> None:
    reference, in_store = both(Settings(data_dir=generated_10k), WAYS[way])
    assert len(reference) > 4000
    assert in_store - reference == set()
    assert reference - in_store == set()


@pytest.mark.parametrize("way", WAYS)
def test_reason_equals_reference_with_another_base_iri(way: str) -> None:
    reference, in_store = both(Settings(base_iri="http://example.com/kg"), WAYS[way])
    assert reference == in_store


def test_the_plan_equals_the_reference_with_schema_in_the_data() -> None:
    reference, in_store = both(Settings(), plan.materialise, COVERED)
    ex = "http://example.org/"
    # The added schema did entail something: the chain through the transitive cycle, the inverse
    # of a property with a literal object (not of the literal), a blank-node class's superclass.
    assert ox.Triple(ox.NamedNode(ex + "a"), ox.NamedNode(ex + "via"), ox.NamedNode(ex + "m3")) in reference
    assert ox.Triple(ox.NamedNode(ex + "b"), ox.NamedNode(ex + "noteOf"), ox.NamedNode(ex + "a")) in reference
    assert ox.Triple(ox.NamedNode(ex + "x"), ox.NamedNode(RDF + "type"), ox.NamedNode(ex + "Thing")) in reference
    assert in_store - reference == set()
    assert reference - in_store == set()


@pytest.mark.parametrize("extra", DERIVES_SCHEMA)
def test_the_plan_leaves_schema_that_inference_extends_to_the_rounds(extra: str) -> None:
    settings = Settings()
    names = GraphNames.for_base(settings.base_iri)
    store = ox.Store()
    ontology, data = read_asserted(settings, SourceFiles.from_settings(settings))
    store.bulk_extend(ontology + data)
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(names.data))
                      for t in ox.parse(extra.encode(),
                                        format=ox.RdfFormat.TURTLE))
    with pytest.raises(plan.Unsupported):
        plan.compile_plan(store, [names.ontology, names.data], reason.read_rules(settings.queries_dir))


@pytest.mark.parametrize("extra", DERIVES_SCHEMA)
def test_the_fallback_equals_the_reference_when_inference_extends_the_schema(extra: str) -> None:
    reference, in_store = both(Settings(), plan.materialise, extra)
    assert reference == in_store


def test_the_plan_is_used_for_the_article_and_pins_the_rules_it_implements() -> None:
    settings = Settings()
    names = GraphNames.for_base(settings.base_iri)
    rules = reason.read_rules(settings.queries_dir)
    # Editing a rule file changes its digest: then the plan must be updated with it (or it falls back).
    assert {r.name: plan.rule_digest(r) for r in rules} == plan.RULES
    store = ox.Store()
    ontology, data = read_asserted(settings, SourceFiles.from_settings(settings))
    store.bulk_extend(ontology + data)
    compiled = plan.compile_plan(store, [names.ontology, names.data], rules)
    skos = "http://www.w3.org/2004/02/skos/core#"
    assert ox.NamedNode(skos + "broader") in compiled.joined
    edited = [reason.Rule.parse(r.name, "# edited\n" + r.text) for r in rules]
    with pytest.raises(plan.Unsupported):
        plan.compile_plan(store, [names.ontology, names.data], edited)


def test_rule_delta_atoms_are_in_their_rules() -> None:
    rules = reason.read_rules(ROOT / "queries")
    assert {r.name for r in rules} == {p.stem for p in (ROOT / "queries" / "rules").glob("*.rq")}
    assert all(r.deltas for r in rules)
    chain = next(r for r in rules if r.name == "owl-property-chain")
    assert "http://www.w3.org/2002/07/owl#propertyChainAxiom" in chain.schema
    assert [predicate for _, predicate in chain.deltas] == ["?p1", "?p2"]
    assert "propertyChainAxiom" in chain.schema_query
