"""``kg draft``: a new article -> proposals for review (app/draft/), read against the graph it knows.

The short article below is MADE UP by this test (it is no report of anything): two districts, a
mechanism the graph knows (its label read from the graph), a new “…”工作机制, Arabic and Chinese
numbers and 今年. The real article is drafted too, to hold every quote to its slice.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rdflib

from app.build.graph import KnowledgeGraph
from app.cli import main
from app.config import Settings
from app.draft.drafter import draft_text
from app.draft.known import Known, read_known
from app.draft.model import Draft, SourceInfo
from app.draft.spotting import LabelIndex
from app.draft.writer import to_json, to_turtle
from app.rdf.namespaces import BJRD, SKOS, XSD
from app.review.drafts import known_for

ARTICLE = Path(__file__).resolve().parent.parent / "data" / "sources" / "article" / "article.txt"
BJRD_NS, SKOS_NS = rdflib.Namespace(BJRD), rdflib.Namespace(SKOS)


@pytest.fixture(scope="module")
def known() -> Known:
    return read_known(Settings())


@pytest.fixture(scope="module")
def known_label(known: Known) -> tuple[str, str]:
    """A named mechanism's preferred label as the graph writes it (no quote marks), and its id."""
    c = next(c for c in sorted(known.mechanisms.values(), key=lambda c: c.id)
             if c.kind == "named" and len(c.label) >= 4 and "“" not in c.label)
    return c.label, c.id


def made_up(label: str) -> str:
    return ("（本文为测试编造的文章，并非真实报道。）\n\n"
            f"  东城区人大常委会今年建立“街巷议事厅”工作机制，制定修订工作制度12项。坚持{label}。"
            "5月份分三个组开展调研。\n\n"
            "  海淀区人大组建由45名成员组成的专家库，覆盖两个街道，早上7点出发。\n")


@pytest.fixture(scope="module")
def small(known: Known, known_label: tuple[str, str]) -> tuple[str, Draft]:
    text = made_up(known_label[0])
    return text, draft_text(text, known, SourceInfo("made-up", "made up", "2021-01"))


@pytest.fixture(scope="module")
def whole(known: Known) -> tuple[str, Draft]:
    text = ARTICLE.read_text(encoding="utf-8")
    return text, draft_text(text, known, SourceInfo("article", "article", "2023-07"))


