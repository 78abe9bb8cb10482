"""Facts: an Arabic number or a Chinese numeral followed by a measure word, with what it counts.

Read alike whichever way they are written (104项, 两周, 七个组); ``cn2an`` converts the Chinese
numerals. Approximations (1000多, 6个月以上, 3个及以上, 至少1个, 不少于50%) keep the number and say
it is a minimum. Not facts: ordinals (第一), a numeral inside a word (进一步, 统一), a numeral in a
quoted name that is not a formula (“四个机关”, “千名代表问政问需”), years followed by 年 (a date,
``dates``), and the “once” of a period (两周一次: the period is the fact).

The units a fact may be published in are the ontology's closed list (ontology/bjrd.ttl, shape
S05-unit-listed), read from the ontology itself (:func:`listed_units`). A fact whose measure word is not
on it (类, 户, 所 …) is still proposed, so the curator sees the number, but marked: ``+unlisted-unit`` on
its rule and its confidence halved (the draft JSON's shape is the contract's), ``unit_listed`` false on the
record and a note in the Turtle draft; /curate asks for a listed unit before publish.
"""

import re
from functools import cache
from pathlib import Path

import cn2an  # type: ignore[import-untyped]
import pyoxigraph as ox

from app.config import ROOT
from app.draft.clauses import enclosing, quoted_regions
from app.draft.model import FactProposal, Span
from app.rdf.namespaces import BJRD, RDF_TYPE, SKOS

#: The ontology whose units a drafted fact is checked against (the one the shapes check a publish with).
ONTOLOGY = ROOT / "ontology" / "bjrd.ttl"


@cache
def listed_units(path: Path = ONTOLOGY) -> frozenset[str]:
    """The zh labels (preferred and alternative) of the ontology's units: the measure words a fact may use."""
    triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    unit = ox.NamedNode(BJRD + "Unit")
    units = {t.subject for t in triples if t.predicate.value == RDF_TYPE and t.object == unit}
    return frozenset(t.object.value for t in triples
                     if t.subject in units and t.predicate.value in (SKOS + "prefLabel", SKOS + "altLabel")
                     and isinstance(t.object, ox.Literal) and t.object.language == "zh")

CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
#: Measure words of the genre, longest first so that 个方面 is read before 个.
MEASURES = sorted(["个月", "个方面", "个组", "个", "项", "名", "位", "人次", "人", "家", "次", "年", "周", "级", "方",
                   "组", "大", "册", "方面", "批", "条", "件", "场", "天", "类", "所", "户", "篇", "份", "部", "支",
                   "座", "处", "期", "轮", "届", "元", "万元", "亿元", "公里", "亩", "季度", "小时", "期次", "场次",
                   "本", "幅", "张", "套", "起", "床", "辆", "台", "块", "根", "棵", "株", "步", "岁", "倍"], key=len,
                  reverse=True)
#: Measure words written otherwise as units: 七个组 counts groups (组); 三大 (three major …) counts items (个).
UNIT_NOUNS = {"个组": "组", "大": "个"}
NUMBER = re.compile(
    r"(?P<pre>至少|不少于|不低于|超过|逾|近|约)?"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:万|亿)?|[" + CN_DIGITS + r"]+)"
    r"(?P<approx>多|余)?"
    r"(?P<unit>%|％|" + "|".join(MEASURES) + r")?"
    r"(?P<post>以上|及以上|以内|左右)?")
#: 百分之二十, 百分之15: a percentage written in words.
PERCENT_WORDS = re.compile(r"百分之(?P<num>\d+(?:\.\d+)?|[" + CN_DIGITS + r"点]+)")
#: A year written in Chinese digits one by one (二〇二〇): a date, not a count of years.
YEAR_IN_WORDS = re.compile("[一二][〇零九][〇零一二三四五六七八九]{2}")
#: A Chinese numeral right after one of these is part of a word, not a count (进一步, 统一, 第一).
WORD_BEFORE = set("第进统单唯之同逐初万某惟周新")
COUNTS_STOP = set("的进参全将共和及等在中为对采是有由已就向把被从")
PUNCT = set("，,。；;：:、“”《》()（）！？!?+ \u3000\n")


