"""What the graph already knows: the districts with the names an article calls them by, the
mechanisms and topics with their Chinese labels, and which districts use each concept (``without``
drafts as if one district had never been encoded).

Read, never written, from one of three places: the project's Turtle files (:func:`read_known`), the
asserted graphs of a loaded dataset, every source graph a publish wrote among them
(:func:`known_of`, what /curate drafts with), or the persisted store ``KG_STORE`` names when it
holds a dataset (:func:`read_known_from_store`, what ``kg draft`` drafts with then).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox

from app.build.graph import Loaded, open_store
from app.build.load import SourceFiles, parse_turtle
from app.config import Settings
from app.rdf.namespaces import BJRD, RDF_TYPE, RDFS, SKOS
from app.store.graphs import GraphNames
from app.store.spec import StoreSpec

#: What follows a district's name when an article means its congress or standing committee.
CONGRESS_SUFFIXES = ("人大常委会", "人民代表大会常务委员会", "人民代表大会", "人大", "")


@dataclass(frozen=True)
class District:
    id: str
    label: str  # 东城区
    aliases: tuple[str, ...]  # longest first: 东城区人大常委会 … 东城


@dataclass(frozen=True)
class Concept:
    """A mechanism or a supervision topic: its zh labels, kind (named / umbrella) and broader ids."""

    id: str
    label: str
    alt_labels: tuple[str, ...]
    kind: str  # "named", "umbrella" ("named" for topics)
    broader: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.alt_labels)


@dataclass(frozen=True)
class Known:
    districts: dict[str, District]
    mechanisms: dict[str, Concept]
    topics: dict[str, Concept]
    #: concept id -> the districts with a practice using it, directly or through a narrower one
    users: dict[str, frozenset[str]]
    excluded: str | None = None

    def without(self, district: str) -> "Known":
        """The graph as if ``district`` had never been encoded: the concepts only it uses are left out."""
        if district not in self.districts:
            raise KeyError(district)

        def keep(cid: str) -> bool:
            return self.users.get(cid, frozenset()) != frozenset({district})

        return replace(self, mechanisms={k: c for k, c in self.mechanisms.items() if keep(k)},
                       topics={k: c for k, c in self.topics.items() if keep(k)},
                       users={k: u - {district} for k, u in self.users.items() if keep(k)}, excluded=district)


def tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def district_aliases(label: str, congress_label: str | None) -> tuple[str, ...]:
    """东城区 -> 东城区人大常委会, 东城人大, 东城 …; with the city its congress's name gives (北京市东城区人大 …)."""
    short = label[:-1] if label.endswith(("区", "县")) and len(label) > 2 else label
    names = {base + suffix for base in {label, short} for suffix in CONGRESS_SUFFIXES}
    if congress_label:
        names.add(congress_label)
        city = congress_label.split(label, 1)[0] if label in congress_label else ""
        names |= {city + label + suffix for suffix in CONGRESS_SUFFIXES if city}
    return tuple(sorted(names, key=lambda n: (-len(n), n)))


def zh(term: object) -> str | None:
    if isinstance(term, ox.Literal) and (term.language or "").startswith("zh"):
        return term.value
    return None


def read_known(settings: Settings) -> Known:
    """Read districts, mechanisms, topics and practices from the data files (nothing is written)."""
    return known_from(t for path in SourceFiles.from_settings(settings).data for t in parse_turtle(path))


def known_of(loaded: Loaded) -> Known:
    """What a loaded dataset knows: its asserted data graphs (the data files' graph and every source
    graph, ``{base}/graph/source/{id}``, a publish wrote), not the ontology or the inferred graph."""
    return known_from(q.triple for q in loaded.data)


class StoreUnreadable(OSError):
    """The persisted store ``KG_STORE`` names cannot be read now (held by a running service, or down)."""


