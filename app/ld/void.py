"""The VoID description of the dataset (``/void``, ``/.well-known/void``).

The numbers come from the ``queries/ld_void_*.rq`` queries over the default graph of
``/sparql`` (the union of the data, ontology and inferred graphs). Service URLs (the SPARQL
endpoint, the dumps) are built from the URL the description was requested at; the dataset
itself is named ``{KG_BASE_IRI}/void#dataset``. Its ``void:dataDump`` links are the files of the
current release (``/export/{release}/bjrd-kg.ttl`` …), whose content never changes; the release is
its ``owl:versionInfo`` and ``/export/SHA256SUMS`` its ``rdfs:seeAlso``. Each source (article) the data
is drawn from is a ``dcterms:source`` of the dataset and a ``void:subset`` of it
(``{KG_BASE_IRI}/void#source-{id}``) whose ``void:dataDump`` links are that source's release files
(``/export/{release}/sources/{id}/bjrd-kg.ttl`` …).
"""

from dataclasses import dataclass, field

import pyoxigraph as ox

from app.build.graph import KnowledgeGraph
from app.ld.export import release_id, source_ids
from app.ld.service import FORMAT_IRIS
from app.rdf import namespaces
from app.rdf.formats import BY_NAME, EXPORT_FORMATS
from app.rdf.namespaces import DCTERMS, FORMATS, OWL, RDFS, VOID, XSD

RDF_TYPE = ox.NamedNode(namespaces.RDF_TYPE)
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = {"zh": "北京区人大工作亮点知识图谱", "en": "Beijing district people's congresses knowledge graph"}
DESCRIPTION = {
    "zh": "《北京人大》2023年第7期所载北京市16个区人大工作亮点：做法、工作机制、主题、数据事实及原文引文。",
    "en": "The work highlights of Beijing's 16 district people's congresses reported in Beijing People's Congress "
          "2023 issue 7: practices, named mechanisms, themes, stated numbers and verbatim quotes.",
}


@dataclass
class VoidStats:
    """What /void reports; also the context of its HTML page."""

    dataset: str
    uri_space: str
    sparql_endpoint: str
    dumps: dict[str, str]
    release: str
    checksums: str
    #: Every source: id -> (its IRI, its dumps by format name, its SHA256SUMS).
    sources: dict[str, tuple[str, dict[str, str], str]]
    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    classes: list[tuple[str, int]] = field(default_factory=list)
    properties: list[tuple[str, int, int, int]] = field(default_factory=list)
    vocabularies: list[str] = field(default_factory=list)


