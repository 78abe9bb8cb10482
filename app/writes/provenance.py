"""Every committed write, as a log line and as PROV-O in the meta graph.

A commit is a ``prov:Activity`` (``{meta}/commit/{after}``) that ``prov:used`` the version before
and ``prov:generated`` the version after (``{meta}/version/{hash}``, each a ``prov:Entity``; the new
one ``prov:wasDerivedFrom`` the old), ``prov:startedAtTime`` / ``prov:endedAtTime``, and
``prov:wasAssociatedWith`` the writer: ``{meta}/writer/{token id}``, where the token id is a short
hash of the bearer token (the token itself is never stored or logged). What changed is said per
graph in ``rdfs:comment`` ("<graph> +added -removed"). The meta graph is read-only to writers.

``kg load`` into a store that has a history appends to it in the same shape: a ``prov:Activity``
``{meta}/load/{time}`` labelled "load", associated with ``{meta}/writer/kg-load``, that used the
store's version before (none on an empty store) and generated the loaded one; each graph's
comment says it was replaced ("<graph> replaced: N -> M triples").
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from app.build.graph import Loaded
from app.rdf.namespaces import PROV, RDF, RDFS, XSD


def token_id(token: str) -> str:
    """A short, stable, non-reversible name for a bearer token (for logs and provenance)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Author:
    """Who asked for a write, and when it started."""

    token_id: str
    kind: str  # update, put, post, delete
    started: datetime


def changes(old: Loaded, new: Loaded) -> dict[str, tuple[int, int]]:
    """Graph name -> (triples added, triples removed), for the graphs that changed."""
    out: dict[str, tuple[int, int]] = {}
    for name in sorted(set(old.graphs) | set(new.graphs)):
        before = {q.triple for q in old.graphs.get(name, [])}
        after = {q.triple for q in new.graphs.get(name, [])}
        if before != after:
            out[name] = (len(after - before), len(before - after))
    return out


def _time(moment: datetime) -> ox.Literal:
    return ox.Literal(moment.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))


def activity(meta: str, author: Author, before: str | None, after: str, changed: dict[str, tuple[int, int]],
             ended: datetime, *, name: str | None = None, label: str | None = None,
             comments: list[str] | None = None) -> list[ox.Triple]:
    """The PROV-O triples of one commit (``{meta}/commit/{after}``, unless ``name`` is given); with
    ``before`` None (nothing was recorded before) nothing is ``prov:used``."""
    a = ox.NamedNode(RDF + "type")
    act = ox.NamedNode(name or f"{meta}/commit/{after}")
    generated = ox.NamedNode(f"{meta}/version/{after}")
    writer = ox.NamedNode(f"{meta}/writer/{author.token_id}")
    triples = [
        ox.Triple(act, a, ox.NamedNode(PROV + "Activity")),
        ox.Triple(act, ox.NamedNode(PROV + "startedAtTime"), _time(author.started)),
        ox.Triple(act, ox.NamedNode(PROV + "endedAtTime"), _time(ended)),
        ox.Triple(act, ox.NamedNode(PROV + "generated"), generated),
        ox.Triple(act, ox.NamedNode(PROV + "wasAssociatedWith"), writer),
        ox.Triple(act, ox.NamedNode(RDFS + "label"), ox.Literal(label or f"{author.kind} write")),
        ox.Triple(writer, a, ox.NamedNode(PROV + "Agent")),
        ox.Triple(generated, a, ox.NamedNode(PROV + "Entity")),
        ox.Triple(generated, ox.NamedNode(PROV + "wasGeneratedBy"), act),
    ]
    if before is not None:
        used = ox.NamedNode(f"{meta}/version/{before}")
        triples += [ox.Triple(act, ox.NamedNode(PROV + "used"), used),
                    ox.Triple(used, a, ox.NamedNode(PROV + "Entity"))]
        if before != after:
            triples.append(ox.Triple(generated, ox.NamedNode(PROV + "wasDerivedFrom"), used))
    if comments is None:
        comments = [f"<{graph}> +{added} -{removed}" for graph, (added, removed) in changed.items()]
    triples += [ox.Triple(act, ox.NamedNode(RDFS + "comment"), ox.Literal(text)) for text in comments]
    return triples


#: The agent of ``kg load`` (it runs with the store's own credentials, not a service token).
LOADER = "kg-load"


def load_activity(meta: str, before: str | None, after: str, sizes_before: Mapping[str, int],
                  sizes_after: Mapping[str, int], started: datetime, ended: datetime) -> list[ox.Triple]:
    """The PROV-O triples of one ``kg load``: the store's graphs replaced, version ``before`` -> ``after``."""
    comments = [f"<{graph}> replaced: {sizes_before.get(graph, 0)} -> {sizes_after.get(graph, 0)} triples"
                for graph in sorted(set(sizes_before) | set(sizes_after))]
    stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
    return activity(meta, Author(LOADER, "load", started), before, after, {}, ended,
                    name=f"{meta}/load/{stamp}", label="load", comments=comments)


def summary(author: Author, before: str, after: str, changed: dict[str, tuple[int, int]]) -> str:
    """One log line: time, token id, graphs with triples added/removed, version before -> after."""
    graphs = ", ".join(f"{name} +{added} -{removed}" for name, (added, removed) in changed.items()) or "no change"
    return (f"commit {author.kind} at {author.started.isoformat()} by token {author.token_id}: {graphs}; "
            f"version {before[:12]} -> {after[:12]}")


def now() -> datetime:
    return datetime.now(UTC)
