"""SHACL validation of the whole graph (asserted + ontology + inferred) with pySHACL."""

import re
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate

from app.rdf.convert import to_rdflib_graph
from app.rdf.namespaces import SH

_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Report:
    conforms: bool
    text: str
    graph: rdflib.Graph

    def results(self) -> list[dict[str, str]]:
        """One dict per sh:ValidationResult: focus, path, shape, severity, message (zh and en)."""
        sh = rdflib.Namespace(SH)
        g = self.graph
        out = []
        for result in g.subjects(rdflib.RDF.type, sh.ValidationResult):
            messages: dict[str, str] = {}
            for m in g.objects(result, sh.resultMessage):
                if isinstance(m, rdflib.Literal):
                    # pySHACL drops the language tags of SPARQL-constraint messages: tell zh by its script.
                    lang = m.language or ("zh" if _HAN.search(str(m)) else "en")
                    messages[lang] = str(m)
            out.append(
                {
                    "focus": str(g.value(result, sh.focusNode)),
                    "path": str(g.value(result, sh.resultPath) or ""),
                    "shape": str(g.value(result, sh.sourceShape)),
                    "severity": str(g.value(result, sh.resultSeverity)).rsplit("#", 1)[-1],
                    "message_zh": messages.get("zh", ""),
                    "message_en": messages.get("en", messages.get("und", "")),
                }
            )
        return sorted(out, key=lambda r: (r["shape"], r["focus"]))


def validate(triples: list[ox.Triple], shapes: list[ox.Triple]) -> Report:
    """Validate ``triples`` (data, ontology and inferred together) against ``shapes``."""
    data_graph = to_rdflib_graph(triples)
    shapes_graph = to_rdflib_graph(shapes)
    conforms, report_graph, text = shacl_validate(
        data_graph, shacl_graph=shapes_graph, inference="none", abort_on_first=False, allow_warnings=False
    )
    return Report(bool(conforms), str(text), report_graph)
