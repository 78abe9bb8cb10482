"""``kg draft`` on articles of the genre it has never seen: the three MADE-UP scans of tests/fixtures/draft-genre/
(README there), each laid out differently — numbered headings with a BOM and CRLF line ends, short names with
a colon, a heading line per district — read through the command line (``--format json``) as a user runs it.

What each text should give is recorded beside it (expected.json: the words each district section opens and
closes with, numbers and dates with the words that write them), so the expectations come from how the text
was written, not from the drafter. A property test drafts random slices of the article and of these texts,
with random characters put in, and holds every run to exit 0 with every quote verbatim at its offsets, or a
clear exit 2.
"""

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "draft-genre"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
ARTICLE = Path(__file__).resolve().parent.parent / "data" / "sources" / "article" / "article.txt"


def read(path: Path) -> str:
    """The file's characters as ``kg draft`` counts them: UTF-8, nothing translated (BOM, CR LF kept)."""
    return path.read_bytes().decode("utf-8")


def kg_draft(path: Path, issued: str | None = "2021-01") -> tuple[int, dict[str, Any] | None, str]:
    """``kg draft PATH --format json`` in this process: (exit code, the JSON or None, standard error)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["draft", str(path), "--source", "made-up-scan", "--format", "json"]
    argv += ["--issued", issued] if issued else []
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, json.loads(out.getvalue()) if code == 0 else None, err.getvalue()


def every_quoted(draft: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for d in draft["districts"]:
        for p in d["practices"]:
            found += [p, *p["mechanisms"], *p["topics"], *p["facts"], *p["dates"]]
    return found


def where(text: str, words: str) -> int:
    """The one place ``text`` writes ``words`` (the expectations name words written once)."""
    assert text.count(words) == 1, f"{words!r} is written {text.count(words)} times"
    return text.index(words)


def as_written(text: str, name: str) -> str:
    """``words`` of expected.json are written with LF; a CRLF file writes them with CR LF."""
    return text.replace("\n", "\r\n") if "\r\n" in read(FIXTURES / name) else text


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def drafted(request: pytest.FixtureRequest) -> tuple[str, str, dict[str, Any]]:
    name = request.param
    code, draft, err = kg_draft(FIXTURES / name, EXPECTED[name]["issued"])
    assert code == 0 and draft is not None, err
    return name, read(FIXTURES / name), draft


def test_the_fixtures_are_what_their_readme_says() -> None:
    crlf = read(FIXTURES / "scan-numbered-crlf.txt")
    assert crlf.startswith("\ufeff") and crlf.count("\r\n") == crlf.count("\n") > 5
    for name in EXPECTED:
        first = read(FIXTURES / name).lstrip("\ufeff").splitlines()[0]
        assert "测试编造" in first and "非真实" in first  # each says it is made up, in its first line


def test_genre_sections_are_the_districts_paragraphs(drafted: tuple[str, str, dict[str, Any]]) -> None:
    """Each district section starts where its paragraph (or heading) writes the district's name and ends
    where its text ends; a district mentioned inside another's paragraph starts nothing."""
    name, text, draft = drafted
    expected = EXPECTED[name]["sections"]
    got = [(d["id"], d["start"]) for d in draft["districts"]]
    assert got == [(s["district"], where(text, as_written(s["starts_with"], name))) for s in expected]
    for d, s in zip(draft["districts"], expected, strict=True):
        assert text[d["start"]:d["end"]].endswith(as_written(s["ends_with"], name))


def test_genre_a_district_named_inside_a_paragraph_stays_in_that_paragraph(
        drafted: tuple[str, str, dict[str, Any]]) -> None:
    """Every practice lies inside its own district's section, so a mention (与西城区人大常委会联合 …) inside
    Dongcheng's paragraph is drafted as Dongcheng's."""
    _, _, draft = drafted
    for d in draft["districts"]:
        assert all(d["start"] <= p["start"] < p["end"] <= d["end"] for p in d["practices"])
    spans = sorted((d["start"], d["end"]) for d in draft["districts"])
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))  # no two sections overlap


