"""Spreadsheet downloads: the practices and the facts as CSV (``/export/practices.csv``,
``/export/facts.csv``).

UTF-8 with a byte-order mark (so that spreadsheet programs read the Chinese as UTF-8), CRLF line
ends and a header row (RFC 4180). One row per practice or fact, in article order; a practice's
mechanisms and themes are the ones it names itself, as ids separated by ``;``.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from app.store.graph import KnowledgeGraph

PRACTICE_COLUMNS = ("id", "iri", "district", "district_zh", "label_zh", "label_en", "mechanisms", "themes",
                    "quote", "start", "end")
FACT_COLUMNS = ("id", "iri", "district", "district_zh", "practice", "label_zh", "label_en", "value", "min_value",
                "unit_zh", "unit_en", "quote", "start", "end")
TABLES = ("practices", "facts")


def tail(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def district_names(graph: KnowledgeGraph) -> dict[str, str]:
    return {row["district"]: row["label_zh"] for row in graph.run("districts")}


def practice_rows(graph: KnowledgeGraph) -> list[tuple[Any, ...]]:
    """One row per practice (the named query has one per practice, mechanism and theme)."""
    names = district_names(graph)
    merged: dict[str, dict[str, Any]] = {}
    for row in graph.run("district_practices"):
        entry = merged.setdefault(row["practice"], {**row, "mechanisms": set(), "themes": set()})
        if "mechanism" in row:
            entry["mechanisms"].add(tail(row["mechanism"]))
        if "theme" in row:
            entry["themes"].add(tail(row["theme"]))
    ordered = sorted(merged.values(), key=lambda r: (r["start"], r["practice"]))
    return [(tail(r["practice"]), r["practice"], tail(r["district"]), names.get(r["district"], ""), r["label_zh"],
             r["label_en"], ";".join(sorted(r["mechanisms"])), ";".join(sorted(r["themes"])), r["quote"],
             r["start"], r["end"]) for r in ordered]


def fact_rows(graph: KnowledgeGraph) -> list[tuple[Any, ...]]:
    names = district_names(graph)
    seen: dict[str, dict[str, Any]] = {}
    for row in graph.run("district_facts"):
        seen.setdefault(row["fact"], row)
    ordered = sorted(seen.values(), key=lambda r: (r["start"], r["fact"]))
    return [(tail(r["fact"]), r["fact"], tail(r["district"]), names.get(r["district"], ""),
             tail(r["practice"]) if "practice" in r else None, r["label_zh"], r["label_en"], r["value"],
             r.get("min_value"), r.get("unit_zh"), r.get("unit_en"), r["quote"], r["start"], r["end"])
            for r in ordered]


def table_csv(graph: KnowledgeGraph, table: str) -> bytes:
    """``practices`` or ``facts`` as CSV bytes."""
    if table == "practices":
        return write_csv(PRACTICE_COLUMNS, practice_rows(graph))
    if table == "facts":
        return write_csv(FACT_COLUMNS, fact_rows(graph))
    raise ValueError(f"no table {table!r}; the tables are: {', '.join(TABLES)}")
