"""The view model of ``/ontology`` as HTML: every class and property the ontology graph labels."""

from collections import defaultdict
from dataclasses import dataclass
from typing import ClassVar

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.ld.links import Linker, Ref, Text, curie, ontology_anchor
from app.rdf.namespaces import BJRD, DCTERMS, OWL, RDF, RDFS, SKOS

Node = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
#: Earlier versions of the ontology, one file each, under the ontology directory.
VERSIONS_DIR = "versions"


@dataclass
class TermDoc:
    """One class or property of the ontology, for /ontology as HTML."""

    iri: str
    anchor: str
    curie: str
    kind: str
    labels: list[Text]
    definitions: list[Text]
    comments: list[Text]
    supers: list[Ref]
    subs: list[Ref]
    domain: list[list[Ref]]
    range: list[list[Ref]]
    characteristics: list[str]
    chains: list[list[Ref]]
    examples: list[tuple[Ref, Ref | Text | None]]


class OntologyDoc:
    """Documentation of every class and property the ontology graph labels."""

    KINDS: ClassVar[dict[str, str]] = {OWL + "Class": "class", OWL + "ObjectProperty": "object property",
             OWL + "DatatypeProperty": "datatype property",
                                       OWL + "NamedIndividual": "individual"}

    def __init__(self, graph: KnowledgeGraph, lang: str, triples: list[ox.Triple] | None = None) -> None:
        self.graph = graph
        self.link = Linker(graph, lang)
        self.triples = triples if triples is not None else [q.triple for q in graph.loaded.ontology]
        self.out: dict[object, dict[str, list[Node]]] = defaultdict(lambda: defaultdict(list))
        for t in self.triples:
            self.out[t.subject][t.predicate.value].append(t.object)

    def objects(self, node: object, predicate: str) -> list[Node]:
        return sorted(self.out.get(node, {}).get(predicate, []), key=str)

    def texts(self, node: object, predicate: str) -> list[Text]:
        return [Text(v.value, v.language) for v in self.objects(node, predicate) if isinstance(v, ox.Literal)]

    def class_expression(self, node: object) -> list[Ref]:
        """A named class, or the members of an owl:unionOf."""
        if isinstance(node, ox.NamedNode):
            return [self.link.term(node.value)]
        members = self.objects(node, OWL + "unionOf")
        return [self.link.term(m.value) for m in self.rdf_list(members[0])] if members else []

    def rdf_list(self, head: object) -> list[ox.NamedNode]:
        items: list[ox.NamedNode] = []
        while isinstance(head, ox.BlankNode):
            first = self.objects(head, RDF + "first")
            items += [f for f in first if isinstance(f, ox.NamedNode)]
            rest = self.objects(head, RDF + "rest")
            head = rest[0] if rest else None
        return items

    def ontology(self) -> dict[str, object]:
        node = next((t.subject for t in self.triples if t.object == ox.NamedNode(OWL + "Ontology")), None)
        if not isinstance(node, ox.NamedNode):
            return {}

        def one(predicate: str) -> str | None:
            values = [v for v in self.objects(node, predicate) if isinstance(v, ox.NamedNode | ox.Literal)]
            return values[0].value if values else None

        return {"iri": node.value, "titles": self.texts(node, DCTERMS + "title"),
                "descriptions": self.texts(node, DCTERMS + "description"),
                "version": one(OWL + "versionInfo"), "version_iri": one(OWL + "versionIRI"),
                "prior_version": one(OWL + "priorVersion"), "license": one(DCTERMS + "license"),
                "created": one(DCTERMS + "created"), "imports": [i.value for i in self.objects(node, OWL + "imports")
                            if isinstance(i, ox.NamedNode)]}

    def terms(self) -> list[TermDoc]:
        documented = sorted({s.value for t in self.triples
                             if t.predicate.value in (RDFS + "label", SKOS + "prefLabel")
                             and isinstance(s := t.subject, ox.NamedNode)})
        docs = [self.term(iri) for iri in documented]
        order = {"class": 0, "object property": 1, "datatype property": 2, "individual": 3, "property": 4}
        return sorted(docs, key=lambda d: (order.get(d.kind, 4), not d.iri.startswith(BJRD), d.curie))

    def term(self, iri: str) -> TermDoc:
        node = ox.NamedNode(iri)
        types = [t.value for t in self.objects(node, RDF + "type") if isinstance(t, ox.NamedNode)]
        kind = next((self.KINDS[t] for t in types if t in self.KINDS), "property")
        is_class = kind == "class"
        super_p = RDFS + ("subClassOf" if is_class else "subPropertyOf")
        subs = sorted({s.value for t in self.triples
                       if t.predicate.value == super_p and t.object == node
                       and isinstance(s := t.subject, ox.NamedNode)})
        chains = [self.rdf_list(c) for c in self.objects(node, OWL + "propertyChainAxiom")]
        return TermDoc(
            iri=iri, anchor=ontology_anchor(iri), curie=curie(iri), kind=kind,
            labels=self.texts(node, RDFS + "label") or self.texts(node, SKOS + "prefLabel"),
            definitions=self.texts(node, SKOS + "definition"),
            comments=self.texts(node, RDFS + "comment"),
            supers=[self.link.term(s.value) for s in self.objects(node, super_p) if isinstance(s, ox.NamedNode)],
            subs=[self.link.term(s) for s in subs],
            domain=[self.class_expression(d) for d in self.objects(node, RDFS + "domain")],
            range=[self.class_expression(r) for r in self.objects(node, RDFS + "range")],
            characteristics=[curie(t) for t in types if t not in self.KINDS],
            chains=[[self.link.term(p.value) for p in chain] for chain in chains],
            examples=self.examples(iri, is_class),
        )

    def examples(self, iri: str, is_class: bool) -> list[tuple[Ref, Ref | Text | None]]:
        out: list[tuple[Ref, Ref | Text | None]] = []
        if is_class:
            for row in self.graph.run("ld_class_examples", **{"class": iri}):
                out.append((self._row_ref(row["instance"], row.get(f"label_{self.link.lang}")), None))
            return out
        for row in self.graph.run_terms("ld_property_examples", property=iri):
            obj = row["object"]
            shown: Ref | Text
            if isinstance(obj, ox.Literal):
                shown = Text(obj.value if len(obj.value) <= 60 else obj.value[:60] + "…", obj.language)
            else:
                shown = self._labelled(obj.value)
            out.append((self._labelled(row["subject"].value), shown))
        return out

    def _labelled(self, iri: str) -> Ref:
        rows = self.graph.run("ld_labels", entity=iri)
        return self._row_ref(iri, rows[0].get(f"label_{self.link.lang}") if rows else None)

    def _row_ref(self, iri: str, label: str | None) -> Ref:
        text = Text(label, self.link.lang) if label else self.link.fallback(iri)
        return Ref(iri, self.link.href(iri), text)


def version_info(triples: list[ox.Triple]) -> str | None:
    """The ``owl:versionInfo`` of the ontology these triples describe."""
    ontologies = {t.subject for t in triples if t.object == ox.NamedNode(OWL + "Ontology")}
    return next((t.object.value for t in triples if t.subject in ontologies
                 and t.predicate.value == OWL + "versionInfo" and isinstance(t.object, ox.Literal)), None)


def ontology_versions(graph: KnowledgeGraph) -> dict[str, list[ox.Triple]]:
    """Every published version of the ontology, by ``owl:versionInfo``: the one loaded now, and each
    earlier one kept in ``ontology/versions/<version>.ttl`` (so that its ``owl:versionIRI`` resolves)."""

    def build() -> dict[str, list[ox.Triple]]:
        versions = {path.stem: list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
                    for path in sorted((graph.settings.ontology_dir / VERSIONS_DIR).glob("*.ttl"))}
        current = [q.triple for q in graph.loaded.ontology]
        info = version_info(current)
        if info is not None:
            versions[info] = current
        return versions

    return graph.memo.get(("ontology-versions",), build, size=1)
