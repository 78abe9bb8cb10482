"""Sources as directories (data/sources/{id}/): loading finds every one, quotes offset into their own
source's text, coverage and /api/sources answer per source.

A second source is added to a copy of data/: a short text made up here (marked as such, it never goes
under data/), its source.ttl and one district file quoting it, with offsets computed from the text.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.build import coverage
from app.build.graph import KnowledgeGraph
from app.build.load import SourceFiles, find_source, source_dirs
from app.config import ROOT, Settings
from app.errors import DataError
from tests.helpers import PREFIXES, TURTLE_PREFIXES, select, serve_in_thread

MADE_UP = "made-up-2021-01"
OPENING = "（测试用虚构文本，并非真实报道）各区人大常委会2020年工作亮点扫描。"
PARAGRAPH = "海淀区人大常委会开展代表月进站活动。今年组织代表进站120人次。"
PRACTICE = "海淀区人大常委会开展代表月进站活动。"
TEXT = f"{OPENING}\n{PARAGRAPH}\n"



def quote(name: str, exact: str) -> str:
    start = TEXT.index(exact)
    return (f'quote:{name} a bjrd:Quote ; oa:exact "{exact}" ; oa:start {start} ; oa:end {start + len(exact)} ;\n'
            f"    dcterms:source src:{MADE_UP} .\n")


def add_made_up_source(data: Path) -> Path:
    folder = data / "sources" / MADE_UP
    (folder / "districts").mkdir(parents=True)
    (folder / "article.txt").write_text(TEXT, encoding="utf-8")
    (folder / "source.ttl").write_text(TURTLE_PREFIXES + f"""
src:{MADE_UP} a schema:Article , dcterms:BibliographicResource ;
    dcterms:title "测试用虚构文本"@zh , "A made-up text for the tests"@en ;
    dcterms:issued "2021-01"^^xsd:gYearMonth .
""", encoding="utf-8")
    (folder / "districts" / "haidian.ttl").write_text(TURTLE_PREFIXES + f"""