def test_genre_every_quote_is_verbatim_at_its_offsets(drafted: tuple[str, str, dict[str, Any]]) -> None:
    _, text, draft = drafted
    quoted = every_quoted(draft)
    assert quoted and all(text[q["start"]:q["end"]] == q["quote"] for q in quoted)
    assert not any(q["quote"][:1] in "\ufeff\r\n " or q["quote"][-1:] in "\r\n " for q in quoted)


def test_genre_numbers_with_their_units(drafted: tuple[str, str, dict[str, Any]]) -> None:
    """三十余次, 1.2万人次, 百分之九十, 1,200余人次 …: each fact its value and unit, its quote writing it."""
    name, text, draft = drafted
    facts = [f for d in draft["districts"] for p in d["practices"] for f in p["facts"]]
    for e in EXPECTED[name]["facts"]:
        at = where(text, e["writes"])
        hits = [f for f in facts if f["start"] <= at and at + len(e["writes"]) <= f["end"]]
        assert [(f["value"], f["unit"]) for f in hits] == [(e["value"], e["unit"])], e


def test_genre_dates_typed(drafted: tuple[str, str, dict[str, Any]]) -> None:
    name, text, draft = drafted
    dates = [x for d in draft["districts"] for p in d["practices"] for x in p["dates"]]
    for e in EXPECTED[name]["dates"]:
        at = where(text, e["writes"])
        assert any(x["value"] == e["value"] and x["start"] < at + len(e["writes"]) and at < x["end"]
                   for x in dates), e


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("form", ["lf", "crlf+bom", "cr"])
def test_genre_line_ends_and_a_bom_change_offsets_not_the_draft(name: str, form: str, tmp_path: Path) -> None:
    """The same text with LF, CR LF and a BOM, or old Mac CR line ends: the same sections and proposals, each
    quote verbatim at offsets into that file's own characters (a BOM is character 0, CR LF two)."""
    plain = read(FIXTURES / name).lstrip("\ufeff").replace("\r\n", "\n")
    written = {"lf": plain, "crlf+bom": "\ufeff" + plain.replace("\n", "\r\n"), "cr": plain.replace("\n", "\r")}[form]
    path = tmp_path / name
    path.write_bytes(written.encode("utf-8"))
    code, draft, err = kg_draft(path, EXPECTED[name]["issued"])
    assert code == 0 and draft is not None, err
    text = read(path)
    assert all(text[q["start"]:q["end"]] == q["quote"] for q in every_quoted(draft))
    assert [d["id"] for d in draft["districts"]] == [s["district"] for s in EXPECTED[name]["sections"]]
    lf_code, lf_draft, _ = kg_draft(FIXTURES / name, EXPECTED[name]["issued"])
    assert lf_draft is not None
    assert sorted(q["quote"].replace("\r\n", "\n").replace("\r", "\n") for q in every_quoted(draft)) == \
        sorted(q["quote"].replace("\r\n", "\n") for q in every_quoted(lf_draft))


def test_genre_a_bom_before_the_first_district_opens_its_section(tmp_path: Path) -> None:
    """A file that starts with a BOM and then a district's paragraph: that paragraph is its section."""
    text = read(FIXTURES / "scan-short-names.txt")
    first = EXPECTED["scan-short-names.txt"]["sections"][0]
    path = tmp_path / "bom.txt"
    path.write_bytes(("\ufeff" + text[where(text, first["starts_with"]):]).encode("utf-8"))
    code, draft, err = kg_draft(path)
    assert code == 0 and draft is not None, err
    assert (draft["districts"][0]["id"], draft["districts"][0]["start"]) == (first["district"], 1)


SOURCES = [read(ARTICLE), *(read(FIXTURES / name) for name in sorted(EXPECTED))]


#: What the genre's texts hold that could trip a rule: line ends, a BOM, headings, names, numerals, quote marks.
NOISE = ["\ufeff", "\r\n", "\r", "一、", "（三）", "东城：", "大兴", "人大常委会", "“", "”", "百分之", "万人次", "余",
         "2020年", "十", "点", "月", "%", "，", "。", "\u2028", "\x00", "\ud7ff", "𠀀", "零零", "两两", "万万",
         "1.", ".5", "1,", "第", "2月30日"]