def read_known_from_store(settings: Settings) -> tuple[Known, str] | None:
    """What the persisted store ``KG_STORE`` names knows, and that store's description, when it is a
    store on disk or a SPARQL store that holds a dataset (a version recorded); None for ``memory``, a
    store directory that does not exist (nothing is created) or a store with no dataset in it.
    :class:`StoreUnreadable` when it cannot be opened (a running service holds a disk store's lock)."""
    spec = StoreSpec.parse(settings.store)
    if spec.kind == "memory" or (spec.kind == "disk" and not Path(spec.path, "CURRENT").is_file()):
        return None
    try:
        store = open_store(spec, settings.base_iri, settings.base_iri + "/", settings.query_timeout_s)
    except OSError as exc:
        raise StoreUnreadable(f"KG_STORE={spec}: cannot open the store ({exc}); a running service holds it: "
                              "draft on its /curate page, or stop it first") from None
    try:
        version = store.read_version()
        if version is None:
            return None
        names = GraphNames.for_base(settings.base_iri)
        return known_of(Loaded(names, store.read_graphs())), f"{spec} (version {version[:12]})"
    finally:
        close = getattr(store.backend, "close", None)
        if close:
            close()


def known_from(triples: Iterable[ox.Triple]) -> Known:
    types: dict[str, set[str]] = defaultdict(set)
    values: dict[tuple[str, str], list[object]] = defaultdict(list)
    for t in triples:
        if not isinstance(t.subject, ox.NamedNode):
            continue
        s, p = t.subject.value, t.predicate.value
        if p == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            types[s].add(t.object.value)
        else:
            values[(s, p)].append(t.object)

    def one_zh(s: str, p: str) -> str | None:
        return min((v for v in map(zh, values.get((s, p), [])) if v), default=None)

    def iris(s: str, p: str) -> list[str]:
        return [o.value for o in values.get((s, p), []) if isinstance(o, ox.NamedNode)]

    districts: dict[str, District] = {}
    mechanisms: dict[str, Concept] = {}
    topics: dict[str, Concept] = {}
    for s, ts in types.items():
        if BJRD + "District" in ts:
            label = one_zh(s, RDFS + "label")
            if label:
                congress = next(iter(iris(s, BJRD + "congress")), None)
                clabel = one_zh(congress, RDFS + "label") if congress else None
                districts[tail(s)] = District(tail(s), label, district_aliases(label, clabel))
        for cls, into in ((BJRD + "Mechanism", mechanisms), (BJRD + "SupervisionTopic", topics)):
            if cls in ts:
                pref = one_zh(s, SKOS + "prefLabel")
                if pref:
                    # Sorted: the same concept whichever order a file or a store gives its triples in.
                    alts = tuple(sorted(a for a in map(zh, values.get((s, SKOS + "altLabel"), [])) if a))
                    kind = "umbrella" if BJRD + "Umbrella" in iris(s, BJRD + "mechanismKind") else "named"
                    into[tail(s)] = Concept(tail(s), pref, alts, kind,
                                            tuple(sorted(tail(b) for b in iris(s, SKOS + "broader"))))
    direct: dict[str, set[str]] = defaultdict(set)
    for s, ts in types.items():
        if BJRD + "Practice" in ts:
            for d in iris(s, BJRD + "district"):
                for prop in ("usesMechanism", "supervisesTopic"):
                    for c in iris(s, BJRD + prop):
                        direct[tail(c)].add(tail(d))
    return Known(districts, mechanisms, topics, close_upward(direct, {**mechanisms, **topics}))


def close_upward(direct: dict[str, set[str]], concepts: dict[str, Concept]) -> dict[str, frozenset[str]]:
    """A concept's users include those of every narrower concept (月进站 counts for 家站)."""
    users: dict[str, set[str]] = defaultdict(set)
    for cid, ds in direct.items():
        seen: set[str] = set()
        todo = [cid]
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            users[c] |= ds
            todo.extend(concepts[c].broader if c in concepts else ())
    return {k: frozenset(v) for k, v in users.items()}
