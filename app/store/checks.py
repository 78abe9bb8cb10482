"""SHACL validation at scale: the shapes as SPARQL queries run inside the store.

``queries/shapes/<id>.rq`` holds one query per property shape (``S01-code``) or SPARQL
constraint (``S01-code-unique``) of ontology/shapes.ttl; it returns ``?focus ?component``, one
row per focus node and constraint component it violates. pySHACL stays the reference:
tests/test_checks.py runs both on every fixture, on the article and on injected violations
and asserts the same (focus, shape, constraint component) results. The report built here has
the shape of pySHACL's (``sh:ValidationReport`` with results carrying the shape's zh and en
``sh:message``), so callers need not know which engine produced it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib

from app.rdf.terms import to_rdflib
from app.store.graphs import Dataset
from app.store.validate import Report

SH = "http://www.w3.org/ns/shacl#"
SHAPES_NS = "https://bjrd-kg.example.org/shapes#"
_HEADER = re.compile(r"^#\+\s*([\w-]+)\s*:\s*(.*?)\s*$", re.M)


@dataclass(frozen=True)
class Check:
    shape: str  # the id of sh:sourceShape (S01-code; S01 for a SPARQL constraint)
    constraint: str  # the id of the SPARQL constraint (S01-code-unique), else ""
    text: str

    @classmethod
    def read(cls, path: Path) -> "Check":
        text = path.read_text(encoding="utf-8")
        meta = dict(_HEADER.findall(text))
        return cls(meta.get("shape", path.stem), meta.get("constraint", ""), text)


def read_checks(queries_dir: Path) -> list[Check]:
    return [Check.read(p) for p in sorted((queries_dir / "shapes").glob("*.rq"))]


@dataclass(frozen=True)
class Violation:
    focus: ox.NamedNode | ox.BlankNode
    shape: str
    constraint: str
    component: str


def find_violations(store: ox.Store, checks: Sequence[Check], graphs: Sequence[str],
                    query_base: str) -> list[Violation]:
    """Every violation in the union of ``graphs`` of ``store`` (relative IRIs of the checks, such as
    the schemes' ``<id/scheme/mechanisms>``, resolve against ``query_base``)."""
    nodes = tuple(ox.NamedNode(g) for g in graphs)
    # When the store holds just these graphs their union is the same dataset, and Oxigraph
    # evaluates it faster than an explicit list of graphs.
    union = all(isinstance(g, ox.NamedNode) and g.value in graphs for g in store.named_graphs())
    dataset = Dataset(True) if union else Dataset(False, nodes, nodes)
    found = []
    for check in checks:
        for row in dataset.select(store, check.text, base_iri=query_base):
            focus, component = row["focus"], row["component"]
            if not isinstance(focus, ox.NamedNode | ox.BlankNode) or not isinstance(component, ox.NamedNode):
                raise ValueError(f"check {check.shape}: ?focus must be a node and ?component an IRI")
            found.append(Violation(focus, check.shape, check.constraint, component.value))
    return found


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
