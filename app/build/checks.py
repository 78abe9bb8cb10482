"""SHACL validation at scale: the shapes as SPARQL queries run inside the store.

``queries/shapes/<id>.rq`` holds one query per property shape (``S01-code``) or SPARQL
constraint (``S01-code-unique``) of ontology/shapes.ttl; it returns ``?focus ?component``, one
row per focus node and constraint component it violates. pySHACL stays the reference:
tests/test_checks.py runs both on every fixture, on the article and on injected violations
and asserts the same (focus, shape, constraint component) results. The report built here has
the shape of pySHACL's (``sh:ValidationReport`` with results carrying the shape's zh and en
``sh:message``), so callers need not know which engine produced it.

A check may also say, in ``#+ reach:`` headers, which focus nodes a change further away than the
focus node's own triples can concern (:class:`Reach`): app.writes.revalidate validates a write with
them for just those focus nodes.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib

from app.build.validate import Report
from app.rdf.namespaces import PREFIXES
from app.rdf.terms import to_rdflib
from app.store.graphs import Dataset, Substitutions

SH = "http://www.w3.org/ns/shacl#"
SHAPES_NS = "https://bjrd-kg.example.org/shapes#"
FOCUS = ox.Variable("focus")
_HEADER = re.compile(r"^#\+\s*([\w-]+)\s*:\s*(.*?)\s*$", re.M)
#: The PREFIX declarations a reach's path is read with.
PROLOGUE = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())


@dataclass(frozen=True)
class Reach:
    """``#+ reach: <predicate> <subject|object> <path>``: a triple of ``predicate`` added or
    removed may change the check's result for the nodes its ``end`` (subject or object) reaches
    by the SPARQL property path ``path`` (prefixed names as in app.rdf.namespaces.PREFIXES)."""

    predicate: ox.NamedNode
    end: str  # "subject" or "object"
    path: str

    @classmethod
    def parse(cls, value: str) -> "Reach":
        parts = value.split(maxsplit=2)
        if len(parts) != 3 or parts[1] not in ("subject", "object") or ":" not in parts[0]:
            raise ValueError(f"reach {value!r}: expected '<prefix:predicate> <subject|object> <property path>'")
        prefix, local = parts[0].split(":", 1)
        if prefix not in PREFIXES:
            raise ValueError(f"reach {value!r}: unknown prefix {prefix!r}")
        return cls(ox.NamedNode(PREFIXES[prefix] + local), parts[1], parts[2])

    @property
    def query(self) -> str:
        """The nodes ``?node`` (the end of a changed triple) reaches: ``?focus``."""
        return f"{PROLOGUE}SELECT DISTINCT ?node ?focus WHERE {{ ?node {self.path} ?focus }}"


@dataclass(frozen=True)
class Check:
    shape: str  # the id of sh:sourceShape (S01-code; S01 for a SPARQL constraint)
    constraint: str  # the id of the SPARQL constraint (S01-code-unique), else ""
    text: str
    reach: tuple[Reach, ...] = ()

    @classmethod
    def read(cls, path: Path) -> "Check":
        text = path.read_text(encoding="utf-8")
        headers = _HEADER.findall(text)
        meta = dict(headers)
        reach = tuple(Reach.parse(value) for key, value in headers if key == "reach")
        return cls(meta.get("shape", path.stem), meta.get("constraint", ""), text, reach)


def read_checks(queries_dir: Path) -> list[Check]:
    return [Check.read(p) for p in sorted((queries_dir / "shapes").glob("*.rq"))]


@dataclass(frozen=True)
class Violation:
    focus: ox.NamedNode | ox.BlankNode
    shape: str
    constraint: str
    component: str


def dataset_of(store: ox.Store, graphs: Sequence[str]) -> Dataset:
    """The union of ``graphs`` of ``store``, as a query's dataset."""
    nodes = tuple(ox.NamedNode(g) for g in graphs)
    # When the store holds just these graphs their union is the same dataset, and Oxigraph
    # evaluates it faster than an explicit list of graphs.
    union = all(isinstance(g, ox.NamedNode) and g.value in graphs for g in store.named_graphs())
    return Dataset(True) if union else Dataset(False, nodes, nodes)


