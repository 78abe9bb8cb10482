"""A write validated where it reaches (app.writes.revalidate) finds exactly what validating the whole
graph finds.

Each case is a write to the data graph of a graph that conforms, staged as the service stages it:
the change applied, the inferred graph brought up to date (app.writes.increment). Then the SPARQL
checks run twice, over the whole graph and for the focus nodes the change can concern, and the
violations must be the same. The writes: every injected violation of tests/test_checks.py; writes
that break nodes they do not touch (a quote's text, a shared division code, a narrower topic's
label, a class taken from a linked node); and random writes that drop, re-point and re-word
triples. They are made to the article and to variants of it that conform too, without the inferred
graph: the checks' reach must not count on what the rules infer (a value's class from a range, a
supervised topic's broader ones), or a change of the rules would weaken validation silently. Two
of these variants have a deeper topic hierarchy. Together the writes break every check, and each
``#+ reach:`` of queries/shapes/ is needed: without it, some case is missed.
"""

import dataclasses
import logging
import random
from collections.abc import Iterator
from functools import cache

import pyoxigraph as ox
import pytest

from app.build import checks, reason
from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.errors import WriteRejected
from app.writes import increment, revalidate, writes
from app.writes.delta import Delta
from tests.injected import INJECTED, PREFIXES

ARTICLE, BARE, DEEP, DEEP_SUPERVISED = "the article", "bare", "deep topics", "deep topics, the umbrella supervised"
#: Two topics above the article's: every top topic under id:topic/middle, under id:topic/umbrella (umbrella groupings).
DEEP_TOPICS = """INSERT { ?t skos:broader id:topic\\/middle } WHERE { ?t a bjrd:SupervisionTopic
  FILTER NOT EXISTS { ?t skos:broader ?any } } ;
INSERT DATA { id:topic\\/umbrella a bjrd:SupervisionTopic ; skos:prefLabel "总题"@zh, "umbrella"@en ;
  skos:inScheme id:scheme\\/topics ; bjrd:topicKind bjrd:Umbrella .
  id:topic\\/middle a bjrd:SupervisionTopic ; skos:prefLabel "中题"@zh, "middle"@en ; skos:inScheme id:scheme\\/topics ;
  skos:broader id:topic\\/umbrella ; bjrd:topicKind bjrd:Umbrella }"""
#: Without inference, an umbrella mechanism is used by the practices that use a narrower one.
USED = "INSERT { ?p bjrd:usesMechanism ?m } WHERE { ?n skos:broader ?m . ?p bjrd:usesMechanism ?n }"
#: Each graph written to: a SPARQL update on the article's data graph. Only the article is inferred.
SETUPS = {
    ARTICLE: "",
    BARE: USED,
    DEEP: f"{USED} ; {DEEP_TOPICS}",
    # Every practice that supervises a topic supervises the umbrella too: its quote says a narrower topic.
    DEEP_SUPERVISED: f"{USED} ; {DEEP_TOPICS} ; INSERT {{ ?p bjrd:supervisesTopic id:topic\\/umbrella }} WHERE {{ "
                     "?p bjrd:supervisesTopic ?t }",
}

