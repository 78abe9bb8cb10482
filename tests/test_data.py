"""The encoded graph is faithful to the article and follows data/README.md.

Expectations come from the article text, from the contract (the district table of
../shared/CONTRACT.md beside the repository, or the copy in tests/CONTRACT.md)
and from ad-hoc SPARQL; nothing here restates what the graph should answer.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from app.build.graph import KnowledgeGraph
from app.build.load import source_dirs
from app.config import ROOT
from tests.helpers import PREFIXES, select

EXCLUSIONS = ROOT / "data" / "number-exclusions.tsv"
#: The contract beside the repository (../shared/CONTRACT.md) when it is there; the copy in tests/ otherwise.
SHARED_CONTRACT = ROOT.parent / "shared" / "CONTRACT.md"
CONTRACT_COPY = Path(__file__).with_name("CONTRACT.md")
CONTRACT = SHARED_CONTRACT if SHARED_CONTRACT.exists() else CONTRACT_COPY
ARABIC = re.compile(r"\d+(?:\.\d+)?%?")
NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
#: What places a practice in the issue's year: this year, its first half (data/README.md).
THIS_YEAR = ("今年", "上半年")
CHINESE_NUMERAL = re.compile(r"[零一二两三四五六七八九十百千万]+")
# A Chinese numeral that counts something: followed by a measure word, not an ordinal (第一).
# data/README.md: such a numeral is handled exactly as an Arabic number.
COUNTED_NUMERAL = re.compile(r"(?<!第)[一二两三四五六七八九十百千]+(?=[个项名级大方组周次年套位册家月])")
DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}

def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def chinese_to_int(numeral: str) -> int | None:
    """十二 → 12, 两 → 2, 一百零五 → 105; None for what is not a plain Chinese number."""
    total, digit = 0, None
    for char in numeral:
        if char == "零":  # a placeholder for an empty place: 一百零五
            continue
        if char in DIGITS:
            if digit is not None:
                return None
            digit = DIGITS[char]
        elif char in UNITS:
            total += (1 if digit is None else digit) * UNITS[char]
            digit = None
    return total + (digit or 0)


def numbers_written(text: str) -> set[Decimal]:
    """Every number written in ``text``: Arabic digits (whole tokens) and Chinese numerals."""
    found = {Decimal(m.group()) for m in NUMBER.finditer(text)}
    for match in CHINESE_NUMERAL.finditer(text):
        value = chinese_to_int(match.group())
        if value is not None:
            found.add(Decimal(value))
    return found


@dataclass(frozen=True)
class Quote:
    iri: str
    exact: str
    start: int
    end: int
    source: str = ""  # the id of its dcterms:source (data/sources/{id}/)


@dataclass(frozen=True)
class Exclusion:
    line: int
    district: str
    snippet: str
    reason: str


def read_exclusions() -> list[Exclusion]:
    out = []
    for number, line in enumerate(EXCLUSIONS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        assert len(fields) == 4, f"number-exclusions.tsv:{number}: expected district, snippet, reason, reason_zh"
        assert re.search(r"[\u4e00-\u9fff]", fields[3]), number
        out.append(Exclusion(number, *fields[:3]))
    return out


def data_graph(graph: KnowledgeGraph) -> str:
    return f"<{graph.names.data}>"


@pytest.fixture(scope="module")
def quotes(graph: KnowledgeGraph) -> list[Quote]:
    rows = select(graph, PREFIXES + """PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?q ?exact ?start ?end ?source WHERE { ?q oa:exact ?exact ; oa:start ?start ; oa:end ?end .
                                                     OPTIONAL { ?q dcterms:source ?source } }""")
    return [Quote(r["q"], r["exact"], r["start"], r["end"], slug(r["source"]) if r.get("source") else "")
            for r in rows]


@pytest.fixture(scope="module")
def source_texts() -> dict[str, str]:
    """Source id -> its text (data/sources/{id}/article.txt)."""
    return {s.id: s.text() for s in source_dirs(ROOT / "data")}


@pytest.fixture(scope="module")
def paragraphs(graph: KnowledgeGraph) -> dict[str, tuple[int, int]]:
    """District slug → (start, end) of its bjrd:paragraph quote."""
    rows = select(graph, PREFIXES + """
        SELECT ?d ?start ?end WHERE { ?d a bjrd:District ; bjrd:paragraph [ oa:start ?start ; oa:end ?end ] }""")
    return {slug(r["d"]): (r["start"], r["end"]) for r in rows}


@pytest.fixture(scope="module")
def fact_quotes(graph: KnowledgeGraph) -> list[dict]:
    return select(graph, PREFIXES + f"""
        SELECT ?fact ?district ?value ?exact ?start ?end WHERE {{
          GRAPH {data_graph(graph)} {{
            ?fact a bjrd:Fact ; bjrd:district ?district ; schema:value ?value ;
                  bjrd:evidence [ oa:exact ?exact ; oa:start ?start ; oa:end ?end ] }} }}""")


# ---------------------------------------------------------------- quotes


def test_quotes_are_verbatim_at_their_offsets(quotes: list[Quote], source_texts: dict[str, str]) -> None:
    """Each quote in the text of its own source."""
    assert len(quotes) > 100
    assert not [q.iri for q in quotes if q.source not in source_texts]
    wrong = [(q, source_texts[q.source]) for q in quotes if source_texts[q.source][q.start:q.end] != q.exact]
    assert not wrong, "\n".join(f"{q.iri} [{q.start},{q.end}) {q.exact!r} != {text[q.start:q.end]!r}"
                                for q, text in wrong)


def test_quotes_occur_once_in_article(quotes: list[Quote], source_texts: dict[str, str]) -> None:
    repeated = {q.iri: n for q in quotes if (n := source_texts.get(q.source, "").count(q.exact)) != 1}
    assert not repeated, repeated


def test_quote_slug_is_slug_of_what_it_evidences(graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + "SELECT ?entity ?quote WHERE { ?entity bjrd:evidence ?quote }")
    assert rows
    assert [r for r in rows if slug(r["entity"]) != slug(r["quote"])] == []


def test_district_paragraphs_are_the_article_paragraphs(
    graph: KnowledgeGraph, paragraphs: dict[str, tuple[int, int]], district_paragraphs: dict[str, tuple[int, int]]
) -> None:
    names = {slug(r["d"]): r["zh"] for r in select(graph, PREFIXES + """
        SELECT ?d ?zh WHERE { ?d a bjrd:District ; rdfs:label ?zh FILTER (lang(?zh) = "zh") }""")}
    assert {names[s]: span for s, span in paragraphs.items()} == district_paragraphs


def test_evidence_lies_inside_district_paragraph(graph: KnowledgeGraph, paragraphs: dict[str, tuple[int, int]]) -> None:
    rows = select(graph, PREFIXES + """
        SELECT ?entity ?district ?start ?end WHERE {
          ?entity a ?type ; bjrd:district ?district ; bjrd:evidence [ oa:start ?start ; oa:end ?end ] .
          VALUES ?type { bjrd:Practice bjrd:Fact } }""")
    assert len(rows) >= 135
    outside = []
    for r in rows:
        start, end = paragraphs[slug(r["district"])]
        if not (start <= r["start"] and r["end"] <= end):
            outside.append(f"{r['entity']} [{r['start']},{r['end']}) not in {slug(r['district'])} [{start},{end})")
    assert not outside, "\n".join(outside)


def test_practice_and_fact_slugs_start_with_district(graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + "SELECT ?entity ?district WHERE { ?entity bjrd:district ?district }")
    assert [r["entity"] for r in rows if not slug(r["entity"]).startswith(slug(r["district"]) + "-")] == []


# ---------------------------------------------------------------- numbers


@pytest.fixture(scope="module")
def typed_values(graph: KnowledgeGraph) -> list[dict]:
    """Years, months, dates and clock times kept as typed values, with the quote of their practice or fact."""
    return select(graph, PREFIXES + f"""
        SELECT ?entity ?district ?property ?value ?exact ?start ?end WHERE {{
          GRAPH {data_graph(graph)} {{
            ?entity bjrd:district ?district ; ?property ?value ;
                    bjrd:evidence [ oa:exact ?exact ; oa:start ?start ; oa:end ?end ] .
            VALUES ?property {{ dcterms:date schema:startTime schema:startDate schema:endDate }} }} }}""")


def number_tokens(text: str, start: int, end: int) -> list[tuple[int, int, str, Decimal]]:
    """(start, end, written, value) of every number in text[start:end], Arabic or Chinese, read one way."""
    found = [(m.start(), m.end(), m.group(), Decimal(m.group().rstrip("%"))) for m in ARABIC.finditer(text, start, end)]
    for m in COUNTED_NUMERAL.finditer(text, start, end):
        value = chinese_to_int(m.group())
        if value is not None:
            found.append((m.start(), m.end(), m.group(), Decimal(value)))
    return sorted(found)


def typed_value_numbers(value: str) -> set[Decimal]:
    """The numbers a typed value states: 2023-05 → {2023, 5}; 07:00:00 → {7, 0}."""
    return {Decimal(int(part)) for part in re.findall(r"\d+", value)}


def test_every_number_is_a_fact_a_typed_value_or_excluded(
    fact_quotes: list[dict], typed_values: list[dict], paragraphs: dict[str, tuple[int, int]], source_text: str
) -> None:
    exclusions = read_exclusions()
    excluded: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for ex in exclusions:
        start, end = paragraphs[ex.district]
        at = source_text.find(ex.snippet, start, end)
        if at >= 0:
            excluded[ex.district].append((at, at + len(ex.snippet)))
    missing = []
    for district, (start, end) in sorted(paragraphs.items()):
        for a, b, written, value in number_tokens(source_text, start, end):
            covered = any(
                slug(f["district"]) == district and f["start"] <= a and b <= f["end"]
                and Decimal(str(f["value"])) == value
                for f in fact_quotes
            ) or any(
                slug(v["district"]) == district and v["start"] <= a and b <= v["end"]
                and value in typed_value_numbers(str(v["value"]))
                for v in typed_values
            )
            if not covered and not any(s <= a and b <= e for s, e in excluded[district]):
                missing.append(f"{district}: {written} at {a} in …{source_text[max(a - 12, 0):b + 12]}…")
    assert not missing, "numbers neither facts, typed values nor in number-exclusions.tsv:\n" + "\n".join(missing)


def test_typed_values_are_written_in_their_quote(typed_values: list[dict]) -> None:
    """A date's month or a time's hour is written in the quote; so is a year, unless it is 2023 (the issue's year)
    and the quote says a month of it or 今年 / 上半年 (this year, its first half)."""
    assert len(typed_values) >= 8
    wrong = []
    for v in typed_values:
        lexical = str(v["value"])
        parts = [Decimal(int(p)) for p in re.findall(r"\d+", lexical)]
        written = {value for *_, value in number_tokens(v["exact"], 0, len(v["exact"]))}
        this_year = len(lexical) > 4 or any(word in v["exact"] for word in THIS_YEAR)
        needed = [p for p in parts[:2] if not (p == 2023 and this_year) and not (":" in lexical and p == 0)]
        if ":" in lexical:
            needed = parts[:1]
        if not all(p in written for p in needed):
            wrong.append(f"{slug(v['entity'])}: {lexical} not written in {v['exact']!r}")
    assert not wrong, "\n".join(wrong)


def test_what_the_article_places_in_2023_carries_a_date(graph: KnowledgeGraph) -> None:
    """Every practice or fact whose quote says 今年, 上半年 or 今年N月 carries a typed date in 2023 (data/README.md:
    “今年” is the issue's year), a month when the quote says one; a mechanism, which stands, carries none."""
    rows = select(graph, PREFIXES + f"""
        SELECT ?x ?exact ?date WHERE {{ GRAPH {data_graph(graph)} {{
          {{ ?x a bjrd:Practice }} UNION {{ ?x a bjrd:Fact }}
          ?x bjrd:evidence/oa:exact ?exact . OPTIONAL {{ ?x dcterms:date ?date }} }} }}""")
    said = [r for r in rows if any(word in r["exact"] for word in THIS_YEAR)]
    assert len(said) >= 20
    wrong = []
    for r in said:
        month = re.search(r"今年(\d{1,2})月", r["exact"])
        expected = f"2023-{int(month.group(1)):02d}" if month else "2023"
        if str(r.get("date")) != expected:
            wrong.append(f"{slug(r['x'])}: {r.get('date')} for {r['exact'][:30]!r} (expected {expected})")
    assert wrong == [], "\n".join(wrong)
    dated_mechanisms = select(graph, PREFIXES + "SELECT ?m WHERE { ?m a bjrd:Mechanism ; dcterms:date ?d }")
    assert dated_mechanisms == []


def test_number_exclusions_name_one_real_number_each(
    fact_quotes: list[dict], paragraphs: dict[str, tuple[int, int]], source_text: str
) -> None:
    exclusions = read_exclusions()
    assert exclusions
    problems = []
    for ex in exclusions:
        if ex.district not in paragraphs:
            problems.append(f"line {ex.line}: unknown district {ex.district!r}")
            continue
        start, end = paragraphs[ex.district]
        paragraph = source_text[start:end]
        if paragraph.count(ex.snippet) != 1:
            times = paragraph.count(ex.snippet)
            problems.append(f"line {ex.line}: {ex.snippet!r} occurs {times} times in the {ex.district} paragraph")
            continue
        at = start + paragraph.index(ex.snippet)
        numbers = number_tokens(source_text, at, at + len(ex.snippet))
        if not numbers:
            problems.append(f"line {ex.line}: {ex.snippet!r} holds no number")
        if not ex.reason.strip():
            problems.append(f"line {ex.line}: no reason given")
        # An exclusion is needed only for a number no fact of that district accounts for.
        needed = [
            (a, b) for a, b, _, value in numbers
            if not any(slug(f["district"]) == ex.district and f["start"] <= a and b <= f["end"]
                       and Decimal(str(f["value"])) == value for f in fact_quotes)
        ]
        if numbers and not needed:
            problems.append(f"line {ex.line}: every number in {ex.snippet!r} is already a fact")
    assert not problems, "\n".join(problems)


def test_fact_quote_contains_its_number(fact_quotes: list[dict]) -> None:
    assert len(fact_quotes) >= 35
    wrong = [f"{f['fact']}: {f['value']} not written in {f['exact']!r}" for f in fact_quotes
             if Decimal(str(f["value"])) not in numbers_written(f["exact"])]
    assert not wrong, "\n".join(wrong)


def test_min_value_equals_value(graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + "SELECT ?f ?v ?min WHERE { ?f schema:minValue ?min ; schema:value ?v }")
    assert [r for r in rows if r["v"] != r["min"]] == []


@pytest.mark.parametrize(("numeral", "value"), [("一", 1), ("两", 2), ("十", 10), ("十二", 12), ("三十", 30),
                                                ("一百零五", 105), ("三千", 3000)])
def test_chinese_to_int_reads_numerals(numeral: str, value: int) -> None:
    assert chinese_to_int(numeral) == value


# ---------------------------------------------------------------- districts


def contract_districts(contract: Path = CONTRACT) -> dict[str, tuple[str, str]]:
    """The district table of a contract file (two districts per row): slug → (Chinese name, code)."""
    table = {}
    for line in contract.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for i in range(0, len(cells) - 2, 3):
            district, zh, code = cells[i:i + 3]
            if re.fullmatch(r"[a-z]+", district) and re.fullmatch(r"\d{6}", code):
                table[district] = (zh, code)
    return table


def test_contract_is_found_relative_to_the_repository() -> None:
    """No machine path: the contract is ../shared/CONTRACT.md beside the checkout, else the copy."""
    assert CONTRACT in (ROOT.parent / "shared" / "CONTRACT.md", Path(__file__).with_name("CONTRACT.md"))
    assert len(contract_districts()) == 16


@pytest.mark.skipif(not SHARED_CONTRACT.exists(), reason="no ../shared/CONTRACT.md beside the repository")
def test_contract_copy_matches_shared_contract() -> None:
    assert contract_districts(CONTRACT_COPY) == contract_districts(SHARED_CONTRACT)


def test_sixteen_districts_with_contract_codes_and_labels(graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + f"""
        SELECT ?d ?code ?zh ?en WHERE {{ GRAPH {data_graph(graph)} {{
          ?d a bjrd:District ; bjrd:divisionCode ?code ; rdfs:label ?zh , ?en .
          FILTER (lang(?zh) = "zh" && lang(?en) = "en") }} }}""")
    found = {slug(r["d"]): (r["zh"], r["code"]) for r in rows}
    assert found == contract_districts()
    assert len(rows) == 16  # one zh and one en label each
    assert all(r["en"].lower().startswith(slug(r["d"])) for r in rows)


# ---------------------------------------------------------------- sizes


def test_graph_has_enough_practices_and_facts(graph: KnowledgeGraph) -> None:
    counts = select(graph, PREFIXES + f"""
        SELECT (COUNT(DISTINCT ?p) AS ?practices) (COUNT(DISTINCT ?f) AS ?facts) WHERE {{ GRAPH {data_graph(graph)} {{
          {{ ?p a bjrd:Practice }} UNION {{ ?f a bjrd:Fact }} }} }}""")[0]
    assert counts["practices"] >= 100
    assert counts["facts"] >= 35


def shared_named_mechanisms(graph: KnowledgeGraph) -> dict[str, set[str]]:
    """data/README.md, "Shared": mechanism → the districts using it directly or through a narrower
    mechanism, named mechanisms only, computed from the asserted links and skos:broader."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?m ?d WHERE {{
          GRAPH {data_graph(graph)} {{ ?p bjrd:usesMechanism ?used ; bjrd:district ?d .
                                      ?m bjrd:mechanismKind bjrd:Named }}
          ?used skos:broader* ?m .
        }}""")
    users: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        users[slug(r["m"])].add(slug(r["d"]))
    return {m: ds for m, ds in users.items() if len(ds) >= 2}


def test_at_least_twelve_named_mechanisms_shared_by_two_districts(graph: KnowledgeGraph) -> None:
    assert len(shared_named_mechanisms(graph)) >= 12


def test_shared_mechanisms_example_follows_the_definition(graph: KnowledgeGraph) -> None:
    text = (ROOT / "queries" / "examples" / "shared_mechanisms.rq").read_text(encoding="utf-8")
    rows = select(graph, text)
    assert {slug(r["mechanism"]): r["district_count"] for r in rows} == \
        {m: len(ds) for m, ds in shared_named_mechanisms(graph).items()}


def test_umbrella_categories_group_only_and_are_never_shared(graph: KnowledgeGraph) -> None:
    umbrellas = {slug(r["m"]) for r in select(graph, PREFIXES + """
        SELECT ?m WHERE { ?m bjrd:mechanismKind bjrd:Umbrella }""")}
    assert umbrellas and not umbrellas & set(shared_named_mechanisms(graph))
    text = (ROOT / "queries" / "examples" / "district_pairs_shared_mechanisms.rq").read_text(encoding="utf-8")
    pairs = select(graph, text)
    assert pairs and all(umbrella_zh not in r["mechanisms"].split("、") for r in pairs
                         for umbrella_zh in ("人大监督方式", "线上征集民意", "议案建议督办"))


# ---------------------------------------------------------------- topics


def test_at_least_eight_topics_shared_by_two_districts_each_with_evidence(graph: KnowledgeGraph) -> None:
    """A topic is shared as a mechanism is: districts supervising it directly or through a narrower topic."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?t ?d ?exact WHERE {{
          GRAPH {data_graph(graph)} {{ ?p bjrd:supervisesTopic ?named ; bjrd:district ?d ;
                                      bjrd:evidence/oa:exact ?exact }}
          ?named skos:broader* ?t .
        }}""")
    districts: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        districts[slug(r["t"])].add(slug(r["d"]))
    shared = {t for t, ds in districts.items() if len(ds) >= 2}
    assert len(shared) >= 8, shared
    labels: dict[str, set[str]] = defaultdict(set)
    for r in select(graph, PREFIXES + """SELECT ?t ?l WHERE { ?t a bjrd:SupervisionTopic .
            ?n skos:broader* ?t ; skos:prefLabel|skos:altLabel ?l FILTER (lang(?l) = "zh") }"""):
        labels[slug(r["t"])].add(r["l"])
    unnamed = [f"{slug(r['t'])}: {r['exact']}" for r in rows
               if not any(label in r["exact"] for label in labels[slug(r["t"])])]
    assert unnamed == [], unnamed


