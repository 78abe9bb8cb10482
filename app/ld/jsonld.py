"""The JSON-LD context published at ``/context.jsonld``, and compaction of RDF with it.

Every ``application/ld+json`` response of the linked-data routes (entity descriptions,
``/export?format=jsonld``, ``/ontology``, ``/shapes``, ``/void``, the indexes) is compacted with
:data:`CONTEXT` by rdflib's JSON-LD serializer. An entity description and the dump
``/export?format=jsonld`` carry the context inline, so that any JSON-LD processor reads them with
no network (and a downloaded copy expands without the service); the others refer to the published
context by URL (``"@context": "{public base}/context.jsonld"``, the public base being
``KG_PUBLIC_URL``, else the address ``kg serve`` listens on). CONTEXT has a term for every
property and class the data and the ontology use, so that no key is left as a full IRI or CURIE.

The context is independent of ``KG_BASE_IRI``: entity IRIs stay absolute in compacted output
(short keys such as ``district`` are property names, so they cannot double as IRI prefixes).
"""

import json
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from app.rdf.convert import to_rdflib_graph
from app.rdf.namespaces import CURIE_PREFIXES

CONTEXT_PATH = "/context.jsonld"


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri, "@type": "@id"}


def _lang(iri: str) -> dict[str, str]:
    return {"@id": iri, "@container": "@language"}


CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    **CURIE_PREFIXES,
    "id": "@id",
    "type": "@type",
    # classes
    "District": "bjrd:District",
    "DistrictCongress": "bjrd:DistrictCongress",
    "Practice": "bjrd:Practice",
    "Mechanism": "bjrd:Mechanism",
    "Theme": "bjrd:Theme",
    "Fact": "bjrd:Fact",
    "Quote": "bjrd:Quote",
    "SupervisionTopic": "bjrd:SupervisionTopic",
    "Unit": "bjrd:Unit",
    "MechanismKind": "bjrd:MechanismKind",
    "ConceptKind": "bjrd:ConceptKind",
    "Named": "bjrd:Named",
    "Umbrella": "bjrd:Umbrella",
    "Concept": "skos:Concept",
    "ConceptScheme": "skos:ConceptScheme",
    # bjrd properties
    "divisionCode": "bjrd:divisionCode",
    "congress": _ref("bjrd:congress"),
    "paragraph": _ref("bjrd:paragraph"),
    "district": _ref("bjrd:district"),
    "usesMechanism": _ref("bjrd:usesMechanism"),
    "theme": _ref("bjrd:theme"),
    "evidence": _ref("bjrd:evidence"),
    "ofPractice": _ref("bjrd:ofPractice"),
    "mechanismKind": _ref("bjrd:mechanismKind"),
    "topicKind": _ref("bjrd:topicKind"),
    "supervisesTopic": _ref("bjrd:supervisesTopic"),
    "unit": _ref("bjrd:unit"),
    # labels and documentation: language maps ({"zh": "...", "en": "..."})
    "label": _lang("rdfs:label"),
    "comment": _lang("rdfs:comment"),
    "prefLabel": _lang("skos:prefLabel"),
    "altLabel": _lang("skos:altLabel"),
    "definition": _lang("skos:definition"),
    "title": _lang("dcterms:title"),
    "description": _lang("dcterms:description"),
    "unitText": _lang("schema:unitText"),
    "name": _lang("schema:name"),
    "articleSection": _lang("schema:articleSection"),
    "publisher": _lang("dcterms:publisher"),
    "foafName": _lang("foaf:name"),
    # SKOS structure
    "broader": _ref("skos:broader"),
    "narrower": _ref("skos:narrower"),
    "notation": "skos:notation",
    "broaderTransitive": _ref("skos:broaderTransitive"),
    "narrowerTransitive": _ref("skos:narrowerTransitive"),
    "inScheme": _ref("skos:inScheme"),
    "topConceptOf": _ref("skos:topConceptOf"),
    "hasTopConcept": _ref("skos:hasTopConcept"),
    # quotes, facts, sources
    "exact": "oa:exact",
    "start": "oa:start",
    "end": "oa:end",
    "value": "schema:value",
    "minValue": "schema:minValue",
    "source": _ref("dcterms:source"),
    "isPartOf": _ref("dcterms:isPartOf"),
    "subject": _ref("dcterms:subject"),
    "license": _ref("dcterms:license"),
    "wasDerivedFrom": _ref("prov:wasDerivedFrom"),
    # sources and their files (dcterms:creator is a name or an IRI: not coerced)
    "created": "dcterms:created",
    "creator": "dcterms:creator",
    "date": "dcterms:date",
    "issued": "dcterms:issued",
    "identifier": "dcterms:identifier",
    "format": "dcterms:format",
    "language": "dcterms:language",
    "author": _ref("schema:author"),
    "encoding": _ref("schema:encoding"),
    "contentSize": "schema:contentSize",
    "contentUrl": "schema:contentUrl",
    "sha256": "schema:sha256",
    "issueNumber": "schema:issueNumber",
    "startDate": "schema:startDate",
    "endDate": "schema:endDate",
    "startTime": "schema:startTime",
    # ontology structure
    "subClassOf": _ref("rdfs:subClassOf"),
    "subPropertyOf": _ref("rdfs:subPropertyOf"),
    "domain": _ref("rdfs:domain"),
    "range": _ref("rdfs:range"),
    "inverseOf": _ref("owl:inverseOf"),
    "unionOf": "owl:unionOf",
    "propertyChainAxiom": "owl:propertyChainAxiom",
    "imports": _ref("owl:imports"),
    "versionIRI": _ref("owl:versionIRI"),
    "priorVersion": _ref("owl:priorVersion"),
    "versionInfo": "owl:versionInfo",
    "first": "rdf:first",
    "rest": "rdf:rest",
    "preferredNamespacePrefix": "vann:preferredNamespacePrefix",
    "preferredNamespaceUri": "vann:preferredNamespaceUri",
}


