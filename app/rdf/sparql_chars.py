"""The character classes of the SPARQL 1.1 grammar (§19.8) that the tokenizer scans with.

Each class is written once, as a list of codepoint ranges, and used two ways: as a predicate on
one character (``pn_chars_base``, ``pn_chars``) and as a compiled character-class scanner that
finds where a run of such characters ends (``*_RUN.match(text, pos).end()``), so the tokenizer
does not call a Python function per character. A scanner only measures a run of one class; what
the run *is* (a keyword, a prefix, a variable) is still decided token by token in
:mod:`app.rdf.sparql_lexer`. tests/test_sparql_guard.py checks every codepoint against both forms.
"""

import re

#: PN_CHARS_BASE: ASCII letters and these ranges (the surrogates D800–DFFF are not in it).
PN_CHARS_BASE_RANGES: tuple[tuple[int, int], ...] = (
    (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x2FF), (0x370, 0x37D), (0x37F, 0x1FFF),
    (0x200C, 0x200D), (0x2070, 0x218F), (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFFD),
    (0x10000, 0xEFFFF),
)
#: PN_CHARS: PN_CHARS_BASE, '_', '-', digits, U+00B7 and these ranges.
PN_CHARS_EXTRA_RANGES: tuple[tuple[int, int], ...] = (
    (0x5F, 0x5F), (0x2D, 0x2D), (0x30, 0x39), (0xB7, 0xB7), (0x300, 0x36F), (0x203F, 0x2040),
)
#: Characters that end an IRIREF besides the controls and space (0x00–0x20).
IRI_EXCLUDED = '<>"{}|^`\\'


def _class(ranges: tuple[tuple[int, int], ...], extra: str = "", negate: bool = False) -> str:
    parts = "".join(re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
                    for low, high in ranges)
    return f"[{'^' if negate else ''}{parts}{re.escape(extra)}]"


_PN = PN_CHARS_BASE_RANGES + PN_CHARS_EXTRA_RANGES
_PN_CHARS_BASE_ONE = re.compile(_class(PN_CHARS_BASE_RANGES))
_PN_CHARS_ONE = re.compile(_class(_PN))


def pn_chars_base(c: str) -> bool:
    return _PN_CHARS_BASE_ONE.match(c) is not None


def pn_chars(c: str) -> bool:
    return _PN_CHARS_ONE.match(c) is not None


#: A run of PN_CHARS (the rest of a bare word).
PN_CHARS_RUN = re.compile(_class(_PN) + "*")
#: A run of PN_CHARS and '.' (a prefix, or a word that may turn out to be one).
PN_CHARS_DOT_RUN = re.compile(_class(_PN, ".") + "*")
#: A run of PN_CHARS and ':' (the plain part of a local name; % and \\ escapes are read apart).
PN_CHARS_COLON_RUN = re.compile(_class(_PN, ":") + "*")
#: A run of PN_CHARS other than '-' (a variable's name, VARNAME).
VARNAME_RUN = re.compile(_class(tuple(r for r in _PN if r != (0x2D, 0x2D))) + "*")
#: A run of characters an IRIREF may hold.
IRI_RUN = re.compile(_class(((0x00, 0x20),), IRI_EXCLUDED, negate=True) + "*")
#: A run of characters up to the end of a comment (LF or CR).
COMMENT_RUN = re.compile(r"[^\n\r]*")
#: Blanks between tokens.
BLANK_RUN = re.compile(r"[ \t\r\n]*")
