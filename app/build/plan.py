"""Inference by a plan compiled from the schema: the rules of ``queries/rules/`` without rounds.

The schema (which properties are sub-properties, inverses, transitive, chained; domains, ranges,
the class hierarchy) is small and fixed while a graph is built. Each rule's ``#+ schema:`` pattern
is run once over the asserted graphs, and the answers are compiled into a :class:`Plan`:

* the one-premise rules (sub-property, inverse, domain, range, sub-class) become, for each
  predicate, a *template*: every triple that follows from ``?s p ?o`` by those rules alone,
  written with the slots ``?s`` and ``?o`` (worked out once, on the schema, not per triple);
* the two-premise rules (transitive properties, chains of two properties) are joined in Python
  over an index of the triples of the few properties in their bodies (the ``skos:broader``
  hierarchy and the links into it), one new triple at a time until nothing new follows.

The data is read once, predicate by predicate (``quads_for_pattern`` with a fixed predicate, only
the predicates the plan has consequences for), and what follows (each derived triple once, unless
asserted) is bulk-inserted into the inferred graph. Nothing follows from a typing but typings, so
the typings (domains, ranges, superclasses) are added last, by one ``INSERT … WHERE`` in the store.

The plan is used only for the rules it implements, as written today (their text is pinned by
:data:`RULES`, the SHA-256 of each), and only when no inference can add to the schema (e.g. a
data property declared a sub-property of ``rdfs:subClassOf``, or a class that entails
``owl:TransitiveProperty``); otherwise :func:`app.build.reason.materialise` runs instead. Both give
exactly the reference's inferred graph (:mod:`app.build.infer`; tests/test_reason.py).
"""

import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from app.build import reason
from app.store.graphs import Dataset

logger = logging.getLogger(__name__)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
TYPE = ox.NamedNode(RDF + "type")
#: Predicates whose triples the rules read as schema: inference must never add any.
SCHEMA = frozenset(ox.NamedNode(iri) for iri in (
    RDFS + "subClassOf", RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range", OWL + "inverseOf",
    OWL + "propertyChainAxiom", RDF + "first", RDF + "rest"))
TRANSITIVE_CLASS = ox.NamedNode(OWL + "TransitiveProperty")

#: The rules this plan implements, by name: SHA-256 of the file's text. Another text falls back.
RULES = {
    "owl-inverse": "6cba03551d78135c6e073b083c684379e7c4d1df105c38982c8a051805686729",
    "owl-property-chain": "d685ff2ba50b5a08906fe26817c1e87ab3d6cb98556bb4c138236cbc6d0017fe",
    "owl-transitive": "5a39933f0786acc777e9122a3aab651b636d99e4093bfdf796cb06cbc554d37a",
    "rdfs-domain": "715adeed58065e556ace3d106c544625ff5eca84758b5526e0aa3f4fc585f297",
    "rdfs-range": "52582ccd883f80225a633d0c55e537675678d38f2a793946dc2108f93b0fd2e3",
    "rdfs-subclass": "ed9174afb38aecb9236e9332010dfe43d4c730860fbce27c67debd67babe3c38",
    "rdfs-subproperty": "fe507af7ad7443f9ba41b912d4d7115ceaeb15fef46b31f07722ca614e6b16e4",
}
BATCH = 100_000

SUBJECT, OBJECT = 0, 1  # the slots of a template: the premise's subject and object
Slot = int | ox.NamedNode | ox.BlankNode | ox.Literal
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Template = tuple[tuple[Slot, ox.NamedNode, Slot], ...]


class Unsupported(Exception):
    """The schema needs the generic reasoner (the reason is the message)."""


def rule_digest(rule: reason.Rule) -> str:
    return hashlib.sha256(rule.text.encode("utf-8")).hexdigest()


def _pairs(rows: ox.QuerySolutions, a: str, b: str) -> dict[Term, set[Term]]:
    out: dict[Term, set[Term]] = {}
    for row in rows:
        key, value = row[a], row[b]
        if isinstance(key, (ox.NamedNode, ox.BlankNode, ox.Literal)) and isinstance(
                value, (ox.NamedNode, ox.BlankNode, ox.Literal)):
            out.setdefault(key, set()).add(value)
    return out