def to_number(raw: str) -> int | float | None:
    """104 -> 104, 1,297 -> 1297, 1.5万 -> 15000, 两 -> 2, 三十三 -> 33; None when it is not a number."""
    raw = raw.replace(",", "")
    scale = 1
    if raw[-1] in "万亿" and raw[0].isdigit():
        scale = 10_000 if raw[-1] == "万" else 100_000_000
        raw = raw[:-1]
    if raw[0] in "十百千万亿":
        raw = "一" + raw  # 百余名: a hundred-odd
    try:
        value = float(raw) if raw[0].isdigit() else float(cn2an.cn2an(raw, "smart"))
    except (ValueError, KeyError, IndexError):
        return None
    value *= scale
    return int(value) if value == int(value) else value


def counted_after(text: str, pos: int, limit: int) -> int:
    if pos < limit and text[pos] == "的":
        pos += 1
    end = pos
    while end < limit and end - pos < 10 and text[end] not in PUNCT and text[end] not in COUNTS_STOP \
            and not text[end].isdigit():
        end += 1
    return end


def counted_before(text: str, pos: int, floor: int) -> int:
    begin = pos
    while begin > floor and pos - begin < 12 and text[begin - 1] not in PUNCT and text[begin - 1] not in "的等" \
            and not text[begin - 1].isdigit():
        begin -= 1
    return begin


def find_facts(text: str, clause: Span) -> list[FactProposal]:
    """The facts a clause states, each with a quote that writes the number as the text does."""
    facts: list[FactProposal] = []
    quotes = quoted_regions(text, clause.start, clause.end)
    for m in NUMBER.finditer(text, clause.start, clause.end):
        raw, unit = m["num"], m["unit"]
        arabic = raw[0].isdigit()
        if not unit:
            continue  # a bare number (a hotline, a code) is not a count
        if unit == "年" and len(raw) == 4 and (raw[:2] in ("19", "20") if arabic else YEAR_IN_WORDS.fullmatch(raw)):
            continue  # a year (2020年, 二〇二〇年): dates.py
        start = m.start("num")
        if start > clause.start and text[start - 1] in WORD_BEFORE and not arabic:
            continue
        if start > clause.start and text[start - 1].isdigit():
            continue
        if not arabic and unit == "次" and raw == "一" and re.search(r"[\d" + CN_DIGITS + r"](?:个)?(?:月|周|年|天)$",
                                                                    text[max(clause.start, start - 4):start]):
            continue  # 两周一次: the period is the fact
        region = enclosing(quotes, start)
        if region and not arabic:
            inner = text[region[0] + 1:region[1] - 1]
            if not re.search(r"[+、，,]", inner):
                continue  # a numeral inside a quoted name (“四个机关”) is part of the name
        value = to_number(raw)
        if value is None:
            continue
        unit_text = UNIT_NOUNS.get(unit, "％" == unit and "%" or unit)
        confidence = 0.9 if arabic else 0.75
        every = re.search(r"每(个)?(月|周|年|季度|天|日)(至少)?$", text[max(clause.start, start - 6):m.start()])
        every = every if unit == "次" else None  # 每月一次: the quote keeps the period
        minimum = bool(m["approx"] or m["post"] in ("以上", "及以上") or m["pre"] in ("至少", "不少于", "不低于",
                                                                                     "超过", "逾"))
        after = counted_after(text, m.end(), clause.end)
        skip = int(m.end() < clause.end and text[m.end()] == "的")
        if after > m.end() + skip:
            counts_start, counts_end = m.end() + skip, after
        else:
            counts_start, counts_end = counted_before(text, m.start(), clause.start), m.start()
        counts = text[counts_start:counts_end]
        q_start, q_end = min(counts_start, m.start()), max(counts_end, m.end())
        if every:
            q_start = min(q_start, m.start() - len(every.group(0)))
        rule = "arabic-number+measure" if arabic else "chinese-numeral+measure"
        if minimum:
            rule += "+approximation"
        listed = unit_text in listed_units()
        if not listed:
            rule, confidence = rule + "+unlisted-unit", confidence / 2
        facts.append(FactProposal(value, unit_text, counts, Span(text[q_start:q_end], q_start, q_end), rule,
                                  confidence, minimum, listed))
    for m in PERCENT_WORDS.finditer(text, clause.start, clause.end):
        value = to_number(m["num"])
        if value is not None:
            before = counted_before(text, m.start(), clause.start)
            facts.append(FactProposal(value, "%", text[before:m.start()], Span(text[before:m.end()], before, m.end()),
                                      "percentage-in-words", 0.75))
    return sorted(facts, key=lambda f: f.span.start)