# ---------------------------------------------------------------- mechanisms


def test_each_mechanism_minted_once(graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + f"""
        SELECT ?m ?zh WHERE {{ GRAPH {data_graph(graph)} {{
          ?m a bjrd:Mechanism . OPTIONAL {{ ?m skos:prefLabel ?zh FILTER (lang(?zh) = "zh") }} }} }}""")
    labels: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        labels[r["m"]].append(r.get("zh"))
    assert {m: ls for m, ls in labels.items() if len(ls) != 1 or ls[0] is None} == {}
    by_label: dict[str, list[str]] = defaultdict(list)
    for m, (zh,) in labels.items():
        by_label[zh].append(slug(m))
    assert {zh: ms for zh, ms in by_label.items() if len(ms) > 1} == {}


def test_mechanism_links_are_named_in_evidence(graph: KnowledgeGraph) -> None:
    """Every (mechanism, district) link rests on a practice whose quote names the mechanism (or a narrower one)."""
    names: dict[str, set[str]] = defaultdict(set)
    for r in select(graph, PREFIXES + f"""
            SELECT ?m ?label WHERE {{ GRAPH {data_graph(graph)} {{
              ?n skos:broader* ?m ; skos:prefLabel|skos:altLabel ?label FILTER (lang(?label) = "zh") }} }}"""):
        names[r["m"]].add(r["label"])
    evidence: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in select(graph, PREFIXES + """
            SELECT ?m ?d ?exact WHERE { ?p a bjrd:Practice ; bjrd:usesMechanism ?m ; bjrd:district ?d ;
                                           bjrd:evidence/oa:exact ?exact }"""):
        evidence[(r["m"], r["d"])].append(r["exact"])
    assert len(evidence) > 100
    unnamed = sorted(f"{slug(m)} @ {slug(d)}" for (m, d), exacts in evidence.items()
                     if not any(label in exact for exact in exacts for label in names[m]))
    assert unnamed == [], unnamed


