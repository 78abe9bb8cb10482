"""The screen of SPARQL text: what a read-only endpoint must never run, and the query form.

:func:`screen` is the tokenizer guard (:mod:`app.rdf.sparql_guard`): SERVICE, updates, deep
nesting and long chains are refused on tokens, never by a pattern over the text. :func:`blank_out`
only serves the service's own named queries (where the remote backend puts a ``VALUES`` block);
it is no safety check.
"""

import re

from app.rdf.sparql_guard import screen_query

_BLANKS = re.compile(
    r"""(?P<iri><[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<comment>\#[^\n]*)""",
    re.DOTALL,
)


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
    return screen_query(query)