def every_quote(data: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for d in data["districts"]:
        for p in d["practices"]:
            found.append(p)
            for key in ("mechanisms", "topics", "facts", "dates"):
                found += p[key]
    return found


def test_district_aliases_are_the_names_an_article_uses(known: Known) -> None:
    aliases = set(known.districts["dongcheng"].aliases)
    assert {"东城", "东城区", "东城区人大", "东城区人大常委会", "东城人大常委会", "北京市东城区人大常委会"} <= aliases


def test_draft_made_up_article_finds_both_districts_in_order(small: tuple[str, Draft]) -> None:
    text, draft = small
    assert [d.id for d in draft.districts] == ["dongcheng", "haidian"]
    dongcheng = draft.districts[0]
    assert text[dongcheng.start:dongcheng.end].startswith("东城区人大常委会")
    assert text[dongcheng.end:].lstrip().startswith("海淀区人大")


def test_draft_known_mechanism_is_linked_by_its_label(small: tuple[str, Draft], known_label: tuple[str, str]) -> None:
    _, draft = small
    links = [m for p in draft.districts[0].practices for m in p.mechanisms]
    hit = [m for m in links if m.id == known_label[1]]
    assert hit and not hit[0].new and hit[0].span.quote == known_label[0]
    assert hit[0].rule == "known-preferred-label" and 0 < hit[0].confidence <= 1


def test_draft_new_mechanism_is_proposed_from_its_name(small: tuple[str, Draft]) -> None:
    _, draft = small
    new = [m for p in draft.districts[0].practices for m in p.mechanisms if m.new]
    assert [(m.id, m.label) for m in new] == [(None, "“街巷议事厅”工作机制")]
    assert new[0].rule.startswith("name-ending-in-")


def test_draft_numbers_arabic_and_chinese_with_units(small: tuple[str, Draft]) -> None:
    _, draft = small
    facts = {d.id: {(f.value, f.unit) for p in d.practices for f in p.facts} for d in draft.districts}
    assert facts["dongcheng"] == {(12, "项"), (3, "组")}
    assert facts["haidian"] == {(45, "名"), (2, "个")}
    quotes = [f.span.quote for d in draft.districts for p in d.practices for f in p.facts]
    assert all(any(n in q for n in ("12", "三", "45", "两")) for q in quotes)


def test_draft_this_year_and_months_are_the_issued_year(small: tuple[str, Draft]) -> None:
    _, draft = small
    dates = {(d.value, d.datatype, d.span.quote) for p in draft.districts[0].practices for d in p.dates}
    assert ("2021", XSD + "gYear", "今年") in dates
    assert ("2021-05", XSD + "gYearMonth", "5月份") in dates
    times = [(d.value, d.span.quote) for p in draft.districts[1].practices for d in p.dates]
    assert times == [("07:00", "早上7点")]


@pytest.mark.parametrize("which", ["small", "whole"])
def test_draft_every_quote_is_its_slice(which: str, request: pytest.FixtureRequest) -> None:
    text, draft = request.getfixturevalue(which)
    quotes = every_quote(to_json(draft))
    assert len(quotes) > 10
    for q in quotes:
        assert text[q["start"]:q["end"]] == q["quote"], q


CONCEPT_KEYS = {"id", "label", "new", "quote", "start", "end", "rule", "confidence"}


def check_contract_shape(data: dict[str, Any]) -> None:
    """The JSON shape of CONTRACT.md ("Sources and drafts"), key for key."""
    assert set(data) == {"source", "districts"}
    assert set(data["source"]) == {"id", "title", "issued"}
    for d in data["districts"]:
        assert set(d) == {"id", "start", "end", "practices"}
        assert isinstance(d["id"], str) and isinstance(d["start"], int) and isinstance(d["end"], int)
        for p in d["practices"]:
            assert set(p) == {"quote", "start", "end", "mechanisms", "topics", "facts", "dates"}
            for c in p["mechanisms"] + p["topics"]:
                assert set(c) == CONCEPT_KEYS
                assert (c["id"] is None) == c["new"] and isinstance(c["label"], str)
                assert isinstance(c["confidence"], float) and isinstance(c["rule"], str)
            for f in p["facts"]:
                assert set(f) == {"value", "unit", "counts", "quote", "start", "end", "rule", "confidence"}
                assert isinstance(f["value"], int | float) and not isinstance(f["value"], bool)
            for x in p["dates"]:
                assert set(x) == {"value", "datatype", "quote", "start", "end"}


@pytest.mark.parametrize("which", ["small", "whole"])
def test_draft_json_has_the_contract_shape(which: str, request: pytest.FixtureRequest) -> None:
    _, draft = request.getfixturevalue(which)
    data = json.loads(json.dumps(to_json(draft), ensure_ascii=False))
    check_contract_shape(data)


def test_draft_turtle_parses_with_the_ontology_terms(small: tuple[str, Draft], known_label: tuple[str, str]) -> None:
    _, draft = small
    base = "https://bjrd-kg.example.org"
    g = rdflib.Graph().parse(data=to_turtle(draft, base).decode("utf-8"), format="turtle")
    practices = set(g.subjects(rdflib.RDF.type, BJRD_NS.Practice))
    assert len(practices) == sum(len(d.practices) for d in draft.districts)
    used = set(g.objects(None, BJRD_NS.usesMechanism))
    assert rdflib.URIRef(f"{base}/id/mechanism/{known_label[1]}") in used
    new = [m for m in used if (m, rdflib.RDF.type, BJRD_NS.Mechanism) in g]
    assert [str(g.value(m, SKOS_NS.prefLabel)) for m in new] == ["“街巷议事厅”工作机制"]
    schema = rdflib.Namespace("https://schema.org/")
    facts = {(int(str(g.value(f, schema.value))), str(g.value(f, schema.unitText)))
             for f in g.subjects(rdflib.RDF.type, BJRD_NS.Fact)}
    assert facts == {(12, "项"), (3, "组"), (45, "名"), (2, "个")}
    for q in g.subjects(rdflib.RDF.type, BJRD_NS.Quote):
        assert g.value(q, rdflib.URIRef("http://www.w3.org/ns/oa#exact")) is not None


def direct_users(district_files: list[Path]) -> dict[str, set[str]]:
    """mechanism id -> the districts whose own file has a practice using it (read here with rdflib)."""
    users: dict[str, set[str]] = {}
    for path in district_files:
        g = rdflib.Graph().parse(path, format="turtle")
        for m in g.objects(None, BJRD_NS.usesMechanism):
            users.setdefault(str(m).rsplit("/", 1)[-1], set()).add(path.stem)
    return users


def test_exclude_district_removes_its_unique_mechanisms(known: Known, whole: tuple[str, Draft]) -> None:
    users = direct_users(sorted(Settings().data_dir.glob("sources/article/districts/*.ttl")))
    for district in ("pinggu", "chaoyang"):
        only = {m for m, ds in users.items() if ds == {district}}
        assert only, district
        without = known.without(district)
        assert only.isdisjoint(without.mechanisms)
        removed = set(known.mechanisms) - set(without.mechanisms)
        assert all(users.get(m, {district}) <= {district} for m in removed)
        text, full_draft = whole
        section = next(d for d in full_draft.districts if d.id == district)
        linked = {m.id for p in section.practices for m in p.mechanisms}
        assert linked & only  # the whole graph's draft links them …
        excluded = draft_text(text, without, SourceInfo("article", "article", "2023-07"))
        section = next(d for d in excluded.districts if d.id == district)
        assert not {m.id for p in section.practices for m in p.mechanisms} & only  # … the excluded one cannot
        assert any(m.new for p in section.practices for m in p.mechanisms)


def test_cli_draft_json_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   known_label: tuple[str, str]) -> None:
    article = tmp_path / "made-up.txt"
    article.write_text(made_up(known_label[0]), encoding="utf-8")
    assert main(["draft", str(article), "--source", "made-up", "--issued", "2021-01", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    check_contract_shape(data)
    assert data["source"] == {"id": "made-up", "title": "made-up", "issued": "2021-01"}


@pytest.mark.parametrize(("args", "message"), [
    (["missing.txt", "--source", "x", "--issued", "2023-07"], "no such file"),
    ([str(ARTICLE), "--source", "x", "--issued", "2023-7"], "--issued"),
    ([str(ARTICLE), "--source", "x"], "--issued YYYY-MM is needed"),
    ([str(ARTICLE), "--source", "x", "--issued", "2023-07", "--exclude-district", "atlantis"], "--exclude-district"),
    ([str(ARTICLE), "--source", "Not A Slug", "--issued", "2023-07"], "--source"),
    ([str(ARTICLE), "--issued", "2023-07"], "--source"),
])
def test_cli_draft_bad_arguments_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draft", *args]) == 2
    out, err = capsys.readouterr()
    assert message in err and out == ""


def test_cli_draft_missing_file_exits_2_as_a_process() -> None:
    result = subprocess.run([sys.executable, "-m", "app", "draft", "missing.txt", "--source", "x"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "ARTICLE.txt: no such file: missing.txt" in result.stderr and result.stdout == ""


def test_draft_heading_sections_run_on_to_the_next_district(known: Known) -> None:
    """A made-up article whose districts are headings (一、…) over paragraphs of their own."""
    text = ("（测试编造）\n\n一、东城区人大常委会：制度建设\n\n  东城区人大常委会制定修订工作制度20项。\n\n"
            "  百余名代表参加活动。\n\n二、西城区人大常委会\n\n  建立“代表接待日”制度。\n\n责任编辑：某某\n")
    draft = draft_text(text, known, SourceInfo("made-up", "made up", "2021-01"))
    assert [d.id for d in draft.districts] == ["dongcheng", "xicheng"]
    dongcheng, xicheng = draft.districts
    assert text[dongcheng.start:dongcheng.end].endswith("百余名代表参加活动。")
    assert text[xicheng.start:xicheng.end].endswith("建立“代表接待日”制度。")  # the closing line is left out
    assert [(f.value, f.unit) for p in dongcheng.practices for f in p.facts] == [(20, "项"), (100, "名")]


def test_draft_new_topics_from_reports_inspections_and_lists(known: Known) -> None:
    """Made-up sentences: what a report, an inspection and a list of topics are about."""
    text = ("（测试编造）\n\n  海淀区人大常委会听取和审议区政府关于街巷照明改造工作情况的报告。"
            "开展电梯安全条例执法检查。今年聚焦夜间经济繁荣、街巷照明改造等安排监督议题。\n")
    draft = draft_text(text, known, SourceInfo("made-up", "made up", "2021-01"))
    topics = [(t.label, t.rule) for p in draft.districts[0].practices for t in p.topics if t.new]
    assert ("街巷照明改造", "topic-heard-and-deliberated-report") in topics
    assert ("电梯安全条例", "topic-law-enforcement-inspection-of") in topics
    assert ("夜间经济繁荣", "topic-listed-supervision-topics") in topics
    mechanisms = {m.id for p in draft.districts[0].practices for m in p.mechanisms}
    by_label = LabelIndex.of(known.mechanisms).by_label  # the ids the graph gives these words
    assert {by_label["执法检查"][0].id, by_label["听取和审议"][0].id} <= mechanisms


def test_leave_one_out_pinggu_finds_its_own_mechanisms_by_naming(known: Known, whole: tuple[str, Draft]) -> None:
    """Pinggu excluded: the mechanisms only it uses (read from the district files) must come back as
    new names that contain one of their labels, and the others it uses as known ids."""
    text, _ = whole
    users = direct_users(sorted(Settings().data_dir.glob("sources/article/districts/*.ttl")))
    own = {m for m, ds in users.items() if "pinggu" in ds}
    only = {m for m in own if users[m] == {"pinggu"}}
    draft = draft_text(text, known.without("pinggu"), SourceInfo("article", "article", "2023-07"))
    section = next(d for d in draft.districts if d.id == "pinggu")
    proposals = [m for p in section.practices for m in p.mechanisms]
    new_labels = [m.label.replace("“", "").replace("”", "") for m in proposals if m.new]
    named = {m for m in only if any(any(label.replace("“", "").replace("”", "") in new for new in new_labels)
                                    for label in known.mechanisms[m].labels if len(label) >= 3)}
    assert len(named) >= 0.8 * len(only), sorted(only - named)
    assert own - only <= {m.id for m in proposals}


def test_draft_topic_list_items_split_at_yiji_and_lose_their_lead(known: Known) -> None:
    text = "（测试编造）\n\n  海淀区人大常委会每年都依法安排夜市经营秩序以及河道清淤治理等3个方面的法定监督事项。\n"
    draft = draft_text(text, known, SourceInfo("made-up", "made up", "2021-01"))
    topics = [t for p in draft.districts[0].practices for t in p.topics if t.new]
    assert [t.label for t in topics] == ["夜市经营秩序", "河道清淤治理"]
    assert all(text[t.span.start:t.span.end] == t.label for t in topics)


def test_draft_days_grouped_digits_and_percentages_in_words(known: Known) -> None:
    text = ("（测试编造）\n\n  海淀区人大常委会2020年9月28日召开会议，覆盖群众1,297人，参与率达到百分之二十，"
            "今年3月5日开展活动。\n")
    draft = draft_text(text, known, SourceInfo("made-up", "made up", "2021-01"))
    practice = draft.districts[0].practices[0]
    assert [(d.value, d.datatype, d.span.quote) for d in practice.dates] == [
        ("2020-09-28", XSD + "date", "2020年9月28日"), ("2021-03-05", XSD + "date", "今年3月5日")]
    assert [(f.value, f.unit) for f in practice.facts] == [(1297, "人"), (20, "%")]


def test_cli_draft_exclude_district_leaves_out_its_own_mechanisms(capsys: pytest.CaptureFixture[str]) -> None:
    users = direct_users(sorted(Settings().data_dir.glob("sources/article/districts/*.ttl")))
    only = {m for m, ds in users.items() if ds == {"chaoyang"}}
    args = ["draft", str(ARTICLE), "--source", "article", "--issued", "2023-07", "--format", "json"]
    linked: dict[str, set[str | None]] = {}
    for extra in ([], ["--exclude-district", "chaoyang"]):
        assert main([*args, *extra]) == 0
        data = json.loads(capsys.readouterr().out)
        linked[" ".join(extra)] = {m["id"] for d in data["districts"] if d["id"] == "chaoyang"
                                   for p in d["practices"] for m in p["mechanisms"]}
    assert only & linked[""] and not only & linked["--exclude-district chaoyang"]


def test_draft_research_list_and_half_year(known: Known) -> None:
    """Made up: the items researched (a list closed by 等…开展专题调研) and 上半年 as the issued year."""
    text = "（测试编造）\n\n  海淀区人大常委会上半年就夜市经营秩序、河道清淤治理等，组织开展专题调研。\n"
    draft = draft_text(text, known, SourceInfo("made-up", "made up", "2021-01"))
    practice = draft.districts[0].practices[0]
    assert [t.label for t in practice.topics if t.new] == ["夜市经营秩序", "河道清淤治理"]
    assert [(d.value, d.span.quote) for d in practice.dates] == [("2021", "上半年")]


def test_the_served_graph_knows_what_the_files_do(graph: KnowledgeGraph, known: Known) -> None:
    """Before anything is published, /curate's drafts (what the served graph knows, on every backend) and
    kg draft's from the files know the same districts, names, labels and users."""
    assert known_for(graph) == known
    assert known_for(graph) is known_for(graph)  # once per graph version
