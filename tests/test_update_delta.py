"""What an update sends back from its confined process (app.writes.isolate.update_delta): exactly the
quads it added and removed, whichever way they were found (the quads an ``INSERT DATA`` names, or a
second copy of the dataset compared quad by quad), the default graph named as the data graph."""

import pyoxigraph as ox
import pytest

from app.errors import BadRequest
from app.writes.isolate import update_delta

DATA, OTHER = "urn:x:data", "urn:x:other"
BODY = {
    DATA: b'<urn:x:a> <urn:x:p> "1" .\n<urn:x:b> <urn:x:p> "2" .\n_:n <urn:x:p> "3" .\n',
    OTHER: b'<urn:x:a> <urn:x:q> <urn:x:b> .\n',
}


def reference(update: str) -> tuple[set[ox.Quad], set[ox.Quad]]:
    """(added, removed) by the plain way: the update on one copy, compared with another."""
    def load() -> ox.Store:
        store = ox.Store()
        for name, body in BODY.items():
            target = ox.DefaultGraph() if name == DATA else ox.NamedNode(name)
            store.extend([ox.Quad(t.subject, t.predicate, t.object, target)
                          for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)])
        return store

    before, after = load(), load()
    after.update(update)

    def named(q: ox.Quad) -> ox.Quad:
        return ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(DATA)) if q.graph_name == ox.DefaultGraph() else q

    return {named(q) for q in after if q not in before}, {named(q) for q in before if q not in after}


def delta(update: str) -> tuple[set[ox.Quad], set[ox.Quad]]:
    added, removed = update_delta(list(BODY.items()), DATA, update, "urn:x:")
    return (set(ox.parse(added, format=ox.RdfFormat.N_QUADS)), set(ox.parse(removed, format=ox.RdfFormat.N_QUADS)))


UPDATES = [
    'INSERT DATA { <urn:x:c> <urn:x:p> "4" }',
    'INSERT DATA { <urn:x:a> <urn:x:p> "1" }',  # already there: nothing added
    'DELETE DATA { <urn:x:a> <urn:x:p> "1" } ; INSERT DATA { GRAPH <urn:x:new> { <urn:x:a> <urn:x:p> "1" } }',
    'INSERT DATA { <urn:x:c> <urn:x:p> "4" } ; DELETE DATA { <urn:x:c> <urn:x:p> "4" }',
    'DELETE WHERE { ?s <urn:x:p> "3" }',  # a blank node removed
    'INSERT { ?s <urn:x:r> ?o } WHERE { ?s <urn:x:p> ?o }',  # nothing named: compared by a second copy
    'INSERT DATA { _:fresh <urn:x:p> "5" }',  # a new blank node: compared by a second copy
    'DELETE { ?s <urn:x:p> ?o } INSERT { ?s <urn:x:p> "9" } WHERE { ?s <urn:x:p> ?o FILTER(?o = "2") }',
    'INSERT DATA { <urn:x:c> <urn:x:p> "4" } ; INSERT { ?s <urn:x:r> "w" } WHERE { ?s <urn:x:p> "4" }',
    'CLEAR GRAPH <urn:x:other>',
    'MOVE DEFAULT TO <urn:x:moved>',
    '# a comment\nPREFIX x: <urn:x:>\nINSERT DATA { x:d x:p "6" }',
]


@pytest.mark.parametrize("update", UPDATES)
def test_the_delta_is_the_change_the_update_makes(update: str) -> None:
    got_added, got_removed = delta(update)
    want_added, want_removed = reference(update)
    blank = [q for q in want_added if isinstance(q.subject, ox.BlankNode)]
    if blank:  # a new blank node has a new label in each run: compare the rest, and count
        assert len([q for q in got_added if isinstance(q.subject, ox.BlankNode)]) == len(blank)
        got_added = {q for q in got_added if not isinstance(q.subject, ox.BlankNode)}
        want_added = {q for q in want_added if not isinstance(q.subject, ox.BlankNode)}
    assert got_added == want_added
    assert got_removed == want_removed


def test_an_update_that_does_not_parse_is_a_400() -> None:
    with pytest.raises(BadRequest, match="syntax"):
        delta("INSERT DATA { <urn:x:a> ")