def find_violations(store: ox.Store, checks: Sequence[Check], graphs: Sequence[str],
                    query_base: str) -> list[Violation]:
    """Every violation in the union of ``graphs`` of ``store`` (relative IRIs of the checks, such as
    the schemes' ``<id/scheme/mechanisms>``, resolve against ``query_base``)."""
    dataset = dataset_of(store, graphs)
    return [v for check in checks for v in run_check(store, dataset, check, query_base)]


def run_check(store: ox.Store, dataset: Dataset, check: Check, query_base: str,
              focus: ox.NamedNode | ox.BlankNode | None = None) -> Iterator[Violation]:
    """The violations ``check`` finds in ``dataset``: of every focus node, or of ``focus`` alone."""
    substitutions: Substitutions | None = {FOCUS: focus} if focus is not None else None
    for row in dataset.select(store, check.text, substitutions, base_iri=query_base):
        node, component = row["focus"], row["component"]
        if not isinstance(node, ox.NamedNode | ox.BlankNode) or not isinstance(component, ox.NamedNode):
            raise ValueError(f"check {check.shape}: ?focus must be a node and ?component an IRI")
        yield Violation(node, check.shape, check.constraint, component.value)


def report(violations: Sequence[Violation], shapes: Sequence[ox.Triple]) -> Report:
    """A pySHACL-like report of ``violations``: each result with the path, severity and messages
    its shape (or SPARQL constraint) declares in ``shapes``."""
    sh = rdflib.Namespace(SH)
    shapes_graph = rdflib.Graph()
    for t in shapes:
        if isinstance(t.subject, ox.Triple) or isinstance(t.object, ox.Triple):
            continue  # no RDF-star in the shapes
        shapes_graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    g = rdflib.Graph()
    g.bind("sh", sh)
    root = rdflib.BNode()
    g.add((root, rdflib.RDF.type, sh.ValidationReport))
    g.add((root, sh.conforms, rdflib.Literal(not violations)))
    lines = []
    for v in violations:
        shape = rdflib.URIRef(SHAPES_NS + v.shape)
        source = rdflib.URIRef(SHAPES_NS + v.constraint) if v.constraint else shape
        result = rdflib.BNode()
        g.add((root, sh.result, result))
        g.add((result, rdflib.RDF.type, sh.ValidationResult))
        g.add((result, sh.focusNode, to_rdflib(v.focus)))
        g.add((result, sh.sourceShape, shape))
        g.add((result, sh.sourceConstraintComponent, rdflib.URIRef(v.component)))
        g.add((result, sh.resultSeverity, sh.Violation))
        if v.constraint:
            g.add((result, sh.sourceConstraint, source))
        path = shapes_graph.value(shape, sh.path)
        if path is not None:
            g.add((result, sh.resultPath, path))
            if isinstance(path, rdflib.BNode):
                for p, o in shapes_graph.predicate_objects(path):
                    g.add((path, p, o))
        messages = list(shapes_graph.objects(source, sh.message))
        for m in messages:
            g.add((result, sh.resultMessage, m))
        component = v.component.removeprefix(SH)
        lines.append(f"Constraint Violation in {component} ({v.component}):\n\tSeverity: sh:Violation\n"
                     f"\tSource Shape: shape:{v.shape}\n\tFocus Node: {v.focus}\n"
                     + "".join(f"\tMessage: {m}\n" for m in messages))
    text = f"Validation Report\nConforms: {not violations}\n"
    if violations:
        text += f"Results ({len(violations)}):\n" + "".join(lines)
    return Report(not violations, text, g)


def validate_in_store(store: ox.Store, graphs: Sequence[str], query_base: str, shapes: Sequence[ox.Triple],
                      queries_dir: Path) -> Report:
    """Validate the union of ``graphs`` of ``store`` with the SPARQL checks of ``queries_dir``."""
    return report(find_violations(store, read_checks(queries_dir), graphs, query_base), shapes)
