"""Inference for a write: only the entailments about the nodes the write can reach.

The inferred graph is everything the rules entail from the asserted graphs, minus what is asserted
(app.build.plan). A write changes a few asserted triples (a :class:`app.writes.delta.Delta`); what
the rules entail can then change only for the *affected* nodes, as subjects:

* the subject and object of each changed triple (what one premise entails is about those two:
  sub-properties, inverses, domains, ranges, superclasses);
* for each changed triple, and each triple it entails by one premise, whose predicate is *joined*
  (transitive, or in a property chain: ``skos:broaderTransitive``, ``bjrd:usesMechanism`` ∘
  ``skos:broader`` …) from ``a`` to ``b``: the nodes with a link to ``a`` and the nodes ``b``
  links to. The inferred graph holds the links closed already (``x skos:broaderTransitive a`` for
  every ancestor ``a``; ``p bjrd:usesMechanism m`` for every broader ``m``), so one step over the
  links of the scratch store (new asserted, old inferred) reaches every node whose paths run
  through the change — old paths, and new ones (which begin with an old path to a changed link).

Their entailments are made again, by the same plan, in a small store holding what they can follow
from: every asserted triple about an affected node or a node it links to, the triples pointing at
them that entail something about their object (inverses, ranges), and the schema. Compared with the
affected nodes' entailments before, that gives the inferred graph's change; nothing else changes.

Not incremental (the caller makes the inferred graph afresh, as at start-up): a change to the
schema (a triple of a schema predicate, or an ``owl:TransitiveProperty`` typing), rules the plan
does not implement, or more than :data:`MAX_NODES` affected nodes or :data:`MAX_TRIPLES` triples to
infer from. tests/test_increment.py holds the result against inference afresh over random writes.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from app.build import plan, reason
from app.writes.delta import Delta

logger = logging.getLogger(__name__)

#: Beyond these, the inferred graph is made afresh instead.
MAX_NODES = 50_000
MAX_TRIPLES = 500_000

Node = ox.NamedNode | ox.BlankNode


def _nodes(terms: Iterable[object]) -> set[Node]:
    return {t for t in terms if isinstance(t, (ox.NamedNode, ox.BlankNode))}


def _changes_schema(delta: Delta) -> bool:
    for part in (delta.added, delta.removed):
        for triples in part.values():
            for t in triples:
                if t.predicate in plan.SCHEMA or (t.predicate == plan.TYPE and t.object == plan.TRANSITIVE_CLASS):
                    return True
    return False


class Neighbourhood:
    """Lookups over the scratch store's asserted graphs and its (old) inferred graph."""

    def __init__(self, store: ox.Store, asserted: list[str], inferred: str) -> None:
        self.store = store
        self.asserted = [ox.NamedNode(g) for g in asserted]
        self.all = [*self.asserted, ox.NamedNode(inferred)]

    def links_to(self, node: Node, predicates: frozenset[ox.NamedNode]) -> set[Node]:
        return _nodes(q.subject for g in self.all for q in self.store.quads_for_pattern(None, None, node, g)
                      if q.predicate in predicates)

    def links_from(self, node: Node, predicates: frozenset[ox.NamedNode]) -> set[Node]:
        return _nodes(q.object for g in self.all for q in self.store.quads_for_pattern(node, None, None, g)
                      if q.predicate in predicates)


def inferred_change(store: ox.Store, asserted: list[str], inferred: str, rules: list[reason.Rule],
                    delta: Delta) -> tuple[set[ox.Triple], set[ox.Triple]] | None:
    """(added, removed) in the inferred graph after ``delta``, which ``store`` (the scratch store)
    holds already in its ``asserted`` graphs, its ``inferred`` graph being still the old one; None
    when the change must be inferred afresh (see the module's docstring)."""
    started = time.perf_counter()
    problem = local_problem(store, asserted, inferred, rules, delta)
    if problem is None:
        return None
    plan.materialise(problem.local, asserted, inferred, rules)
    added, removed = problem.change(problem.local)
    logger.info("inferred for %d affected nodes from %d triples: +%d -%d, %.2f s", len(problem.affected),
                len(problem.local), len(added), len(removed), time.perf_counter() - started)
    return added, removed


@dataclass
class Local:
    """What the inference of a write needs: the ``local`` store (the premises of the ``affected``
    nodes' entailments, in the asserted graphs) and those nodes' entailments ``before`` the write."""

    local: ox.Store
    inferred: str
    affected: set[Node]
    before: set[ox.Triple]

    def change(self, materialised: ox.Store) -> tuple[set[ox.Triple], set[ox.Triple]]:
        """(added, removed): the affected nodes' entailments in ``materialised`` (the local store,
        inferred) against ``before``."""
        node = ox.NamedNode(self.inferred)
        after = {q.triple for x in self.affected for q in materialised.quads_for_pattern(x, None, None, node)}
        return after - self.before, self.before - after


