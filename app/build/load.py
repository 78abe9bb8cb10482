"""Read ontology/ and data/ into quads, once, with entity IRIs rebased onto ``base_iri``.

Turtle files are written against :data:`app.config.CANONICAL_BASE`; when the service runs
with another ``KG_BASE_IRI`` every IRI under ``{canonical}/id/`` is rewritten. The vocabulary
namespaces (``/ontology#``, ``/shapes#``) are fixed and never rewritten.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from app.config import CANONICAL_BASE, Settings
from app.errors import DataError
from app.rdf.source_text import read_source_text
from app.store.graphs import GraphNames

SHAPES_FILE = "shapes.ttl"
#: Per source, under the data directory: ``sources/{id}/`` with its text, its description and its districts.
SOURCES_DIR = "sources"
TEXT_FILE = "article.txt"
DESCRIPTION_FILE = "source.ttl"


@dataclass(frozen=True)
class SourceDir:
    """One source's directory, ``{data}/sources/{id}/``: ``article.txt`` (the text its quotes' offsets point
    into), ``source.ttl`` (the article, ``{base}/id/source/{id}``: title, issue, date, the text's SHA-256) and
    ``districts/*.ttl`` (what it says of each district). The directory's name is the source's id."""

    id: str
    path: Path

    @property
    def text_file(self) -> Path:
        return self.path / TEXT_FILE

    @property
    def description(self) -> Path:
        return self.path / DESCRIPTION_FILE

    @property
    def districts(self) -> tuple[Path, ...]:
        return tuple(sorted(self.path.glob("districts/*.ttl")))

    def text(self) -> str:
        """The text as its quotes' offsets count it (:func:`app.rdf.source_text.read_source_text`: strict UTF-8,
        no newline translated, a BOM kept; an error naming the file otherwise)."""
        return read_source_text(self.text_file)

    def iri(self, base_iri: str = CANONICAL_BASE) -> str:
        return f"{base_iri}/id/source/{self.id}"


def source_dirs(data_dir: Path) -> tuple[SourceDir, ...]:
    """Every source of ``data_dir`` (a directory of ``sources/`` holding a ``source.ttl``), in id order."""
    return tuple(SourceDir(p.name, p) for p in sorted((data_dir / SOURCES_DIR).glob("*/"))
                 if (p / DESCRIPTION_FILE).is_file())


def find_source(data_dir: Path, id: str | None = None) -> SourceDir:
    """The source ``id`` of ``data_dir``; without an id, the one source (an error naming the ids when there
    are several or none)."""
    sources = {s.id: s for s in source_dirs(data_dir)}
    if id is None and len(sources) == 1:
        return next(iter(sources.values()))
    if id is not None and id in sources:
        return sources[id]
    what = f"no source {id!r}" if id is not None else f"{len(sources)} sources, name one"
    raise DataError(f"{data_dir / SOURCES_DIR}: {what}; the sources are: {', '.join(sources) or 'none'}")


@dataclass(frozen=True)
class SourceFiles:
    ontology: tuple[Path, ...]
    data: tuple[Path, ...]
    shapes: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> "SourceFiles":
        """The shared schemes (``data/*.ttl``), then each source's description and districts."""
        ontology = tuple(p for p in sorted(settings.ontology_dir.glob("*.ttl")) if p.name != SHAPES_FILE)
        data = tuple(sorted(settings.data_dir.glob("*.ttl")))
        for source in source_dirs(settings.data_dir):
            data += (source.description, *source.districts)
        return cls(ontology, data, settings.ontology_dir / SHAPES_FILE)


class Rebaser:
    """Maps terms written against the canonical base onto the configured base."""

    def __init__(self, base_iri: str) -> None:
        self.old = f"{CANONICAL_BASE}/id/"
        self.new = f"{base_iri}/id/"
        self.active = self.old != self.new

    def iri(self, iri: ox.NamedNode) -> ox.NamedNode:
        if iri.value.startswith(self.old):
            return ox.NamedNode(self.new + iri.value[len(self.old):])
        return iri

    def triple(self, t: ox.Triple) -> ox.Triple:
        if not self.active:
            return t
        subject, obj = t.subject, t.object
        return ox.Triple(self.iri(subject) if isinstance(subject, ox.NamedNode) else subject, t.predicate,
                         self.iri(obj) if isinstance(obj, ox.NamedNode) else obj)


def parse_turtle(path: Path) -> Iterator[ox.Triple]:
    """Triples of one Turtle file; a syntax error becomes :class:`DataError` naming file and line."""
    try:
        quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:
        raise DataError(f"{path}: {exc}") from exc
    for q in quads:
        yield q.triple


def read_quads(files: Iterable[Path], graph: str, rebaser: Rebaser) -> list[ox.Quad]:
    name = ox.NamedNode(graph)
    quads = []
    for path in files:
        for t in parse_turtle(path):
            rebased = rebaser.triple(t)
            quads.append(ox.Quad(rebased.subject, rebased.predicate, rebased.object, name))
    return quads


def read_shapes(files: SourceFiles, base_iri: str) -> list[ox.Triple]:
    """The SHACL shapes, rebased like the data: shapes that name an entity (the mechanism and
    theme schemes in ``sh:hasValue``) must name it under the configured base."""
    rebaser = Rebaser(base_iri)
    return [rebaser.triple(t) for t in parse_turtle(files.shapes)]


def read_asserted(settings: Settings, files: SourceFiles) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """(ontology quads, data quads), each in its named graph."""
    names = GraphNames.for_base(settings.base_iri)
    rebaser = Rebaser(settings.base_iri)
    return read_quads(files.ontology, names.ontology, rebaser), read_quads(files.data, names.data, rebaser)