# ---------------------------------------------------------------- themes


def opening_paragraph(source_text: str, district_paragraphs: dict[str, tuple[int, int]]) -> str:
    before = source_text[: min(start for start, _ in district_paragraphs.values())]
    return [line.strip() for line in before.splitlines() if line.strip()][-1]


def test_top_themes_are_the_five_of_the_opening_paragraph(
    graph: KnowledgeGraph, source_text: str, district_paragraphs: dict[str, tuple[int, int]]
) -> None:
    opening = opening_paragraph(source_text, district_paragraphs)
    listed = re.search(r"在([^。]*?)等方面", opening)
    assert listed, opening
    items = listed.group(1).split("、")
    assert len(items) == 5
    rows = select(graph, PREFIXES + f"""
        SELECT ?t ?zh WHERE {{ <{graph.iri("scheme", "themes")}> skos:hasTopConcept ?t .
                              ?t skos:prefLabel ?zh FILTER (lang(?zh) = "zh") }}""")
    assert len(rows) == 5
    matched = {r["zh"]: [i for i, item in enumerate(items) if r["zh"] in item] for r in rows}
    assert all(len(hits) == 1 for hits in matched.values()), matched
    assert sorted(hits[0] for hits in matched.values()) == list(range(5))


# ---------------------------------------------------------------- inference