@st.composite
def mangled(draw: st.DrawFn) -> str:
    """A random slice of the article or of a fixture, with random characters put in at random places."""
    text = draw(st.sampled_from(SOURCES))
    a = draw(st.integers(0, len(text)))
    b = draw(st.integers(a, min(len(text), a + 3000)))
    piece = text[a:b]
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(piece)))
        noise = draw(st.one_of(st.text(max_size=8), st.sampled_from(NOISE)))
        piece = piece[:at] + noise + piece[at:]
    return piece


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mangled(), issued=st.sampled_from(["2021-01", None]))
def test_genre_random_text_never_crashes_and_quotes_stay_verbatim(tmp_path: Path, text: str,
                                                                  issued: str | None) -> None:
    path = tmp_path / "random.txt"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    code, draft, err = kg_draft(path, issued)
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("kg draft: ") and "Traceback" not in err
        return
    assert draft is not None
    read_back = read(path)
    assert all(read_back[q["start"]:q["end"]] == q["quote"] for q in every_quoted(draft))


def test_genre_a_day_its_month_does_not_have_is_no_date(tmp_path: Path) -> None:
    """2020年2月30日 (a slip of the pen) is proposed as no xsd:date: the write path would refuse it."""
    path = tmp_path / "day.txt"
    path.write_text("（测试编造，并非真实报道。）\n东城：2020年2月30日召开会议，2020年2月29日再次召开。\n",
                    encoding="utf-8")
    code, draft, err = kg_draft(path)
    assert code == 0 and draft is not None, err
    days = [x["value"] for p in draft["districts"][0]["practices"] for x in p["dates"]
            if x["datatype"].endswith("#date")]
    assert days == ["2020-02-29"]


@pytest.mark.parametrize("opening", ["【东城】", "◆东城区人大常委会", "● 东城：", "1. 东城区人大常委会",
                                     "（一）东城区：", "　　东城区人大常委会", "★【东城】"])
def test_genre_a_bullet_number_or_bracket_before_the_name_opens_the_section(opening: str, tmp_path: Path) -> None:
    """However a plain-text copy of the magazine leads a district's paragraph, the name after it opens the section."""
    path = tmp_path / "lead.txt"
    path.write_text(f"（测试编造，并非真实报道。）\n{opening}开展视察3次。\n西城：开展视察4次。\n", encoding="utf-8")
    code, draft, err = kg_draft(path)
    assert code == 0 and draft is not None, err
    text = read(path)
    assert [(d["id"], d["start"]) for d in draft["districts"]] == [
        ("dongcheng", text.index("东城")), ("xicheng", text.index("西城"))]


@pytest.mark.parametrize("year", ["二〇二〇", "二○二○", "二零二零"])
def test_genre_a_year_in_chinese_digits_is_a_date_not_a_count(year: str, tmp_path: Path) -> None:
    path = tmp_path / "year.txt"
    path.write_text(f"（测试编造，并非真实报道。）\n东城：{year}年开展视察3次，{year}年12月召开会议。\n",
                    encoding="utf-8")
    code, draft, err = kg_draft(path)
    assert code == 0 and draft is not None, err
    practices = draft["districts"][0]["practices"]
    assert [(f["value"], f["unit"]) for p in practices for f in p["facts"]] == [(3, "次")]
    assert [(x["value"], x["quote"]) for p in practices for x in p["dates"]] == [
        ("2020", f"{year}年"), ("2020-12", f"{year}年12月")]


def test_genre_a_half_width_full_stop_ends_a_sentence_not_a_number(tmp_path: Path) -> None:
    path = tmp_path / "stops.txt"
    path.write_text("（测试编造，并非真实报道。）\n东城：开展视察3次.接待群众1.2万人次;召开会议2次!\n"
                    "1. 西城区：视察4次.\n", encoding="utf-8")
    code, draft, err = kg_draft(path)
    assert code == 0 and draft is not None, err
    assert [[p["quote"] for p in d["practices"]] for d in draft["districts"]] == [
        ["东城：开展视察3次", "接待群众1.2万人次", "召开会议2次"], ["西城区：视察4次"]]
