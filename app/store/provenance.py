"""Every committed write, as a log line and as PROV-O in the meta graph.

A commit is a ``prov:Activity`` (``{meta}/commit/{after}``) that ``prov:used`` the version before
and ``prov:generated`` the version after (``{meta}/version/{hash}``, each a ``prov:Entity``; the new
one ``prov:wasDerivedFrom`` the old), ``prov:startedAtTime`` / ``prov:endedAtTime``, and
``prov:wasAssociatedWith`` the writer: ``{meta}/writer/{token id}``, where the token id is a short
hash of the bearer token (the token itself is never stored or logged). What changed is said per
graph in ``rdfs:comment`` ("<graph> +added -removed"). The meta graph is read-only to writers.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from app.rdf.namespaces import PROV, RDF, RDFS, XSD
from app.store.graph import Loaded


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


def activity(meta: str, author: Author, before: str, after: str, changed: dict[str, tuple[int, int]],
             ended: datetime) -> list[ox.Triple]:
    """The PROV-O triples of one commit."""
    a = ox.NamedNode(RDF + "type")
    act = ox.NamedNode(f"{meta}/commit/{after}")
    used, generated = ox.NamedNode(f"{meta}/version/{before}"), ox.NamedNode(f"{meta}/version/{after}")
    writer = ox.NamedNode(f"{meta}/writer/{author.token_id}")
    triples = [
        ox.Triple(act, a, ox.NamedNode(PROV + "Activity")),
        ox.Triple(act, ox.NamedNode(PROV + "startedAtTime"), _time(author.started)),
        ox.Triple(act, ox.NamedNode(PROV + "endedAtTime"), _time(ended)),
        ox.Triple(act, ox.NamedNode(PROV + "used"), used),
        ox.Triple(act, ox.NamedNode(PROV + "generated"), generated),
        ox.Triple(act, ox.NamedNode(PROV + "wasAssociatedWith"), writer),
        ox.Triple(act, ox.NamedNode(RDFS + "label"), ox.Literal(f"{author.kind} write")),
        ox.Triple(writer, a, ox.NamedNode(PROV + "Agent")),
        ox.Triple(used, a, ox.NamedNode(PROV + "Entity")),
        ox.Triple(generated, a, ox.NamedNode(PROV + "Entity")),
        ox.Triple(generated, ox.NamedNode(PROV + "wasDerivedFrom"), used),
        ox.Triple(generated, ox.NamedNode(PROV + "wasGeneratedBy"), act),
    ]
    triples += [ox.Triple(act, ox.NamedNode(RDFS + "comment"), ox.Literal(f"<{name}> +{added} -{removed}"))
                for name, (added, removed) in changed.items()]
    return triples


def summary(author: Author, before: str, after: str, changed: dict[str, tuple[int, int]]) -> str:
    """One log line: time, token id, graphs with triples added/removed, version before -> after."""
    graphs = ", ".join(f"{name} +{added} -{removed}" for name, (added, removed) in changed.items()) or "no change"
    return (f"commit {author.kind} at {author.started.isoformat()} by token {author.token_id}: {graphs}; "
            f"version {before[:12]} -> {after[:12]}")


def now() -> datetime:
    return datetime.now(UTC)
