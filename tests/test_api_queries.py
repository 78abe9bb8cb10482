"""The named queries behind /api: documented headers, and binding a variable gives the rows of the
unbound query for that value (the service runs them unbound once per graph version)."""

import pytest

from app.build.graph import KnowledgeGraph
from app.config import ROOT

BOUND = {
    # query: (variable, IRI kind, a slug to bind)
    "districts": ("district", "district", "haidian"),
    "district_practices": ("district", "district", "haidian"),
    "district_facts": ("district", "district", "pinggu"),
    "mechanisms": ("mechanism", "mechanism", "deputy-proposed-inspection"),
    "mechanism_practices": ("mechanism", "mechanism", "deputy-stations"),
    "topics": ("topic", "topic", "old-compound-renovation"),
    "topic_practices": ("topic", "topic", "urban-renewal"),
    "themes": ("theme", "theme", "station-building"),
    "theme_practices": ("theme", "theme", "supervision"),
    "search_texts": ("entity", "practice", "haidian-expert-adviser-pool"),
}


@pytest.mark.parametrize("name", sorted(BOUND))
def test_api_query_has_summary_route_and_bind(name: str) -> None:
    text = (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#+ ")]
    assert [line.split(":")[0] for line in header] == ["#+ summary", "#+ route", "#+ bind"]
    assert f"?{BOUND[name][0]}" in header[2]
    assert "/api/" in header[1]


def sortable(rows: list[dict]) -> list[list[tuple[str, str]]]:
    return sorted(sorted((k, repr(v)) for k, v in row.items()) for row in rows)


@pytest.mark.parametrize("name", sorted(BOUND))
def test_api_query_bound_equals_unbound_filtered(graph: KnowledgeGraph, name: str) -> None:
    var, kind, value = BOUND[name]
    iri = graph.iri(kind, value)
    unbound = graph.run(name)
    bound = graph.run(name, **{var: iri})
    assert bound
    assert sortable(bound) == sortable([row for row in unbound if row.get(var) == iri])
