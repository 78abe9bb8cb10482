"""The lexical guard on user SPARQL: no SERVICE, no LOAD in updates, no deep nesting or long chains.

Every query and update a client sends is screened here, on the tokens of
:mod:`app.rdf.sparql_lexer` (never a pattern over the text), before any engine or remote store
sees it. Refusals are :class:`QueryRefused` (HTTP 400) naming the keyword and its line and column.
This is the first line; underneath it the processes that evaluate SPARQL cannot open sockets at
all (:mod:`app.store.sandbox`).
"""

from app.errors import BadRequest, QueryRefused
from app.rdf.sparql_lexer import (
    MAX_CHAIN,
    MAX_DEPTH,
    MAX_READINGS,
    QUERY_FORMS,
    UPDATE_KEYWORDS,
    Forbidden,
    Lexer,
    LexicalError,
    State,
    TooDeep,
    readings,
)

__all__ = ["MAX_CHAIN", "MAX_DEPTH", "line_col", "scan", "screen_query", "screen_update"]


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``; CR, LF and CRLF all end a line."""
    before = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def scan(text: str, words: tuple[str, ...], why: str) -> list[str]:
    """Tokenize ``text`` every way an engine may read it (see the module docstring); the first
    keyword after the prologue of each reading.

    Raises QueryRefused for a word of ``words`` (bare, or the prefix of a prefixed name), for
    nesting beyond MAX_DEPTH, chains beyond MAX_CHAIN or too many ambiguous readings, and
    BadRequest if no reading tokenizes."""
    firsts: list[str] = []
    first_error: LexicalError | None = None
    for reading, offsets in readings(text):
        lexer = Lexer(reading, offsets, words)
        pending: list[tuple[State, bool]] = [(State(0, (), False), False)]
        seen: set[State] = set()
        while pending:
            state, forced = pending.pop()
            if len(seen) >= MAX_READINGS:
                line, col = line_col(text, lexer.raw(state.pos))
                raise QueryRefused(f"Too many ambiguous '<' (at line {line}, column {col} and before): write a "
                                   "space after '<' where it compares values.")
            seen.add(state)
            lexer.forks = []
            try:
                firsts.append(lexer.run(state, forced))
            except LexicalError as exc:
                first_error = first_error or exc
            except Forbidden as exc:
                line, col = line_col(text, exc.start)
                raise QueryRefused(f"{exc.word} at line {line}, column {col} is not allowed: {why}") from None
            except TooDeep as exc:
                line, col = line_col(text, exc.start)
                if exc.chain:
                    raise QueryRefused(f"More than {MAX_CHAIN} chained operators (or UNION, OPTIONAL, MINUS; the "
                                       f"limit) at line {line}, column {col}; use IN or VALUES instead of long "
                                       "chains.") from None
                raise QueryRefused(f"Brackets nest more than {MAX_DEPTH} levels deep (the limit) at line {line}, "
                                   f"column {col}; flatten the query.") from None
            pending.extend((fork, True) for fork in lexer.forks if fork not in seen)
    if not firsts:
        assert first_error is not None
        line, col = line_col(text, first_error.start)
        raise BadRequest(f"SPARQL syntax error at line {line}, column {col}: {first_error}.")
    return firsts


_NO_NETWORK = "this service never contacts other services or fetches documents."


def screen_query(text: str) -> str:
    """The query form (SELECT, ASK, CONSTRUCT, DESCRIBE, or '' if unknown) of a text sent for
    reading; raises QueryRefused for SERVICE, for updates and for deep nesting."""
    form = ""
    for keyword in scan(text, ("SERVICE",), "federated query (SERVICE) is refused; " + _NO_NETWORK):
        if keyword in UPDATE_KEYWORDS:
            raise QueryRefused(
                f"SPARQL Update ({keyword}) is not accepted: /sparql is a read-only query endpoint. "
                "Send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only."
            )
        form = form or (keyword if keyword in QUERY_FORMS else "")
    return form


def screen_update(text: str) -> None:
    """Raises QueryRefused if a SPARQL Update holds LOAD or SERVICE, or nests too deeply."""
    scan(text, ("LOAD", "SERVICE"), "updates may not LOAD documents or use SERVICE; " + _NO_NETWORK)
