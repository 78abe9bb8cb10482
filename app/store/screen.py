"""The lexical screen of SPARQL text: what a read-only endpoint must never run, and the query form.

IRIs, strings and comments are blanked out first so that a keyword inside them
(``<http://ex/SERVICE>``, ``"INSERT"``, ``# LOAD``) is not mistaken for an operation. Used by
``/sparql`` before a query is handed to a worker or a remote store, by the write path (no LOAD or
SERVICE in updates) and by the remote backend (where to put a ``VALUES`` block).
"""

import re

from app.errors import QueryRefused

_BLANKS = re.compile(
    r"""(?P<iri><[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<comment>\#[^\n]*)""",
    re.DOTALL,
)
_PROLOGUE = re.compile(r"^\s*(?:(?:BASE\s*<>|PREFIX\s+[^\s:]*:\s*<>)\s*)*", re.IGNORECASE)
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:])", re.IGNORECASE)
UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
QUERY_FORMS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}


def _blank(match: re.Match[str]) -> str:
    if match.group("iri"):
        return "<>"
    if match.group("string"):
        return '""'
    return " "


def blank_out(query: str, *, keep_length: bool = False) -> str:
    """``query`` with IRIs, strings and comments blanked (same length if ``keep_length``)."""
    if keep_length:
        return _BLANKS.sub(lambda m: ("<" + " " * (len(m.group()) - 2) + ">") if m.group("iri")
                           else " " * len(m.group()), query)
    return _BLANKS.sub(_blank, query)


def screen(query: str) -> str:
    """The query form (SELECT, ASK, …) or '' if unknown; raises QueryRefused for what is never run."""
    stripped = blank_out(query)
    body = stripped[_PROLOGUE.match(stripped).end():]  # type: ignore[union-attr]
    first = re.match(r"\s*([A-Za-z]+)", body)
    keyword = first.group(1).upper() if first else ""
    if keyword in UPDATE_KEYWORDS:
        raise QueryRefused(
            f"SPARQL Update ({keyword}) is not accepted: /sparql is a read-only query endpoint. "
            "Send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only."
        )
    if _SERVICE.search(stripped):
        raise QueryRefused(
            "SERVICE (federated query) is not allowed on this endpoint: it never contacts other services."
        )
    return keyword if keyword in QUERY_FORMS else ""