@dataclass
class Schema:
    """The answers of the rules' ``#+ schema:`` patterns over the asserted graphs."""

    supers: dict[Term, set[Term]]  # property -> its super-properties (rdfs:subPropertyOf+)
    inverses: dict[Term, set[Term]]
    domains: dict[Term, set[Term]]
    ranges: dict[Term, set[Term]]
    superclasses: dict[Term, set[Term]]  # class -> rdfs:subClassOf+
    transitive: set[Term]
    chains: list[tuple[Term, Term, Term]]  # (p, p1, p2): ?x p1 ?y . ?y p2 ?z -> ?x p ?z

    @classmethod
    def read(cls, store: ox.Store, dataset: Dataset, rules: dict[str, reason.Rule]) -> "Schema":
        def rows(name: str) -> ox.QuerySolutions:
            return dataset.select(store, rules[name].schema_query)

        chains = [(r["p"], r["p1"], r["p2"]) for r in rows("owl-property-chain")]
        return cls(_pairs(rows("rdfs-subproperty"), "p", "super"), _pairs(rows("owl-inverse"), "p", "q"),
                   _pairs(rows("rdfs-domain"), "p", "class"), _pairs(rows("rdfs-range"), "p", "class"),
                   _pairs(rows("rdfs-subclass"), "class", "super"), {r["p"] for r in rows("owl-transitive")},
                   [c for c in chains if all(isinstance(t, ox.NamedNode) for t in c)])


def _literal(slot: Slot, literal_object: bool) -> bool:
    return (slot == OBJECT and literal_object) if isinstance(slot, int) else isinstance(slot, ox.Literal)


@dataclass
class Plan:
    schema: Schema
    joined: frozenset[Term] = frozenset()  # the predicates in a two-premise rule's body
    templates: dict[tuple[Term, bool], Template] = field(default_factory=dict)
    links: dict[tuple[Term, bool], Template] = field(default_factory=dict)  # the templates minus typings

    @classmethod
    def compile(cls, schema: Schema) -> "Plan":
        joined = frozenset(schema.transitive | {p for _, p1, p2 in schema.chains for p in (p1, p2)})
        plan = cls(schema, joined)
        if TYPE in joined or TYPE in {p for p, _, _ in schema.chains}:
            raise Unsupported("rdf:type in a chain or transitive")
        one_premise = set(schema.supers) | set(schema.inverses) | set(schema.domains) | set(schema.ranges)
        if TYPE in one_premise:
            raise Unsupported("rdf:type has a super-property, an inverse, a domain or a range")
        derived: set[Term] = set(joined) | {p for p, _, _ in schema.chains}
        classes = {c for supers in schema.superclasses.values() for c in supers}
        for p in one_premise | joined | {p for p, _, _ in schema.chains}:
            for literal_object in (False, True):
                template = plan.template(p, literal_object)
                derived |= {q for _, q, _ in template}
                classes |= {c for _, q, c in template if q == TYPE and not isinstance(c, int)}
        if derived & SCHEMA or TRANSITIVE_CLASS in classes:
            raise Unsupported("inference could add to the schema")
        return plan

    def template(self, p: Term, literal_object: bool) -> Template:
        """What ``?s p ?o`` entails by the one-premise rules alone (not itself), in slots."""
        key = (p, literal_object)
        if key in self.templates:
            return self.templates[key]
        if not isinstance(p, ox.NamedNode):
            raise Unsupported(f"a property that is not an IRI: {p}")
        s = self.schema
        start: tuple[Slot, ox.NamedNode, Slot] = (SUBJECT, p, OBJECT)
        seen = {start}
        todo = [start]
        while todo:
            subj, q, obj = todo.pop()
            lit = _literal(obj, literal_object)
            found: list[tuple[Slot, Term, Slot]] = [(subj, sup, obj) for sup in s.supers.get(q, ())]
            found += [(subj, TYPE, c) for c in s.domains.get(q, ())]
            if not lit:
                found += [(obj, inv, subj) for inv in s.inverses.get(q, ())]
                found += [(obj, TYPE, c) for c in s.ranges.get(q, ())]
            if q == TYPE:
                if isinstance(obj, int):
                    raise Unsupported(f"{p} entails rdf:type with a variable class")
                found += [(subj, TYPE, c) for c in s.superclasses.get(obj, ())]
            for t in found:
                if not isinstance(t[1], ox.NamedNode):
                    raise Unsupported(f"a property that is not an IRI: {t[1]}")
                triple = (t[0], t[1], t[2])
                if triple not in seen:
                    seen.add(triple)
                    todo.append(triple)
        self.templates[key] = tuple(sorted(seen - {start}, key=str))
        return self.templates[key]

    def consequences(self, s: Term, p: Term, o: Term) -> Iterator[tuple[Term, ox.NamedNode, Term]]:
        """What ``s p o`` entails by the one-premise rules, except typings: nothing follows from a
        typing but typings (rdf:type has no super-property, inverse, domain or range, and is not
        joined, or the plan is not used), so they are all added at the end, in the store."""
        key = (p, isinstance(o, ox.Literal))
        links = self.links.get(key)
        if links is None:
            links = self.links[key] = tuple(t for t in self.template(*key) if t[1] != TYPE)
        for a, q, b in links:
            yield (s if a == SUBJECT else o if a == OBJECT else a), q, (  # type: ignore[misc]
                s if b == SUBJECT else o if b == OBJECT else b)

    def typings(self) -> Iterator[tuple[str, Term, tuple[Term, ...]]]:
        """(position, property or class, classes): the typings each triple entails, superclasses
        included: ``subject``/``object`` of a property (domain, range), ``instance`` of a class."""
        s = self.schema

        def closed(classes: set[Term]) -> tuple[Term, ...]:
            return tuple(sorted({d for c in classes for d in {c} | s.superclasses.get(c, set())}, key=str))

        for position, table in (("subject", s.domains), ("object", s.ranges)):
            for key in sorted(table, key=str):
                yield position, key, closed(table[key])
        for key in sorted(s.superclasses, key=str):
            yield "instance", key, tuple(sorted(s.superclasses[key], key=str))


