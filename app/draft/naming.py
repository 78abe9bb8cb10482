"""New mechanisms proposed from the article's own naming.

A name ending in a head word (…机制, …制度, …工作法, …模式, …品牌, …平台, …体系, …格局, …程序,
…制), read back to the verb or punctuation before it; a quoted name “…” after a verb of setting up
or keeping (建立“网上家站”, 坚持“每月一题”) or before 活动/行动/设施/机制 …; an “A+B” formula.
A name that is a known label with its head word (代表述职机制) or that ends in a known label
(区人大常委会组成人员联系代表制度) is that known mechanism, which ``spotting`` links; a quoted
name is new unless it is a known label. A known label inside a new name is suggested as its
broader concept.
"""

import re

from app.draft.clauses import CLOSE_QUOTES, OPEN_QUOTES, quoted_regions
from app.draft.model import ConceptProposal, Span
from app.draft.spotting import LabelIndex

HEADS = ("工作机制", "机制", "工作制度", "制度", "工作法", "模式", "品牌", "平台", "体系", "格局", "程序", "制")
#: Words ending in 制 that name no arrangement (体制 is a system of government, 控制 control …).
NOT_HEAD_WORDS = ("体制", "控制", "限制", "编制", "法制", "抵制", "管制", "强制", "复制", "研制", "定制", "印制",
                  "建制", "专制", "压制", "节制", "牵制", "遏制")
ACTIVITY_HEADS = ("活动品牌", "活动", "行动", "设施", "工作法")
#: Verbs that set up, keep or run an arrangement: a name starts after them.
VERBS = tuple("""
    探索建立 建立健全 建立了 建立 健全 完善 落实 坚持 推行 打造 创新 实行 构建 形成 探索 制定 出台 实施 推进 用好
    深化 依托 开展 启动 成立 设立 试行 推动 创建 走好 擦亮 推出 采取 运用 引入 首创 率先
""".split())
#: What follows a quoted phrase that is a requirement or a slogan, not an arrangement.
NOT_NAMES = ("要求", "原则", "精神", "部署", "理念", "目标", "任务", "为主题", "主题", "之问", "难题", "问题", "方针")
#: Verbs before a quoted name that make it the name of an arrangement (建立“网上家站”, 坚持“每月一题”).
QUOTE_VERBS = ("建立了", "建立", "建好", "坚持", "打造", "开展", "走好", "用好", "深化", "推行", "实行", "创新", "启动",
               "探索")
STOPS = set("，,。；;：:、!！?？()（）\n") | {"等", "以", "将", "为"}
CONJUNCTIONS = set("和及与")
MAX_NAME = 30


def proposal(text: str, start: int, end: int, label: str, rule: str, confidence: float,
             index: LabelIndex) -> ConceptProposal:
    inside = index.longest_inside(label)
    return ConceptProposal(None, label, True, Span(text[start:end], start, end), rule, confidence,
                           inside.id if inside else None)


def bare(label: str) -> str:
    return label.translate({ord(c): None for c in OPEN_QUOTES + CLOSE_QUOTES})


def name_start(text: str, head_start: int, floor: int) -> int:
    """Where a name ending at ``head_start`` begins: after a verb, a stop or a conjunction."""
    pos = head_start
    while pos > floor and head_start - pos < MAX_NAME:
        ch = text[pos - 1]
        if ch in CLOSE_QUOTES:  # a quoted name is read whole
            opened = max(text.rfind(q, floor, pos - 1) for q in OPEN_QUOTES)
            if opened < floor:
                break
            pos = opened
            continue
        if ch in CONJUNCTIONS and text[floor:pos - 1].endswith(HEADS):
            break  # A制度和B机制: two names
        if ch in STOPS:
            break
        if pos < head_start and any(text.startswith(v, pos - len(v)) and pos - len(v) >= floor for v in VERBS):
            break  # a verb right against the head word is part of the name (议题形成程序)
        pos -= 1
    return pos


def clean(label: str) -> str:
    label = label.replace("”的", "”").lstrip("的了")
    return label


def known_with_head(label: str, head: str, index: LabelIndex) -> bool:
    """代表述职机制 = 代表述职 + 机制; 家站工作体系 = 家站 + 工作 + 体系: the known mechanism itself."""
    stem = bare(label)[: -len(head)]
    return any(s in index.by_label for s in (stem, stem.removesuffix("工作"), stem.removesuffix("的")))


def new_mechanisms(text: str, clause: Span, index: LabelIndex) -> list[ConceptProposal]:
    found: list[ConceptProposal] = []
    covered: list[tuple[int, int]] = []
    quotes = quoted_regions(text, clause.start, clause.end)
    heads = "|".join(sorted(HEADS, key=len, reverse=True))
    for m in re.finditer(rf"(?:{heads})(?=[，,。；;：、)）\d和及与等的]|$)", text[clause.start:clause.end]):
        head_start, head_end = clause.start + m.start(), clause.start + m.end()
        head = m.group(0)
        not_a_head = head == "制" and text[head_end - 2:head_end] in NOT_HEAD_WORDS
        if not_a_head or any(a <= head_start < b for a, b in quotes):
            continue
        start = name_start(text, head_start, clause.start)
        label = clean(text[start:head_end])
        if len(bare(label)) - len(head) < 2 or index.ending(label) is not None \
                or known_with_head(label, head, index):
            continue
        found.append(proposal(text, start, head_end, label, "name-ending-in-" + head, 0.6, index))
        covered.append((start, head_end))
    # A quoted name inside a known label the clause writes (“街巷议事厅”工作机制, once published) is that
    # known mechanism, which ``spotting`` links.
    known = [(m.start(), m.end()) for m in index.pattern.finditer(text, clause.start, clause.end)] \
        if index.pattern is not None else []
    for a, b in quotes:
        inner = text[a + 1:b - 1]
        if any(x <= a and b <= y for x, y in covered + known) or not 2 <= len(inner) <= 30:
            continue
        after = text[b:clause.end].removeprefix("的")
        if after.startswith(NOT_NAMES) or bare(inner) in index.by_label:
            continue
        rest = after.removeprefix("等")
        named = next((h for h in ACTIVITY_HEADS + HEADS if rest.startswith(h)), None)
        before = text[max(clause.start, a - 4):a].removesuffix("了")
        if named:
            end = b + (len(after) - len(rest)) + (text[b:b + 1] == "的") + len(named)
            found.append(proposal(text, a, end, text[a:b] + named, "quoted-name+" + named, 0.6, index))
        elif "+" in inner:
            found.append(proposal(text, a, b, text[a:b], "formula-a+b", 0.6, index))
        elif before.endswith(QUOTE_VERBS) and len(inner) <= 12 and not re.search(r"[,，]", inner):
            found.append(proposal(text, a, b, text[a:b], "quoted-name-after-verb", 0.5, index))
    return found
