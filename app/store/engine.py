"""KnowledgeGraph: the loaded, validated, read-only graph and the named queries over it."""

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from app.config import Settings
from app.errors import BadRequest, ValidationFailed
from app.store.backends import Backend, make_backend
from app.store.graphs import GraphNames
from app.store.infer import infer, read_rules
from app.store.load import SourceFiles, read_asserted, read_shapes
from app.store.queries import NamedQuery, read_queries
from app.store.terms import Term, to_python
from app.store.validate import Report, validate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """Everything read and derived at load time."""

    ontology: list[ox.Quad]
    data: list[ox.Quad]
    inferred: list[ox.Quad]
    shapes: list[ox.Triple]

    @property
    def quads(self) -> list[ox.Quad]:
        return self.ontology + self.data + self.inferred


def load(settings: Settings) -> Loaded:
    """Read ontology/ and data/, and infer; no validation."""
    files = SourceFiles.from_settings(settings)
    ontology, data = read_asserted(settings, files)
    names = GraphNames.for_base(settings.base_iri)
    inferred = infer(ontology + data, read_rules(settings.queries_dir), names.inferred)
    return Loaded(ontology, data, inferred, read_shapes(files))


def validate_loaded(loaded: Loaded) -> Report:
    return validate([q.triple for q in loaded.quads], loaded.shapes)


def content_hash(quads: list[ox.Quad]) -> str:
    """SHA-256 of the dataset's sorted N-Quads: the same graph always gives the same hash."""
    lines = sorted(str(q) for q in quads)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


class KnowledgeGraph:
    """The graph the service answers from. Read-only once built."""

    def __init__(self, settings: Settings, loaded: Loaded, report: Report | None) -> None:
        self.settings = settings
        self.loaded = loaded
        self.report = report
        self.names = GraphNames.for_base(settings.base_iri)
        self.queries: dict[str, NamedQuery] = read_queries(settings.queries_dir)
        self.backend: Backend = make_backend(settings.engine, loaded.quads, self.query_base)
        self.version = content_hash(loaded.quads)
        self.triples = len({q.triple for q in loaded.quads})

    @property
    def query_base(self) -> str:
        """Relative IRIs in queries resolve against ``{base_iri}/`` (so ``<id/district/haidian>`` works)."""
        return self.settings.base_iri + "/"

    @classmethod
    def build(cls, settings: Settings, *, check: bool | None = None) -> "KnowledgeGraph":
        """Load, infer and (unless ``check`` is False) validate; raises ValidationFailed."""
        started = time.perf_counter()
        loaded = load(settings)
        report = None
        if settings.validate_on_start if check is None else check:
            report = validate_loaded(loaded)
            if not report.conforms:
                raise ValidationFailed(report.text)
        graph = cls(settings, loaded, report)
        logger.info("graph loaded: %d triples, version %s, in %.2f s", graph.triples, graph.version[:12],
                    time.perf_counter() - started)
        return graph

    def iri(self, kind: str, slug: str) -> str:
        return f"{self.settings.base_iri}/id/{kind}/{slug}"

    def query(self, name: str) -> NamedQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise BadRequest(f"no named query {name!r}; known: {', '.join(sorted(self.queries))}") from None

    def run(self, name: str, **bindings: Term | str) -> list[dict[str, Any]]:
        """Run the named SELECT query with variables bound; rows as JSON values."""
        return [{k: to_python(v) for k, v in row.items()} for row in self.run_terms(name, **bindings)]

    def run_terms(self, name: str, **bindings: Term | str) -> list[dict[str, Term]]:
        terms = {k: (ox.NamedNode(v) if isinstance(v, str) else v) for k, v in bindings.items()}
        return self.backend.select(self.query(name).text, terms)

    def construct(self, name: str, **bindings: Term | str) -> list[ox.Triple]:
        terms: Mapping[str, Term] = {k: (ox.NamedNode(v) if isinstance(v, str) else v) for k, v in bindings.items()}
        return self.backend.construct(self.query(name).text, terms)
