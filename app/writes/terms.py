"""The terms a write may put into the graph: every literal well-formed for its datatype, every
language tag well-formed (BCP 47), no RDF 1.2 directional literal, no triple term, no literal
over ``KG_MAX_LITERAL_BYTES``.

Everything downstream reads these terms (the /api catalog's ``int()`` of an ``xsd:integer``, the
JSON-LD and RDF/XML dumps, the rdflib view, the search index): a term none of them can read is
refused before anything is written, on every predicate, not only the ones the shapes constrain.

The lexical spaces are those of XML Schema 1.1 Part 2 (§3.3, the regular expressions given there,
plus the day-of-month and range constraints a regular expression cannot say); a datatype not listed
(one of the writer's own) is not checked. A language tag is checked by the engine's own BCP 47
parser (what the N-Triples, Turtle and SPARQL parsers apply; the JSON-LD parser drops a value with
a bad tag instead, which app.writes.isolate turns into a refusal).
"""

import calendar
import re
import sys
from collections.abc import Iterable

import pyoxigraph as ox

from app.errors import PayloadTooLarge, RequestError

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


class IllFormedTerm(RequestError):
    """A written triple carries a term nothing downstream can read (422, naming the triple)."""

    status_code = 422


class LiteralTooLarge(PayloadTooLarge):
    """A written literal is longer than ``KG_MAX_LITERAL_BYTES`` (413, naming the triple)."""


_TZ = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_YEAR = r"-?([1-9][0-9]{3,}|0[0-9]{3})"
_MONTH, _DAY = r"(0[1-9]|1[0-2])", r"(0[1-9]|[12][0-9]|3[01])"
_TIME = r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)"
_DT = r"(([0-9]+H)([0-9]+M)?([0-9]+(\.[0-9]+)?S)?|([0-9]+M)([0-9]+(\.[0-9]+)?S)?|([0-9]+(\.[0-9]+)?S))"
_DAYTIME = rf"(([0-9]+D)(T{_DT})?|T{_DT})"
_YEARMONTH = r"(([0-9]+Y)([0-9]+M)?|([0-9]+M))"
_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_B64 = r"[A-Za-z0-9+/] ?"
_NAME = r"[A-Za-z_:][A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]*"

#: Datatype local name -> the regular expression of its lexical space (XSD 1.1 Part 2).
LEXICAL: dict[str, str] = {
    "boolean": r"true|false|1|0",
    "decimal": _DECIMAL,
    "float": rf"{_DECIMAL}([Ee][+-]?[0-9]+)?|[+-]?INF|NaN",
    "double": rf"{_DECIMAL}([Ee][+-]?[0-9]+)?|[+-]?INF|NaN",
    "integer": r"[+-]?[0-9]+",
    "dateTime": rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_TZ}",
    "dateTimeStamp": rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))",
    "date": rf"{_YEAR}-{_MONTH}-{_DAY}{_TZ}",
    "time": rf"{_TIME}{_TZ}",
    "gYear": rf"{_YEAR}{_TZ}",
    "gYearMonth": rf"{_YEAR}-{_MONTH}{_TZ}",
    "gMonth": rf"--{_MONTH}{_TZ}",
    "gMonthDay": rf"--{_MONTH}-{_DAY}{_TZ}",
    "gDay": rf"---{_DAY}{_TZ}",
    "duration": rf"-?P(?!$)({_YEARMONTH}?([0-9]+D)?(T{_DT})?)",
    "dayTimeDuration": rf"-?P{_DAYTIME}",
    "yearMonthDuration": rf"-?P{_YEARMONTH}",
    "hexBinary": r"([0-9a-fA-F]{2})*",
    "base64Binary": rf"(({_B64}){{4}})*((({_B64}){{3}}[A-Za-z0-9+/]|({_B64}){{2}}[AEIMQUYcgkosw048] ?=|"
                    rf"{_B64}[AQgw] ?= ?=))?",
    "language": r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*",
    "Name": _NAME,
    "NCName": r"[A-Za-z_][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*",
    "NMTOKEN": r"[A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]+",
}
_INTEGERS: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None), "nonPositiveInteger": (None, 0), "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1), "int": (-(2**31), 2**31 - 1), "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127), "nonNegativeInteger": (0, None), "positiveInteger": (1, None),
    "unsignedLong": (0, 2**64 - 1), "unsignedInt": (0, 2**32 - 1), "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
_COMPILED = {name: re.compile(pattern) for name, pattern in LEXICAL.items()}
#: Characters XML 1.0 cannot carry (RDF/XML and every XML answer): C0 controls but tab, LF and CR;
#: lone surrogates; U+FFFE and U+FFFF. No literal may hold them, whatever its datatype.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DATE = re.compile(r"-?([0-9]{4,})-([0-9]{2})-([0-9]{2})")


