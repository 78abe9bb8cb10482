"""SPARQL 1.1 codepoint escapes (``\\u0053``, ``\\U00000053``, §19.2), applied before any other reading.

Engines disagree on ``\\\\u0053`` (an escaped backslash, or a backslash and an escape), so
:func:`readings` gives the text every way an engine reads it: escapes after an even number of
backslashes only (Oxigraph, Jena), escapes after any backslash (rdflib), and no escapes at all.
:mod:`app.rdf.sparql_lexer` tokenizes each; :class:`Offsets` maps a reading's offsets back to the
raw text for line and column.
"""

import bisect

HEX = set("0123456789abcdefABCDEF")


class Offsets:
    """Maps an offset in an unescaped reading back to the raw text (for line and column)."""

    def __init__(self) -> None:
        self.starts: list[int] = [0]  # reading offsets where the shift changes …
        self.shifts: list[int] = [0]  # … and raw - reading from there on

    def add(self, at: int, shift: int) -> None:
        self.starts.append(at)
        self.shifts.append(shift)

    @property
    def shifted(self) -> bool:
        """Whether any offset of the reading differs from the raw text's (an escape was applied)."""
        return len(self.starts) > 1

    def raw(self, pos: int) -> int:
        if len(self.starts) == 1:  # a reading without escapes
            return pos
        return pos + self.shifts[bisect.bisect_right(self.starts, pos) - 1]


def _unescape(text: str, *, after_any_backslash: bool) -> tuple[str, Offsets]:
    """``text`` with \\uXXXX / \\UXXXXXXXX applied, and the way back to raw offsets."""
    offsets = Offsets()
    if "\\" not in text:
        return text, offsets
    out: list[str] = []
    i, n, written = 0, len(text), 0
    while i < n:
        backslash = text.find("\\", i)
        if backslash < 0 or backslash + 1 >= n:
            out.append(text[i:])
            break
        out.append(text[i:backslash])
        written += backslash - i
        kind = text[backslash + 1]
        width = 4 if kind == "u" else 8 if kind == "U" else 0
        digits = text[backslash + 2:backslash + 2 + width]
        if width and len(digits) == width and set(digits) <= HEX and int(digits, 16) <= 0x10FFFF:
            out.append(chr(int(digits, 16)))
            written += 1
            i = backslash + 2 + width
            offsets.add(written, i - written)
        elif after_any_backslash:
            out.append("\\")
            written += 1
            i = backslash + 1
        else:  # an escaped character: the next one cannot start an escape
            out.append(text[backslash:backslash + 2])
            written += 2
            i = backslash + 2
    return "".join(out), offsets


def readings(text: str) -> list[tuple[str, Offsets]]:
    """The texts an engine may parse: escapes applied the two ways engines do, and not at all."""
    seen: dict[str, Offsets] = {}
    for reading, offsets in (_unescape(text, after_any_backslash=False), _unescape(text, after_any_backslash=True),
                             (text, Offsets())):
        seen.setdefault(reading, offsets)
    return list(seen.items())
