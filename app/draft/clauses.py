"""Clauses: a district section cut at sentence punctuation, never inside a quoted name “…”."""

from app.draft.model import Span

#: Punctuation that ends a sentence or a clause the article reports one action in, and every line end
#: (LF, CR, and the others ``str.splitlines`` knows, so a paragraph never runs into the next).
SENTENCE_END = "。；;！!？?\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
OPEN_QUOTES, CLOSE_QUOTES = "“「『《", "”」』》"
#: What a quote never starts or ends with; a byte-order mark (U+FEFF) counts as space.
SPACE = " \t\u3000\r\n\ufeff"


def trimmed(text: str, start: int, end: int) -> Span | None:
    """The span without surrounding spaces, or None when nothing is left."""
    while start < end and text[start] in SPACE:
        start += 1
    while end > start and text[end - 1] in SPACE:
        end -= 1
    return Span(text[start:end], start, end) if end > start else None


def ends_sentence(text: str, i: int) -> bool:
    """``text[i]`` ends a sentence: 。；！？ (or their half-width forms ; ! ?), a line end, or a
    half-width full stop after a Chinese character or a closing mark (开展调研3次. — not 1.2, not “1.”)."""
    ch = text[i]
    if ch in SENTENCE_END:
        return True
    return ch == "." and i > 0 and ("\u4e00" <= text[i - 1] <= "\u9fff" or text[i - 1] in "%％）)”」』》") \
        and not (i + 1 < len(text) and text[i + 1].isdigit())


def split_clauses(text: str, start: int, end: int) -> list[Span]:
    """The clauses of ``text[start:end]``; the closing punctuation is left out of each quote.

    A full stop inside a quoted name (让行家里手“把脉问诊。”) does not end the clause there: the
    clause ends after the closing quote."""
    clauses: list[Span] = []
    depth, begin, i = 0, start, start
    while i < end:
        ch = text[i]
        if ch in OPEN_QUOTES:
            depth += 1
        elif ch in CLOSE_QUOTES:
            depth = max(0, depth - 1)
        elif ends_sentence(text, i) and depth == 0:
            span = trimmed(text, begin, i)
            if span:
                clauses.append(span)
            begin = i + 1
        elif ends_sentence(text, i) and depth > 0 and i + 1 < end and text[i + 1] in CLOSE_QUOTES:
            span = trimmed(text, begin, i + 2)
            if span:
                clauses.append(span)
            depth -= 1
            begin = i + 2
            i += 1
        i += 1
    span = trimmed(text, begin, end)
    if span:
        clauses.append(span)
    return clauses


def quoted_regions(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each quoted name “…” within the range, the quote marks included."""
    regions: list[tuple[int, int]] = []
    stack: list[int] = []
    for i in range(start, end):
        if text[i] in OPEN_QUOTES:
            stack.append(i)
        elif text[i] in CLOSE_QUOTES and stack:
            opened = stack.pop()
            if not stack:
                regions.append((opened, i + 1))
    return regions


def enclosing(regions: list[tuple[int, int]], pos: int) -> tuple[int, int] | None:
    return next(((a, b) for a, b in regions if a < pos < b - 1 or a <= pos < b), None)