def local_problem(store: ox.Store, asserted: list[str], inferred: str, rules: list[reason.Rule],
                  delta: Delta) -> Local | None:
    """The bounded part of :func:`inferred_change` (at most :data:`MAX_NODES` affected nodes and
    :data:`MAX_TRIPLES` premises, by lookups): what to infer from, and the entailments before. The
    unbounded part — the inference itself — is run on :attr:`Local.local` (app.writes.entail runs
    it in a confined process). None when the change must be inferred afresh."""
    if _changes_schema(delta):
        logger.info("the write changes the schema: inference afresh")
        return None
    try:
        compiled = plan.compile_plan(store, asserted, rules)
    except plan.Unsupported as exc:
        logger.info("inference afresh: %s", exc)
        return None
    joined = frozenset(p for p in compiled.joined if isinstance(p, ox.NamedNode))
    links = _link_predicates(compiled, joined)
    around = Neighbourhood(store, asserted, inferred)
    changed = [t for part in (delta.added, delta.removed) for triples in part.values() for t in triples]
    affected: set[Node] = set()
    for t in changed:
        s, o = t.subject, t.object
        if isinstance(s, ox.Triple) or isinstance(o, ox.Triple):  # never written (app.writes.isolate)
            return None
        if t.predicate == plan.TYPE:  # nothing follows from a typing but typings of its subject
            affected |= _nodes((s,))
            continue
        affected |= _nodes((s, o))
        for a, q, b in [(s, t.predicate, o), *compiled.consequences(s, t.predicate, o)]:
            if q in joined:
                for node in _nodes((a,)):
                    affected |= {node} | around.links_to(node, links)
                for node in _nodes((b,)):
                    affected |= {node} | around.links_from(node, links)
        if len(affected) > MAX_NODES:
            logger.info("more than %d nodes affected: inference afresh", MAX_NODES)
            return None
    reach = set(affected)
    for node in affected:
        reach |= around.links_from(node, links)
    local = _local_store(store, asserted, compiled, reach)
    if local is None:
        return None
    node = ox.NamedNode(inferred)
    before = {q.triple for x in affected for q in store.quads_for_pattern(x, None, None, node)}
    return Local(local, inferred, affected, before)


def _premises(compiled: plan.Plan) -> list[ox.NamedNode]:
    """The predicates whose triples entail something by one premise."""
    s = compiled.schema
    return [p for p in {*s.supers, *s.inverses, *s.domains, *s.ranges} if isinstance(p, ox.NamedNode)]


def _link_predicates(compiled: plan.Plan, joined: frozenset[ox.NamedNode]) -> frozenset[ox.NamedNode]:
    """The joined predicates, and those whose triples entail a joined one by one premise."""
    found = set(joined)
    for p in _premises(compiled):
        if {q for lit in (False, True) for _, q, _ in compiled.template(p, lit)} & joined:
            found.add(p)
    return frozenset(found)


def _pointing(compiled: plan.Plan) -> frozenset[ox.NamedNode]:
    """The predicates whose triples entail something about their object (an inverse, a range)."""
    found = set()
    for p in _premises(compiled):
        if any(slot == plan.OBJECT for slot, _, _ in compiled.template(p, False)):
            found.add(p)
    return frozenset(found)


def _local_store(store: ox.Store, asserted: list[str], compiled: plan.Plan, reach: set[Node]) -> ox.Store | None:
    """A store with, in the same asserted graphs: every triple about a node of ``reach``, the triples
    pointing at one of them that entail something about it, and the schema."""
    pointing = _pointing(compiled)
    local = ox.Store()
    count = 0
    for name in asserted:
        graph = ox.NamedNode(name)
        quads: set[ox.Quad] = set()
        for node in reach:
            quads.update(store.quads_for_pattern(node, None, None, graph))
            quads.update(q for q in store.quads_for_pattern(None, None, node, graph) if q.predicate in pointing)
        for p in plan.SCHEMA:
            quads.update(store.quads_for_pattern(None, p, None, graph))
        quads.update(store.quads_for_pattern(None, plan.TYPE, plan.TRANSITIVE_CLASS, graph))
        count += len(quads)
        if count > MAX_TRIPLES:
            logger.info("more than %d triples to infer from: inference afresh", MAX_TRIPLES)
            return None
        local.bulk_extend(quads)
    return local
