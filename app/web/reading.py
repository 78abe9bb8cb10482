"""The reading of a source (``/read``): its district paragraphs and opening, cut into pieces that link
to the practices, facts and themes quoting them; per source (``?source=ID``), only what is quoted from it,
its text read from ``data/sources/{id}/article.txt`` when that is the file the graph describes (SHA-256)."""

from pathlib import Path
from typing import Any

from app.api.catalog import Catalog
from app.api.sources import SourceDetail
from app.build.graph import KnowledgeGraph
from app.build.load import source_dirs
from app.rdf.source_text import SourceTextError, read_source_text, text_sha256


def pick(label: Any, lang: str) -> tuple[str, str]:
    """(text in ``lang``, text in the other language) of a ``Label`` (else the other one)."""
    other = "en" if lang == "zh" else "zh"
    return getattr(label, lang) or getattr(label, other), getattr(label, other)


def reading_pieces(paragraph_start: int, text: str, passages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``text`` (starting at ``paragraph_start`` in the article) cut at every passage boundary: each
    piece with the passages covering it (practices, facts, others; each in article order), the
    anchors ``q-{start}-{end}`` of the passages starting there, and whether one starts or ends there
    (so that adjacent passages show a boundary instead of one band)."""
    cuts = {0, len(text)}
    for passage in passages:
        cuts.update(min(max(edge - paragraph_start, 0), len(text)) for edge in (passage["start"], passage["end"]))
    edges = sorted(cuts)
    pieces = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        covering = [p for p in passages if p["start"] - paragraph_start <= lo and hi <= p["end"] - paragraph_start]
        starting = [p for p in covering if p["start"] - paragraph_start == lo]
        pieces.append({"text": text[lo:hi], "from": paragraph_start + lo, "to": paragraph_start + hi,
                       "practices": [p for p in covering if p["kind"] == "practice"],
                       # the innermost fact first: a number inside a longer stated number links to its own fact
                       "facts": sorted((p for p in covering if p["kind"] == "fact"),
                                       key=lambda p: p["end"] - p["start"]),
                       "others": [p for p in covering if p["kind"] not in ("practice", "fact")],
                       "anchors": list(dict.fromkeys(f"q-{p['start']}-{p['end']}" for p in starting)),
                       "starts": bool(starting), "ends": any(p["end"] - paragraph_start == hi for p in covering)})
    return pieces


def quote_sources(graph: KnowledgeGraph) -> dict[str, set[str]]:
    """Quote IRI and record IRI -> the IRIs of the sources they are quoted from (queries/source_records.rq)."""
    def build() -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for row in graph.run("source_records"):
            out.setdefault(row["quote"], set()).add(row["source"])
            out.setdefault(row["record"], set()).add(row["source"])
        return out

    found: dict[str, set[str]] = graph.memo.get(("quote-sources",), build, size=1)
    return found


def read_opening(graph: KnowledgeGraph, paragraphs: list[dict[str, Any]], lang: str,
                 source: SourceDetail | None = None) -> list[dict[str, Any]]:
    """The paragraphs of the article (``source``) quoted outside the districts' paragraphs (the opening one,
    which the themes cite), cut into pieces like the others; their text from the source's plain-text file,
    used only when it is the one the graph names (same SHA-256)."""
    spans = [(p["start"], p["start"] + len(p["text"])) for p in paragraphs]
    sources = quote_sources(graph) if source is not None else {}
    quotes = [row for row in graph.run("page_reading_quotes")
              if not any(lo <= int(row["start"]) and int(row["end"]) <= hi for lo, hi in spans)
              and (source is None or source.iri in sources.get(row["quote"], ()))]
    article = read_article_text(graph, source)
    if not quotes or article is None:
        return []
    opening: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in quotes:
        start, end = int(row["start"]), int(row["end"])
        if article[start:end] != row["exact"]:
            continue
        lo = article.rfind("\n", 0, start) + 1
        hi = article.find("\n", end)
        hi = len(article) if hi < 0 else hi
        kind, slug = row["record"].rsplit("/", 2)[-2:]
        label = row.get(f"label_{lang}") or row.get("label_zh") or slug
        opening.setdefault((lo, hi), []).append({"kind": kind, "id": slug, "start": start, "end": end, "label": label})
    out = []
    for (lo, hi), passages in sorted(opening.items()):
        text = article[lo:hi]
        stripped = len(text) - len(text.lstrip())
        passages.sort(key=lambda p: (p["start"], p["id"]))
        out.append({"start": lo + stripped, "pieces": reading_pieces(lo + stripped, text.strip(), passages)})
    return out


def readable(path: Path) -> str | None:
    """The source text at ``path`` as every reader reads it (offsets), or None if it is not UTF-8 text."""
    try:
        return read_source_text(path)
    except SourceTextError:
        return None


def read_article_text(graph: KnowledgeGraph, source: SourceDetail | None = None) -> str | None:
    """The plain text of ``source`` (data/sources/{id}/article.txt) if it is the file the graph describes
    (its schema:sha256); without a source, the first text the graph describes."""
    if source is not None:
        def own() -> str | None:
            folder = next((s for s in source_dirs(graph.settings.data_dir) if s.id == source.id), None)
            if folder is None or not folder.text_file.is_file():
                return None
            text = readable(folder.text_file)
            return text if text is not None and text_sha256(text) == source.sha256 else None

        found: str | None = graph.memo.get(("article-text", source.id), own, size=64)
        return found

    def build() -> str | None:
        rows = graph.run("page_article_text")
        texts = [s.text_file for s in source_dirs(graph.settings.data_dir)]
        for row in rows:
            for path in texts:
                text = readable(path) if path.is_file() else None
                if text is not None and text_sha256(text) == row["sha256"]:
                    return text
        return None

    text: str | None = graph.memo.get(("article-text", None), build, size=64)
    return text


def read_article(graph: KnowledgeGraph, catalog: Catalog, lang: str,
                 source: SourceDetail | None = None) -> list[dict[str, Any]]:
    """Each district paragraph of the article (``source``: its paragraphs only, and the practices and facts
    quoted from it), cut into pieces that link to the practices and facts quoting them."""
    sources = quote_sources(graph) if source is not None else {}

    def quoted(iri: str) -> bool:
        return source is None or source.iri in sources.get(iri, ())

    by_district: dict[str, list[dict[str, Any]]] = {d: [] for d in catalog.districts}
    for p in catalog.practices.values():
        if not quoted(p.iri):
            continue
        by_district[p.district].append({"kind": "practice", "id": p.id, "start": p.start, "end": p.end,
                                        "label": pick(p.label, lang)[0]})
    for f in catalog.facts:
        if not quoted(f.iri):
            continue
        by_district[f.district].append({"kind": "fact", "id": f.id, "start": f.start, "end": f.start + len(f.quote),
                                        "label": f"{f.value} {pick(f.unit, lang)[0]} · {pick(f.label, lang)[0]}"})
    paragraphs = []
    for row in graph.run("page_reading"):
        if source is not None and row.get("source") != source.iri:
            continue
        district = catalog.districts[row["district"].rsplit("/", 1)[-1]]
        passages = sorted(by_district[district.id], key=lambda p: (p["kind"] != "practice", p["start"], p["id"]))
        start = int(row["start"])
        anchor = f"q-{start}-{start + len(row['text'])}"  # the paragraph's own quote, unless a passage has it
        paragraphs.append({"id": district.id, "label": pick(district.label, lang)[0], "start": row["start"],
                           "anchor": None if any(f"q-{p['start']}-{p['end']}" == anchor for p in passages) else anchor,
                           "text": row["text"], "practices": sum(p["kind"] == "practice" for p in passages),
                           "pieces": reading_pieces(int(row["start"]), row["text"], passages)})
    return paragraphs