def namespace(iri: str) -> str:
    """The namespace of a term: up to the last ``#`` or ``/``."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def release_dumps(folder: str) -> dict[str, str]:
    """The dump files of a release folder, by format name."""
    return {name: f"{folder}/bjrd-kg.{BY_NAME[name].extension}" for name in EXPORT_FORMATS}


def void_stats(graph: KnowledgeGraph, service_base: str) -> VoidStats:
    """Run the VoID queries; ``service_base`` is the URL this service is reached at (no trailing /)."""
    base = graph.settings.base_iri
    uri_space = base + "/id/"
    # An empty store has no group to count in: every statistic is then 0 (never an IndexError, a 500).
    totals = next(iter(graph.run("ld_void_totals")), {})
    entity_rows = graph.run("ld_void_entities", uri_space=ox.Literal(uri_space))
    entities = entity_rows[0].get("entities", 0) if entity_rows else 0
    classes = [(r["class"], r["entities"]) for r in graph.run("ld_void_classes")]
    properties = [(r["property"], r["triples"], r["distinct_subjects"], r["distinct_objects"])
                  for r in graph.run("ld_void_properties")]
    vocabularies = sorted({namespace(t) for t, _ in classes} | {namespace(p) for p, *_ in properties})
    return VoidStats(
        dataset=base + "/void#dataset",
        uri_space=uri_space,
        sparql_endpoint=service_base + "/sparql",
        dumps=release_dumps(f"{service_base}/export/{release_id(graph)}"),
        release=release_id(graph),
        checksums=f"{service_base}/export/SHA256SUMS",
        sources={id: (iri, release_dumps(f"{service_base}/export/{release_id(graph)}/sources/{id}"),
                      f"{service_base}/export/{release_id(graph)}/sources/{id}/SHA256SUMS")
                 for id, iri in source_ids(graph).items()},
        triples=totals.get("triples", 0),
        entities=entities,
        distinct_subjects=totals.get("distinct_subjects", 0),
        distinct_objects=totals.get("distinct_objects", 0),
        classes=classes,
        properties=properties,
        vocabularies=[v for v in vocabularies if v.startswith("http")],
    )


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def void_triples(stats: VoidStats) -> list[ox.Triple]:
    """The VoID description as triples."""
    ds = ox.NamedNode(stats.dataset)

    def v(name: str) -> ox.NamedNode:
        return ox.NamedNode(VOID + name)

    def d(name: str) -> ox.NamedNode:
        return ox.NamedNode(DCTERMS + name)

    out = [
        ox.Triple(ds, RDF_TYPE, v("Dataset")),
        *(ox.Triple(ds, d("title"), ox.Literal(text, language=lang)) for lang, text in TITLE.items()),
        *(ox.Triple(ds, d("description"), ox.Literal(text, language=lang)) for lang, text in DESCRIPTION.items()),
        ox.Triple(ds, d("license"), ox.NamedNode(LICENSE)),
        *(ox.Triple(ds, d("source"), ox.NamedNode(iri)) for iri, _, _ in stats.sources.values()),
        ox.Triple(ds, v("sparqlEndpoint"), ox.NamedNode(stats.sparql_endpoint)),
        ox.Triple(ds, ox.NamedNode(OWL + "versionInfo"), ox.Literal(stats.release)),
        ox.Triple(ds, ox.NamedNode(RDFS + "seeAlso"), ox.NamedNode(stats.checksums)),
        ox.Triple(ds, v("uriSpace"), ox.Literal(stats.uri_space)),
        ox.Triple(ds, v("triples"), _int(stats.triples)),
        ox.Triple(ds, v("entities"), _int(stats.entities)),
        ox.Triple(ds, v("distinctSubjects"), _int(stats.distinct_subjects)),
        ox.Triple(ds, v("distinctObjects"), _int(stats.distinct_objects)),
        ox.Triple(ds, v("classes"), _int(len(stats.classes))),
        ox.Triple(ds, v("properties"), _int(len(stats.properties))),
    ]
    for name, url in stats.dumps.items():
        out.append(ox.Triple(ds, v("dataDump"), ox.NamedNode(url)))
        out.append(ox.Triple(ds, v("feature"), ox.NamedNode(FORMATS + FORMAT_IRIS[BY_NAME[name].name])))
    out += [ox.Triple(ds, v("vocabulary"), ox.NamedNode(ns)) for ns in stats.vocabularies]
    for id, (iri, dumps, checksums) in stats.sources.items():
        subset = ox.NamedNode(f"{stats.dataset.removesuffix('#dataset')}#source-{id}")
        out += [ox.Triple(ds, v("subset"), subset), ox.Triple(subset, RDF_TYPE, v("Dataset")),
                ox.Triple(subset, d("source"), ox.NamedNode(iri)),
                ox.Triple(subset, ox.NamedNode(RDFS + "seeAlso"), ox.NamedNode(checksums)),
                *(ox.Triple(subset, v("dataDump"), ox.NamedNode(url)) for url in dumps.values())]
    # The dataset's own triples first, then one block per partition: Turtle groups them by subject.
    parts: list[ox.Triple] = []
    for i, (cls, count) in enumerate(stats.classes):
        part = ox.BlankNode(f"class{i}")
        out.append(ox.Triple(ds, v("classPartition"), part))
        parts += [ox.Triple(part, v("class"), ox.NamedNode(cls)), ox.Triple(part, v("entities"), _int(count))]
    for i, (prop, triples, subjects, objects) in enumerate(stats.properties):
        part = ox.BlankNode(f"property{i}")
        out.append(ox.Triple(ds, v("propertyPartition"), part))
        parts += [ox.Triple(part, v("property"), ox.NamedNode(prop)), ox.Triple(part, v("triples"), _int(triples)),
                  ox.Triple(part, v("distinctSubjects"), _int(subjects)),
                  ox.Triple(part, v("distinctObjects"), _int(objects))]
    return out + parts


@dataclass(frozen=True)
class Citation:
    """How to cite one release of the dataset: a line of text and a BibTeX entry (also CITATION.cff)."""

    release: str
    url: str
    text: str
    bibtex: str
    license: str


def citation(graph: KnowledgeGraph, service_base: str) -> Citation:
    """The citation of the release served now; ``service_base``: the service's public URL."""
    release = release_id(graph)
    url = f"{service_base}/export/{release}/"
    text = (f"bjrd-kg contributors. {TITLE['zh']} ({TITLE['en']}), release {release}. "
            f"Dataset, CC BY 4.0. {url} . Source: 《北京人大》2023年第7期.")
    bibtex = (f"@misc{{bjrd-kg-{release},\n"
              f"  author = {{{{bjrd-kg contributors}}}},\n"
              f"  title = {{{{{TITLE['en']}}} ({TITLE['zh']})}},\n"
              f"  howpublished = {{Dataset}},\n"
              f"  version = {{{release}}},\n"
              f"  url = {{{url}}},\n"
              f"  note = {{{DESCRIPTION['en']} License: CC BY 4.0}}\n"
              f"}}\n")
    return Citation(release, url, text, bibtex, LICENSE)