def _day_fits(value: str) -> bool:
    """Whether the day of a date or dateTime (or --MM-DD) exists in its month (29 February: leap years)."""
    if value.startswith("--"):
        month, day = int(value[2:4]), int(value[5:7])
        return day <= (29 if month == 2 else calendar.monthrange(2001, month)[1])
    match = _DATE.match(value)
    if match is None:
        return True
    year, month, day = (int(g) for g in match.groups())
    year = -year if value.startswith("-") else year
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)  # proleptic Gregorian, year 0 is leap
    return day <= (29 if month == 2 and leap else calendar.monthrange(2001, month)[1])


def _in_range(local: str, value: str) -> bool:
    low, high = _INTEGERS[local]
    if low is None and high is None:
        return True
    sign, digits = ("-" if value.startswith("-") else ""), value.lstrip("+-").lstrip("0") or "0"
    n = int(sign + digits)  # at most 20 digits here (checked first)
    return (low is None or n >= low) and (high is None or n <= high)


def literal_problem(literal: ox.Literal) -> str:
    """Why ``literal`` may not be written ('' when it may)."""
    if getattr(literal, "direction", None) is not None:
        return ("it is a directional literal (RDF 1.2 @direction), which the dumps, JSON-LD and pages cannot "
                "carry; write it without a direction")
    value, datatype = literal.value, literal.datatype.value
    bad = _NOT_XML.search(value)
    if bad:
        return f"it holds the character U+{ord(bad.group()):04X}, which no XML answer (RDF/XML) can carry"
    if literal.language is not None:
        try:
            ox.Literal("", language=literal.language)
        except (ValueError, SyntaxError) as exc:
            return f"its language tag {literal.language!r} is not a well-formed BCP 47 tag ({exc})"
        return ""
    if datatype == RDF + "langString":
        return "an rdf:langString needs a language tag"
    if not datatype.startswith(XSD):
        return ""
    local = datatype[len(XSD):]
    if local in _INTEGERS:
        digits = len(value.lstrip("+-"))  # leading zeros count too, for what reads it
        if digits > sys.get_int_max_str_digits():
            return (f"an xsd:{local} of {digits:,} digits is more than what reads it (Python's int, "
                    f"{sys.get_int_max_str_digits():,} digits) can read")
        bounded = _INTEGERS[local] != (None, None)
        significant = len(value.lstrip("+-").lstrip("0"))
        if not _COMPILED["integer"].fullmatch(value) or (bounded and significant > 20) or not _in_range(local, value):
            return f"{value[:40]!r} is not in the lexical space of xsd:{local}"
        return ""
    pattern = _COMPILED.get(local)
    if pattern is None:
        if local in ("normalizedString", "token") and re.search("[\r\n\t]", value):
            return f"an xsd:{local} holds no tab, CR or LF"
        if local == "token" and (value != value.strip(" ") or "  " in value):
            return "an xsd:token has no leading, trailing or double spaces"
        return ""
    if not pattern.fullmatch(value):
        return f"{value[:40]!r} is not in the lexical space of xsd:{local}"
    if local in ("date", "dateTime", "dateTimeStamp", "gMonthDay") and not _day_fits(value):
        return f"{value[:40]!r} names a day its month does not have"
    return ""


def term_problem(term: object, max_literal_bytes: int) -> tuple[str, bool]:
    """(why ``term`` may not be written, whether it is its size) — ('', False) when it may."""
    if isinstance(term, ox.Triple):
        return "it is a triple term (RDF-star), which writes do not accept", False
    if isinstance(term, ox.Literal):
        size = len(term.value.encode("utf-8"))
        if size > max_literal_bytes:
            return (f"the literal is {size:,} bytes long, over the limit of {max_literal_bytes:,} "
                    "(KG_MAX_LITERAL_BYTES)"), True
        return literal_problem(term), False
    return "", False


def shown(triple: ox.Triple, limit: int = 300) -> str:
    """The triple as N-Triples, its long terms cut short (for a message)."""
    def cut(term: object) -> str:
        text = str(term)
        return text if len(text) <= 120 else text[:100] + "…" + text[-15:]

    text = f"{cut(triple.subject)} {cut(triple.predicate)} {cut(triple.object)} ."
    return text if len(text) <= limit else text[:limit] + "…"


def check_triples(triples: Iterable[ox.Triple], max_literal_bytes: int, graph: str | None = None) -> None:
    """Raise IllFormedTerm (422) or LiteralTooLarge (413) for the first triple of ``triples`` with a
    term that may not be written, naming the triple (and ``graph``, the graph it goes to)."""
    for triple in triples:
        for term in (triple.subject, triple.object):
            problem, size = term_problem(term, max_literal_bytes)
            if problem:
                where = f" in the graph <{graph}>" if graph else ""
                message = f"Cannot write {shown(triple)}{where}: {problem}. Nothing was written."
                raise LiteralTooLarge(message) if size else IllFormedTerm(message)
