"""The review desk's drafts (``POST /api/drafts``, the /curate page): an article's text and its
source's id, title and issue -> the draft ``kg draft --format json`` prints (CONTRACT.md, "Sources
and drafts"), by the same code (app/draft/), over the same data files.

The request is read once, into :class:`DraftRequest`; its text is capped at
:data:`MAX_DRAFT_CHARS` characters (413 above, saying the cap and the size) before any drafting.
"""

import threading
from typing import Any

from pydantic import BaseModel, Field

from app.build.load import SourceFiles
from app.config import Settings
from app.draft.command import ISSUED, SOURCE_ID
from app.draft.drafter import draft_text
from app.draft.known import Known, read_known
from app.draft.model import SourceInfo
from app.draft.writer import to_json
from app.errors import PayloadTooLarge, RequestError

#: The longest article the desk drafts, in characters (the 2023-07 article is 7,208; an issue of the
#: magazine is some 60,000). Drafting is linear in the text; this bounds a request to about a second.
MAX_DRAFT_CHARS = 200_000


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
    text: str = Field(description=f"The article as plain text (at most {MAX_DRAFT_CHARS:,} characters); "
                                  "offsets count its characters (code points)")


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


def check_text(text: str) -> str:
    if len(text) > MAX_DRAFT_CHARS:
        raise PayloadTooLarge(f"text: {len(text):,} characters; the review desk drafts at most "
                              f"{MAX_DRAFT_CHARS:,} (split the issue into its articles)")
    if not text.strip():
        raise Unprocessable("text: the article is empty")
    return text


_KNOWN: dict[tuple[str, ...], Known] = {}
_KNOWN_LOCK = threading.Lock()


def known_for(settings: Settings) -> Known:
    """What ``kg draft`` knows (the data files), read once per set of files."""
    key = tuple(f"{p}:{p.stat().st_mtime_ns}" for p in SourceFiles.from_settings(settings).data)
    with _KNOWN_LOCK:
        if key not in _KNOWN:
            _KNOWN[key] = read_known(settings)
        return _KNOWN[key]


def draft_request(request: DraftRequest, settings: Settings) -> dict[str, Any]:
    """The draft of ``request`` as CONTRACT.md's JSON, plus ``text`` (what the offsets index) and each
    date's ``role`` (date, start or end of a period) and ``rule``, which publishing needs."""
    source = check_source(request.source)
    text = check_text(request.text)
    draft = draft_text(text, known_for(settings), source)
    out = to_json(draft)
    for district, drafted in zip(out["districts"], draft.districts, strict=True):
        for practice, p in zip(district["practices"], drafted.practices, strict=True):
            for date, d in zip(practice["dates"], p.dates, strict=True):
                date.update(role=d.role, rule=d.rule)
    return {**out, "text": text}
