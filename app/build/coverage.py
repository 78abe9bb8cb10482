"""``kg coverage``: account for every clause of a source's opening and district paragraphs.

Per source (``kg coverage --source ID``; the one source by default): its text, the quotes taken
from it (``dcterms:source``) and its own ``data/sources/{id}/coverage-exclusions.tsv``.

A paragraph is split into clauses at 。；;！？!? (a clause is what lies between two of them, the
mark included). A clause is *cited* when the quote of a practice, fact or theme overlaps it (a
supervision topic cites the clauses of the practices that name it), *excluded* when
the source's ``coverage-exclusions.tsv`` lists it with a reason (a heading, a statement of purpose …), and
*unaccounted* otherwise. The district paragraphs are the districts' ``bjrd:paragraph`` quotes; the
opening paragraph is the article's paragraph just before the first of them.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.build.graph import KnowledgeGraph
from app.build.load import SourceDir
from app.errors import DataError

CLAUSE_END = re.compile(r"[。；;！？!?]")
EXCLUSIONS_FILE = "coverage-exclusions.tsv"
PARAGRAPHS_QUERY = """
PREFIX bjrd: <https://bjrd-kg.example.org/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX oa:   <http://www.w3.org/ns/oa#>
SELECT ?district ?start ?end ?source WHERE {
  ?district a bjrd:District ; bjrd:paragraph ?p . ?p oa:start ?start ; oa:end ?end .
  OPTIONAL { ?p dcterms:source ?source }
}
"""


@dataclass(frozen=True)
class Exclusion:
    start: int
    snippet: str
    reason: str
    line: int


@dataclass
class Clause:
    paragraph: str
    start: int
    end: int
    text: str
    cited_by: list[tuple[str, str]] = field(default_factory=list)  # (kind, slug)
    excluded: str | None = None

    @property
    def accounted(self) -> bool:
        return bool(self.cited_by) or self.excluded is not None

    @property
    def topics(self) -> list[str]:
        """The supervision topics of the practices whose quotes overlap the clause: what it says was supervised."""
        return [slug for kind, slug in self.cited_by if kind == "topic"]


@dataclass
class Coverage:
    clauses: list[Clause]
    problems: list[str]  # exclusion lines that name no clause

    @property
    def unaccounted(self) -> list[Clause]:
        return [c for c in self.clauses if not c.accounted]

    @property
    def ok(self) -> bool:
        return not self.unaccounted and not self.problems

    @property
    def with_topic(self) -> list["Clause"]:
        return [c for c in self.clauses if c.topics]


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) spans of the clauses of text[start:end]; spans with no letter or digit are dropped."""
    spans, at = [], start
    for match in CLAUSE_END.finditer(text, start, end):
        spans.append((at, match.end()))
        at = match.end()
    if at < end:
        spans.append((at, end))
    return [(a, b) for a, b in spans if any(ch.isalnum() for ch in text[a:b])]


def read_exclusions(path: Path) -> list[Exclusion]:
    """``start<TAB>snippet<TAB>reason`` lines; # starts a comment."""
    out: list[Exclusion] = []
    if not path.exists():
        return out
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        start, snippet, reason = line.split("\t")
        out.append(Exclusion(int(start), snippet, reason.strip(), number))
    return out


def opening_paragraph(text: str, first_district_start: int) -> tuple[int, int]:
    """The non-empty line just before the first district paragraph (leading spaces left out)."""
    before = text[:first_district_start].rstrip()
    line_start = before.rfind("\n") + 1
    line = before[line_start:]
    return line_start + (len(line) - len(line.lstrip())), len(before)


@dataclass(frozen=True)
class Citation:
    kind: str  # practice | fact | theme | topic
    slug: str
    start: int
    end: int


