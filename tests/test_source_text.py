"""One reading of a source's text (app/rdf/source_text.py): loading and the verbatim check, coverage, /read
and kg draft count offsets in the same characters, a CRLF two of them and a BOM character 0.

A second source is added to a copy of data/: a short text MADE UP here (it reports nothing real; it never goes
under data/), written with a byte-order mark and CRLF line ends. Its district file quotes it at the offsets
``kg draft`` gives for it (not computed here), so the other readers are checked against the drafter's.
"""

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.build import coverage, lint
from app.build.graph import KnowledgeGraph, load
from app.build.load import find_source
from app.cli import main
from app.config import ROOT, Settings
from app.draft.command import read_article
from app.draft.drafter import draft_text
from app.draft.known import read_known
from app.draft.model import SourceInfo
from app.draft.writer import to_json
from app.errors import DataError
from app.rdf.source_text import read_source_text, text_sha256
from tests.helpers import TURTLE_PREFIXES, serve_in_thread

MADE_UP = "made-up-crlf-2024-01"
#: MADE UP: a BOM, an opening line, a district paragraph, each line ended by CRLF.
TEXT = ("\ufeff（测试用虚构文本，并非真实报道）各区人大常委会2023年工作亮点扫描。\r\n"
        "\r\n海淀区人大常委会组织代表进站接待群众1200人次。召开座谈会8场。\r\n")


def literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a Turtle string: \r, \n and \" escaped alike


def quote_ttl(name: str, span: dict[str, Any]) -> str:
    return (f"quote:{name} a bjrd:Quote ; oa:exact {literal(span['quote'])} ; oa:start {span['start']} ; "
            f"oa:end {span['end']} ;\n    dcterms:source src:{MADE_UP} .\n")


def drafted(path: Path) -> dict[str, Any]:
    """What kg draft reads and proposes for the file (its own reading of the text)."""
    text = read_article(str(path))
    return to_json(draft_text(text, read_known(Settings()), SourceInfo(MADE_UP, "测试用虚构文本", "2024-01")))


def add_source(data: Path) -> dict[str, Any]:
    folder = data / "sources" / MADE_UP
    (folder / "districts").mkdir(parents=True)
    (folder / "article.txt").write_bytes(TEXT.encode("utf-8"))
    draft = drafted(folder / "article.txt")
    (district,) = draft["districts"]
    practice = district["practices"][0]
    paragraph = {"quote": TEXT[district["start"]:district["end"]], "start": district["start"], "end": district["end"]}
    theme = next(iter(read_themes()))
    (folder / "source.ttl").write_text(TURTLE_PREFIXES + f"""
src:{MADE_UP} a schema:Article , dcterms:BibliographicResource ;
    dcterms:title "测试用虚构文本"@zh , "A made-up text for the tests"@en ;
    dcterms:issued "2024-01"^^xsd:gYearMonth ;
    schema:encoding src:{MADE_UP}-text .

src:{MADE_UP}-text a schema:MediaObject ;
    dcterms:format "text/plain; charset=utf-8" ;
    schema:sha256 "{text_sha256(TEXT)}" .
""", encoding="utf-8")
    (folder / "districts" / f"{district['id']}.ttl").write_text(TURTLE_PREFIXES + f"""
dist:{district['id']} bjrd:paragraph quote:{MADE_UP}-paragraph .
{quote_ttl(f"{MADE_UP}-paragraph", paragraph)}
prac:{MADE_UP}-visits a bjrd:Practice ;
    rdfs:label {literal(practice['quote'])}@zh , "Deputies receive residents at the stations (made up)"@en ;
    bjrd:district dist:{district['id']} ;
    bjrd:theme theme:{theme} ;
    bjrd:evidence quote:{MADE_UP}-visits .
{quote_ttl(f"{MADE_UP}-visits", practice)}""", encoding="utf-8")
    return draft


def read_themes() -> list[str]:
    found = re.findall(r"theme:([a-z0-9-]+) a bjrd:Theme", (ROOT / "data" / "themes.ttl").read_text(encoding="utf-8"))
    assert found
    return sorted(found)


