"""New mechanisms and topics proposed from the article's own naming.

Mechanisms: a name ending in a head word (…机制, …制度, …工作法, …模式, …品牌, …平台, …体系,
…格局), read back to the verb or punctuation before it; a quoted name “…” after a verb of setting
up or keeping (建立“网上家站”, 坚持“每月一题”) or before 活动/行动/设施; an “A+B” formula. A
name that ends in a known label is that known mechanism (``spotting`` links it); a known label
inside a new name is suggested as its broader concept.

Topics: 听取和审议…报告, 开展…执法检查 / …条例执法检查, 围绕…开展调研, …专题询问, and the list
before 等…监督议题, each item of a list (、) one topic.
"""

import re

from app.draft.clauses import CLOSE_QUOTES, OPEN_QUOTES, quoted_regions
from app.draft.model import ConceptProposal, Span
from app.draft.spotting import LabelIndex

HEADS = ("工作机制", "机制", "工作制度", "制度", "工作法", "模式", "品牌", "平台", "体系", "格局")
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
        if ch in STOPS or any(text.startswith(v, pos - len(v)) and pos - len(v) >= floor for v in VERBS):
            break
        pos -= 1
    return pos


def clean(label: str) -> str:
    label = label.replace("”的", "”").lstrip("的了")
    return label


def new_mechanisms(text: str, clause: Span, index: LabelIndex) -> list[ConceptProposal]:
    found: list[ConceptProposal] = []
    covered: list[tuple[int, int]] = []
    heads = "|".join(sorted(HEADS, key=len, reverse=True))
    for m in re.finditer(rf"(?:{heads})(?=$|[，,。；;：、)）\d和及与等的]|$)", text[clause.start:clause.end]):
        head_start, head_end = clause.start + m.start(), clause.start + m.end()
        if any(a <= head_start < b for a, b in quoted_regions(text, clause.start, clause.end)):
            continue
        start = name_start(text, head_start, clause.start)
        label = clean(text[start:head_end])
        if len(bare(label)) - len(m.group(0)) < 2 or index.ending(label) is not None:
            continue
        found.append(proposal(text, start, head_end, label, "name-ending-in-" + m.group(0), 0.6, index))
        covered.append((start, head_end))
    for a, b in quoted_regions(text, clause.start, clause.end):
        inner = text[a + 1:b - 1]
        if any(x <= a and b <= y for x, y in covered) or not 2 <= len(inner) <= 24:
            continue
        after = text[b:clause.end]
        if after.lstrip("的").startswith(NOT_NAMES) or index.ending(inner) is not None:
            continue
        activity = next((h for h in ACTIVITY_HEADS if after.lstrip("等").startswith(h)), None)
        before = text[max(clause.start, a - 4):a].removesuffix("了")
        if activity:
            end = b + after.index(activity) + len(activity)
            found.append(proposal(text, a, end, text[a:b] + activity, "quoted-name+" + activity, 0.6, index))
        elif "+" in inner:
            found.append(proposal(text, a, b, text[a:b], "formula-a+b", 0.6, index))
        elif before.endswith(QUOTE_VERBS) and len(inner) <= 12 and not re.search(r"[,，]", inner):
            found.append(proposal(text, a, b, text[a:b], "quoted-name-after-verb", 0.5, index))
    return found


TOPIC_RULES = (
    ("heard-and-deliberated-report", re.compile(r"听取和审议(?P<x>[^，,。；;]{2,30}?)(?:的)?(?:专项工作|工作)?报告")),
    ("law-enforcement-inspection-of", re.compile(r"(?:开展|对|就|围绕)?(?P<x>[^，,。；;、]{2,20}?(?:条例|法|规定|办法))"
                                                 r"(?:等)?执法检查")),
    ("research-around", re.compile(r"(?:围绕|聚焦)(?P<x>[^，,。；;]{2,40}?)(?:等)?(?:开展|组织开展|进行)(?:了)?"
                                   r"(?:专题|专项)?(?:调研|监督|视察)")),
    ("special-inquiry-on", re.compile(r"(?:就|对|在|围绕)(?P<x>[^，,。；;]{2,30}?)(?:\d+项)?专题询问")),
    ("listed-supervision-topics", re.compile(r"(?:聚焦|围绕|对|就|将)(?P<x>[^。；;]{2,80}?)等(?:安排|作为)?"
                                             r"(?:重点)?监督议题")),
)
TOPIC_TRIM = re.compile(r"^(?:区|市|在|就|对|围绕|聚焦|相关|关于|有关|重点|今年|持续|积极)+"
                        r"|(?:完成情况|情况|工作|议题|方面|等|的)+$")


def new_topics(text: str, clause: Span, index: LabelIndex) -> list[ConceptProposal]:
    found: list[ConceptProposal] = []
    piece = text[clause.start:clause.end]
    for rule, pattern in TOPIC_RULES:
        for m in pattern.finditer(piece):
            x_start = clause.start + m.start("x")
            for item in re.finditer(r"[^、，,]+", m.group("x")):
                raw = item.group(0).rsplit("关于", 1)[-1]  # 区政府关于…的报告: what the report is about
                trimmed = TOPIC_TRIM.sub("", raw)
                if len(trimmed) < 3 or index.longest_inside(trimmed) is not None:
                    continue  # a known topic is linked by spotting
                s = x_start + item.start() + item.group(0).rindex(trimmed)
                found.append(proposal(text, s, s + len(trimmed), trimmed, "topic-" + rule, 0.5, index))
    return found