dist:haidian bjrd:paragraph quote:{MADE_UP}-haidian-paragraph .
{quote(f"{MADE_UP}-haidian-paragraph", PARAGRAPH)}
prac:{MADE_UP}-haidian-station a bjrd:Practice ;
    rdfs:label "开展代表月进站活动"@zh , "Deputies visit the stations every month"@en ;
    bjrd:district dist:haidian ;
    bjrd:usesMechanism mech:monthly-station-visit ;
    bjrd:evidence quote:{MADE_UP}-haidian-station .
{quote(f"{MADE_UP}-haidian-station", PRACTICE)}""", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("two-sources") / "data"
    shutil.copytree(ROOT / "data", data)
    add_made_up_source(data)
    return Settings(data_dir=data, validate_on_start=False, query_workers=1)


@pytest.fixture(scope="module")
def two_graph(two_sources: Settings) -> KnowledgeGraph:
    return KnowledgeGraph.build(two_sources, check=False)


def test_loading_finds_every_source_directory(two_sources: Settings) -> None:
    assert [s.id for s in source_dirs(ROOT / "data")] == ["article"]
    found = source_dirs(two_sources.data_dir)
    assert [s.id for s in found] == ["article", MADE_UP]
    files = SourceFiles.from_settings(two_sources).data
    for source in found:
        assert source.description in files and set(source.districts) <= set(files) and source.districts
    with pytest.raises(DataError, match=f"article, {MADE_UP}"):
        find_source(two_sources.data_dir)
    assert find_source(two_sources.data_dir, MADE_UP).text() == TEXT


def test_every_quote_is_verbatim_in_its_own_source(two_sources: Settings, two_graph: KnowledgeGraph) -> None:
    texts = {s.iri(two_sources.base_iri): s.text() for s in source_dirs(two_sources.data_dir)}
    rows = select(two_graph, PREFIXES + """PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?q ?exact ?start ?end ?source WHERE { ?q oa:exact ?exact ; oa:start ?start ; oa:end ?end ;
                                                     dcterms:source ?source }""")
    by_source: dict[str, int] = {}
    for row in rows:
        text = texts[str(row["source"])]
        assert text[int(row["start"]):int(row["end"])] == str(row["exact"]), row["q"]
        by_source[str(row["source"])] = by_source.get(str(row["source"]), 0) + 1
    assert set(by_source) == set(texts) and by_source[two_graph.iri("source", MADE_UP)] == 2


def test_coverage_is_measured_per_source(two_sources: Settings, two_graph: KnowledgeGraph) -> None:
    article = coverage.measure_source(two_graph, find_source(two_sources.data_dir, "article"))
    assert article.ok  # the second source changes nothing of the article's clauses
    made_up = coverage.measure_source(two_graph, find_source(two_sources.data_dir, MADE_UP))
    assert {c.text for c in made_up.clauses} == {OPENING, PRACTICE, PARAGRAPH.removeprefix(PRACTICE)}
    cited = {c.text: c.cited_by for c in made_up.clauses}
    assert cited[PRACTICE] == [("practice", f"{MADE_UP}-haidian-station")]
    assert not cited[OPENING]  # no exclusions of its own: the opening is unaccounted, the article's list not used


@pytest.fixture(scope="module")
def two_server(two_sources: Settings) -> Iterator[str]:
    for live in serve_in_thread(two_sources):
        yield live.url


def test_api_sources_answers_across_both(two_server: str, client: httpx.Client) -> None:
    listed = httpx.get(f"{two_server}/api/sources", timeout=60).json()
    assert [s["id"] for s in listed] == [MADE_UP, "article"]  # earliest first
    made_up = httpx.get(f"{two_server}/api/sources/{MADE_UP}", timeout=60).json()
    assert made_up["practices"] == {"haidian": 1} and made_up["districts"] == ["haidian"]
    assert made_up["issued"] == "2021-01" and made_up["title"] == "测试用虚构文本"
    # the article answers as it does alone
    alone = client.get("/api/sources/article").json()
    assert httpx.get(f"{two_server}/api/sources/article", timeout=60).json() == alone


def test_read_shows_one_source_at_a_time(two_server: str, client: httpx.Client) -> None:
    from tests.test_pages_read import Reading

    made_up = Reading(httpx.get(f"{two_server}/read", params={"source": MADE_UP, "lang": "zh"}, timeout=60).text)
    assert made_up.order == ["haidian"] and made_up.text["haidian"] == PARAGRAPH
    assert made_up.linked["haidian"] == {f"{MADE_UP}-haidian-station": PRACTICE}
    alone = Reading(client.get("/read", params={"lang": "zh"}).text)
    article = Reading(httpx.get(f"{two_server}/read", params={"source": "article", "lang": "zh"}, timeout=60).text)
    assert (article.order, article.text, article.linked) == (alone.order, alone.text, alone.linked)
    assert len(alone.order) == 16
    missing = httpx.get(f"{two_server}/read", params={"source": "nowhere"}, timeout=60)
    assert missing.status_code == 404 and "article" in missing.text and MADE_UP in missing.text


def test_the_lint_reads_each_quote_against_its_own_source(two_sources: Settings) -> None:
    from app.build import lint
    from app.build.graph import load

    loaded = load(two_sources)
    triples = loaded.ontology + loaded.data
    assert lint.lint_files(triples, two_sources.data_dir) == []
    # read against the article alone, the made-up source's practice quote lands mid-phrase
    against_article = lint.lint(triples, find_source(two_sources.data_dir, "article").text(),
                                lint.read_exclusions(two_sources.data_dir / lint.EXCLUSIONS_FILE))
    assert {p.subject.rsplit("/", 1)[-1] for p in against_article} == {f"{MADE_UP}-haidian-station"}
    only_article = {"article": find_source(two_sources.data_dir, "article").text()}
    unknown = lint.lint(triples, only_article, lint.read_exclusions(two_sources.data_dir / lint.EXCLUSIONS_FILE))
    assert [(p.rule, p.subject.rsplit("/", 1)[-1]) for p in unknown] == [("quote-source", f"{MADE_UP}-haidian-station")]
