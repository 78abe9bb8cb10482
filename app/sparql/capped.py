"""Writing SELECT results straight to bytes with the engine's own writers, under a row cap.

The engine serialises a whole answer in one call, without a row limit; :class:`CappedWriter` is
the file it writes to. It keeps the bytes and counts rows as they stream past, from marks that
each row leaves in the chosen format (exactly for XML and TSV; at least as many for JSON and CSV,
whose literals may contain the marks). Past the cap it stops the engine by raising
:class:`OverCap`, so that a huge answer is never held whole: the caller then takes the slow,
exact path that truncates. Below the cap the bytes are the answer, with no Python work per row.
"""

from dataclasses import dataclass


class OverCap(Exception):
    """Raised from ``write`` when the answer may have more rows than the cap."""


@dataclass(frozen=True)
class RowMarks:
    """How to bound the rows of a serialised answer: ``count(plus) - count(minus) - fixed``."""

    plus: bytes
    minus: bytes = b""
    fixed: int = 0


#: Per results format. JSON: every row, term and the three objects of the frame open with ``{``;
#: every term (and only a term: quotes in strings are escaped) has ``"type":"``.
MARKS = {
    "json": RowMarks(b"{", b'"type":"', 3),
    "xml": RowMarks(b"<result>"),
    "csv": RowMarks(b"\r\n", fixed=1),
    "tsv": RowMarks(b"\n", fixed=1),
}


class CappedWriter:
    """A binary file for ``QuerySolutions.serialize``: collects the bytes, stops past ``cap`` rows."""

    def __init__(self, format_name: str, cap: int) -> None:
        self.marks = MARKS[format_name]
        self.cap = cap
        self.chunks: list[bytes] = []
        self._plus = self._minus = 0
        self._tail = b""  # the end of the previous chunk: a mark may straddle two chunks

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self._plus += _count(self._tail, chunk, self.marks.plus)
        if self.marks.minus:
            self._minus += _count(self._tail, chunk, self.marks.minus)
        self._tail = chunk[-16:]
        if self.rows_at_most > self.cap:
            raise OverCap
        return len(chunk)

    def flush(self) -> None:
        """Nothing is buffered here."""

    @property
    def rows_at_most(self) -> int:
        return self._plus - self._minus - self.marks.fixed

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


def _count(tail: bytes, chunk: bytes, mark: bytes) -> int:
    """Occurrences of ``mark`` that end in ``chunk`` (those that start in ``tail`` included)."""
    if len(mark) == 1:
        return chunk.count(mark)
    return (tail[-(len(mark) - 1):] + chunk).count(mark)