def test_inferred_graph_labels_every_pref_label(graph: KnowledgeGraph) -> None:
    missing = select(graph, PREFIXES + """
        SELECT ?s ?l WHERE { ?s skos:prefLabel ?l FILTER NOT EXISTS { ?s rdfs:label ?l } }""")
    assert missing == []
    inferred = select(graph, PREFIXES + f"""
        SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph.names.inferred}> {{ ?s rdfs:label ?l }}
                                        ?s skos:prefLabel ?l }}""")[0]["n"]
    assert inferred > 100


def test_inferred_graph_propagates_mechanisms_up_broader(graph: KnowledgeGraph) -> None:
    missing = select(graph, PREFIXES + f"""
        SELECT ?p ?b WHERE {{ GRAPH {data_graph(graph)} {{ ?p bjrd:usesMechanism ?m }} ?m skos:broader+ ?b .
                              FILTER NOT EXISTS {{ ?p bjrd:usesMechanism ?b }} }}""")
    assert missing == []
    monthly, stations = graph.iri("mechanism", "monthly-station-visit"), graph.iri("mechanism", "deputy-stations")
    rows = select(graph, PREFIXES + f"""
        SELECT ?p WHERE {{
          GRAPH {data_graph(graph)} {{ ?p bjrd:usesMechanism <{monthly}> }}
          GRAPH <{graph.names.inferred}> {{ ?p bjrd:usesMechanism <{stations}> }}
        }}""")
    assert len(rows) >= 2


