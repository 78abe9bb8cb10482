"""The SPARQL checks of queries/shapes/ (app/store/checks.py) find exactly what pySHACL finds.

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

from app.config import ROOT, Settings
from app.store import checks
from app.store.graphs import GraphNames
from app.store.infer import infer, read_rules
from app.store.load import SourceFiles, parse_turtle, read_asserted, read_shapes
from app.store.validate import Report, validate

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


PREFIXES = """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#> PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX schema: <https://schema.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> PREFIX id: <https://bjrd-kg.example.org/id/>
"""

#: (what it changes, a SPARQL update on the article's data graph, the shapes it must violate: None for
#: "some", an empty set for none: ``@zh-cn`` is a Chinese label, and Oxigraph stores ``xsd:int`` as ``xsd:integer``)
INJECTED = [
    ("code missing", "DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c }", {"S01-code"}),
    ("code twice", 'INSERT DATA { id:district\\/haidian bjrd:divisionCode "110199" }', {"S01-code"}),
    ("code shared", 'DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c } ; '
                    'INSERT DATA { id:district\\/haidian bjrd:divisionCode "110101" }', {"S01"}),
    ("code pattern", 'DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c } ; '
                     'INSERT DATA { id:district\\/haidian bjrd:divisionCode "120108" }', {"S01-code"}),
    ("code datatype", 'DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c } ; '
                      'INSERT DATA { id:district\\/haidian bjrd:divisionCode "110108"@zh }', {"S01-code"}),
    ("code IRI", 'DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c } ; '
                 'INSERT DATA { id:district\\/haidian bjrd:divisionCode id:code\\/110108 }', {"S01-code"}),
    ("district label zh", "DELETE { id:district\\/haidian rdfs:label ?l } WHERE { id:district\\/haidian "
                          "rdfs:label ?l FILTER(lang(?l) = 'zh') }", None),
    ("district label zh-CN", 'DELETE { id:district\\/haidian rdfs:label ?l } '
                             'INSERT { id:district\\/haidian rdfs:label "海淀"@zh-cn } '
                             "WHERE { id:district\\/haidian rdfs:label ?l FILTER(lang(?l) = 'zh') }", set()),
    ("paragraph not a quote", 'DELETE { ?d bjrd:paragraph ?q } INSERT { ?d bjrd:paragraph "第一段" } '
                              "WHERE { BIND(id:district\\/haidian AS ?d) ?d bjrd:paragraph ?q }", {"S01-paragraph"}),
    ("practice without district", "DELETE { ?p bjrd:district ?d } WHERE { { SELECT ?p WHERE { ?p a "
                                  "bjrd:Practice } ORDER BY ?p LIMIT 1 } ?p bjrd:district ?d }", None),
    ("practice in two districts", "INSERT { ?p bjrd:district id:district\\/xicheng, id:district\\/dongcheng } "
                                  "WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT 1 } }", None),
    ("practice uses a theme as mechanism", "INSERT { ?p bjrd:usesMechanism ?t } WHERE { { SELECT ?p ?t WHERE "
                                           "{ ?p a bjrd:Practice ; bjrd:theme ?t } ORDER BY ?p LIMIT 1 } }", None),
    ("practice uses a literal", 'INSERT { ?p bjrd:usesMechanism "x" } WHERE { { SELECT ?p WHERE { ?p a '
                                'bjrd:Practice } ORDER BY ?p LIMIT 1 } }', None),
    ("practice without theme", "DELETE { ?p bjrd:theme ?t } WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } "
                               "ORDER BY DESC(?p) LIMIT 1 } ?p bjrd:theme ?t }", None),
    ("practice evidence not a quote", "INSERT { ?p bjrd:evidence ?p } WHERE { { SELECT ?p WHERE { ?p a "
                                      "bjrd:Practice } ORDER BY ?p LIMIT 2 } }", None),
    ("mechanism two zh labels", 'INSERT { ?m skos:prefLabel "另一个"@zh } WHERE { { SELECT ?m WHERE { ?m a '
                                'bjrd:Mechanism } ORDER BY ?m LIMIT 1 } }', None),
    ("mechanism no en label", "DELETE { ?m skos:prefLabel ?l } WHERE { { SELECT ?m WHERE { ?m a "
                              "bjrd:Mechanism } ORDER BY ?m LIMIT 1 } ?m skos:prefLabel ?l FILTER(lang(?l) = "
                              "'en') }", None),
    ("definition plain", 'INSERT { ?m skos:definition "plain" } WHERE { { SELECT ?m WHERE { ?m a '
                         'bjrd:Mechanism } ORDER BY ?m LIMIT 1 } }', None),
    ("definition twice en", 'INSERT { ?m skos:definition "again"@en } WHERE { { SELECT ?m WHERE { ?m a '
                            'bjrd:Mechanism } ORDER BY ?m LIMIT 1 } }', None),
    ("definition missing", "DELETE { ?m skos:definition ?d } WHERE { { SELECT ?m WHERE { ?m a bjrd:Mechanism "
                           "} ORDER BY DESC(?m) LIMIT 1 } ?m skos:definition ?d FILTER(lang(?d) = 'en') }", None),
    ("mechanism out of scheme", "DELETE { ?m skos:inScheme ?s } WHERE { { SELECT ?m WHERE { ?m a "
                                "bjrd:Mechanism } ORDER BY ?m LIMIT 1 } ?m skos:inScheme ?s }", None),
    # A named mechanism no practice uses: no practice's quote says it either (S03-named-in-evidence).
    ("mechanism unused", 'INSERT DATA { id:mechanism\\/unused a bjrd:Mechanism ; '
                         'skos:prefLabel "未用"@zh, "unused"@en ; skos:definition "未用"@zh, "unused"@en ; '
                         'skos:inScheme id:scheme\\/mechanisms ; bjrd:mechanismKind bjrd:Named }',
     {"S03-used", "S03"}),
# New constraints of the shapes (dates, topics, mechanism kinds, SPARQL constraints).
    ("practice date plain", 'INSERT { ?p dcterms:date "2023年" } WHERE { { SELECT ?p WHERE { ?p a '
                            'bjrd:Practice } ORDER BY ?p LIMIT 1 } }', None),
    ("practice date ill-formed", 'INSERT { ?p dcterms:date "2023-02-30"^^xsd:date } WHERE { { SELECT '
                                 '?p WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT 1 } }', None),
    ("practice date dateTime", 'INSERT { ?p dcterms:date "2023-08-31T00:00:00"^^xsd:dateTime } '
                               'WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p '
                               'LIMIT 1 } }', None),
    ("practice two dates", 'INSERT { ?p dcterms:date "2021"^^xsd:gYear, "2021-03-01"^^xsd:date } '
                           'WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT 1 '
                           '} }', None),
    ("practice start time plain", 'INSERT { ?p schema:startTime "早上7点" } WHERE { { SELECT ?p '
                                  'WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT 1 } }', None),
    ("practice start time ill-formed", 'INSERT { ?p schema:startTime "7am"^^xsd:time } WHERE { { '
                                       'SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT '
                                       '1 } }', None),
    ("practice start date month", 'INSERT { ?p schema:startDate "2023-01"^^xsd:gYearMonth } '
                                  'WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p '
                                  'LIMIT 1 } }', None),
    ("practice two end dates", 'INSERT { ?p schema:endDate "2023"^^xsd:gYear, "2024"^^xsd:gYear '
                               '} WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p '
                               'LIMIT 1 } }', None),
    ("practice supervises a theme", 'INSERT { ?p bjrd:supervisesTopic ?t } WHERE { { SELECT ?p '
                                    '?t WHERE { ?p a bjrd:Practice ; bjrd:theme ?t } ORDER BY ?p '
                                    'LIMIT 1 } }', None),
    ("mechanism without kind", 'DELETE { ?m bjrd:mechanismKind ?k } WHERE { { SELECT ?m WHERE { '
                               '?m a bjrd:Mechanism } ORDER BY ?m LIMIT 1 } ?m '
                               'bjrd:mechanismKind ?k }', None),
    ("mechanism kind other", 'DELETE { ?m bjrd:mechanismKind ?k } INSERT { ?m bjrd:mechanismKind '
                             'bjrd:Other } WHERE { { SELECT ?m WHERE { ?m a bjrd:Mechanism } '
                             'ORDER BY ?m LIMIT 1 } ?m bjrd:mechanismKind ?k }', None),
    ("mechanism two kinds", 'INSERT { ?m bjrd:mechanismKind bjrd:Named, bjrd:Umbrella } WHERE { '
                            '{ SELECT ?m WHERE { ?m a bjrd:Mechanism } ORDER BY ?m LIMIT 1 } }', None),
    ("umbrella groups nothing", 'DELETE { ?n skos:broader ?m } WHERE { { SELECT ?m WHERE { ?m '
                                'bjrd:mechanismKind bjrd:Umbrella } ORDER BY ?m LIMIT 1 } ?n '
                                'skos:broader ?m }', None),
    ("named mechanism not said", 'DELETE { ?m skos:prefLabel ?l ; skos:altLabel ?a } INSERT { ?m '
                                 'skos:prefLabel "从未说过的机制"@zh } WHERE { { SELECT ?m WHERE { ?m '
                                 'bjrd:mechanismKind bjrd:Named } ORDER BY ?m LIMIT 1 } ?m '
                                 "skos:prefLabel ?l FILTER(lang(?l) = 'zh') OPTIONAL { ?m "
                                 'skos:altLabel ?a } }', None),
    ("top theme without evidence", 'INSERT DATA { id:theme\\/new a bjrd:Theme ; skos:prefLabel "新主题"@zh, "new"@en ; '
                                   'skos:inScheme id:scheme\\/themes ; skos:topConceptOf id:scheme\\/themes }', None),
    ("fact date dateTime", 'INSERT { ?f dcterms:date "2023-08-31T00:00:00"^^xsd:dateTime } WHERE '
                           '{ { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } }', None),
    ("topic no zh label", 'DELETE { ?t skos:prefLabel ?l } WHERE { { SELECT ?t WHERE { ?t a '
                          'bjrd:SupervisionTopic } ORDER BY ?t LIMIT 1 } ?t skos:prefLabel ?l '
                          "FILTER(lang(?l) = 'zh') }", None),
    ("topic two en labels", 'INSERT { ?t skos:prefLabel "other"@en } WHERE { { SELECT ?t WHERE { '
                            '?t a bjrd:SupervisionTopic } ORDER BY ?t LIMIT 1 } }', None),
    ("topic out of scheme", 'DELETE { ?t skos:inScheme ?s } WHERE { { SELECT ?t WHERE { ?t a '
                            'bjrd:SupervisionTopic } ORDER BY ?t LIMIT 1 } ?t skos:inScheme ?s }', None),
    ("topic unsupervised", 'INSERT DATA { id:topic\\/unused a bjrd:SupervisionTopic ; '
                           'skos:prefLabel "未用"@zh, "unused"@en ; skos:inScheme '
                           'id:scheme\\/topics }', None),
    ("topic not said", 'INSERT { ?p bjrd:supervisesTopic ?t } WHERE { { SELECT ?p WHERE { ?p a '
                       'bjrd:Practice } ORDER BY DESC(?p) LIMIT 1 } { SELECT ?t WHERE { ?t a '
                       'bjrd:SupervisionTopic } ORDER BY ?t LIMIT 1 } }', None),
    ("theme out of scheme", "DELETE { ?t skos:inScheme ?s } WHERE { { SELECT ?t WHERE { ?t a bjrd:Theme } "
                            "ORDER BY ?t LIMIT 1 } ?t skos:inScheme ?s }", None),
    ("theme two en labels", 'INSERT { ?t skos:prefLabel "other"@en } WHERE { { SELECT ?t WHERE { ?t a '
                            'bjrd:Theme } ORDER BY ?t LIMIT 1 } }', None),
    ("fact value string", 'DELETE { ?f schema:value ?v } INSERT { ?f schema:value "12" } WHERE { { SELECT ?f '
                          'WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f schema:value ?v }', None),
    ("fact value int", 'DELETE { ?f schema:value ?v } INSERT { ?f schema:value "12"^^xsd:int } WHERE { { '
                       'SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f schema:value ?v }', set()),
    ("fact value ill-formed", 'DELETE { ?f schema:value ?v } INSERT { ?f schema:value "twelve"^^xsd:integer } '
                              'WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f '
                              'schema:value ?v }', None),
    ("fact two values", 'INSERT { ?f schema:value 3.5 } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY '
                        '?f LIMIT 1 } }', None),
    ("fact no unit", "DELETE { ?f schema:unitText ?u } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY "
                     "?f LIMIT 1 } ?f schema:unitText ?u }", None),
    ("fact practice is a district", "DELETE { ?f bjrd:ofPractice ?p } INSERT { ?f bjrd:ofPractice ?d } WHERE "
                                    "{ { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f "
                                    "bjrd:ofPractice ?p ; bjrd:district ?d }", None),
    ("fact no evidence", "DELETE { ?f bjrd:evidence ?q } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER "
                         "BY ?f LIMIT 1 } ?f bjrd:evidence ?q }", None),
    ("fact no label", "DELETE { ?f rdfs:label ?l } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f "
                      "LIMIT 1 } ?f rdfs:label ?l }", None),
    ("quote exact tagged", 'DELETE { ?q oa:exact ?e } INSERT { ?q oa:exact "x"@zh } WHERE { { SELECT ?q WHERE '
                           '{ ?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:exact ?e }', None),
    ("quote exact empty", 'DELETE { ?q oa:exact ?e } INSERT { ?q oa:exact "" } WHERE { { SELECT ?q WHERE { ?q '
                          'a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:exact ?e }', None),
    ("quote start negative", 'DELETE { ?q oa:start ?s } INSERT { ?q oa:start -1 } WHERE { { SELECT ?q WHERE { '
                             '?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:start ?s }', None),
    ("quote start after end", 'DELETE { ?q oa:start ?s } INSERT { ?q oa:start ?e2 } WHERE { { SELECT ?q WHERE '
                              '{ ?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:start ?s ; oa:end ?e BIND(?e + '
                              '5 AS ?e2) }', None),
    ("quote start string", 'DELETE { ?q oa:start ?s } INSERT { ?q oa:start "3" } WHERE { { SELECT ?q WHERE { '
                           '?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:start ?s }', None),
    ("quote two ends", 'INSERT { ?q oa:end 999999 } WHERE { { SELECT ?q WHERE { ?q a bjrd:Quote } ORDER BY ?q '
                       'LIMIT 1 } }', None),
    ("quote end decimal", 'DELETE { ?q oa:end ?e } INSERT { ?q oa:end 12.0 } WHERE { { SELECT ?q WHERE { ?q a '
                          'bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:end ?e }', None),
    ("quote source literal", 'DELETE { ?q dcterms:source ?s } INSERT { ?q dcterms:source "the article" } '
                             'WHERE { { SELECT ?q WHERE { ?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q '
                             'dcterms:source ?s }', None),
    ("quote source blank", 'DELETE { ?q dcterms:source ?s } INSERT { ?q dcterms:source [] } WHERE { { SELECT '
                           '?q WHERE { ?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q dcterms:source ?s }', None),
]


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
