"""``kg coverage`` (app/build/coverage.py): every clause of the opening and district paragraphs is cited
by a practice, fact, theme or topic, or left out with a reason in data/sources/article/coverage-exclusions.tsv."""

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.build import coverage
from app.build.graph import KnowledgeGraph
from app.cli import main
from app.config import ROOT

EXCLUSIONS = ROOT / "data" / "sources" / "article" / coverage.EXCLUSIONS_FILE


@pytest.fixture(scope="module")
def parts(graph: KnowledgeGraph) -> tuple[dict[str, tuple[int, int]], list[coverage.Citation]]:
    return coverage.read_graph(graph)


def test_coverage_every_clause_is_accounted_for(source_text: str, parts: tuple) -> None:
    paragraphs, citations = parts
    result = coverage.measure(source_text, paragraphs, citations, coverage.read_exclusions(EXCLUSIONS))
    assert result.problems == []
    assert [f"[{c.start}-{c.end}) {c.text}" for c in result.unaccounted] == []
    assert {c.paragraph for c in result.clauses} == {"opening", *paragraphs}


def test_coverage_clauses_tile_each_paragraph(source_text: str, parts: tuple) -> None:
    paragraphs, citations = parts
    result = coverage.measure(source_text, paragraphs, citations, [])
    for district, (start, end) in paragraphs.items():
        spans = [(c.start, c.end) for c in result.clauses if c.paragraph == district]
        assert spans[0][0] == start and spans[-1][1] == end, district
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False)), district
        assert all(source_text[e - 1] in "。；;！？!?" or e == end for _, e in spans), district


def test_coverage_removing_one_quote_leaves_its_clause_unaccounted(source_text: str, parts: tuple) -> None:
    paragraphs, citations = parts
    exclusions = coverage.read_exclusions(EXCLUSIONS)
    # A clause that one entity alone cites.
    lone = [c for c in coverage.measure(source_text, paragraphs, citations, exclusions).clauses
            if len({slug for _, slug in c.cited_by}) == 1 and c.excluded is None]
    assert lone
    target = lone[0]
    dropped = [c for c in citations if not (c.start < target.end and target.start < c.end)]
    result = coverage.measure(source_text, paragraphs, dropped, exclusions)
    assert [(c.start, c.end) for c in result.unaccounted] == [(target.start, target.end)]
    assert not result.ok


def test_coverage_stale_exclusion_is_a_problem(source_text: str, parts: tuple) -> None:
    paragraphs, citations = parts
    exclusions = coverage.read_exclusions(EXCLUSIONS)
    moved = [dataclasses.replace(exclusions[0], start=exclusions[0].start + 1), *exclusions[1:]]
    result = coverage.measure(source_text, paragraphs, citations, moved)
    assert len(result.problems) == 1 and "no clause starts at" in result.problems[0]
    assert not result.ok


def test_coverage_exclusions_each_give_a_reason() -> None:
    exclusions = coverage.read_exclusions(EXCLUSIONS)
    assert exclusions
    assert [e.line for e in exclusions if not e.reason or not e.snippet] == []


@pytest.mark.parametrize(("text", "clauses"), [
    ("甲。乙;丙", ["甲。", "乙;", "丙"]),
    ("让行家里手“把脉问诊。”明确", ["让行家里手“把脉问诊。", "”明确"]),
    ("甲。”", ["甲。"]),
])
def test_coverage_split_clauses_at_stops(text: str, clauses: list[str]) -> None:
    assert [text[a:b] for a, b in coverage.split_clauses(text, 0, len(text))] == clauses


def test_cli_coverage_prints_every_paragraph_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage"]) == 0
    out = capsys.readouterr().out
    assert "## opening" in out and "## haidian" in out
    assert out.rstrip().endswith("0 unaccounted")


def test_cli_coverage_subprocess_exits_1_when_a_clause_is_unaccounted(tmp_path: Path) -> None:
    lines = EXCLUSIONS.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.startswith("#")] + [line for line in lines if not line.startswith("#")][1:]
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "sources" / "article" / coverage.EXCLUSIONS_FILE).write_text("\n".join(kept) + "\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KG_")} | {"KG_DATA_DIR": str(data)}
    done = subprocess.run([sys.executable, "-m", "app", "coverage"], check=False, capture_output=True, text=True,
                          env=environ, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "UNACCOUNTED" in done.stdout
    assert done.stdout.rstrip().endswith("1 unaccounted")


def test_coverage_records_which_clauses_carry_a_topic(source_text: str, parts: tuple, graph: KnowledgeGraph,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A clause carries a supervision topic when the quote of a practice that supervises one overlaps it; counted
    here from the asserted links, independently of coverage.rq."""
    from tests.helpers import PREFIXES, select

    paragraphs, citations = parts
    result = coverage.measure(source_text, paragraphs, citations, coverage.read_exclusions(EXCLUSIONS))
    spans = [(r["s"], r["e"], r["t"].rsplit("/", 1)[-1]) for r in select(graph, PREFIXES + f"""
        SELECT DISTINCT ?s ?e ?t WHERE {{ GRAPH <{graph.names.data}> {{
          ?p bjrd:supervisesTopic ?t ; bjrd:evidence [ oa:start ?s ; oa:end ?e ] }} }}""")]
    expected = {(c.start, c.end): sorted({t for s, e, t in spans if s < c.end and c.start < e}) for c in result.clauses}
    # coverage.rq also names the broader topics (the inferred links): a superset of the asserted ones
    assert [f"{c.start}: {ts}" for c in result.clauses
            if not set(ts := expected[(c.start, c.end)]) <= set(c.topics)] == []
    assert [(c.start, c.end) for c in result.with_topic] == [k for k, ts in expected.items() if ts]
    assert len(result.with_topic) >= 30
    assert main(["coverage"]) == 0
    assert f"{len(result.with_topic)} clauses carry a supervision topic" in capsys.readouterr().out