def context_document() -> dict[str, Any]:
    """The document served at ``/context.jsonld``."""
    return {"@context": CONTEXT}


def _canonical(value: Any) -> Any:
    """Sort JSON arrays (except ``@list``) so that the same graph always gives the same bytes."""
    if isinstance(value, dict):
        return {k: ([_canonical(v) for v in value[k]] if k == "@list" else _canonical(value[k])) for k in value}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def _context_for(triples: list[ox.Triple]) -> dict[str, Any]:
    """CONTEXT minus ``"@type": "@id"`` on the terms that have blank-node objects here.

    rdflib's serializer writes a coerced blank node as a bare ``"_:b0"`` string and then drops
    that node's own triples; without the coercion it writes ``{"id": "_:b0"}`` and keeps them.
    The output stays correct under the published CONTEXT (coercion only applies to strings).
    """
    with_blank = {t.predicate.value for t in triples if isinstance(t.object, ox.BlankNode)}
    if not with_blank:
        return CONTEXT
    prefixes = {k: v for k, v in CONTEXT.items() if isinstance(v, str) and v.endswith(("#", "/"))}

    def expand(curie: str) -> str:
        prefix, _, local = curie.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else curie

    context = dict(CONTEXT)
    for key, value in CONTEXT.items():
        if isinstance(value, dict) and value.get("@type") == "@id" and expand(value["@id"]) in with_blank:
            context[key] = {"@id": value["@id"]}
    return context


def compact(triples: Iterable[ox.Triple], context_url: str | None) -> bytes:
    """Triples as compacted JSON-LD whose ``@context`` is ``context_url`` (the published CONTEXT),
    or, when ``context_url`` is None, the context itself (a file that expands offline)."""
    triples = list(triples)
    graph = to_rdflib_graph(triples)
    text = graph.serialize(format="json-ld", context=_context_for(triples), auto_compact=True)
    document = json.loads(text)
    if isinstance(document, list):  # an empty graph
        document = {"@graph": document}
    document.pop("@context", None)
    body = {"@context": context_url if context_url is not None else CONTEXT, **_canonical(document)}
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8") + b"\n"
