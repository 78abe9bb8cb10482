"""The lexical guard on user SPARQL: no SERVICE, no LOAD in updates, no deep nesting or long chains.

Every query and update a client sends is screened here, on the tokens of
:mod:`app.rdf.sparql_lexer` (never a pattern over the text), before any engine or remote store
sees it. Refusals are :class:`QueryRefused` (HTTP 400) naming the keyword and its line and column.
This is the first line; underneath it the processes that evaluate SPARQL cannot open sockets at
all (:mod:`app.store.sandbox`).
"""

import re
from dataclasses import dataclass, field

from app.errors import BadRequest, QueryRefused
from app.rdf.sparql_escapes import readings
from app.rdf.sparql_lexer import (
    MAX_CHAIN,
    MAX_DEPTH,
    MAX_READINGS,
    QUERY_FORMS,
    UPDATE_KEYWORDS,
    Forbidden,
    Lexer,
    LexicalError,
    Spanned,
    State,
    TooDeep,
)

__all__ = ["MAX_CHAIN", "MAX_DEPTH", "ReadQuery", "line_col", "read_query", "scan", "screen_query", "screen_update",
           "with_using"]


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``; CR, LF and CRLF all end a line."""
    before = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def scan(text: str, words: tuple[str, ...], why: str, read: "_Read | None" = None) -> list[str]:
    """Tokenize ``text`` every way an engine may read it (see the module docstring); the first
    keyword after the prologue of each reading. ``read``: a list that gets the tokens of the
    first reading that tokenizes (escapes applied as Oxigraph does), with their spans.

    Raises QueryRefused for a word of ``words`` (bare, or the prefix of a prefixed name), for
    nesting beyond MAX_DEPTH, chains beyond MAX_CHAIN or too many ambiguous readings, and
    BadRequest if no reading tokenizes."""
    firsts: list[str] = []
    first_error: LexicalError | None = None
    texts = readings(text)
    runs, forked = 0, False
    for index, (reading, offsets) in enumerate(texts):
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
            runs += 1
            lexer.forks = []
            spans: list[Spanned] | None = None
            if read is not None and not read.done and index == 0:
                spans = list(lexer.fork_spans.get(state, []))
            try:
                firsts.append(lexer.run(state, forced, spans))
                if read is not None and spans is not None:
                    read.text, read.tokens, read.done = reading, spans, True
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
            forked = forked or bool(lexer.forks)
            pending.extend((fork, True) for fork in lexer.forks if fork not in seen)
    if read is not None:
        read.only_reading = len(texts) == 1 and runs == 1 and not forked
    if not firsts:
        assert first_error is not None
        line, col = line_col(text, first_error.start)
        raise BadRequest(f"SPARQL syntax error at line {line}, column {col}: {first_error}.")
    return firsts


@dataclass
class _Read:
    text: str = ""
    tokens: list[Spanned] = field(default_factory=list)
    done: bool = False  # a run of the first reading tokenized (its tokens may be none: only comments)
    #: The text had one reading (no \\u escape to apply) and one way of reading each '<': the lexer ran once.
    only_reading: bool = False


_NO_NETWORK = "this service never contacts other services or fetches documents."


@dataclass(frozen=True)
class ReadQuery:
    """A query as the guard read it: its form, and the one reading the service passes on.

    ``text`` is the tokens of that reading (escapes applied as Oxigraph applies them, the first
    way of reading an ambiguous ``<`` that tokenizes) joined as they stood, with the blanks and
    comments between two tokens as spaces, line breaks kept (so a position the engine reports is
    the client's): what every store runs and a remote store is sent, so that nothing hides in a
    comment or a spelling the guard read otherwise (it is screened again).
    ``prologue`` is its BASE and PREFIX declarations; ``from_default`` and ``from_named`` the IRIs
    or prefixed names of its FROM and FROM NAMED clauses, as written (resolved against the
    prologue by :func:`app.sparql.dataset.resolve`)."""

    form: str
    text: str
    prologue: str
    from_default: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()

    @property
    def names_dataset(self) -> bool:
        return bool(self.from_default or self.from_named)


def screen_query(text: str) -> str:
    """The query form (SELECT, ASK, CONSTRUCT, DESCRIBE, or '' if unknown) of a text sent for
    reading; raises QueryRefused for SERVICE, for updates and for deep nesting."""
    return _screen(text, None)


def _screen(text: str, read: _Read | None) -> str:
    form = ""
    for keyword in scan(text, ("SERVICE",), "federated query (SERVICE) is refused; " + _NO_NETWORK, read):
        if keyword in UPDATE_KEYWORDS:
            raise QueryRefused(
                f"SPARQL Update ({keyword}) is not accepted: /sparql is a read-only query endpoint. "
                "Send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only."
            )
        if keyword and keyword not in QUERY_FORMS:
            # A store's own extension before the query (DEFINE …, a pragma): not SPARQL 1.1, never passed on.
            raise BadRequest(f"SPARQL syntax error: a query is SELECT, CONSTRUCT, DESCRIBE or ASK after its "
                             f"BASE and PREFIX declarations, not {keyword[:40]}.")
        form = form or keyword
    return form


def _blank(gap: str) -> str:
    """The blanks and comments between two tokens as spaces, line breaks kept: nothing hides in
    them, and a position the engine reports is the line and column the client wrote."""
    if not gap.strip(" \r\n"):  # spaces and line breaks only (most gaps): already blanks
        return gap
    return _NOT_A_LINE_BREAK.sub(" ", gap)


_NOT_A_LINE_BREAK = re.compile(r"[^\r\n]")


def read_query(text: str) -> ReadQuery:
    """:func:`screen_query`, and the query as read (see :class:`ReadQuery`); the text passed on is
    screened too.

    Screened again, that is, unless the screen already read it: when the text has one reading (no
    ``\\u`` escape) and one way of reading each ``<`` (the lexer ran once), the text passed on is that
    run's tokens at the offsets they had, every gap between them (blanks, comments) turned into blanks
    of the same length, line breaks kept. The lexer then reads it as it read the text — a gap's first
    character is a blank or ``#`` there and a blank here, and no token's end depends on more than that
    first character (tests/test_sparql_guard_reading.py checks it on every query the tests hold, with
    comments and tabs put between their tokens) — so the same tokens, the same refusals, the same
    form: screening it again would lex the same text twice (about 40% of a commented query's
    screen). Escapes and ambiguous ``<`` are where two readings can differ: then it is screened again."""
    read = _Read()
    form = _screen(text, read)
    _check_read(text, read)
    tokens, reading = read.tokens, read.text
    parts: list[str] = []
    prologue_end = 0
    skip, in_prologue = 0, True
    from_default: list[str] = []
    from_named: list[str] = []
    previous_end = 0
    for index, spanned in enumerate(tokens):
        token = spanned.token
        if spanned.start > previous_end:
            parts.append(_blank(reading[previous_end:spanned.start]))
        parts.append(reading[spanned.start:spanned.end])
        previous_end = spanned.end
        upper = token.text.upper() if token.kind == "word" else ""
        if in_prologue:
            if skip:
                skip -= 1
            elif upper in ("BASE", "PREFIX"):
                skip = 1 if upper == "BASE" else 2
            else:
                in_prologue, prologue_end = False, len(parts) - 1
        if upper == "FROM" and spanned.depth == 0:
            named = index + 1 < len(tokens) and tokens[index + 1].token.text.upper() == "NAMED"
            at = index + 2 if named else index + 1
            if at < len(tokens) and tokens[at].token.kind in ("iri", "pname"):
                clause = reading[tokens[at].start:tokens[at].end]
                (from_named if named else from_default).append(clause)
    if in_prologue:
        prologue_end = len(parts)
    passed = _encodable("".join(parts))
    if passed != text and not read.only_reading:
        _screen(passed, None)
    return ReadQuery(form, passed, "".join(parts[:prologue_end]).strip(), tuple(from_default), tuple(from_named))


def screen_update(text: str) -> None:
    """Raises QueryRefused if a SPARQL Update holds LOAD or SERVICE, or nests too deeply."""
    scan(text, ("LOAD", "SERVICE"), "updates may not LOAD documents or use SERVICE; " + _NO_NETWORK)


def with_using(text: str, default: list[str], named: list[str]) -> str:
    """The update ``text`` with the SPARQL 1.1 Protocol's ``using-graph-uri`` (``default``) and
    ``using-named-graph-uri`` (``named``) as the dataset of each of its operations that has one
    (DELETE/INSERT … WHERE): written as ``USING <g>`` / ``USING NAMED <g>`` before that operation's
    WHERE, on the tokens as the guard read them (comments gone, one reading). An update that names
    its own dataset (USING, USING NAMED or WITH) with these is refused, as the protocol says (400)."""
    read = _Read()
    scan(text, ("LOAD", "SERVICE"), "updates may not LOAD documents or use SERVICE; " + _NO_NETWORK, read)
    _check_read(text, read)
    using = " ".join([*(f"USING <{_iri(g)}>" for g in default), *(f"USING NAMED <{_iri(g)}>" for g in named)])
    parts: list[str] = []
    previous_end, previous_word = -1, ""
    for spanned in read.tokens:
        token = spanned.token
        upper = token.text.upper() if token.kind == "word" else ""
        if spanned.depth == 0 and upper in ("USING", "WITH"):
            line, col = line_col(text, token.start)
            raise BadRequest(f"The update names its own dataset ({upper} at line {line}, column {col}) and the "
                             "request names one too (using-graph-uri / using-named-graph-uri): send one of them.")
        if previous_end >= 0 and spanned.start > previous_end:
            parts.append(" ")
        if spanned.depth == 0 and upper == "WHERE" and previous_word != "DELETE":
            parts.append(using + " ")
        parts.append(read.text[spanned.start:spanned.end])
        previous_end = spanned.end
        previous_word = upper if token.kind == "word" else ""
    return _encodable("".join(parts))


def _encodable(text: str) -> str:
    """``text``, or 400 when an escape made it hold a surrogate (no character: no engine reads it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(f"SPARQL syntax error: a \\u escape names a surrogate (U+{ord(text[exc.start]):04X}), "
                         "not a character.") from None
    return text


def _check_read(text: str, read: _Read) -> None:
    """400 when the reading passed on is empty but the text is not (only another reading tokenized)."""
    if not read.done:
        raise BadRequest("SPARQL syntax error: the text does not tokenize with its \\u escapes applied.")


def _iri(value: str) -> str:
    """``value`` as an IRI reference (400 if it cannot be one: no spaces, quotes or angle brackets)."""
    if not value or any(c in value for c in '<>"{}|^`\\') or any(ord(c) <= 0x20 for c in value):
        raise BadRequest(f"Not an IRI: {value[:100]!r}.")
    return value