def test_inferred_graph_propagates_themes_up_broader(graph: KnowledgeGraph) -> None:
    missing = select(graph, PREFIXES + f"""
        SELECT ?p ?b WHERE {{ GRAPH {data_graph(graph)} {{ ?p bjrd:theme ?t }} ?t skos:broader+ ?b .
                              FILTER NOT EXISTS {{ ?p bjrd:theme ?b }} }}""")
    assert missing == []


def test_data_graph_asserts_no_derived_skos_relations(graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + f"""
        SELECT ?s ?p ?o WHERE {{ GRAPH {data_graph(graph)} {{ ?s ?p ?o }}
          VALUES ?p {{ skos:narrower skos:broaderTransitive skos:narrowerTransitive dcterms:subject }} }}""")
    assert rows == []


def test_data_graph_asserts_no_label_copied_from_pref_label(graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + f"""
        SELECT ?s ?l WHERE {{ GRAPH {data_graph(graph)} {{ ?s skos:prefLabel|skos:altLabel ?l ; rdfs:label ?l }} }}""")
    assert rows == []


def test_data_graph_and_inferred_graph_are_disjoint(graph: KnowledgeGraph) -> None:
    asserted = {q.triple for q in graph.loaded.data}
    assert [str(q) for q in graph.loaded.inferred if q.triple in asserted] == []


def test_practices_link_only_the_most_specific_concepts(graph: KnowledgeGraph) -> None:
    """data/README.md: link the most specific mechanism and theme; the broader ones follow by inference."""
    rows = select(graph, PREFIXES + f"""
        SELECT ?p ?property ?specific ?broader WHERE {{ GRAPH {data_graph(graph)} {{
          VALUES ?property {{ bjrd:usesMechanism bjrd:theme bjrd:supervisesTopic }}
          ?p ?property ?specific , ?broader . ?specific skos:broader+ ?broader }} }}""")
    assert [f"{slug(r['p'])}: {slug(r['broader'])} is broader than {slug(r['specific'])}" for r in rows] == []
