"""The review desk's drafts (``POST /api/drafts``, the /curate page): an article's text and its
source's id, title and issue -> the draft ``kg draft --format json`` prints (CONTRACT.md, "Sources
and drafts"), by the same code (app/draft/), knowing what the graph served now knows.

What is known (districts, mechanisms, topics and who uses them) is read from the request's graph:
its asserted data graph and every source graph a publish wrote (:func:`known_for`), once per graph
version (``graph.memo``), so a mechanism published for one source is known when the next is drafted.

The request is read once, into :class:`DraftRequest`. Its text is published as one literal (the
source's ``schema:text``), which the write path refuses above ``KG_MAX_LITERAL_BYTES``; so the desk
takes at most that many UTF-8 bytes (:func:`max_text_bytes`), checked before any drafting (413
naming the setting, the text's size and the limit), and the publish checks the same.
"""

from typing import Any

import pyoxigraph as ox
from pydantic import BaseModel, Field

from app.build.graph import KnowledgeGraph
from app.config import Settings
from app.draft.command import ISSUED, SOURCE_ID
from app.draft.drafter import draft_text
from app.draft.known import Known, known_of
from app.draft.model import SourceInfo
from app.draft.writer import to_json
from app.errors import PayloadTooLarge, RequestError
from app.writes.terms import literal_problem


def max_text_bytes(settings: Settings) -> int:
    """The longest text the desk drafts and publishes, in UTF-8 bytes: the longest literal a write may
    put in (``KG_MAX_LITERAL_BYTES``; 64 KiB, some 21,000 Chinese characters, by default), since the
    text is published as one. The 2023-07 article is 21,000 bytes. Drafting is linear in the text."""
    return settings.max_literal_bytes


class Unprocessable(RequestError):
    """A request that is well-formed JSON but cannot be used: 422, saying which field and why."""

    status_code = 422


class SourceMeta(BaseModel):
    id: str = Field(description="The new source's id: a slug of a-z, 0-9 and - (e.g. bjrd-2021-01)",
                    examples=["bjrd-2021-01"])
    title: str = Field(description="The article's title", examples=["各区人大常委会2020年工作亮点扫描"])
    issued: str = Field(description="The issue's year and month, YYYY-MM; 今年 is read as its year",
                        examples=["2021-01"])


class DraftRequest(BaseModel):
    source: SourceMeta
    text: str = Field(description="The article as plain text, at most KG_MAX_LITERAL_BYTES bytes as UTF-8 "
                                  "(64 KiB by default; 413 above): it is published as one literal. Offsets count "
                                  "its characters (code points), nothing translated (a CR LF is two)")


def check_source(source: SourceMeta) -> SourceInfo:
    """The source's id, title and issue as the drafter takes them; 422 naming the field otherwise."""
    if not SOURCE_ID.fullmatch(source.id):
        raise Unprocessable(f"source.id {source.id!r}: use a slug of a-z, 0-9 and - (e.g. bjrd-2021-01), "
                            "at most 80 characters")
    if source.id == "article":
        raise Unprocessable("source.id 'article' is the 2023-07 article's own id; choose another")
    if not ISSUED.fullmatch(source.issued):
        raise Unprocessable(f"source.issued {source.issued!r}: expected YYYY-MM, e.g. 2021-01")
    title = source.title.strip()
    if not title or len(title) > 500:
        raise Unprocessable("source.title: give the article's title (1 to 500 characters)")
    return SourceInfo(source.id, title, source.issued)


def check_text(text: str, limit: int) -> str:
    """The text, if the publish can write it (413 saying its size and ``limit``, in bytes; 422 for a
    character no literal may hold) and not empty."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise PayloadTooLarge(f"text: {size:,} bytes as UTF-8 ({len(text):,} characters); a source's text is "
                              f"published as one literal, and KG_MAX_LITERAL_BYTES allows at most {limit:,} bytes "
                              "(split the issue into its articles)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Unprocessable(f"text: character {exc.start} is a lone surrogate (U+{ord(text[exc.start]):04X}), "
                            "which no text holds; send the article as UTF-8") from None
    problem = literal_problem(ox.Literal(text))  # what the write path asks of the literal it will write
    if problem:
        raise Unprocessable(f"text: {problem}; the text is published as one literal")
    if not text.strip():
        raise Unprocessable("text: the article is empty")
    return text


def known_for(graph: KnowledgeGraph) -> Known:
    """What ``graph`` knows: its asserted graphs, every published source's included; once per version."""
    return graph.memo.get(("draft", "known"), lambda: known_of(graph.loaded))


def draft_request(request: DraftRequest, graph: KnowledgeGraph) -> dict[str, Any]:
    """The draft of ``request`` as CONTRACT.md's JSON, plus ``text`` (what the offsets index) and each
    date's ``role`` (date, start or end of a period) and ``rule``, which publishing needs."""
    text = check_text(request.text, max_text_bytes(graph.settings))
    source = check_source(request.source)
    draft = draft_text(text, known_for(graph), source)
    out = to_json(draft)
    for district, drafted in zip(out["districts"], draft.districts, strict=True):
        for practice, p in zip(district["practices"], drafted.practices, strict=True):
            for date, d in zip(practice["dates"], p.dates, strict=True):
                date.update(role=d.role, rule=d.rule)
    return {**out, "text": text}
