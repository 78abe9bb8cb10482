"""New supervision topics proposed from the article's own naming.

What a report, an inspection, a piece of research, an inquiry or a motion is about: 听取和审议…报告
(after 关于 when the report says so), …条例执法检查, 围绕…开展调研/监督/视察, …专题询问, 督办“…”议案,
作出《关于…的决议》; and the items of a list closed by 等…监督议题/监督事项/重点任务. Each item
of a list (、, 以及) is one topic; a verb or preposition leading an item (加强, 推进, 聚焦 …) is left
out. An item that writes a known topic's label is that topic, which ``spotting`` links.
"""

import re

from app.draft.model import ConceptProposal, Span
from app.draft.naming import proposal
from app.draft.spotting import LabelIndex

RULES = (
    ("heard-and-deliberated-report", re.compile(r"听取和审议(?P<x>[^，,。；;]{2,30}?)(?:的)?(?:专项工作|工作)?报告")),
    ("law-enforcement-inspection-of", re.compile(r"(?P<x>(?:(?!以及)[^，,。；;、]){2,20}?(?:条例|法|规定|办法))"
                                                 r"(?:等)?执法检查")),
    ("topic-around", re.compile(r"围绕(?P<x>[^，,。；;、“”]{2,20}?)(?:等)?(?:监督)?议题")),
    ("research-around", re.compile(r"(?:围绕|聚焦)(?P<x>[^，,。；;]{2,40}?)(?:等)?(?:开展|组织开展|进行)(?:了)?"
                                   r"(?:专题|专项)?(?:调研|监督|视察|问政|检查)")),
    ("special-inquiry-on", re.compile(r"(?:就|对|在|围绕)(?P<x>[^，,。；;]{2,30}?)(?:\d+项)?专题询问")),
    ("motion-on", re.compile(r"(?:督办|围绕|办理)“?(?P<x>[^，,。；;、“”]{2,30}?)”?(?:的)?议案")),
    ("resolution-on", re.compile(r"作出[《“]关于(?P<x>[^》”]{2,60}?)的(?:决议|决定)[》”]")),
)
#: A list closed by 等…监督议题 (…事项, …任务, 中心工作), or by 等 / a comma before 开展专题调研: its
#: items, back to the clause or to a comma that does not close a list itself.
LIST_END = re.compile(r"等[^，,。；;]{0,12}?(?:监督议题|监督事项|重点任务|重点工作|中心工作|议题)"
                      r"|(?:等[，,]?|[，,])(?:积极)?(?:组织)?(?:开展|进行)(?:了)?(?:专题)?调研")
LEAD = re.compile("^(?:" + "|".join("""
    在 就 对 将 并 围绕 聚焦 相关 关于 有关 重点 今年 持续 积极 系统 依法 统筹安排 安排 加强 推进 推动 实施 创建
    落实 确定 开展 监督 建立健全 建立 深化 提升 强化 做好""".split()) + ")+")
TAIL = re.compile(r"(?:完成情况|落实情况|实施情况|情况|执法检查|立法|工作|议题|方面|等|的)+$")
ITEM_BREAK = re.compile(r"以及|[、，,]")
#: The last of these in an item ends what leads it (每年都依法安排计划预算监督 -> 计划预算监督).
LAST_LEAD = re.compile(r".*(?:安排|聚焦|围绕|推进|推动|注重将|将|对|就)")


def list_items(text: str, clause: Span) -> list[tuple[int, int, str]]:
    found = []
    piece = text[clause.start:clause.end]
    for m in LIST_END.finditer(piece):
        begin = max(piece.rfind(c, 0, m.start()) for c in "，,") + 1
        while begin > 1 and "、" in piece[max(piece.rfind(c, 0, begin - 1) for c in "，,") + 1:begin - 1]:
            begin = max(piece.rfind(c, 0, begin - 1) for c in "，,") + 1  # the list goes on before a comma
        found.append((clause.start + begin, clause.start + m.start(), "listed-supervision-topics"))
    return found


def new_topics(text: str, clause: Span, index: LabelIndex, mechanisms: LabelIndex | None = None
               ) -> list[ConceptProposal]:
    """``mechanisms``: an item that writes a known mechanism's label (计划预算监督, 建议办理) is a way of
    supervising, not a topic."""
    spans = list_items(text, clause)
    for rule, pattern in RULES:
        spans += [(m.start("x"), m.end("x"), rule) for m in pattern.finditer(text, clause.start, clause.end)]
    found: list[ConceptProposal] = []
    for start, end, rule in spans:
        pos = start
        for written in ITEM_BREAK.split(text[start:end]):
            item_start, pos = pos, pos + len(written)
            pos += len(m.group(0)) if (m := ITEM_BREAK.match(text, pos, end)) else 0
            about = written.rsplit("关于", 1)[-1]  # 区政府关于…的报告: what the report is about
            led = LAST_LEAD.match(about) if rule == "listed-supervision-topics" else None
            if led and len(about) - led.end() >= 3:
                about = about[led.end():]
            label = TAIL.sub("", LEAD.sub("", about))
            if len(label) < 3 or index.overlapping(label) is not None:
                continue  # a known topic: spotting links it where the text writes its label
            if mechanisms is not None and mechanisms.longest_inside(label) is not None:
                continue
            s = item_start + written.rindex(label)
            found.append(proposal(text, s, s + len(label), label, "topic-" + rule, 0.5, index))
    return found
