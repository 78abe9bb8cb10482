"""The index pages of the six kinds a researcher lists (``/id/{kind}/``): one table each, with
sortable columns, a filter box and facets, in the spirit of Datasette.

Everything is in the query string, so a view survives a reload and can be shared:
``q`` (words that must all appear in a row, any order, any case), ``sort`` (a column key, ``-key``
for descending) and one parameter per facet (``district``, ``kind``, ``shared``, ``theme``,
``topic``, ``year``; repeated values of one facet are alternatives, different facets must all
hold). The same URL with ``format=csv`` or ``format=json`` answers exactly the rows shown.
Rows come from the /api catalog (one reading of the graph per version); years from the dates the
article gives (``dcterms:date``, ``schema:startDate``).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from app.api.catalog import Catalog, Concept
from app.build.graph import KnowledgeGraph
from app.errors import BadRequest

TABLE_KINDS = ("district", "mechanism", "topic", "theme", "fact", "practice")
TABLE_FORMATS = ("csv", "json")
FACETS = ("district", "kind", "shared", "theme", "topic", "year")
MAX_FILTER = 200
MAX_FACET_VALUES = 50
#: An HTML table shows at most this many rows (the CSV and JSON of the same view have them all).
HTML_ROWS = 1000


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    numeric: bool = False


NAME, OTHER = Column("label", "名称", "Name"), Column("other", "另一语言", "Other language")
DISTRICTS, PRACTICES = Column("districts", "区", "Districts", True), Column("practices", "做法", "Practices", True)
KIND, QUOTE = Column("kind", "类型", "Kind"), Column("quote", "原文", "Quote")
START, END = Column("start", "起", "Start", True), Column("end", "止", "End", True)
COLUMNS: dict[str, tuple[Column, ...]] = {
    "district": (Column("code", "代码", "Code"), NAME, OTHER, PRACTICES,
                 Column("mechanisms", "点名机制", "Named mechanisms", True),
                 Column("facts", "数据事实", "Facts", True)),
    "mechanism": (NAME, OTHER, KIND, DISTRICTS, PRACTICES, Column("broader", "上位", "Broader")),
    "topic": (NAME, OTHER, KIND, DISTRICTS, PRACTICES),
    "theme": (NAME, OTHER, DISTRICTS, PRACTICES),
    "fact": (Column("value", "数值", "Value", True), Column("unit", "单位", "Unit"),
             Column("label", "所计数的对象", "What it counts"), Column("district", "区", "District"),
             QUOTE, START, END),
    "practice": (Column("label", "做法", "Practice"), Column("district", "区", "District"),
                 Column("mechanisms", "工作机制", "Mechanisms"), Column("themes", "主题", "Themes"), QUOTE, START, END),
}
#: The facets each table offers, in order (a kind's facet only when some row has a kind).
KIND_FACETS: dict[str, tuple[str, ...]] = {
    "district": ("theme", "topic"), "mechanism": ("kind", "shared", "district"),
    "topic": ("kind", "shared", "district"), "theme": ("district",), "fact": ("district", "theme", "year"),
    "practice": ("district", "theme", "topic", "year"),
}
#: The order a table has before anyone sorts it: named concepts first, the most widely used first.
DEFAULT_SORT = {"district": "code", "mechanism": "kind", "topic": "kind", "theme": "-districts",
                "fact": "start", "practice": "start"}
FACET_TITLES = {"district": ("区", "District"), "kind": ("类型", "Kind"), "shared": ("多区共用", "Shared"),
                "theme": ("主题", "Theme"), "topic": ("议题", "Topic"), "year": ("年份", "Year")}
KIND_LABELS = {"named": ("点名机制", "named"), "umbrella": ("上位类别", "umbrella")}
TOPIC_KIND_LABELS = {"named": ("点名议题", "named"), "umbrella": ("上位议题", "umbrella")}
SHARED_LABELS = {"yes": ("是（≥2个区）", "yes (≥ 2 districts)"), "no": ("否", "no")}
NO_YEAR = "none"


@dataclass
class Row:
    """One table row: the values its columns sort by, what they show and link to, and its facet values."""

    id: str
    iri: str
    values: dict[str, Any]
    shown: dict[str, str]
    links: dict[str, str] = field(default_factory=dict)
    facets: dict[str, set[str]] = field(default_factory=dict)
    lang_of: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return " ".join(str(v) for v in self.shown.values()).casefold() + " " + self.id


@dataclass(frozen=True)
class View:
    """What the query string asks for."""

    q: str = ""
    sort: str = ""
    facets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lang: str = ""  # when the URL names it

    def params(self, **change: Any) -> list[tuple[str, str]]:
        q, sort = change.get("q", self.q), change.get("sort", self.sort)
        facets = change.get("facets", self.facets)
        pairs = [(name, value) for name in FACETS for value in facets.get(name, ())]
        if q:
            pairs.append(("q", q))
        if sort:
            pairs.append(("sort", sort))
        if self.lang:
            pairs.append(("lang", self.lang))
        return pairs


def read_view(kind: str, params: Sequence[tuple[str, str]]) -> View:
    """The view a query string asks for; 400 for a sort key the table does not have or oversized input."""
    q = " ".join(value for key, value in params if key == "q").strip()
    if len(q) > MAX_FILTER:
        raise BadRequest(f"The filter (q) may be at most {MAX_FILTER} characters (got {len(q)}).")
    sorts = [value.strip() for key, value in params if key == "sort" and value.strip()]
    sort = sorts[-1] if sorts else ""
    keys = [c.key for c in COLUMNS[kind]]
    if sort and sort.removeprefix("-") not in keys:
        raise BadRequest(f"Unknown sort column {sort!r}; the columns are: {', '.join(keys)} (prefix - to reverse).")
    facets: dict[str, tuple[str, ...]] = {}
    for name in KIND_FACETS[kind]:
        values = tuple(dict.fromkeys(v.strip() for k, v in params if k == name and v.strip()))
        if len(values) > MAX_FACET_VALUES:
            raise BadRequest(f"At most {MAX_FACET_VALUES} values of {name!r} (got {len(values)}).")
        if values:
            facets[name] = values
    lang = next((v for k, v in params if k == "lang" and v in ("zh", "en")), "")
    return View(q, sort, facets, lang)


def _label(label: Any, lang: str) -> tuple[str, str]:
    other = "en" if lang == "zh" else "zh"
    return getattr(label, lang) or getattr(label, other), getattr(label, other)


def _concept_rows(catalog: Catalog, kind: str, concepts: Mapping[str, Concept], lang: str) -> list[Row]:
    usage = {"mechanism": catalog.mechanism_usage, "topic": catalog.topic_usage, "theme": catalog.theme_usage}[kind]
    users = {"mechanism": catalog.mechanism_districts, "topic": catalog.topic_districts,
             "theme": catalog.theme_districts}[kind]
    practices = Counter(u.concept for u in usage)
    rows = []
    for cid, concept in concepts.items():
        label, other = _label(concept.label, lang)
        districts = users.get(cid, ())
        concept_kind = getattr(concept, "kind", None) or ""
        row = Row(cid, concept.iri, {"label": label, "other": other, "districts": len(districts),
                                     "practices": practices[cid]},
                  {"label": label, "other": other, "districts": str(len(districts)), "practices": str(practices[cid])},
                  lang_of={"label": lang, "other": "en" if lang == "zh" else "zh"})
        row.facets["district"] = set(districts)
        if kind in ("mechanism", "topic"):
            # Named first by default; a table without kinds (topics before they have one) keeps its order.
            row.values["kind"] = (0 if concept_kind == "named" else 1 if concept_kind else 2, concept_kind)
            names = KIND_LABELS if kind == "mechanism" else TOPIC_KIND_LABELS
            row.shown["kind"] = names.get(concept_kind, (concept_kind, concept_kind))[lang == "en"]
            row.facets["kind"] = {concept_kind} if concept_kind else set()
            shared = concept_kind != "umbrella" and len(districts) >= 2
            row.facets["shared"] = {"yes" if shared else "no"}
        if kind == "mechanism":
            broader = [_label(concepts[b].label, lang)[0] for b in concept.broader if b in concepts]
            row.values["broader"] = row.shown["broader"] = "、".join(broader) if lang == "zh" else "; ".join(broader)
            if concept.broader and concept.broader[0] in concepts:
                row.links["broader"] = f"/id/mechanism/{concept.broader[0]}"
        rows.append(row)
    return rows


def _district_rows(catalog: Catalog, lang: str) -> list[Row]:
    practices = Counter(p.district for p in catalog.practices.values())
    facts = Counter(f.district for f in catalog.facts)
    rows = []
    for did, d in catalog.districts.items():
        label, other = _label(d.label, lang)
        named = len(catalog.district_named.get(did, ()))
        rows.append(Row(did, d.iri, {"code": d.code, "label": label, "other": other, "practices": practices[did],
                                     "mechanisms": named, "facts": facts[did]},
                        {"code": d.code, "label": label, "other": other, "practices": str(practices[did]),
                         "mechanisms": str(named), "facts": str(facts[did])},
                        facets={"theme": set(catalog.district_themes.get(did, ())),
                                "topic": set(catalog.district_topics.get(did, ()))},
                        lang_of={"label": lang, "other": "en" if lang == "zh" else "zh"}))
    return rows


def _record_rows(graph: KnowledgeGraph, catalog: Catalog, kind: str, lang: str) -> list[Row]:
    years = read_years(graph)
    district_name = {did: _label(d.label, lang)[0] for did, d in catalog.districts.items()}
    topics: dict[str, set[str]] = {}
    for u in catalog.topic_usage:
        topics.setdefault(u.practice, set()).add(u.concept)
    rows = []
    if kind == "fact":
        for f in catalog.facts:
            label = _label(f.label, lang)[0]
            unit = _label(f.unit, lang)[0]
            end = f.start + len(f.quote)
            value = f"{f.value}" if f.min_value is None else f"≥ {f.min_value}"
            practice = catalog.practices.get(f.practice or "")
            year = years.get(f.iri) or years.get(practice.iri if practice else "") or {NO_YEAR}
            rows.append(Row(f.id, f.iri, {"value": f.value, "unit": unit, "label": label,
                                          "district": district_name[f.district], "quote": f.quote, "start": f.start,
                                          "end": end},
                            {"value": value, "unit": unit, "label": label, "district": district_name[f.district],
                             "quote": f.quote, "start": str(f.start), "end": str(end)},
                            links={"label": f"/id/fact/{f.id}", "district": f"/id/district/{f.district}",
                                   "quote": f"/read#q-{f.start}-{end}"},
                            facets={"district": {f.district}, "theme": set(practice.themes) if practice else set(),
                                    "year": year},
                            lang_of={"label": lang, "unit": lang}))
        return rows
    sep = "、" if lang == "zh" else "; "
    for p in catalog.practices.values():
        label = _label(p.label, lang)[0]
        mechanisms = sep.join(_label(catalog.mechanisms[m].label, lang)[0] for m in p.mechanisms
                              if m in catalog.mechanisms)
        themes = sep.join(_label(catalog.themes[t].label, lang)[0] for t in p.themes if t in catalog.themes)
        rows.append(Row(p.id, p.iri, {"label": label, "district": district_name[p.district], "mechanisms": mechanisms,
                                      "themes": themes, "quote": p.quote, "start": p.start, "end": p.end},
                        {"label": label, "district": district_name[p.district], "mechanisms": mechanisms,
                         "themes": themes, "quote": p.quote, "start": str(p.start), "end": str(p.end)},
                        links={"label": f"/id/practice/{p.id}", "district": f"/id/district/{p.district}",
                               "quote": f"/read#q-{p.start}-{p.end}"},
                        facets={"district": {p.district}, "theme": set(p.themes), "topic": topics.get(p.id, set()),
                                "year": years.get(p.iri) or {NO_YEAR}},
                        lang_of={"label": lang, "mechanisms": lang, "themes": lang}))
    return rows


def read_years(graph: KnowledgeGraph) -> dict[str, set[str]]:
    """IRI -> the years the article gives for it (dcterms:date, schema:startDate)."""
    def build() -> dict[str, set[str]]:
        years: dict[str, set[str]] = {}
        for row in graph.run("page_index_dates"):
            years.setdefault(row["entity"], set()).add(str(row["date"])[:4])
        return years

    result: dict[str, set[str]] = graph.memo.get(("index-years",), build, size=1)
    return result


def facet_labels(catalog: Catalog, kind: str, lang: str) -> dict[str, dict[str, str]]:
    en = lang == "en"
    kinds = TOPIC_KIND_LABELS if kind == "topic" else KIND_LABELS
    return {
        "district": {d: _label(x.label, lang)[0] for d, x in catalog.districts.items()},
        "theme": {t: _label(x.label, lang)[0] for t, x in catalog.themes.items()},
        "topic": {t: _label(x.label, lang)[0] for t, x in catalog.topics.items()},
        "kind": {k: v[en] for k, v in kinds.items()},
        "shared": {k: v[en] for k, v in SHARED_LABELS.items()},
        "year": {NO_YEAR: "未标年份" if not en else "no year given"},
    }


def sort_rows(rows: list[Row], kind: str, sort: str) -> list[Row]:
    key = (sort or DEFAULT_SORT[kind]).removeprefix("-")
    reverse = (sort or DEFAULT_SORT[kind]).startswith("-")
    if key == "kind" and not sort:
        # Named first, then umbrella; within each, the most widely used first.
        return sorted(rows, key=lambda r: (r.values["kind"], -r.values["districts"], -r.values["practices"], r.id))
    numeric = any(c.key == key and c.numeric for c in COLUMNS[kind])

    def value(row: Row) -> Any:
        v = row.values.get(key)
        if numeric:
            return v if isinstance(v, int | float) else float("-inf")
        return v if isinstance(v, tuple) else str(v or "")

    return sorted(rows, key=lambda r: (value(r), r.id), reverse=reverse)


@dataclass
class Table:
    kind: str
    columns: tuple[Column, ...]
    view: View
    rows: list[Row]
    total: int
    facets: list[dict[str, Any]]

    @property
    def page_rows(self) -> list[Row]:
        """The rows an HTML page shows (bounded: a graph of millions of practices is not one page)."""
        return self.rows[:HTML_ROWS]

    def records(self) -> list[dict[str, Any]]:
        """The rows shown as JSON objects (the CSV's rows too): id, IRI and each column's value."""
        out = []
        for row in self.rows:
            record: dict[str, Any] = {"id": row.id, "iri": row.iri}
            for c in self.columns:
                v = row.values.get(c.key)
                record[c.key] = v[1] if isinstance(v, tuple) else v
            out.append(record)
        return out


def read_table(graph: KnowledgeGraph, catalog: Catalog, kind: str, view: View, lang: str) -> Table:
    """The table of ``kind`` as ``view`` asks: filtered by the words and facets, sorted, with facet counts."""
    if kind == "district":
        rows = _district_rows(catalog, lang)
    elif kind in ("mechanism", "topic", "theme"):
        concepts = {"mechanism": catalog.mechanisms, "topic": catalog.topics, "theme": catalog.themes}[kind]
        rows = _concept_rows(catalog, kind, concepts, lang)
    else:
        rows = _record_rows(graph, catalog, kind, lang)
    words = view.q.casefold().split()
    matched = [r for r in rows if all(w in r.text() for w in words)]

    def keep(row: Row, skip: str | None = None) -> bool:
        return all(row.facets.get(name, set()) & set(values) for name, values in view.facets.items() if name != skip)

    labels = facet_labels(catalog, kind, lang)
    facets = []
    for name in KIND_FACETS[kind]:
        counts = Counter(v for r in matched if keep(r, name) for v in r.facets.get(name, ()))
        if not counts:
            continue
        chosen = view.facets.get(name, ())
        order = list(labels.get(name, {})) if name in ("district",) else None
        values = sorted(counts, key=lambda v: (order.index(v) if order and v in order else -counts[v], v))
        if name == "year":
            values = sorted(counts, key=lambda v: (v == NO_YEAR, v))
        elif name in ("kind", "shared"):
            fixed = list(KIND_LABELS if name == "kind" else SHARED_LABELS)
            values = sorted(counts, key=lambda v: (fixed.index(v) if v in fixed else len(fixed), v))
        items = []
        for v in values:
            toggled = tuple(x for x in chosen if x != v) if v in chosen else (*chosen, v)
            facets_after = {**view.facets, name: toggled}
            items.append({"value": v, "label": labels.get(name, {}).get(v, v), "count": counts[v],
                          "chosen": v in chosen, "href": "?" + urlencode(view.params(facets=facets_after))})
        facets.append({"name": name, "title": FACET_TITLES[name][lang == "en"], "items": items})
    shown = sort_rows([r for r in matched if keep(r)], kind, view.sort)
    return Table(kind, COLUMNS[kind], view, shown, len(rows), facets)


def sort_href(view: View, key: str, kind: str) -> str:
    """The link of a column header: sort by it ascending, or descending when it is the sort already."""
    current = view.sort or DEFAULT_SORT[kind]
    target = f"-{key}" if current == key else key
    return "?" + urlencode(view.params(sort=target))


def format_href(view: View, fmt: str) -> str:
    return "?" + urlencode([*view.params(), ("format", fmt)])
