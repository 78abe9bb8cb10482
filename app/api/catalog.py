"""The answers of the ``/api`` routes, indexed once per graph version.

The graph is read-only once loaded, so the named queries behind ``/api`` (queries/districts.rq,
district_practices.rq, district_facts.rq, mechanisms.rq, themes.rq, topics.rq, mechanism_practices.rq,
theme_practices.rq, topic_practices.rq, search_texts.rq) run once, unbound (each then answers for every district,
mechanism, theme or topic), and their rows are grouped here into plain indexes, with the numbers
left out as facts (data/number-exclusions.tsv). ``catalog_for(graph)``
builds it off the event loop the first time and keeps it in the graph's memo; every answer
computed from it (``@memoized``) is kept there too, so a write starts afresh.
"""

import functools
import math
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio.to_thread

from app.build.graph import KnowledgeGraph, Memo
from app.store.backends import Backend, OxigraphBackend
from app.store.heap import collector_paused

Row = dict[str, Any]
EXCLUSIONS_FILE = "number-exclusions.tsv"


def slug(iri: str) -> str:
    """The id of an entity: the last path segment of its IRI."""
    return iri.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LabelText:
    zh: str
    en: str


@dataclass(frozen=True)
class District:
    id: str
    iri: str
    label: LabelText
    code: str
    paragraph: str


@dataclass(frozen=True)
class Concept:
    """A mechanism, a theme or a supervision topic."""

    id: str
    iri: str
    label: LabelText
    definition: LabelText | None
    broader: tuple[str, ...]
    narrower: tuple[str, ...]
    top: bool
    kind: str | None = None  # mechanisms, topics: "named" or "umbrella" (bjrd:mechanismKind, bjrd:topicKind)


@dataclass(frozen=True)
class Practice:
    id: str
    iri: str
    district: str
    label: LabelText
    quote: str
    start: int
    end: int
    mechanisms: tuple[str, ...]  # asserted
    themes: tuple[str, ...]  # asserted
    #: When the article places it (lexical forms: dcterms:date "2023" or "2023-07", schema:startTime "07:00:00",
    #: schema:startDate/endDate of a period); None for a standing arrangement the article gives no time for.
    date: str | None = None
    start_time: str | None = None
    start_date: str | None = None
    end_date: str | None = None


@dataclass(frozen=True)
class Fact:
    id: str
    iri: str
    district: str
    label: LabelText
    value: int | float
    min_value: int | float | None
    unit: LabelText
    quote: str
    start: int
    practice: str | None


@dataclass(frozen=True)
class Usage:
    """One practice using a concept, directly (asserted) or through a narrower one."""

    concept: str
    district: str
    practice: str
    asserted: bool


@dataclass(frozen=True)
class Exclusion:
    """A number of a district paragraph deliberately left out as a fact: its verbatim snippet and why."""

    district: str
    text: str
    reason: str
    reason_zh: str = ""


@dataclass(frozen=True)
class Text:
    """One searchable text of an entity."""

    entity: str  # id
    type: str
    district: str | None
    field: str
    text: str