def read_graph(graph: KnowledgeGraph, source: str | None = None) -> tuple[dict[str, tuple[int, int]], list[Citation]]:
    """(district slug → its paragraph's span, every citation) from the graph; with ``source`` (its IRI),
    only the paragraphs and citations whose quotes come from that source."""
    def kept(row: dict) -> bool:
        found = row.get("source")
        return source is None or (found is not None and str(getattr(found, "value", found)) == source)

    paragraphs = {}
    for row in graph.backend.select(PARAGRAPHS_QUERY):
        if kept(row):
            span = (int(row["start"].value), int(row["end"].value))
            paragraphs[str(row["district"].value).rsplit("/", 1)[-1]] = span
    citations = [Citation(r["kind"], str(r["entity"]).rsplit("/", 1)[-1], int(r["start"]), int(r["end"]))
                 for r in graph.run("coverage") if kept(r)]
    return paragraphs, citations


def measure_source(graph: KnowledgeGraph, source: SourceDir) -> Coverage:
    """The coverage of one source: its text, the quotes taken from it, its own exclusions."""
    paragraphs, citations = read_graph(graph, source.iri(graph.settings.base_iri))
    if not paragraphs:
        raise DataError(f"source {source.id!r}: no district paragraph quotes it (bjrd:paragraph with dcterms:source "
                        f"<{source.iri(graph.settings.base_iri)}>)")
    return measure(source.text(), paragraphs, citations, read_exclusions(source.path / EXCLUSIONS_FILE))


def measure(text: str, paragraphs: dict[str, tuple[int, int]], citations: Iterable[Citation],
            exclusions: Iterable[Exclusion]) -> Coverage:
    """Split the paragraphs into clauses and say, for each, what cites it or why it is left out."""
    first = min(start for start, _ in paragraphs.values())
    ordered = [("opening", opening_paragraph(text, first)), *sorted(paragraphs.items(), key=lambda kv: kv[1][0])]
    clauses = [Clause(name, a, b, text[a:b])
               for name, (start, end) in ordered for a, b in split_clauses(text, start, end)]
    citations = list(citations)
    for clause in clauses:
        for cite in citations:
            key = (cite.kind, cite.slug)
            if cite.start < clause.end and clause.start < cite.end and key not in clause.cited_by:
                clause.cited_by.append(key)
    by_start = {c.start: c for c in clauses}
    problems = []
    for ex in exclusions:
        found = by_start.get(ex.start)
        if found is None or not ex.snippet or not found.text.startswith(ex.snippet):
            problems.append(f"{EXCLUSIONS_FILE}:{ex.line}: no clause starts at {ex.start} with {ex.snippet!r}")
        elif not ex.reason:
            problems.append(f"{EXCLUSIONS_FILE}:{ex.line}: no reason given")
        else:
            found.excluded = ex.reason
    return Coverage(clauses, problems)


def report(coverage: Coverage, *, width: int = 40) -> str:
    """One block per paragraph, one line per clause and what accounts for it; a summary at the end."""
    lines, current = [], None
    for c in coverage.clauses:
        if c.paragraph != current:
            current = c.paragraph
            lines.append(f"\n## {current}")
        shown = c.text if len(c.text) <= width else c.text[:width] + "…"
        if c.cited_by:
            kinds: dict[str, list[str]] = defaultdict(list)
            for kind, slug in c.cited_by:
                kinds[kind].append(slug)
            how = "; ".join(f"{kind}: {', '.join(slugs)}" for kind, slugs in kinds.items())
        elif c.excluded:
            how = f"left out: {c.excluded}"
        else:
            how = "UNACCOUNTED"
        lines.append(f"[{c.start}-{c.end}) {shown}\n    {how}")
    lines += ["", *coverage.problems]
    cited = sum(1 for c in coverage.clauses if c.cited_by)
    excluded = sum(1 for c in coverage.clauses if not c.cited_by and c.excluded)
    lines.append(f"{len(coverage.with_topic)} clauses carry a supervision topic (what the congress supervised)")
    lines.append(f"{len(coverage.clauses)} clauses: {cited} cited, {excluded} left out with a reason, "
                 f"{len(coverage.unaccounted)} unaccounted")
    return "\n".join(lines).lstrip("\n")
