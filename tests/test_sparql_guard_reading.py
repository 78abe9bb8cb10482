"""The reading the guard passes on (app/rdf/sparql_guard.read_query) is screened once when the
screen already read it: a text with one reading (no \\u escape) and one way of reading each '<'.

The claim that makes this safe: the text passed on — the tokens at their offsets, every gap blanked,
line breaks kept — tokenizes exactly as the text did (same tokens, spans, depths and first keyword),
so screening it again could refuse nothing the first screen let through. Checked here on every query
the repository and the W3C suites hold, with comments and tabs put between their tokens, and on
random texts made of the characters where token ends are decided."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import BadRequest, QueryRefused
from app.rdf import sparql_lexer
from app.rdf.sparql_guard import _Read, read_query, scan
from tests.test_sparql_guard import NOT_SERVICE, SERVICE_SPELLINGS

ROOT = Path(__file__).resolve().parent.parent
W3C = ROOT.parent / "shared" / "w3c-sparql11"
WORDS = ("SERVICE",)


def _texts() -> list[str]:
    found = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").rglob("*.rq"))]
    if W3C.is_dir():
        for path in sorted(W3C.rglob("*.rq")):
            try:
                found.append(path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                continue
    return [*found, *SERVICE_SPELLINGS, *NOT_SERVICE]


def _variants(text: str) -> list[str]:
    """The text, with tabs for spaces, and with a comment before every line break (holding what
    would end a token differently if it were read: '<', quotes, a dot, digits, a keyword)."""
    return [text, text.replace(" ", "\t"), text.replace("\n", " #<x> 'y\" .5e+1 SERVICE {\n"),
            text.replace(" ", "#.\n")]


def _reading(text: str) -> tuple[_Read, list[str]] | None:
    read = _Read()
    try:
        firsts = scan(text, WORDS, "", read)
    except (QueryRefused, BadRequest):
        return None
    return read, firsts


def _tokens(read: _Read) -> list[tuple[str, str, int, int, int]]:
    return [(s.token.kind, s.token.text, s.start, s.end, s.depth) for s in read.tokens]


def _check(text: str) -> bool:
    """Whether the text was read once (the shortcut applies); if so, assert its reading passed on
    tokenizes as it did."""
    first = _reading(text)
    if first is None or not first[0].only_reading:
        return False
    read, firsts = first
    try:
        passed = read_query(text).text
    except (QueryRefused, BadRequest):
        return False  # refused after the scan (an update, a DEFINE): nothing is passed on
    again = _reading(passed)
    assert again is not None, f"the reading passed on is refused, the text was not: {text!r}"
    assert _tokens(again[0]) == _tokens(read), text
    assert again[1] == firsts, text
    return True


def test_the_reading_passed_on_tokenizes_as_the_text_on_every_query_held() -> None:
    checked = sum(_check(variant) for text in _texts() for variant in _variants(text))
    assert checked > 100  # the repository's queries alone give more; the shortcut is really taken


#: The characters where a token's end is decided (dots, colons, digits, exponents, '<', quotes,
#: comment marks, backslashes) and the blanks around them.
ALPHABET = st.sampled_from(list("a:._-?$@1e+<>'\"#\\{}() \t\r\n") + ["SELECT", "SERVICE", "FILTER(", "ex:"])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_the_reading_passed_on_tokenizes_as_the_text_on_random_texts(text: str) -> None:
    _check(text)


def _lexer_runs(monkeypatch: pytest.MonkeyPatch, text: str) -> int:
    runs = []
    run = sparql_lexer.Lexer.run

    def counted(self: sparql_lexer.Lexer, *args: object, **kwargs: object) -> str:
        runs.append(1)
        return run(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sparql_lexer.Lexer, "run", counted)
    read_query(text)
    return len(runs)


def test_a_commented_query_is_lexed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "queries" / "district_facts.rq").read_text(encoding="utf-8")
    assert read_query(text).text != text  # its comments are blanked in what is passed on
    assert _lexer_runs(monkeypatch, text) == 1  # it was lexed twice before


def test_a_query_with_escapes_is_still_screened_again(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _lexer_runs(monkeypatch, "\\u0053ELECT * { ?s ?p ?o } # c") > 1
    with pytest.raises(QueryRefused):
        read_query("SELECT * { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
