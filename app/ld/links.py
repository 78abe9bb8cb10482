"""Links on the linked-data HTML pages: hrefs and labels of IRIs, CURIEs, ontology anchors.

Links to entities stay on this service (``/id/{kind}/{slug}``, whatever ``KG_BASE_IRI`` is);
vocabulary terms link to ``/ontology#…``.
"""

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote as urlquote

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.ld.describe import Description, split_entity_iri
from app.rdf.namespaces import BJRD, CURIE_PREFIXES, OA, RDFS


@dataclass(frozen=True)
class Text:
    """A string and its language tag (None when it has none): templates put it in ``lang``."""

    value: str
    lang: str | None = None


@dataclass(frozen=True)
class Ref:
    """A link to a resource: where it goes, its label in the page language and in the other one."""

    iri: str
    href: str
    label: Text
    other: Text | None = None


def curie(iri: str) -> str:
    for prefix, namespace in CURIE_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def ontology_anchor(iri: str) -> str:
    """The fragment of a term on /ontology: the local name for bjrd terms, the CURIE for others."""
    return iri[len(BJRD):] if iri.startswith(BJRD) else curie(iri)


def term_labels(graph: KnowledgeGraph) -> dict[str, dict[str, str]]:
    """Labels of the terms the ontology graph documents: IRI -> {lang: label}."""
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for q in graph.loaded.ontology:
        subject, label = q.subject, q.object
        if (q.predicate.value == RDFS + "label" and isinstance(subject, ox.NamedNode)
                and isinstance(label, ox.Literal) and label.language):
            labels[subject.value].setdefault(label.language, label.value)
    return dict(labels)


class Linker:
    """Turns IRIs into hrefs and labels for one page (one graph, one language)."""

    def __init__(self, graph: KnowledgeGraph, lang: str, desc: Description | None = None) -> None:
        self.graph = graph
        self.lang = lang
        self.other_lang = "en" if lang == "zh" else "zh"
        self.desc = desc
        self.terms = term_labels(graph)

    def href(self, iri: str) -> str:
        entity = split_entity_iri(self.graph, iri)
        if entity:
            return f"/id/{entity[0]}/{urlquote(entity[1])}?lang={self.lang}"
        if iri in self.terms or iri.startswith(BJRD):
            return f"/ontology?lang={self.lang}#{ontology_anchor(iri)}"
        return iri

    def _label(self, iri: str, lang: str) -> Text | None:
        if self.desc is not None:
            found = self.desc.label(ox.NamedNode(iri), lang)
            if found is not None:
                return Text(found.value, found.language)
        if iri in self.terms and lang in self.terms[iri]:
            return Text(self.terms[iri][lang], lang)
        return None

    def ref(self, node: ox.NamedNode | ox.BlankNode | ox.Triple | str) -> Ref:
        if isinstance(node, ox.BlankNode | ox.Triple):
            return Ref(str(node), "", Text(str(node)))
        iri = node if isinstance(node, str) else node.value
        label = self._label(iri, self.lang)
        other = self._label(iri, self.other_lang)
        if label is None:
            label, other = (other, None) if other else (self.fallback(iri), None)
        return Ref(iri, self.href(iri), label, other)

    def fallback(self, iri: str) -> Text:
        """What to show for a resource without a label: a quote's own words (the start of them), else
        its slug or CURIE."""
        if self.desc is not None and iri.startswith(("http://", "https://", "urn:")):
            exact = self.desc.literal(ox.NamedNode(iri), OA + "exact")
            if exact is not None:
                words = exact.value if len(exact.value) <= 30 else exact.value[:30] + "…"
                return Text(words if words.startswith("“") else f"“{words}”", "zh")
        entity = split_entity_iri(self.graph, iri)
        return Text(entity[1] if entity else curie(iri))

    def term(self, iri: str) -> Ref:
        """A property or class: its label from the ontology, or its CURIE."""
        labels = self.terms.get(iri, {})
        text = Text(labels[self.lang], self.lang) if self.lang in labels else Text(curie(iri))
        return Ref(iri, self.href(iri), text, Text(curie(iri)))
