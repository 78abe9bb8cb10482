"""Spreadsheet tables: the dataset as CSV (``/export/{table}.csv`` and each release), and the one
writer every CSV of the service goes through.

UTF-8 with a byte-order mark (so that spreadsheet programs read the Chinese as UTF-8), CRLF line
ends and a header row (RFC 4180). The tables, one row each in a stable order:

- ``practices``: per practice (article order), the mechanisms and themes it names itself as ids
  separated by ``;``, and their labels (``mechanisms_zh``, ``mechanisms_en``) in the same order;
- ``facts``: per number the article states (article order);
- ``mechanisms``, ``topics``: per concept (id order), its kind, broader and narrower ids, and the
  districts using it (directly or through a narrower one, GB/T code order) with their count;
- ``matrix``: per district and mechanism (tidy, "long" form: 16 × mechanisms rows), whether the
  district uses it (1/0), with both labels and the mechanism's kind.

Per source (``records``: the practices and facts quoted from it, app/ld/export.py): ``practices`` and
``facts`` keep that source's rows; ``mechanisms`` and ``topics`` the concepts its practices use (directly or
through a narrower one), with the districts using them there; ``matrix`` every district × those mechanisms,
``uses`` as that source's practices say.

Cells are neutralised against formula injection (OWASP "CSV injection"): a text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading ``'``, so that a
spreadsheet shows it as text instead of evaluating it. Numbers are written as numbers.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.build.graph import KnowledgeGraph

PRACTICE_COLUMNS = ("id", "iri", "district", "district_zh", "label_zh", "label_en", "mechanisms", "mechanisms_zh",
                    "mechanisms_en", "themes", "quote", "start", "end")
FACT_COLUMNS = ("id", "iri", "district", "district_zh", "practice", "label_zh", "label_en", "value", "min_value",
                "unit_zh", "unit_en", "quote", "start", "end")
CONCEPT_COLUMNS = ("id", "iri", "label_zh", "label_en", "kind", "top", "broader", "narrower", "count", "districts",
                   "definition_zh", "definition_en")
MATRIX_COLUMNS = ("district", "district_zh", "district_en", "mechanism", "mechanism_zh", "mechanism_en", "kind",
                  "uses")
TABLES = ("practices", "facts", "mechanisms", "topics", "matrix")
#: What a spreadsheet may read as the start of a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SEPARATOR = ";"


def cell(value: Any) -> Any:
    """One CSV cell: None as empty, numbers as they are, text starting like a formula behind a ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> bytes:
    """THE CSV writer of the service: header, rows of neutralised cells, CRLF; with a byte-order mark for the
    spreadsheet downloads, without for the /api tables (base R's read.csv would take it into the first name)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(c) for c in columns])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON object as one table row: ``label: {zh, en}`` becomes ``label_zh``, ``label_en``; another object
    its fields, prefixed; a list of values or of objects with an ``id`` the values or ids joined by ``;``."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "_"))
        elif isinstance(value, list):
            parts = [v.get("id", "") if isinstance(v, Mapping) else v for v in value]
            flat[name] = SEPARATOR.join("" if p is None else str(p) for p in parts)
        else:
            flat[name] = value
    return flat


def records_csv(records: Sequence[Mapping[str, Any]], columns: Sequence[str] = ()) -> bytes:
    """JSON objects as CSV without a byte-order mark, one row each (:func:`flatten`); the columns are
    ``columns`` then any other field in the order first seen (``columns`` alone when there is no record)."""
    rows = [flatten(r) for r in records]
    names = list(dict.fromkeys([*columns, *(k for row in rows for k in row)]))
    return write_csv(names, ([row.get(n) for n in names] for row in rows), bom=False)


def tail(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def district_labels(graph: KnowledgeGraph) -> dict[str, tuple[str, str]]:
    """District IRI -> (zh, en), in GB/T code order."""
    return {row["district"]: (row["label_zh"], row["label_en"]) for row in graph.run("districts")}


def concept_labels(graph: KnowledgeGraph, query: str, var: str) -> dict[str, dict[str, Any]]:
    """Concept id -> its first row of ``query``, with every ``broader`` id gathered (id order)."""
    concepts: dict[str, dict[str, Any]] = {}
    for row in graph.run(query):
        entry = concepts.setdefault(tail(row[var]), {**row, "broader": set(), "narrower": set()})
        if "broader" in row:
            entry["broader"].add(tail(row["broader"]))
    for cid, entry in concepts.items():
        for parent in entry["broader"]:
            if parent in concepts:
                concepts[parent]["narrower"].add(cid)
    return dict(sorted(concepts.items()))


def practice_rows(graph: KnowledgeGraph, records: frozenset[str] | None = None) -> list[tuple[Any, ...]]:
    """One row per practice (the named query has one per practice, mechanism and theme); those of ``records``
    alone when given."""
    names = district_labels(graph)
    mechanisms = concept_labels(graph, "mechanisms", "mechanism")
    merged: dict[str, dict[str, Any]] = {}
    for row in graph.run("district_practices"):
        if records is not None and row["practice"] not in records:
            continue
        entry = merged.setdefault(row["practice"], {**row, "mechanisms": set(), "themes": set()})
        if "mechanism" in row:
            entry["mechanisms"].add(tail(row["mechanism"]))
        if "theme" in row:
            entry["themes"].add(tail(row["theme"]))
    ordered = sorted(merged.values(), key=lambda r: (r["start"], r["practice"]))

    def labels(ids: list[str], lang: str) -> str:
        return SEPARATOR.join(str(mechanisms[m].get(f"label_{lang}", m)) if m in mechanisms else m for m in ids)

    rows = []
    for r in ordered:
        used = sorted(r["mechanisms"])
        rows.append((tail(r["practice"]), r["practice"], tail(r["district"]), names.get(r["district"], ("", ""))[0],
                     r["label_zh"], r["label_en"], SEPARATOR.join(used), labels(used, "zh"), labels(used, "en"),
                     SEPARATOR.join(sorted(r["themes"])), r["quote"], r["start"], r["end"]))
    return rows


def fact_rows(graph: KnowledgeGraph, records: frozenset[str] | None = None) -> list[tuple[Any, ...]]:
    names = district_labels(graph)
    seen: dict[str, dict[str, Any]] = {}
    for row in graph.run("district_facts"):
        if records is not None and row["fact"] not in records:
            continue
        seen.setdefault(row["fact"], row)
    ordered = sorted(seen.values(), key=lambda r: (r["start"], r["fact"]))
    return [(tail(r["fact"]), r["fact"], tail(r["district"]), names.get(r["district"], ("", ""))[0],
             tail(r["practice"]) if "practice" in r else None, r["label_zh"], r["label_en"], r["value"],
             r.get("min_value"), r.get("unit_zh"), r.get("unit_en"), r["quote"], r["start"], r["end"])
            for r in ordered]


def users(graph: KnowledgeGraph, query: str, var: str,
          records: frozenset[str] | None = None) -> dict[str, list[str]]:
    """Concept id -> the district ids using it (directly or through a narrower one), GB/T code order; by the
    practices of ``records`` alone when given."""
    order = {tail(d): i for i, d in enumerate(district_labels(graph))}
    found: dict[str, set[str]] = {}
    for row in graph.run(query):
        if records is not None and row["practice"] not in records:
            continue
        found.setdefault(tail(row[var]), set()).add(tail(row["district"]))
    return {c: sorted(ds, key=lambda d: order.get(d, len(order))) for c, ds in found.items()}


def concept_rows(graph: KnowledgeGraph, concepts_query: str, usage_query: str, var: str,
                 records: frozenset[str] | None = None) -> list[tuple[Any, ...]]:
    """Mechanisms or topics: one row each, id order. Kind: the concept's own (bjrd:mechanismKind), else
    umbrella for a concept with narrower ones, named for the others. With ``records``: the concepts their
    practices use, and the districts using them there."""
    used_by = users(graph, usage_query, var, records)
    rows = []
    for cid, c in concept_labels(graph, concepts_query, var).items():
        kind = c.get("kind") or ("umbrella" if c["narrower"] else "named")
        districts = used_by.get(cid, [])
        if records is not None and not districts:
            continue
        rows.append((cid, c[var], c["label_zh"], c["label_en"], kind, bool(c.get("top")),
                     SEPARATOR.join(sorted(c["broader"])), SEPARATOR.join(sorted(c["narrower"])), len(districts),
                     SEPARATOR.join(districts), c.get("definition_zh"), c.get("definition_en")))
    return rows


def matrix_rows(graph: KnowledgeGraph, records: frozenset[str] | None = None) -> list[tuple[Any, ...]]:
    """District × mechanism (GB/T code order, then mechanism id), 1 when the district uses it; with
    ``records``, every district × the mechanisms their practices use, 1 when they say the district does."""
    used_by = users(graph, "mechanism_practices", "mechanism", records)
    mechanisms = concept_rows(graph, "mechanisms", "mechanism_practices", "mechanism", records)
    rows = []
    for district, (zh, en) in district_labels(graph).items():
        d = tail(district)
        rows += [(d, zh, en, m[0], m[2], m[3], m[4], int(d in used_by.get(m[0], ()))) for m in mechanisms]
    return rows


def table_csv(graph: KnowledgeGraph, table: str, *, records: frozenset[str] | None = None) -> bytes:
    """One of :data:`TABLES` as CSV bytes; with ``records`` (one source's), that source's rows only."""
    if table == "practices":
        return write_csv(PRACTICE_COLUMNS, practice_rows(graph, records))
    if table == "facts":
        return write_csv(FACT_COLUMNS, fact_rows(graph, records))
    if table == "mechanisms":
        return write_csv(CONCEPT_COLUMNS, concept_rows(graph, "mechanisms", "mechanism_practices", "mechanism",
                                                       records))
    if table == "topics":
        return write_csv(CONCEPT_COLUMNS, concept_rows(graph, "topics", "topic_practices", "topic", records))
    if table == "matrix":
        return write_csv(MATRIX_COLUMNS, matrix_rows(graph, records))
    raise ValueError(f"no table {table!r}; the tables are: {', '.join(TABLES)}")