@dataclass(frozen=True, eq=False)
class Catalog:
    """Everything the /api routes answer from, and the memo of its graph version."""

    version: str
    memo: Memo
    districts: dict[str, District]  # GB/T code order
    mechanisms: dict[str, Concept]  # id order
    themes: dict[str, Concept]  # id order
    practices: dict[str, Practice]  # article order
    facts: tuple[Fact, ...]  # article order
    mechanism_usage: tuple[Usage, ...]  # by mechanism, then article order
    theme_usage: tuple[Usage, ...]
    texts: tuple[Text, ...]
    topics: dict[str, Concept] = field(default_factory=dict)  # id order
    topic_usage: tuple[Usage, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()  # file order
    district_mechanisms: dict[str, frozenset[str]] = field(default_factory=dict)
    district_themes: dict[str, frozenset[str]] = field(default_factory=dict)
    mechanism_districts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # GB/T code order
    theme_districts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    district_topics: dict[str, frozenset[str]] = field(default_factory=dict)
    topic_districts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: What "shared" counts (data/README.md): each district's named mechanisms, direct or through a narrower one.
    district_named: dict[str, frozenset[str]] = field(default_factory=dict)
    #: Inverse district frequency of each named mechanism used by some district: ln(16 / its districts).
    weights: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        order = {d: i for i, d in enumerate(self.districts)}
        for usage, by_district, by_concept, concepts in (
            (self.mechanism_usage, self.district_mechanisms, self.mechanism_districts, self.mechanisms),
            (self.theme_usage, self.district_themes, self.theme_districts, self.themes),
            (self.topic_usage, self.district_topics, self.topic_districts, self.topics),
        ):
            sets: dict[str, set[str]] = {d: set() for d in self.districts}
            users: dict[str, set[str]] = {c: set() for c in concepts}
            for u in usage:
                sets[u.district].add(u.concept)
                users[u.concept].add(u.district)
            by_district.update({d: frozenset(s) for d, s in sets.items()})
            by_concept.update({c: tuple(sorted(s, key=order.__getitem__)) for c, s in users.items()})
        named = {m for m, c in self.mechanisms.items() if c.kind == "named"}
        self.district_named.update({d: s & named for d, s in self.district_mechanisms.items()})
        self.weights.update({m: math.log(len(self.districts) / len(self.mechanism_districts[m]))
                             for m in named if self.mechanism_districts[m]})


def _label(row: Row, prefix: str = "label") -> LabelText:
    return LabelText(row[f"{prefix}_zh"], row[f"{prefix}_en"])


def _concepts(rows: list[Row], var: str) -> dict[str, Concept]:
    broader: dict[str, list[str]] = defaultdict(list)
    narrower: dict[str, list[str]] = defaultdict(list)
    first: dict[str, Row] = {}
    for row in rows:
        cid = slug(row[var])
        first.setdefault(cid, row)
        if "broader" in row:
            broader[cid].append(slug(row["broader"]))
            narrower[slug(row["broader"])].append(cid)
    concepts = {}
    for cid, row in sorted(first.items()):
        definition = _label(row, "definition") if "definition_zh" in row and "definition_en" in row else None
        concepts[cid] = Concept(cid, row[var], _label(row), definition, tuple(sorted(set(broader[cid]))),
                                tuple(sorted(set(narrower[cid]))), bool(row.get("top")), row.get("kind"))
    return concepts


def _practices(rows: list[Row]) -> dict[str, Practice]:
    mechanisms: dict[str, set[str]] = defaultdict(set)
    themes: dict[str, set[str]] = defaultdict(set)
    first: dict[str, Row] = {}
    for row in rows:
        pid = slug(row["practice"])
        first.setdefault(pid, row)
        if "mechanism" in row:
            mechanisms[pid].add(slug(row["mechanism"]))
        if "theme" in row:
            themes[pid].add(slug(row["theme"]))
    ordered = sorted(first.items(), key=lambda item: (item[1]["start"], item[0]))
    return {
        pid: Practice(pid, row["practice"], slug(row["district"]), _label(row), row["quote"], row["start"], row["end"],
                      tuple(sorted(mechanisms[pid])), tuple(sorted(themes[pid])), *_when(row))
        for pid, row in ordered
    }


def _when(row: Row) -> tuple[str | None, str | None, str | None, str | None]:
    """A practice's typed date, start time and period, as their lexical forms (district_practices.rq)."""
    return tuple(None if row.get(k) is None else str(row[k])  # type: ignore[return-value]
                 for k in ("date", "start_time", "start_date", "end_date"))


def _facts(rows: list[Row]) -> tuple[Fact, ...]:
    seen: set[str] = set()
    facts = []
    for row in rows:
        fid = slug(row["fact"])
        if fid in seen:
            continue
        seen.add(fid)
        unit_zh = str(row.get("unit_zh", row.get("unit_en", "")))
        facts.append(Fact(fid, row["fact"], slug(row["district"]), _label(row), row["value"], row.get("min_value"),
                          LabelText(unit_zh, row.get("unit_en", unit_zh)), row["quote"], row["start"],
                          slug(row["practice"]) if "practice" in row else None))
    return tuple(sorted(facts, key=lambda f: (f.start, f.id)))


def _usage(rows: list[Row], var: str) -> tuple[Usage, ...]:
    usage = {(slug(r[var]), slug(r["practice"])): Usage(slug(r[var]), slug(r["district"]), slug(r["practice"]),
                                                       bool(r.get("asserted"))) for r in rows}
    return tuple(usage.values())


def _texts(rows: list[Row]) -> tuple[Text, ...]:
    return tuple(Text(slug(r["entity"]), r["type"], slug(r["district"]) if "district" in r else None, r["field"],
                      r["text"]) for r in rows)


def read_exclusions(path: Path) -> tuple[Exclusion, ...]:
    """The lines of number-exclusions.tsv (district, verbatim snippet, reason, its Chinese); none if the
    file is absent."""
    if not path.is_file():
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
    return tuple(Exclusion(*row[:4]) for row in rows if len(row) >= 3)


def _districts(rows: list[Row]) -> dict[str, District]:
    return {slug(r["district"]): District(slug(r["district"]), r["district"], _label(r), r["code"],
                                          r.get("paragraph", "")) for r in rows}


#: Each named query behind /api and what its rows become (a field of the Catalog), longest query
#: first (at 1M triples: search_texts ~5 s, the usage lists ~3 s each).
CATALOG_QUERIES: dict[str, tuple[str, Callable[[list[Row]], Any]]] = {
    "search_texts": ("texts", _texts),
    "mechanism_practices": ("mechanism_usage", lambda rows: _usage(rows, "mechanism")),
    "theme_practices": ("theme_usage", lambda rows: _usage(rows, "theme")),
    "district_practices": ("practices", _practices),
    "mechanisms": ("mechanisms", lambda rows: _concepts(rows, "mechanism")),
    "district_facts": ("facts", _facts),
    "topic_practices": ("topic_usage", lambda rows: _usage(rows, "topic")),
    "topics": ("topics", lambda rows: _concepts(rows, "topic")),
    "themes": ("themes", lambda rows: _concepts(rows, "theme")),
    "districts": ("districts", _districts),
}


def build_catalog(graph: KnowledgeGraph, backend: Backend | None = None) -> Catalog:
    """Run the /api named queries unbound and index their rows.

    Over an Oxigraph store the queries run on two threads (the engine evaluates without the GIL part
    of the time: at 1M triples 13.4–15.7 s -> 10.7–12.7 s on a busy machine); each thread indexes its
    query's rows at once, so that no more than two answers' rows are held at a time. Other engines
    run them one after the other. ``backend``: where to run them instead of the graph's own backend
    (a write's scratch store, holding the same dataset in memory)."""

    def part(name: str) -> tuple[str, Any]:
        field_name, index = CATALOG_QUERIES[name]
        return field_name, index(graph.run_kept(name, backend))

    with collector_paused():  # millions of acyclic objects at 10M triples (app.store.heap)
        if isinstance(backend, OxigraphBackend) or graph.parallel_reads:
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kg-catalog") as pool:
                parts = dict(pool.map(part, CATALOG_QUERIES))
        else:
            parts = dict(map(part, CATALOG_QUERIES))
    return Catalog(version=graph.version, memo=graph.memo,
                   exclusions=read_exclusions(graph.settings.data_dir / EXCLUSIONS_FILE), **parts)


async def catalog_for(graph: KnowledgeGraph, backend: Backend | None = None) -> Catalog:
    """The catalog of ``graph``: built off the event loop on first use (on ``backend`` if given, see
    :func:`build_catalog`), then kept in its memo."""
    catalog = graph.memo.peek(("catalog",))
    if catalog is None:
        catalog = await anyio.to_thread.run_sync(graph.memo.get, ("catalog",), lambda: build_catalog(graph, backend))
    assert isinstance(catalog, Catalog)
    return catalog


def read_catalog(graph: KnowledgeGraph) -> Catalog:
    """The catalog of ``graph``, for code already off the event loop (sync handlers, page rendering)."""
    catalog = graph.memo.get(("catalog",), lambda: build_catalog(graph))
    assert isinstance(catalog, Catalog)
    return catalog


P = ParamSpec("P")
R = TypeVar("R")


def memoized(size: int = 64) -> Callable[[Callable[Concatenate[Catalog, P], R]], Callable[Concatenate[Catalog, P], R]]:
    """Keep the answers of ``function(catalog, *args)`` in the catalog's memo (at most ``size`` per function)."""

    def decorate(function: Callable[Concatenate[Catalog, P], R]) -> Callable[Concatenate[Catalog, P], R]:
        name = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def cached(catalog: Catalog, *args: P.args, **kwargs: P.kwargs) -> R:
            key = (name, *args, *sorted(kwargs.items()))
            return catalog.memo.get(key, lambda: function(catalog, *args, **kwargs), size=size)

        return cached

    return decorate