@pytest.fixture(scope="module")
def crlf_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Any]]:
    data = tmp_path_factory.mktemp("crlf-source") / "data"
    shutil.copytree(ROOT / "data", data)
    draft = add_source(data)
    return Settings(data_dir=data, validate_on_start=False, query_workers=1), draft


def test_the_made_up_text_has_a_bom_and_crlf_and_the_draft_counts_them(
        crlf_source: tuple[Settings, dict[str, Any]]) -> None:
    settings, draft = crlf_source
    raw = (settings.data_dir / "sources" / MADE_UP / "article.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == 3
    (district,) = draft["districts"]
    # Offsets past the BOM and two CRLFs: one character each for the BOM and for each CR.
    assert district["start"] == TEXT.index("海淀区") and TEXT.index("海淀区") == TEXT.replace("\r\n", "\n").index(
        "海淀区") + 2
    assert find_source(settings.data_dir, MADE_UP).text() == TEXT == read_article(str(
        settings.data_dir / "sources" / MADE_UP / "article.txt"))


def test_the_verbatim_check_reads_the_drafts_offsets(crlf_source: tuple[Settings, dict[str, Any]]) -> None:
    settings, _ = crlf_source
    loaded = load(settings)
    problems = [p for p in lint.lint_files(loaded.ontology + loaded.data, settings.data_dir) if MADE_UP in p.subject]
    assert problems == []


def test_coverage_reads_the_drafts_offsets(crlf_source: tuple[Settings, dict[str, Any]]) -> None:
    settings, draft = crlf_source
    graph = KnowledgeGraph.build(settings, check=False)
    measured = coverage.measure_source(graph, find_source(settings.data_dir, MADE_UP))
    practice = draft["districts"][0]["practices"][0]
    (clause,) = [c for c in measured.clauses if c.start == practice["start"]]  # the clause with its full stop
    assert clause.text.startswith(practice["quote"]) and clause.end == practice["end"] + 1
    assert clause.cited_by == [("practice", f"{MADE_UP}-visits")]


@pytest.fixture(scope="module")
def served(crlf_source: tuple[Settings, dict[str, Any]]) -> Iterator[str]:
    for live in serve_in_thread(crlf_source[0]):
        yield live.url


def test_read_highlights_the_practice_at_the_drafts_offsets(
        served: str, crlf_source: tuple[Settings, dict[str, Any]]) -> None:
    practice = crlf_source[1]["districts"][0]["practices"][0]
    page = httpx.get(f"{served}/read", params={"source": MADE_UP, "lang": "en"}, timeout=60)
    assert page.status_code == 200
    link = re.search(r'<a class="hl[^"]*"[^>]*data-span="(\d+)-(\d+)"[^>]*data-practice="' + MADE_UP + r'-visits"',
                     page.text)
    assert link, page.text[:2000]
    assert (int(link[1]), int(link[2])) == (practice["start"], practice["end"])
    assert "召开座谈会8场" in page.text  # the text no quote cites: read from the file the graph's SHA-256 names
    source = httpx.get(f"{served}/api/sources/{MADE_UP}", timeout=60).json()
    assert source["sha256"] == text_sha256(TEXT)


def test_a_text_that_is_not_utf8_is_an_error_naming_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "article.txt"
    bad.write_bytes(TEXT.encode("utf-8").replace("海".encode(), b"\xff\xfe", 1))
    with pytest.raises(DataError, match=re.escape(str(bad)) + r": not UTF-8 text: byte \d+ \(0xff, line 3"):
        read_source_text(bad)
    # kg validate over a copy of data/ whose source text is broken: exit 2 naming the file, no traceback.
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    broken = data / "sources" / "article" / "article.txt"
    broken.write_bytes(broken.read_bytes() + b"\xc3(")
    monkeypatch.setenv("KG_DATA_DIR", str(data))
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert f"{broken}: not UTF-8 text" in err and "Traceback" not in err
    # kg draft says the same of its ARTICLE.txt.
    assert main(["draft", str(bad), "--source", "x", "--issued", "2024-01"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: not UTF-8 text" in err and "Traceback" not in err
