"""Typed dates: years (xsd:gYear), months (xsd:gYearMonth), days (xsd:date), periods
(2023年-2026年: a start and an end) and clock times (xsd:time, 早上7点 -> 07:00). 今年/去年/明年,
a month written without a year, 上半年 and 下半年 are read against the source's year (``--issued``);
a duration (6个月, 33年) is a fact, not a date."""

import calendar
import re

from app.draft.model import DateProposal, Span
from app.draft.numbers import to_number
from app.rdf.namespaces import XSD

G_YEAR, G_YEAR_MONTH, DATE, TIME = XSD + "gYear", XSD + "gYearMonth", XSD + "date", XSD + "time"
#: A year in Arabic digits, or in Chinese ones written digit by digit (二〇二〇, 二○二○, 二零二零).
YEAR = r"(?:(?:19|20)\d\d|[一二][〇零○九][〇零○一二三四五六七八九]{2})"
YEAR_DIGITS = {c: str(i) for i, chars in enumerate(("〇零○", "一", "二", "三", "四", "五", "六", "七", "八", "九"))
               for c in chars}
MONTH_NUM = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
RELATIVE_YEARS = {"今年": 0, "本年": 0, "当年": 0, "去年": -1, "上年": -1, "明年": 1}
#: A half of the year, written without one, is the source's (上半年通过“月进站”活动 …).
HALF = re.compile(r"(?<!今年)(?<!本年)(?<!\d年)(?:上半年|下半年)")
DAY_NUM = r"(?:3[01]|[12]\d|0?[1-9]|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
DAY = re.compile(r"(?:(?P<year>" + YEAR + r")年|(?P<relative>今年|本年|去年|上年|明年))?(?P<month>" + MONTH_NUM
                 + r")月(?P<day>" + DAY_NUM + r")[日号]")
PERIOD = re.compile(r"((?:19|20)\d\d)年?\s*[-—–~～至到]\s*((?:19|20)\d\d)年")
YEAR_MONTH = re.compile(r"(?P<year>" + YEAR + r"年|今年|本年|当年|去年|上年|明年)(?:(?P<month>" + MONTH_NUM
                        + r")月(?:份|底|初|中旬|上旬|下旬)?)?")
MONTH = re.compile(r"(?<![个\d一二三四五六七八九十每双季])(?P<month>" + MONTH_NUM + r")月(?:份|底|初|中旬|上旬|下旬)?"
                   r"(?![\d份]*[个日号])")
CLOCK = re.compile(r"(?P<part>早上|上午|中午|下午|晚上|凌晨|早)?(?P<hour>[01]?\d|2[0-3]|[一二三四五六七八九十]{1,3})"
                   r"(?:点|时)(?P<half>半|(?P<min>[0-5]\d)分)?(?![期间代段])")


def year_of(written: str) -> int:
    """2020 -> 2020, 二〇二〇 -> 2020."""
    return int("".join(YEAR_DIGITS.get(c, c) for c in written))


def to_int(raw: str) -> int:
    return int(to_number(raw) or 0)


def find_dates(text: str, clause: Span, year: int) -> list[DateProposal]:
    """The typed dates a clause writes; ``year`` resolves 今年 and months without a year."""
    found: list[DateProposal] = []
    taken: list[tuple[int, int]] = []

    def add(value: str, datatype: str, start: int, end: int, rule: str, role: str = "date") -> None:
        found.append(DateProposal(value, datatype, Span(text[start:end], start, end), rule, role))
        taken.append((start, end))

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for m in DAY.finditer(text, clause.start, clause.end):
        y = year_of(m["year"]) if m["year"] else year + RELATIVE_YEARS.get(m["relative"] or "今年", 0)
        month, day = to_int(m["month"]), to_int(m["day"])
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(y, month)[1]:  # no 2月30日: not a date
            add(f"{y}-{month:02d}-{day:02d}", DATE, m.start(), m.end(), "day")
    for m in PERIOD.finditer(text, clause.start, clause.end):
        if not free(m.start(), m.end()):
            continue
        add(m[1], G_YEAR, m.start(), m.end(), "year-period", "start")
        add(m[2], G_YEAR, m.start(), m.end(), "year-period", "end")
    for m in YEAR_MONTH.finditer(text, clause.start, clause.end):
        if not free(m.start(), m.end()):
            continue
        written = m["year"]
        y = year + RELATIVE_YEARS[written] if written in RELATIVE_YEARS else year_of(written[:4])
        rule = "relative-year" if written in RELATIVE_YEARS else "year"
        if m["month"]:
            add(f"{y}-{to_int(m['month']):02d}", G_YEAR_MONTH, m.start(), m.end(), rule + "+month")
        else:
            add(str(y), G_YEAR, m.start(), m.end(), rule)
    for m in HALF.finditer(text, clause.start, clause.end):
        if free(m.start(), m.end()):
            add(str(year), G_YEAR, m.start(), m.end(), "half-of-source-year")
    for m in MONTH.finditer(text, clause.start, clause.end):
        if free(m.start(), m.end()):
            add(f"{year}-{to_int(m['month']):02d}", G_YEAR_MONTH, m.start(), m.end(), "month-of-source-year")
    for m in CLOCK.finditer(text, clause.start, clause.end):
        if not m["part"] and not m["hour"].isdigit():
            continue  # 三点 without 早上/下午 is more often a count (三点意见) than a time
        if not free(m.start(), m.end()):
            continue
        hour = to_int(m["hour"])
        if m["part"] in ("下午", "晚上") and hour < 12:
            hour += 12
        minute = 30 if m["half"] == "半" else int(m["min"] or 0)
        if hour < 24:
            add(f"{hour:02d}:{minute:02d}", TIME, m.start(), m.end(), "clock-time")
    return sorted(found, key=lambda d: d.span.start)