#: (the graph written to, what the write does, the update): writes that break a node they do not touch.
FROM_AFAR = [
    (ARTICLE, "another district takes haidian's code",
     "DELETE { id:district\\/dongcheng bjrd:divisionCode ?c } INSERT { id:district\\/dongcheng bjrd:divisionCode ?h } "
     "WHERE { id:district\\/dongcheng bjrd:divisionCode ?c . id:district\\/haidian bjrd:divisionCode ?h }"),
    (ARTICLE, "a practice's quote re-worded",
     'DELETE { ?q oa:exact ?e } INSERT { ?q oa:exact "另一段话" } WHERE { ?p bjrd:usesMechanism ?m ; '
     "bjrd:evidence ?q . ?m bjrd:mechanismKind bjrd:Named . ?q oa:exact ?e }"),
    (ARTICLE, "a supervising practice's quote re-worded",
     'DELETE { ?q oa:exact ?e } INSERT { ?q oa:exact "另一段话" } WHERE { ?p bjrd:supervisesTopic ?t ; '
     "bjrd:evidence ?q . ?q oa:exact ?e }"),
    (ARTICLE, "a practice cites another quote",
     "DELETE { ?p bjrd:evidence ?q } INSERT { ?p bjrd:evidence ?other } WHERE { ?p bjrd:usesMechanism ?m ; "
     "bjrd:evidence ?q . { SELECT ?other WHERE { ?f a bjrd:Fact ; bjrd:evidence ?other } ORDER BY ?other LIMIT 1 } }"),
    (ARTICLE, "a supervising practice cites another quote",
     "DELETE { ?p bjrd:evidence ?q } INSERT { ?p bjrd:evidence ?other } WHERE { ?p bjrd:supervisesTopic ?t ; "
     "bjrd:evidence ?q . { SELECT ?other WHERE { ?f a bjrd:Fact ; bjrd:evidence ?other } ORDER BY ?other LIMIT 1 } }"),
    (ARTICLE, "narrower topics lose their labels",
     "DELETE { ?n skos:prefLabel ?l ; skos:altLabel ?a } WHERE { ?n skos:broader ?t . ?t a bjrd:SupervisionTopic . "
     "{ ?n skos:prefLabel ?l } UNION { ?n skos:altLabel ?a } }"),
    *[(setup, what, update) for setup in (ARTICLE, BARE) for what, update in [
        ("quotes untyped", "DELETE { ?q a bjrd:Quote } WHERE { ?q a bjrd:Quote }"),
        ("districts untyped", "DELETE { ?d a ?c } WHERE { ?d a ?c ; bjrd:divisionCode ?code }"),
        ("practices untyped", "DELETE { ?p a ?c } WHERE { ?p a bjrd:Practice ; a ?c }"),
        ("mechanisms untyped", "DELETE { ?m a ?c } WHERE { ?m a bjrd:Mechanism ; a ?c }"),
        ("themes untyped", "DELETE { ?t a ?c } WHERE { ?t a bjrd:Theme ; a ?c }"),
        ("topics untyped", "DELETE { ?t a ?c } WHERE { ?t a bjrd:SupervisionTopic ; a ?c }"),
    ]],
    *[(setup, what, update) for setup in (DEEP, DEEP_SUPERVISED) for what, update in [
        ("practices stop supervising the article's topics", "DELETE { ?p bjrd:supervisesTopic ?t } WHERE { "
         "?p bjrd:supervisesTopic ?t FILTER (?t != id:topic\\/umbrella) }"),
        ("top topics leave the middle one", "DELETE { ?t skos:broader id:topic\\/middle } WHERE { "
         "?t skos:broader id:topic\\/middle }"),
        ("topics lose their other labels", "DELETE { ?t skos:altLabel ?a } WHERE { ?t skos:altLabel ?a }"),
    ]],
]
SEEDS = range(40)


@dataclasses.dataclass
class Case:
    store: ox.Store  # the dataset after the write, inferred again
    changed: list[ox.Triple]  # every triple added or removed, inferred ones included
    whole: set[checks.Violation]  # what validating the whole graph finds


@cache
def article() -> KnowledgeGraph:
    return KnowledgeGraph.build(Settings(shacl_engine="sparql"), check=True)


@cache
def all_checks() -> tuple[checks.Check, ...]:
    return tuple(checks.read_checks(article().settings.queries_dir))


def graphs() -> list[str]:
    return list(article().names.all())


def quads(store: ox.Store, graph: str) -> list[ox.Quad]:
    return list(store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def updated(triples: list[ox.Triple], update: str) -> set[ox.Triple]:
    """``triples`` after ``update`` (on them as default graph)."""
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    if update:
        store.update(PREFIXES + update)
    return {q.triple for q in store}


@cache
def before(setup: str) -> ox.Store:
    """The dataset written to: the article, or a variant of it (:data:`SETUPS`) without its inferred graph."""
    names, source = article().names, article().store.store  # type: ignore[attr-defined]
    store = ox.Store()
    if setup == ARTICLE:
        store.bulk_extend(q for g in names.all() for q in quads(source, g))
        return store
    data = updated([q.triple for q in quads(source, names.data)], SETUPS[setup])
    store.bulk_extend([*quads(source, names.ontology),
                       *(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(names.data)) for t in data)])
    return store


def staged(setup: str, data: Delta) -> Case:
    """The graph of ``setup`` after ``data`` (a change of its data graph), as a write stages it."""
    names = article().names
    store = ox.Store()
    store.bulk_extend(before(setup))
    data.apply(store)
    changed = [t for part in (data.added, data.removed) for triples in part.values() for t in triples]
    if setup == ARTICLE:
        rules = reason.read_rules(article().settings.queries_dir)
        change = increment.inferred_change(store, [names.ontology, names.data], names.inferred, rules, data)
        assert change is not None, "these writes do not change the schema"
        inferred = Delta()
        inferred.record(names.inferred, added=change[0], removed=change[1])
        inferred.apply(store)
        changed += [*change[0], *change[1]]
    whole = set(checks.find_violations(store, all_checks(), graphs(), article().query_base))
    return Case(store, changed, whole)


