"""Answers across two sources: the article and a second one, MADE UP by tests/test_curate.py (reused here, its
text under tests/, never data/), published through the review desk into a service of this test's own.

After the publish, the spread and novelty examples (queries/examples/mechanism_spread.rq, new_in_source.rq)
answer what the timelines of /api/mechanisms/{id}/timeline and the sources' issue dates say,
and the mechanism and topic pages show the second source in their timeline. Slow: a publish runs the whole
write path.
"""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.helpers import serve_in_thread
from tests.test_curate import SOURCE, TOKEN, known_mechanism, publish_made_up
from tests.test_example_timeline_queries import run, slug
from tests.test_pages_timeline import section, shown_years

pytestmark = pytest.mark.slow

#: The sources' issue dates, as the data states them (the input of novelty, not its answer).
ISSUED = "SELECT ?source ?issued WHERE { ?source <http://purl.org/dc/terms/issued> ?issued }"


@pytest.fixture(scope="module")
def published() -> Iterator[tuple[httpx.Client, str]]:
    """A writable service with the made-up source published; the known mechanism it uses."""
    label, mechanism = known_mechanism()
    for server in serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=30)):
        with httpx.Client(base_url=server.url, timeout=120) as w:
            publish_made_up(w, label)
            yield w, mechanism


def timelines(w: httpx.Client) -> dict[str, dict[str, Any]]:
    named = [m["id"] for m in w.get("/api/mechanisms").json() if m["kind"] == "named"]
    return {m: w.get(f"/api/mechanisms/{m}/timeline").json() for m in named}


def test_new_in_source_is_what_no_earlier_source_reports(published: tuple[httpx.Client, str]) -> None:
    w, mechanism = published
    answer = w.post("/sparql", data={"query": ISSUED}, headers={"Accept": "application/sparql-results+json"}).json()
    issued = {slug(b["source"]["value"]): b["issued"]["value"] for b in answer["results"]["bindings"]}
    assert {"article", SOURCE["id"]} <= set(issued) and issued[SOURCE["id"]] < issued["article"]
    reported = {m: {s for y in t["years"] for s in y["sources"]} for m, t in timelines(w).items()}
    expected = {(source, m) for m, sources in reported.items() for source in sources
                if not any(issued[other] < issued[source] for other in sources)}
    rows = run(w, "new_in_source")
    assert {(slug(r["source"]), slug(r["mechanism"])) for r in rows} == expected
    assert (SOURCE["id"], mechanism) in expected and ("article", mechanism) not in expected


def test_spread_follows_the_timelines_across_both_sources(published: tuple[httpx.Client, str]) -> None:
    w, mechanism = published
    expected = set()
    for m, t in timelines(w).items():
        for later in t["years"][1:]:
            if len(later["districts"]) > len(t["years"][0]["districts"]):
                expected.add((m, later["year"]))
    assert {(slug(r["mechanism"]), int(r["later_year"])) for r in run(w, "mechanism_spread")} == expected


def test_the_mechanism_page_timeline_shows_both_sources(published: tuple[httpx.Client, str]) -> None:
    w, mechanism = published
    api = w.get(f"/api/mechanisms/{mechanism}/timeline").json()
    assert {"article", SOURCE["id"]} <= {s for y in api["years"] for s in y["sources"]}
    timeline = section(w.get(f"/id/mechanism/{mechanism}?lang=en", headers={"Accept": "text/html"}).text, "timeline")
    assert timeline is not None and shown_years(timeline) == api["years"]


def test_the_district_page_lists_the_new_sources_practices_in_their_year(
        published: tuple[httpx.Client, str]) -> None:
    w, _ = published
    answer = w.post("/sparql", data={"query": ISSUED}, headers={"Accept": "application/sparql-results+json"}).json()
    issued = {slug(b["source"]["value"]): b["issued"]["value"] for b in answer["results"]["bindings"]}
    practices = [p for p in w.get("/api/districts/dongcheng").json()["practices"] if SOURCE["id"] in p["id"]]
    assert practices
    by_year = section(w.get("/id/district/dongcheng?lang=zh", headers={"Accept": "text/html"}).text, "by-year")
    assert by_year is not None
    lists = {int(y): body for y, body in re.findall(r'<ul class="by-year-list" data-year="(\d+)">(.*?)</ul>', by_year,
                                                     re.S)}
    for p in practices:
        year = int(str(p["date"] or p["start_date"] or issued[SOURCE["id"]])[:4])
        assert f'data-practice="{p["id"]}" data-source="{SOURCE["id"]}"' in lists[year]
    assert len(lists) >= 2  # the article's year and the made-up source's