class Closure:
    """What is known so far: the triples of the joined predicates (indexed both ways, for the
    two-premise rules), the derived triples (each emitted once) and the batch not yet written."""

    def __init__(self, plan: Plan, store: ox.Store, asserted: list[ox.NamedNode], target: ox.NamedNode) -> None:
        self.plan = plan
        self.store = store
        self.asserted = asserted
        self.target = target
        self.forward: dict[Term, dict[Term, set[Term]]] = {p: {} for p in plan.joined}
        self.backward: dict[Term, dict[Term, set[Term]]] = {p: {} for p in plan.joined}
        self.todo: list[tuple[Term, Term, Term]] = []
        self.seen: set[tuple[Term, Term, Term]] = set()
        self.batch: list[ox.Quad] = []
        self.by_first = {p1: [(p, p2) for p, q1, p2 in plan.schema.chains if q1 == p1] for p1 in plan.joined}
        self.by_second = {p2: [(p, p1) for p, p1, q2 in plan.schema.chains if q2 == p2] for p2 in plan.joined}

    def _add(self, s: Term, p: Term, o: Term) -> bool:
        """Index a triple of a joined predicate; False when it was known (its consequences too)."""
        objects = self.forward[p].setdefault(s, set())
        if o in objects:
            return False
        objects.add(o)
        self.backward[p].setdefault(o, set()).add(s)
        self.todo.append((s, p, o))
        return True

    def _emit(self, s: Term, p: Term, o: Term) -> None:
        triple = (s, p, o)
        if triple not in self.seen:
            self.seen.add(triple)
            if not any(ox.Quad(s, p, o, g) in self.store for g in self.asserted):  # type: ignore[arg-type]
                self.batch.append(ox.Quad(s, p, o, self.target))  # type: ignore[arg-type]

    def holds(self, s: Term, p: Term, o: Term, asserted: bool) -> None:
        """``s p o`` holds: emit it (unless asserted) and what the one-premise rules entail from it.
        A triple emitted before had its consequences emitted with it."""
        if p in self.forward:
            if not self._add(s, p, o):
                return
        elif not asserted and (s, p, o) in self.seen:
            return
        if not asserted:
            self._emit(s, p, o)
        forward = self.forward
        for a, q, b in self.plan.consequences(s, p, o):
            self._emit(a, q, b)
            if q in forward:
                self._add(a, q, b)

    def run(self) -> None:
        """Join each newly indexed triple with those known, until nothing new follows."""
        forward, backward = self.forward, self.backward
        while self.todo:
            a, p, b = self.todo.pop()
            derived: list[tuple[Term, Term, Term]] = []
            if p in self.plan.schema.transitive:
                derived += [(a, p, c) for c in forward[p].get(b, ())]
                derived += [(z, p, b) for z in backward[p].get(a, ())]
            for head, p2 in self.by_first[p]:
                derived += [(a, head, z) for z in forward[p2].get(b, ())]
            for head, p1 in self.by_second[p]:
                derived += [(x, head, b) for x in backward[p1].get(a, ())]
            for s, q, o in derived:
                self.holds(s, q, o, asserted=False)

    def flush(self, store: ox.Store) -> None:
        if self.batch:
            store.extend(self.batch)
            self.batch = []