def data_triples(setup: str = ARTICLE) -> list[ox.Triple]:
    return sorted((q.triple for q in quads(before(setup), article().names.data)), key=str)


def by_update(setup: str, update: str) -> Delta:
    """The change ``update`` (run on the data graph as default graph) makes to the data graph of ``setup``."""
    old = data_triples(setup)
    new, old_set = updated(old, update), set(old)
    delta = Delta()
    delta.record(article().names.data, added=new - old_set, removed=old_set - new)
    return delta


def at_random(setup: str, seed: int) -> Delta:
    """One to three triples dropped, re-pointed at another node, re-worded or moved to another subject."""
    rng = random.Random(seed)
    triples = data_triples(setup)
    nodes = sorted({t.subject for t in triples}, key=str)
    literals = sorted({t.object for t in triples if isinstance(t.object, ox.Literal)}, key=str)
    added: set[ox.Triple] = set()
    removed: set[ox.Triple] = set()
    for _ in range(rng.randint(1, 3)):
        t = rng.choice(triples)
        kind = rng.choice(["drop", "repoint", "reword", "move"])
        removed.add(t)
        if kind == "repoint":
            added.add(ox.Triple(t.subject, t.predicate, rng.choice(nodes)))
        elif kind == "reword":
            added.add(ox.Triple(t.subject, t.predicate, rng.choice(literals)))
        elif kind == "move":
            added.add(ox.Triple(rng.choice(nodes), t.predicate, t.object))
    present = set(triples)
    delta = Delta()
    delta.record(article().names.data, added={t for t in added if t not in present}, removed=removed - added)
    return delta


NAMES = [f"injected: {c[0]}" for c in INJECTED] + [f"{setup}: {what}" for setup, what, _ in FROM_AFAR]
RANDOM = [(setup, seed) for setup in (ARTICLE, BARE) for seed in SEEDS]


@cache
def cases() -> dict[str, Case]:
    """The writes made to break the checks (the random ones are :func:`random_cases`)."""
    found = {f"injected: {what}": staged(ARTICLE, by_update(ARTICLE, update)) for what, update, _ in INJECTED}
    found.update({f"{setup}: {what}": staged(setup, by_update(setup, update)) for setup, what, update in FROM_AFAR})
    return found


@cache
def random_cases() -> dict[str, Case]:
    return {f"{setup}: random {seed}": staged(setup, at_random(setup, seed)) for setup, seed in RANDOM}


def near(case: Case, with_checks: tuple[checks.Check, ...]) -> set[checks.Violation]:
    found = revalidate.violations_near(case.store, with_checks, graphs(), article().query_base, case.changed)
    assert found is not None, "a small write is validated near the change"
    return set(found)


@pytest.fixture(scope="module")
def every_case() -> Iterator[dict[str, Case]]:
    yield cases()


@pytest.mark.parametrize("setup", SETUPS)
def test_the_graphs_written_to_conform(setup: str) -> None:
    assert article().conforms
    assert checks.find_violations(before(setup), all_checks(), graphs(), article().query_base) == []


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if "untyped" in n else n for n in NAMES])
def test_near_the_change_finds_what_the_whole_graph_has(every_case: dict[str, Case], name: str) -> None:
    case = every_case[name]
    assert case.changed, "the write changes something"
    assert near(case, all_checks()) == case.whole


@pytest.mark.slow  # 80 more stagings and validations of the whole graph
@pytest.mark.parametrize(("setup", "seed"), RANDOM)
def test_near_the_change_finds_what_the_whole_graph_has_after_random_writes(setup: str, seed: int) -> None:
    case = random_cases()[f"{setup}: random {seed}"]
    assert case.changed, "the write changes something"
    assert near(case, all_checks()) == case.whole


def test_the_writes_break_every_check(every_case: dict[str, Case]) -> None:
    broken = {(v.shape, v.constraint) for case in every_case.values() for v in case.whole}
    assert broken == {(c.shape, c.constraint) for c in all_checks()}


