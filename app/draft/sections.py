"""District sections: a paragraph that opens with a district's name (any alias the graph knows,
after an optional bullet, heading number such as “一、” or “（二）”, or bracket “【”) starts that
district's section. The
section is that paragraph; when the paragraph is only a heading (short, no full stop), the
section runs on through the paragraphs after it up to the next district, or a short closing line
(责任编辑 …).

A district's bare short name (东城, 大兴) opens its section only when a separator follows it
(东城：, 西城: , 大兴、 …): a word it begins (大兴调查研究之风) is no district. A paragraph is a line
of the text as written: CR LF, LF and CR all end one, and a byte-order mark counts as space."""

import re
from dataclasses import dataclass

from app.draft.clauses import trimmed
from app.draft.known import District

HEADING_MAX = 40
#: What may lead a district's name in its paragraph: a bullet (◆, ●, ■ …), a heading number (一、,
#: （二）, 3.), an opening bracket (【东城】).
HEADING_NUMBER = re.compile(r"[ \t\u3000\ufeff]*(?:[◆◇●○■□▲△▶►★☆•·*＊]+[ \t\u3000]*)?"
                            r"(?:[（(]?[一二三四五六七八九十百\d]{1,3}[)）、.．]\s*)?[【\[〔]?")
#: What may follow a district's bare short name that opens a paragraph (东城：, 西城:, 【东城】, 东城 —).
AFTER_SHORT_NAME = "：:，,、；;。 \t\u3000—–-（(“\"】]〕\r\n"


@dataclass(frozen=True)
class Section:
    district: str
    start: int
    end: int


def paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        span = trimmed(text, pos, pos + len(line))
        if span:
            spans.append((span.start, span.end))
        pos += len(line)
    return spans


def find_sections(text: str, districts: dict[str, District]) -> list[Section]:
    """One section per paragraph that opens with a district's name, in the order of the text.

    The longest alias wins (东城区人大常委会 before 东城), and a name must open the paragraph:
    a district merely mentioned inside another paragraph does not start a section."""
    aliases = sorted(((a, d.id, is_short_name(a, d)) for d in districts.values() for a in d.aliases),
                     key=lambda x: -len(x[0]))
    sections: list[Section] = []
    heading_open = False
    for start, end in paragraphs(text):
        lead = HEADING_NUMBER.match(text, start)
        at = lead.end() if lead else start
        district = next((d for alias, d, short in aliases if len(alias) >= 2 and text.startswith(alias, at)
                         and (not short or at + len(alias) >= end or text[at + len(alias)] in AFTER_SHORT_NAME)),
                        None)
        if district is not None and heading_open and sections[-1].district == district:
            sections[-1] = Section(district, sections[-1].start, end)  # the heading's own paragraph
        elif district is not None:
            sections.append(Section(district, at, end))
            heading_open = is_heading(text[at:end])
        elif heading_open and sections and not is_heading(text[start:end]):
            sections[-1] = Section(sections[-1].district, sections[-1].start, end)
        else:
            heading_open = False
    return sections


def is_short_name(alias: str, district: District) -> bool:
    """东城 for 东城区: the name without 区 or 县 and without any word of its congress after it."""
    return not alias.endswith(("区", "县", "人大", "常委会", "委员会", "代表大会")) and alias in district.label


def is_heading(paragraph: str) -> bool:
    return len(paragraph) <= HEADING_MAX and not any(ch in paragraph for ch in "。；;！？!?")
