"""KnowledgeGraph: the loaded, validated, read-only graph, the named queries over it, and its memo.

A KnowledgeGraph is immutable: a write (app/writes/writes.py) builds a new one and the runtime
swaps it in, so a reader never sees a half-applied change. Whatever is derived from one graph
version (the /api catalog and answers, entity descriptions, rendered pages, dumps) is kept in
that graph's :class:`Memo`, and is dropped with it.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from app.build.build import BuildInfo, open_or_build, shacl_engine, validate_store
from app.build.infer import infer, read_rules
from app.build.load import SourceFiles, read_asserted, read_shapes
from app.build.queries import NamedQuery, read_queries
from app.build.validate import Report, validate
from app.config import Settings
from app.errors import BadRequest, ValidationFailed
from app.rdf.terms import Term, to_python
from app.store.backends import Backend, EmbeddedStore, GraphStore, OxigraphBackend, make_backend, reader_over
from app.store.graphs import GraphNames, meta_graph
from app.store.graphs import content_hash as content_hash  # re-exported
from app.store.kept import kept_rows
from app.store.remote import RemoteStore
from app.store.spec import StoreSpec

logger = logging.getLogger(__name__)

V = TypeVar("V")


class Memo:
    """Values derived from one graph version, computed once each: ``memo.get(key, build)``.

    ``key[0]`` names a section (``"describe"``, ``"catalog"``, ``"api"`` …); each section keeps at
    most ``size`` values (least recently used go first), so keys that come from requests (search
    texts, entity IRIs) cannot grow it without bound. Thread-safe; ``build`` runs outside the
    lock, and when two threads build the same value at once the first one stored is kept.
    """

    def __init__(self) -> None:
        self._sections: dict[Hashable, OrderedDict[tuple[Hashable, ...], Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Hashable, ...], build: Callable[[], V], *, size: int = 1024) -> V:
        with self._lock:
            section = self._sections.setdefault(key[0], OrderedDict())
            if key in section:
                section.move_to_end(key)
                value: V = section[key]
                return value
        value = build()
        with self._lock:
            value = section.setdefault(key, value)
            while len(section) > size:
                section.popitem(last=False)
        return value

    def peek(self, key: tuple[Hashable, ...]) -> Any | None:
        """The value stored under ``key``, or None (never builds)."""
        with self._lock:
            section = self._sections.get(key[0])
            return section.get(key) if section is not None else None


@dataclass(frozen=True)
class Loaded:
    """The dataset's content graphs (name -> quads) and the shapes it is validated against.

    ``data`` is every asserted data graph (the article's, plus any further source graph),
    ``ontology`` and ``inferred`` the two others.
    """

    names: GraphNames
    graphs: dict[str, list[ox.Quad]] = field(default_factory=dict)
    shapes: list[ox.Triple] = field(default_factory=list)

    @property
    def ontology(self) -> list[ox.Quad]:
        return self.graphs.get(self.names.ontology, [])

    @property
    def inferred(self) -> list[ox.Quad]:
        return self.graphs.get(self.names.inferred, [])

    @property
    def data(self) -> list[ox.Quad]:
        return [q for name in self.asserted_data_graphs() for q in self.graphs[name]]

    def asserted_data_graphs(self) -> list[str]:
        return sorted(n for n in self.graphs if n not in (self.names.ontology, self.names.inferred))

    @property
    def quads(self) -> list[ox.Quad]:
        return [q for name in sorted(self.graphs) for q in self.graphs[name]]


def with_inferences(names: GraphNames, asserted: Mapping[str, list[ox.Quad]], shapes: list[ox.Triple],
                    rules: list[tuple[str, str]]) -> Loaded:
    """``asserted`` graphs plus the inferred graph entailed by all of them."""
    graphs = {name: quads for name, quads in asserted.items() if name != names.inferred}
    everything = [q for quads in graphs.values() for q in quads]
    graphs[names.inferred] = infer(everything, rules, names.inferred)
    return Loaded(names, graphs, shapes)


def load(settings: Settings) -> Loaded:
    """Read ontology/ and data/, and infer; no validation."""
    files = SourceFiles.from_settings(settings)
    ontology, data = read_asserted(settings, files)
    names = GraphNames.for_base(settings.base_iri)
    return with_inferences(names, {names.ontology: ontology, names.data: data}, read_shapes(files, settings.base_iri),
                           read_rules(settings.queries_dir))


def validate_loaded(loaded: Loaded) -> Report:
    return validate([q.triple for q in loaded.quads], loaded.shapes)


def open_store(spec: StoreSpec, base_iri: str, query_base: str, timeout_s: float) -> GraphStore:
    """The store ``spec`` names (not read yet)."""
    if spec.kind == "sparql":
        return RemoteStore(spec, base_iri, query_base, timeout_s)
    return EmbeddedStore(spec, base_iri, query_base)


def push(loaded: Loaded, store: GraphStore, progress: Callable[[int], None] | None = None,
         record: Callable[[str], Sequence[ox.Triple]] | None = None) -> str:
    """Write ``loaded`` into ``store`` as its named graphs (idempotent); returns the version.
    ``record``: the provenance of this push, given its version, recorded with it once the graphs are written."""
    version = content_hash(loaded.quads)
    stale = [g for g in store.content_graphs() if g not in loaded.graphs]
    store.replace({name: [q.triple for q in quads] for name, quads in loaded.graphs.items()}, stale, version, progress,
                  (lambda: record(version)) if record else None)
    return version


class KnowledgeGraph:
    """The graph the service answers from. Read-only once built."""

    def __init__(self, settings: Settings, store: GraphStore, version: str, *, loaded: Loaded | None = None,
                 report: Report | None = None, triples: int | None = None, build: BuildInfo | None = None,
                 conforms: bool | None = None) -> None:
        self.settings = settings
        self.store = store
        self.version = version
        self.report = report
        #: Known to conform to the shapes: validated (at start-up, by a write, or when it was built
        #: into the disk store it is served from). A write to such a graph is validated only where
        #: it reaches (app.writes.revalidate); otherwise the whole graph is.
        self.conforms = (report is not None and report.conforms) if conforms is None else conforms
        self.names = GraphNames.for_base(settings.base_iri)
        self.queries: dict[str, NamedQuery] = read_queries(settings.queries_dir)
        #: Everything derived from this version, computed once.
        self.memo = Memo()
        self._loaded = loaded
        self.backend: Backend = store.backend
        if settings.engine == "rdflib":
            self.backend = make_backend("rdflib", self.loaded.quads, self.query_base)
        self.triples = self._count_triples() if triples is None else triples
        self.build_info = build
        #: The dataset as just built in memory for a store on disk (else None): the first derived
        #: answers are read from it (app.runtime), then it is dropped (:meth:`drop_built`).
        self.built: ox.Store | None = None

    @property
    def spec(self) -> StoreSpec:
        return self.store.spec

    @property
    def loaded(self) -> Loaded:
        """Every content graph, in memory (read from the store the first time it is needed)."""
        if self._loaded is None:
            files = SourceFiles.from_settings(self.settings)
            self._loaded = Loaded(self.names, self.store.read_graphs(), read_shapes(files, self.settings.base_iri))
        return self._loaded

    def _count_triples(self) -> int:
        if self._loaded is not None:
            return len({q.triple for q in self._loaded.quads})
        rows = self.backend.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
        return int(rows[0]["n"].value)

    @property
    def query_base(self) -> str:
        """Relative IRIs in queries resolve against ``{base_iri}/`` (so ``<id/district/haidian>`` works)."""
        return self.settings.base_iri + "/"

    @classmethod
    def build(cls, settings: Settings, *, check: bool | None = None) -> "KnowledgeGraph":
        """Open the store of ``KG_STORE`` and the graph in it.

        ``memory``: load the files, infer, validate (unless ``check`` is False) and hold them.
        ``disk:PATH``: the same the first time (an empty store); later starts serve what the
        store holds (it was validated when written). ``sparql:…``: serve what the store holds
        (``kg load`` puts it there, after validation). Raises ValidationFailed.
        """
        started = time.perf_counter()
        spec = StoreSpec.parse(settings.store)
        query_base = settings.base_iri + "/"
        store = open_store(spec, settings.base_iri, query_base, settings.query_timeout_s)
        if isinstance(store, EmbeddedStore) and settings.engine != "rdflib":
            # Built in the store: streamed, inferred and validated there (app/build/build.py).
            info, report, built = open_or_build(store, settings,
                                                check=settings.validate_on_start if check is None else check)
            graph = cls(settings, store, store.read_version() or "unversioned", report=report, triples=info.triples,
                        build=info, conforms=info.conforms)
            graph.built = built
            logger.info("graph %s from %s: %d triples, version %s, in %.2f s",
                        "reused" if info.reused else "built", spec, graph.triples, graph.version[:12],
                        time.perf_counter() - started)
            return graph
        version = store.read_version() if spec.kind != "memory" else None
        loaded = report = None
        if version is None and spec.kind != "sparql":
            loaded = load(settings)
            if settings.validate_on_start if check is None else check:
                report = validate_loaded(loaded)
                if not report.conforms:
                    raise ValidationFailed(report.text)
            version = push(loaded, store)
        graph = cls(settings, store, version or "unversioned", loaded=loaded, report=report)
        logger.info("graph loaded from %s: %d triples, version %s, in %.2f s", spec, graph.triples,
                    graph.version[:12], time.perf_counter() - started)
        return graph

    def built_reader(self) -> Backend | None:
        """A backend over :attr:`built`, if there is one."""
        if self.built is None:
            return None
        return reader_over(self.built, self.query_base, meta_graph(self.settings.base_iri))

    def drop_built(self) -> None:
        self.built = None

    def validate(self) -> Report:
        """Validate the whole graph against the shapes (and remember the report)."""
        if isinstance(self.store, EmbeddedStore):
            engine = shacl_engine(self.settings, self.triples)
            self.report = validate_store(self.store.store, self.store.content_graphs(), self.settings, engine)
        else:
            self.report = validate_loaded(self.loaded)
        self.conforms = self.report.conforms
        return self.report

    def close(self) -> None:
        """Release the store's connections (the remote store's HTTP client)."""
        close = getattr(self.store.backend, "close", None)
        if close:
            close()

    def iri(self, kind: str, slug: str) -> str:
        return f"{self.settings.base_iri}/id/{kind}/{slug}"

    def query(self, name: str) -> NamedQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise BadRequest(f"no named query {name!r}; known: {', '.join(sorted(self.queries))}") from None

    def run(self, name: str, **bindings: Term | str) -> list[dict[str, Any]]:
        """Run the named SELECT query with variables bound; rows as JSON values."""
        return json_rows(self.run_terms(name, **bindings))

    @property
    def parallel_reads(self) -> bool:
        """Whether read queries may run on several threads at once (the Oxigraph engine, whose store is
        thread-safe; not the rdflib engine, whose SPARQL evaluation is not documented as such)."""
        return isinstance(self.backend, OxigraphBackend)

    def run_kept(self, name: str, backend: Backend | None = None) -> list[dict[str, Any]]:
        """``run(name)`` unbound; over a store on disk the rows are kept beside it for this version
        (app/store/kept.py), so a restart over an unchanged store reads them instead of querying.
        ``backend``: another backend holding this version's dataset to run it on (a write's scratch store)."""
        def rows() -> list[dict[str, Any]]:
            return json_rows((backend or self.backend).select(self.query(name).text))

        if self.spec.kind != "disk" or self.version == "unversioned":
            return rows()
        return kept_rows(Path(self.spec.path), self.version, name, self.query(name).text, rows)

    def run_terms(self, name: str, **bindings: Term | str) -> list[dict[str, Term]]:
        terms = {k: (ox.NamedNode(v) if isinstance(v, str) else v) for k, v in bindings.items()}
        return self.backend.select(self.query(name).text, terms)

    def construct(self, name: str, **bindings: Term | str) -> list[ox.Triple]:
        terms: Mapping[str, Term] = {k: (ox.NamedNode(v) if isinstance(v, str) else v) for k, v in bindings.items()}
        return self.backend.construct(self.query(name).text, terms)


def json_rows(rows: Sequence[Mapping[str, Term]]) -> list[dict[str, Any]]:
    """Query rows with their terms as JSON values."""
    return [{k: to_python(v) for k, v in row.items()} for row in rows]
