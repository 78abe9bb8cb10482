"""The data lint (app/build/lint.py): clean on the real graph, and each rule fails on a small case built
in memory (a garbled label, a shared alternative label, a quote cut mid-phrase …); ``kg validate`` exits
1 on a copy of data/ carrying the garbled label that was once in data/mechanisms.ttl."""

from pathlib import Path

import pyoxigraph as ox
import pytest

from app.build import lint
from app.build.graph import load
from app.cli import main
from app.config import Settings
from tests.test_cli import broken_copy  # noqa: F401  (fixture)

BASE = "https://bjrd-kg.example.org/id/"
BJRD = "https://bjrd-kg.example.org/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OA = "http://www.w3.org/ns/oa#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: "people’s" as UTF-8 bytes read as Windows-1252 and as Latin-1: the label data/mechanisms.ttl carried.
GARBLED_CP1252 = "people’s".encode().decode("cp1252")
GARBLED_LATIN1 = "people’s".encode().decode("latin-1")
ARTICLE = "  甲区人大建立代表联络站,组织代表回家站征求意见。聚焦“七点行动”等重点工作,开展调研。\n"


def n(kind: str, slug: str) -> ox.NamedNode:
    return ox.NamedNode(BASE + kind + "/" + slug)


def t(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
    return ox.Triple(s, ox.NamedNode(p), o)


def lit(text: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def mechanism(slug: str, zh: str, en: str, *alt: str) -> list[ox.Triple]:
    m = n("mechanism", slug)
    return [t(m, RDF_TYPE, ox.NamedNode(BJRD + "Mechanism")), t(m, SKOS + "prefLabel", lit(zh, "zh")),
            t(m, SKOS + "prefLabel", lit(en, "en")), *(t(m, SKOS + "altLabel", lit(a, "zh")) for a in alt)]


def practice_quote(slug: str, exact: str, article: str = ARTICLE) -> list[ox.Triple]:
    p, q = n("practice", slug), n("quote", slug)
    start = article.index(exact)
    return [t(p, RDF_TYPE, ox.NamedNode(BJRD + "Practice")), t(p, BJRD + "evidence", q),
            t(q, RDF_TYPE, ox.NamedNode(BJRD + "Quote")), t(q, OA + "exact", lit(exact)),
            t(q, OA + "start", ox.Literal(str(start), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
            t(q, OA + "end", ox.Literal(str(start + len(exact)),
                                        datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))]


def rules(triples: list[ox.Triple], exclusions: dict[str, str] | None = None) -> list[tuple[str, str]]:
    return [(p.rule, lint.local_name(p.subject)) for p in lint.lint(triples, ARTICLE, exclusions)]


def test_the_real_graph_is_clean() -> None:
    settings = Settings()
    loaded = load(settings)
    problems = lint.lint_files(loaded.ontology + loaded.data, settings.data_dir)
    assert problems == [], "\n".join(map(str, problems))


def test_a_clean_case_has_no_problem() -> None:
    triples = mechanism("station", "代表联络站", "Deputy liaison stations", "家站") + \
        practice_quote("a-station", "甲区人大建立代表联络站")
    assert rules(triples) == []


@pytest.mark.parametrize("garbled", [GARBLED_CP1252, GARBLED_LATIN1, "Caf\u00c3\u00a9", "\u00c3\u00a4rger"])
def test_mojibake_in_a_label_is_caught(garbled: str) -> None:
    found = rules(mechanism("guidance", "指导镇街人大工作", f"Guiding township and subdistrict {garbled} work"))
    assert ("mojibake", "guidance") in found


@pytest.mark.parametrize("text", ["“Online mass line”", "café", "Xicheng’s “first item” – 2023", "naïve"])
def test_ordinary_non_ascii_english_is_not_mojibake(text: str) -> None:
    assert not lint.is_mojibake(text)


@pytest.mark.parametrize("bad", ["a\u0085b", "a\ufffdb", GARBLED_LATIN1])
def test_c1_control_characters_and_replacement_character_are_caught(bad: str) -> None:
    assert ("control", "guidance") in rules(mechanism("guidance", "指导", bad))


def test_labels_not_in_nfc_or_with_outer_space_are_caught() -> None:
    found = rules(mechanism("a", "代表之家 ", "Cafe\u0301 of deputies"))
    assert ("space", "a") in found and ("nfc", "a") in found


def test_a_zh_label_needs_an_en_one() -> None:
    m = n("mechanism", "lonely")
    found = rules([t(m, RDF_TYPE, ox.NamedNode(BJRD + "Mechanism")), t(m, SKOS + "prefLabel", lit("家站", "zh"))])
    assert found == [("en-missing", "lonely")]


def test_chinese_characters_in_an_en_label_are_caught() -> None:
    assert ("en-chinese", "visit") in rules(mechanism("visit", "月进站", "Monthly station visit (“月进站”)"))
    p = n("practice", "brands")
    assert rules([t(p, RDFS_LABEL, lit("人大有我", "zh")), t(p, RDFS_LABEL, lit("Created “人大有我”", "en"))]) == \
        [("en-chinese", "brands")]


def test_an_alternative_label_shared_by_two_mechanisms_is_caught() -> None:
    triples = mechanism("online-opinion", "线上征集民意", "Online opinion", "二维码") + \
        mechanism("qr-code", "二维码联系代表", "QR codes", "二维码")
    found = rules(triples)
    assert [r for r in found if r[0] == "label-shared"] == [("label-shared", "online-opinion")]
    # a topic may use the words of a mechanism: the rule is within one class
    topic = n("topic", "hotline")
    assert rules(mechanism("hotline", "接诉即办", "Hotline") + [
        t(topic, RDF_TYPE, ox.NamedNode(BJRD + "SupervisionTopic")),
        t(topic, SKOS + "prefLabel", lit("接诉即办", "zh")), t(topic, SKOS + "prefLabel", lit("Hotline", "en"))]) == []


@pytest.mark.parametrize(("exact", "side"), [
    ("立代表联络站", "begins"),                 # 建|立…: begins inside a word
    ("组织代表回家站征求", "ends"),             # …征求|意见
    ("“七点行动”等重点工作", "begins"),         # 聚焦|“七点行动”
])
def test_a_practice_quote_cut_mid_phrase_is_caught(exact: str, side: str) -> None:
    problems = lint.lint(practice_quote("cut", exact), ARTICLE)
    assert [(p.rule, lint.local_name(p.subject)) for p in problems] == [("quote-boundary", "cut")]
    assert problems[0].detail.startswith(side)


def test_quotes_at_clause_boundaries_pass_and_an_exclusion_allows_one() -> None:
    assert rules(practice_quote("whole", "聚焦“七点行动”等重点工作,开展调研。")) == []
    assert rules(practice_quote("edge", "甲区人大建立代表联络站,组织代表回家站征求意见。")) == []
    assert rules(practice_quote("cut", "立代表联络站"), {"cut": "a reason"}) == []


def test_an_exclusion_naming_no_quote_is_a_problem() -> None:
    assert rules([], {"gone": "a reason"}) == [("exclusion", "gone")]


def test_kg_validate_exits_1_on_the_garbled_label(
    broken_copy: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    path = Path(broken_copy["KG_DATA_DIR"]) / "mechanisms.ttl"
    text = path.read_text(encoding="utf-8")
    clean = "\"Guiding township and subdistrict people's congress work\"@en"
    assert text.count(clean) == 1
    path.write_text(text.replace(clean, clean.replace("people's", "people" + GARBLED_CP1252[6:])), encoding="utf-8")
    for key, value in broken_copy.items():
        monkeypatch.setenv(key, value)
    assert main(["validate"]) == 1
    out = capsys.readouterr().out
    assert "Conforms: True" in out  # the shapes do not see it; the lint does
    assert "mojibake: <https://bjrd-kg.example.org/id/mechanism/township-congress-guidance>" in out