def triggers(plan: Plan) -> list[ox.NamedNode]:
    """The predicates whose triples entail more than typings."""
    s = plan.schema
    found = {p for p in set(s.supers) | set(s.inverses) | set(s.domains) | set(s.ranges)
             if any(t[1] != TYPE for lit in (False, True) for t in plan.template(p, lit))}
    return sorted((p for p in found | plan.joined if isinstance(p, ox.NamedNode)), key=str)


def add_typings(plan: Plan, store: ox.Store, asserted: list[ox.NamedNode], target: ox.NamedNode) -> None:
    """Insert into ``target`` the typings entailed by the triples of ``asserted`` and ``target``
    (domains and ranges, with their superclasses) and by the typings of ``asserted`` (superclasses),
    except those asserted: one update inside the store."""
    pairs: dict[str, list[str]] = {"subject": [], "object": [], "instance": []}
    for position, key, classes in plan.typings():
        if isinstance(key, ox.NamedNode):
            pairs[position] += [f"({key} {c})" for c in classes if isinstance(c, ox.NamedNode)]
        elif position == "instance":  # a blank-node class: its typings are looked up one by one
            found = Dataset(False, tuple(asserted)).construct(
                store, "CONSTRUCT { ?x a ?class } WHERE { ?x a ?class }", {ox.Variable("class"): key})
            typings = [(t.subject, c) for t in found for c in classes]
            store.extend([ox.Quad(x, TYPE, c, target) for x, c in typings
                          if not any(ox.Quad(x, TYPE, c, g) in store for g in asserted)])
    parts = []
    for graph in [*asserted, target]:
        parts.append(f"{{ VALUES (?p ?c) {{ {' '.join(pairs['subject'])} }} GRAPH {graph} {{ ?x ?p ?o }} }}")
        parts.append(f"{{ VALUES (?p ?c) {{ {' '.join(pairs['object'])} }} GRAPH {graph} {{ ?s ?p ?x }} "
                     "FILTER(!isLiteral(?x)) }")
        if graph != target:
            parts.append(f"{{ VALUES (?k ?c) {{ {' '.join(pairs['instance'])} }} GRAPH {graph} {{ ?x a ?k }} }}")
    minus = " ".join(f"MINUS {{ GRAPH {graph} {{ ?x a ?c }} }}" for graph in asserted)
    store.update(f"INSERT {{ GRAPH {target} {{ ?x a ?c }} }} WHERE {{ SELECT DISTINCT ?x ?c WHERE {{ "
                 f"{' UNION '.join(parts)} {minus} }} }}")


def infer_with(plan: Plan, store: ox.Store, asserted: list[ox.NamedNode], target: ox.NamedNode) -> None:
    """Fill ``target`` with what follows from ``asserted`` (the asserted triples among them too)."""
    closure = Closure(plan, store, asserted, target)
    for graph in asserted:
        for p in triggers(plan):
            # Read one predicate's triples, then write what follows (writing while reading is slow).
            for q in store.quads_for_pattern(None, p, None, graph):
                closure.holds(q.subject, p, q.object, asserted=True)  # type: ignore[arg-type]
            if len(closure.batch) >= BATCH:
                closure.flush(store)
    closure.flush(store)
    closure.run()
    closure.flush(store)
    add_typings(plan, store, asserted, target)


def compile_plan(store: ox.Store, asserted: list[str], rules: list[reason.Rule]) -> Plan:
    """The plan for ``rules`` over the schema in ``asserted``; raises Unsupported."""
    by_name = {r.name: r for r in rules}
    if set(by_name) != set(RULES) or any(rule_digest(r) != RULES[r.name] for r in rules):
        raise Unsupported("the rules differ from those the plan implements")
    return Plan.compile(Schema.read(store, Dataset(False, tuple(ox.NamedNode(g) for g in asserted)), by_name))


def materialise(store: ox.Store, asserted: list[str], inferred: str, rules: list[reason.Rule]) -> int:
    """As :func:`app.build.reason.materialise` (same graph, same count), by a compiled plan when
    the rules and the schema allow it."""
    started = time.perf_counter()
    try:
        plan = compile_plan(store, asserted, rules)
    except Unsupported as exc:
        logger.info("inference by rounds: %s", exc)
        return reason.materialise(store, asserted, inferred, rules)
    target = ox.NamedNode(inferred)
    if store.contains_named_graph(target):
        store.remove_graph(target)
    graphs = [ox.NamedNode(g) for g in asserted]
    infer_with(plan, store, graphs, target)
    rows = Dataset(True).select(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {target} {{ ?s ?p ?o }} }}")
    total = int(next(iter(rows))[0].value)
    logger.info("inferred %d triples by a compiled plan, %.2f s", total, time.perf_counter() - started)
    return total