def test_some_writes_break_nodes_they_do_not_touch(every_case: dict[str, Case]) -> None:
    far = set()
    for setup, what, _ in FROM_AFAR:
        case = every_case[f"{setup}: {what}"]
        touched = {t.subject for t in case.changed} | {t.object for t in case.changed}
        far |= {(v.shape, v.constraint) for v in case.whole if v.focus not in touched}
    assert {constraint or shape for shape, constraint in far} == {
        c.constraint or c.shape for c in all_checks() if c.reach}


REACHES = [(check, i) for check in checks.read_checks(Settings().queries_dir) for i in range(len(check.reach))]


@pytest.mark.slow
@pytest.mark.parametrize(("check", "i"), REACHES, ids=[f"{c.constraint or c.shape}:{c.reach[i].predicate.value}"
                                                        f":{c.reach[i].path}" for c, i in REACHES])
def test_each_reach_is_needed(every_case: dict[str, Case], check: checks.Check, i: int) -> None:
    weakened = dataclasses.replace(check, reach=check.reach[:i] + check.reach[i + 1:])
    missed = [name for name, case in {**every_case, **random_cases()}.items()
              if near(case, (weakened,)) != {v for v in case.whole if (v.shape, v.constraint) == (check.shape,
                                                                                                   check.constraint)}]
    assert missed, f"no write needs {check.reach[i]} of {check.constraint or check.shape}"


def test_a_reach_is_a_predicate_an_end_and_a_path() -> None:
    reach = checks.Reach.parse("bjrd:evidence subject ^bjrd:evidence/bjrd:usesMechanism")
    assert reach.predicate == ox.NamedNode("https://bjrd-kg.example.org/ontology#evidence")
    assert (reach.end, reach.path) == ("subject", "^bjrd:evidence/bjrd:usesMechanism")
    for bad in ["bjrd:evidence", "bjrd:evidence middle bjrd:x", "nope:evidence subject bjrd:x", "evidence subject x"]:
        with pytest.raises(ValueError):
            checks.Reach.parse(bad)
    for check in all_checks():  # every reach of queries/shapes/ is a query Oxigraph reads
        for r in check.reach:
            assert list(ox.Store().query(r.query, substitutions={revalidate.NODE: ox.Literal("x")})) == []


def test_a_write_is_rejected_for_a_node_it_does_not_touch(caplog: pytest.LogCaptureFixture) -> None:
    """Through the service's write path: the SPARQL checks run near the change, and they find the
    district whose code another district took, though the write does not name it."""
    graph = article()
    update = FROM_AFAR[0][2]
    assert "haidian bjrd:divisionCode ?h" in update and "DELETE { id:district\\/dongcheng" in update
    caplog.set_level(logging.INFO, logger="app.writes.writes")
    with pytest.raises(WriteRejected) as rejected:
        writes.prepare(graph, writes.sparql_update(PREFIXES + update, graph.query_base, graph.names.data))
    focus = {r["focus"].rsplit("/", 1)[-1] for r in rejected.value.report.results()}
    assert focus == {"haidian", "dongcheng"}
    assert "validate (sparql, near the change)" in caplog.text


def test_a_graph_not_known_to_conform_is_validated_whole(caplog: pytest.LogCaptureFixture) -> None:
    graph = KnowledgeGraph.build(Settings(shacl_engine="sparql"), check=False)
    assert not graph.conforms
    caplog.set_level(logging.INFO, logger="app.writes.writes")
    haidian = f"<{graph.settings.base_iri}/id/district/haidian>"
    label = f'INSERT DATA {{ {haidian} <http://www.w3.org/2004/02/skos/core#altLabel> "海淀"@zh }}'
    staged = writes.prepare(graph, writes.sparql_update(label, graph.query_base, graph.names.data))
    assert "validate (sparql) " in caplog.text
    assert writes.commit(graph, staged).conforms  # a committed write was validated


def test_a_change_that_reaches_too_far_is_left_to_the_whole_graph(every_case: dict[str, Case]) -> None:
    case = every_case["the article: a practice's quote re-worded"]
    near_nodes = revalidate.candidates(case.store, all_checks(), graphs(), case.changed)
    assert near_nodes is not None
    runs = sum(len(nodes) for nodes in near_nodes.values())
    assert revalidate.candidates(case.store, all_checks(), graphs(), case.changed, limit=runs) == near_nodes
    assert revalidate.candidates(case.store, all_checks(), graphs(), case.changed, limit=runs - 1) is None
    star = ox.Triple(ox.NamedNode("urn:x:who"), ox.NamedNode("urn:x:said"),
                     ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.NamedNode("urn:x:o")))
    assert revalidate.violations_near(case.store, all_checks(), graphs(), article().query_base, [star]) is None
