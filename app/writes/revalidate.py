"""A write validated where it reaches: the SPARQL checks, run for the focus nodes the write can concern.

The graph before a write conforms (it was validated at start-up, or by the write before), so after
the write only a focus node whose result the write can change may violate a shape. A check's result
for a focus node depends on the triples the check matches from it. For every check these are:

- the focus node's own triples, and those pointing at it: so the subject and the object of every
  triple the write adds or removes (in any graph, the inferred graph's change included) is a
  candidate for every check;
- for some checks, triples further away: each such check says which in its ``#+ reach:`` headers
  (app.build.checks.Reach): "a changed triple of this predicate concerns the nodes its subject
  (or object) reaches by this property path", followed in the graph after the write.

Following the paths after the write is enough. Take a focus node whose result changed, and of the
changed triples it depends on, the one nearest to it along the check's pattern. The triples between
the two are unchanged, so they are there after the write too, and the reach (or the subject/object
rule) finds the focus node from the changed triple through them.

Each candidate is checked alone (the check's ``?focus`` substituted). At 1M triples a run takes
0.1–0.3 ms, but S02-mechanism's 12 ms (its MINUS lists every mechanism; a FILTER NOT EXISTS would
not, but it made validating the whole graph 3.3 s slower): about 13 ms a candidate for the 45
checks. A one-triple write is validated in 0.01 s, where the whole graph takes 4.3 s. A change to
the schema (inference runs afresh, app.writes.increment), RDF-star triples, or more than
:data:`MAX_CHANGED` changed triples or :data:`MAX_RUNS` runs: :func:`violations_near` returns None
and the caller validates the whole graph. tests/test_revalidate.py holds this against
validation of the whole graph on writes that break every shape, directly and from afar, and shows
that each reach is needed.
"""

import logging
from collections.abc import Iterable, Sequence

import pyoxigraph as ox

from app.build.checks import Check, Violation, dataset_of, read_checks, report, run_check
from app.build.load import SourceFiles, read_shapes
from app.build.validate import Report
from app.config import Settings
from app.store.graphs import Dataset

logger = logging.getLogger(__name__)

#: Above this many changed triples (inferred ones included), the whole graph is validated.
MAX_CHANGED = 20_000
#: Above this many check runs (candidates summed over the checks), the whole graph is validated:
#: 15,000 runs (about 330 candidates) take about as long as validating 1M triples whole.
MAX_RUNS = 15_000

Node = ox.NamedNode | ox.BlankNode
NODE = ox.Variable("node")


def candidates(store: ox.Store, checks: Sequence[Check], graphs: Sequence[str],
               changed: Sequence[ox.Triple], limit: int = MAX_RUNS) -> dict[Check, set[Node]] | None:
    """Check -> the focus nodes ``changed`` can concern, in ``store`` after the change; None when a
    changed triple is RDF-star, or when there are more than ``limit`` (summed over the checks)."""
    dataset = dataset_of(store, graphs)
    near: set[Node] = set()
    for t in changed:
        if isinstance(t.subject, ox.Triple) or isinstance(t.object, ox.Triple):
            return None
        near.add(t.subject)
        if isinstance(t.object, ox.NamedNode | ox.BlankNode):
            near.add(t.object)
    found: dict[Check, set[Node]] = {}
    runs = 0
    for check in checks:
        nodes = _focus_nodes(store, dataset, check, changed, near, limit - runs)
        if nodes is None:
            logger.info("more than %d check runs near the change: validating the whole graph", limit)
            return None
        runs += len(nodes)
        found[check] = nodes
    return found


def _focus_nodes(store: ox.Store, dataset: Dataset, check: Check, changed: Sequence[ox.Triple], near: set[Node],
                 budget: int) -> set[Node] | None:
    """``near`` and the nodes ``check``'s reaches find from ``changed``; None past ``budget`` of them
    (a hub's reach, such as a district re-typed, is not followed to the end)."""
    nodes = set(near)
    for reach in check.reach:
        ends = {t.subject if reach.end == "subject" else t.object for t in changed if t.predicate == reach.predicate}
        for end in ends:
            for row in dataset.select(store, reach.query, {NODE: end}):
                focus = row["focus"]
                if isinstance(focus, ox.NamedNode | ox.BlankNode):
                    nodes.add(focus)
            if len(nodes) > budget:
                return None
    return nodes if len(nodes) <= budget else None


def violations_near(store: ox.Store, checks: Sequence[Check], graphs: Sequence[str], query_base: str,
                    changed: Iterable[ox.Triple]) -> list[Violation] | None:
    """The violations in the union of ``graphs`` of ``store`` after a change of ``changed`` triples
    to a graph that conformed; None when the whole graph must be validated instead."""
    triples = list(changed)
    if len(triples) > MAX_CHANGED:
        logger.info("%d triples changed: validating the whole graph", len(triples))
        return None
    near = candidates(store, checks, graphs, triples)
    if near is None:
        return None
    dataset = dataset_of(store, graphs)
    return [v for check in checks
            for focus in sorted(near[check], key=str) for v in run_check(store, dataset, check, query_base, focus)]


def validate_near(store: ox.Store, graphs: Sequence[str], settings: Settings,
                  changed: Iterable[ox.Triple]) -> Report | None:
    """The SHACL report (app.build.checks.report) of :func:`violations_near`, or None."""
    found = violations_near(store, read_checks(settings.queries_dir), graphs, settings.base_iri + "/", changed)
    if found is None:
        return None
    return report(found, read_shapes(SourceFiles.from_settings(settings), settings.base_iri))
