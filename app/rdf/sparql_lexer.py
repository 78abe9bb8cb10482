"""A real SPARQL 1.1 tokenizer (not a pattern over the text) for the guard, :mod:`app.rdf.sparql_guard`:

* Codepoint escapes (``\\u0053``, ``\\U00000053``) are applied first, as SPARQL 1.1 §19.2 says.
  Engines disagree on ``\\\\u0053`` (an escaped backslash, or a backslash and an escape), so the
  text is read every way an engine reads it — escapes after an even number of backslashes only
  (Oxigraph, Jena), escapes after any backslash (rdflib), and no escapes at all — and refused
  if any reading is refused.
* Comments end at LF *or* CR; strings (short, long, escaped), IRIs, prefixed names, variables,
  blank node labels, language tags and numbers are single tokens, so a keyword inside one of
  them is not a keyword.
* ``<`` inside parentheses after an operand is ambiguous: Oxigraph and rdflib read
  ``?o<'x>'`` as a comparison with a string, a longest-match lexer as the IRI ``<'x>``. Where
  the two readings tokenize differently (the would-be IRI holds ``'`` or ``#``) both are
  followed, and the query is refused if either is. Readings that end in a lexical error (an
  unterminated string, unbalanced brackets) are dropped: no engine runs them either.
* Engines match keywords without a word boundary (Oxigraph runs ``SERVICE:x {…}``,
  ``trueSERVICE:x {…}`` and ``SERVICESILENT<…>`` as SERVICE), so a bare word or the prefix of
  a prefixed name that *contains* SERVICE (in updates also LOAD) is refused. Local names
  (``ex:Service``), variables, strings and IRIs never are.
* Brackets ``( [ {`` nested deeper than :data:`MAX_DEPTH` (256) are refused: parsers recurse
  on them, and a few thousand levels overflow their stack. So are chains of more than
  :data:`MAX_CHAIN` (2,000) chained operators, UNIONs, OPTIONALs or MINUSes (a bracket's own
  plus the longest chain inside it): engines turn them into trees as deep as the chain
  (20,000 chained ``+`` crash Oxigraph).
"""

import re
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from app.rdf.sparql_chars import (
    BLANK_RUN,
    COMMENT_RUN,
    IRI_RUN,
    PN_CHARS_COLON_RUN,
    PN_CHARS_DOT_RUN,
    PN_CHARS_RUN,
    VARNAME_RUN,
    pn_chars,
    pn_chars_base,
)
from app.rdf.sparql_escapes import HEX, Offsets

#: Deepest nesting of ( [ { accepted in a query or update (documented in the README).
MAX_DEPTH = 256
#: Most chained operators (+ - * / | & = ! < > ^, UNION, OPTIONAL, MINUS): those of a bracket
#: plus the longest chain of a bracket inside it, recursively. Engines build a tree as deep as
#: such a chain and recurse on it (20,000 chained '+' overflow Oxigraph's stack).
MAX_CHAIN = 2_000
_OPERATORS = set("+-*/|&=!<>^")
_CHAIN_WORDS = {"UNION", "OPTIONAL", "MINUS"}
#: At most this many readings of one text are followed (each ambiguous ``<`` may add one).
MAX_READINGS = 16

QUERY_FORMS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}
UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")": "(", "]": "[", "}": "{"}
#: What may name the service of a SERVICE pattern (VarOrIri), as token kinds.
_TERM = (["iri"], ["pname"], ["var"])


class Token(NamedTuple):
    kind: str  # word, pname, var, bnode, iri, string, number, lang, punct
    text: str  # for pname: the prefix (without ':'); otherwise the token's text
    start: int  # offset in the raw text


class Spanned(NamedTuple):
    """A token with its span in the reading it was read from, and the brackets around it."""

    token: Token
    start: int
    end: int
    depth: int


class TooDeep(Exception):
    """Nesting beyond MAX_DEPTH, or a chain longer than MAX_CHAIN (``chain`` set)."""

    def __init__(self, start: int, chain: bool = False) -> None:
        super().__init__(start)
        self.start = start
        self.chain = chain


class LexicalError(Exception):
    def __init__(self, message: str, start: int) -> None:
        super().__init__(message)
        self.start = start


# ------------------------------------------------------------------ the tokenizer

def _end(run: "re.Pattern[str]", text: str, pos: int) -> int:
    """Where the run of ``run``'s character class that starts at ``pos`` ends (``pos`` if none)."""
    return run.match(text, pos).end()  # type: ignore[union-attr]  # a '*' run always matches


@dataclass(frozen=True)
class State:
    pos: int
    stack: tuple[str, ...]
    after_operand: bool


class Forbidden(Exception):
    def __init__(self, word: str, start: int) -> None:
        super().__init__(word)
        self.word = word
        self.start = start


class _Recent:
    """The last tokens (all the tokenizer looks back at), the first keyword after the prologue
    (BASE <iri>, PREFIX p: <iri>), the check of every word against the forbidden ones, and (when
    ``spans`` is a list) the span of every token in the reading, for :func:`tokens_of`.

    A forbidden word is one in the *position* of that keyword, as the grammar places it, not any
    token that contains it: SERVICE is a word or prefix containing it followed by ``{``, by one
    term (IRI, prefixed name, variable) and ``{``, or by SILENT, a term and ``{`` (a SERVICE
    pattern, however glued: ``SERVICE:x {``, ``SERVICESILENT<x>{``, ``trueSERVICE:x {``); LOAD is
    a word or prefix containing it that starts an update operation (at the start, after the
    prologue, or after ``;`` outside brackets). So ``PREFIX service: <…>``, ``service:x ?p ?o`` or
    ``INSERT DATA { load:x … }`` are what they are: a prefix and prefixed names."""

    def __init__(self, words: tuple[str, ...], spans: "list[Spanned] | None" = None) -> None:
        self.words = words
        self.last: deque[Token] = deque(maxlen=3)
        self.first: str | None = None
        self._skip = 0
        self._operation_skip = 0
        self._operation_start = True
        self._service: list[Token] = []  # a SERVICE-like token and the tokens after it, until decided
        self.spans = spans
        self._checks_service, self._checks_load = "SERVICE" in words, "LOAD" in words

    def __getitem__(self, index: int) -> Token:
        return self.last[index]

    def __len__(self) -> int:
        return len(self.last)

    def append(self, token: Token, start: int = 0, end: int = 0, depth: int = 0) -> None:
        self.last.append(token)
        if self.spans is not None:
            self.spans.append(Spanned(token, start, end, depth))
        upper = token.text.upper() if token.kind in ("word", "pname") else ""
        if self._checks_service:
            self._check_service(token, upper)
        if self._checks_load:
            self._check_load(token, upper, depth)
        if self.first is None:
            if self._skip:
                self._skip -= 1
            elif token.kind == "word" and upper in ("BASE", "PREFIX"):
                self._skip = 1 if upper == "BASE" else 2
            else:
                self.first = upper if token.kind == "word" else ""

    def _check_service(self, token: Token, upper: str) -> None:
        if self._service:
            self._service.append(token)
            after = [t.text.upper() if t.kind == "word" else t.text if t.kind == "punct" else t.kind
                     for t in self._service[1:]]
            if after[-1] == "{" and (after[:-1] in ([], ["SILENT"]) or after[:-1][-1:] in _TERM
                                     and after[:-2] in ([], ["SILENT"])):
                raise Forbidden("SERVICE", self._service[0].start)
            if not (after in (["SILENT"], *_TERM) or after[:1] == ["SILENT"] and after[1:] in _TERM):
                self._service = []
        if "SERVICE" in upper:
            self._service = [token]

    def _check_load(self, token: Token, upper: str, depth: int) -> None:
        if token.kind == "punct" and token.text == ";" and depth == 0:
            self._operation_start, self._operation_skip = True, 0
            return
        if not self._operation_start:
            return
        if self._operation_skip:
            self._operation_skip -= 1
        elif token.kind == "word" and upper in ("BASE", "PREFIX"):
            self._operation_skip = 1 if upper == "BASE" else 2
        else:
            self._operation_start = False
            if "LOAD" in upper:
                raise Forbidden("LOAD", token.start)


class Lexer:
    """Tokenizes one reading; ``fork`` collects the alternative states of ambiguous ``<``."""

    def __init__(self, text: str, offsets: Offsets, words: tuple[str, ...]) -> None:
        self.text = text
        self.offsets = offsets
        self.words = words
        self.forks: list[State] = []
        self.fork_spans: dict[State, list[Spanned]] = {}

    def raw(self, pos: int) -> int:
        return self.offsets.raw(pos)

    def run(self, state: State, forced_operator: bool = False, spans: "list[Spanned] | None" = None) -> str:
        """Tokenize from ``state`` to the end; the first keyword after the prologue ('' if none).
        ``spans``: a list that gets the (start, end) of every token in the reading.

        Raises Forbidden for a word of ``self.words``, LexicalError, TooDeep."""
        text, n = self.text, len(self.text)
        # Offsets in a reading without escapes are the raw text's: no call per token to map them.
        raw = self.offsets.raw if self.offsets.shifted else int
        blanks = BLANK_RUN.match
        pos, stack, after_operand = state.pos, list(state.stack), state.after_operand
        tokens = _Recent(self.words, spans)
        last_popped = ""
        # Per open bracket level: [operators in it, deepest chain of a bracket closed inside it].
        # Their sum bounds the depth of the tree an engine builds for that bracket.
        chains = [[0, 0] for _ in range(len(stack) + 1)]
        while True:
            pos = blanks(text, pos).end()  # type: ignore[union-attr]  # a '*' run always matches
            if pos >= n:
                break
            c = text[pos]
            start = pos
            if c == "#":
                pos = _end(COMMENT_RUN, text, pos)
                continue
            if c == "<":
                end = self._iri_end(pos)
                ambiguous = (end is not None and stack and stack[-1] == "(" and after_operand
                             and any(ch in "'#" for ch in text[pos + 1:end]))
                if end is not None and not (forced_operator and pos == state.pos):
                    if ambiguous:
                        self.forks.append(State(pos, tuple(stack), after_operand))
                        if spans is not None:  # the tokens before the fork, for the run that takes it
                            self.fork_spans[self.forks[-1]] = list(spans)
                    tokens.append(Token("iri", text[pos:end + 1], raw(pos)), pos, end + 1, len(stack))
                    pos, after_operand = end + 1, True
                    continue
                pos += 2 if text.startswith("<=", pos) else 1
                tokens.append(Token("punct", text[start:pos], raw(start)), start, pos, len(stack))
                after_operand = False
                chains[-1][0] += 1
                if sum(chains[-1]) > MAX_CHAIN:
                    raise TooDeep(raw(start), chain=True)
                continue
            if c in "\"'":
                pos = self._string_end(pos)
                tokens.append(Token("string", text[start:pos], raw(start)), start, pos, len(stack))
                after_operand = True
                continue
            if c in "?$" and pos + 1 < n and pn_chars(text[pos + 1]) and text[pos + 1] != "-":
                pos = _end(VARNAME_RUN, text, pos + 1)
                tokens.append(Token("var", text[start:pos], raw(start)), start, pos, len(stack))
                after_operand = True
                continue
            if c == "_" and text.startswith("_:", pos):
                pos = self._local_end(pos + 2)
                tokens.append(Token("bnode", text[start:pos], raw(start)), start, pos, len(stack))
                after_operand = True
                continue
            if c == "@" and pos + 1 < n and text[pos + 1].isascii() and text[pos + 1].isalpha():
                pos += 1
                while pos < n and text[pos].isascii() and (text[pos].isalnum() or text[pos] == "-"):
                    pos += 1
                tokens.append(Token("lang", text[start:pos], raw(start)), start, pos, len(stack))
                after_operand = True
                continue
            if c.isdigit() or (c == "." and pos + 1 < n and text[pos + 1].isdigit()):
                while pos < n and text[pos].isdigit():
                    pos += 1
                if pos + 1 < n and text[pos] == "." and text[pos + 1].isdigit():
                    pos += 1
                    while pos < n and text[pos].isdigit():
                        pos += 1
                if pos < n and text[pos] in "eE":
                    k = pos + 1 + (pos + 1 < n and text[pos + 1] in "+-")
                    if k < n and text[k].isdigit():
                        pos = k
                        while pos < n and text[pos].isdigit():
                            pos += 1
                tokens.append(Token("number", text[start:pos], raw(start)), start, pos, len(stack))
                after_operand = True
                continue
            if pn_chars_base(c) or c == ":":
                run_end = _end(PN_CHARS_DOT_RUN, text, pos)
                if run_end < n and text[run_end] == ":" and (run_end == pos or text[run_end - 1] != "."):
                    pos = self._local_end(run_end + 1)
                    tokens.append(Token("pname", text[start:run_end], raw(start)), start, pos, len(stack))
                else:  # a bare word (keyword, function name, a, true …) stops at the first dot
                    pos = _end(PN_CHARS_RUN, text, pos)
                    tokens.append(Token("word", text[start:pos], raw(start)), start, pos, len(stack))
                    if text[start:pos].upper() in _CHAIN_WORDS:
                        chains[-1][0] += 1
                        if sum(chains[-1]) > MAX_CHAIN:
                            raise TooDeep(raw(start), chain=True)
                after_operand = True
                continue
            pos += 1
            tokens.append(Token("punct", c, raw(start)), start, pos, len(stack))
            if c in _OPEN:
                stack.append(self._frame(c, stack, tokens, last_popped))
                chains.append([0, 0])
                if len(stack) > MAX_DEPTH:
                    raise TooDeep(raw(start))
                after_operand = False
            elif c in _CLOSE:
                if not stack or stack[-1][0] != _CLOSE[c]:
                    raise LexicalError(f"unbalanced {c!r}", raw(start))
                last_popped = stack.pop()
                cost = sum(chains.pop())
                chains[-1][1] = max(chains[-1][1], cost)
                if sum(chains[-1]) > MAX_CHAIN:
                    raise TooDeep(raw(start), chain=True)
                after_operand = True
            else:
                after_operand = False
                if c in _OPERATORS:
                    chains[-1][0] += 1
                    if sum(chains[-1]) > MAX_CHAIN:
                        raise TooDeep(raw(start), chain=True)
        if stack:
            raise LexicalError(f"{stack[-1]!r} is never closed", raw(n))
        return tokens.first or ""

    @staticmethod
    def _frame(c: str, stack: list[str], tokens: "_Recent", last_popped: str) -> str:
        """The bracket as pushed: a VALUES variable list ((vars), data block ({data) and its
        rows ((row) hold terms only, never a comparison, so a ``<`` in them is an IRI."""
        before = [t.text.upper() if t.kind == "word" else t.kind for t in list(tokens.last)[-3:-1]]
        if c == "(" and before[-1:] == ["VALUES"]:
            return "(vars"
        after_vars = len(tokens) > 1 and tokens[-2].text == ")" and last_popped == "(vars"
        if c == "{" and (before == ["VALUES", "var"] or after_vars):
            return "{data"
        if c == "(" and stack and stack[-1] == "{data":
            return "(row"
        return c

    def _iri_end(self, pos: int) -> int | None:
        text, n = self.text, len(self.text)
        k = _end(IRI_RUN, text, pos + 1)
        return k if k < n and text[k] == ">" else None

    def _string_end(self, pos: int) -> int:
        text, n = self.text, len(self.text)
        quote = text[pos]
        if text.startswith(quote * 3, pos):
            k = pos + 3
            while k < n:
                if text[k] == "\\":
                    k += 2
                elif text.startswith(quote * 3, k):
                    return k + 3
                else:
                    k += 1
            raise LexicalError("unterminated long string", self.raw(pos))
        k = pos + 1
        while k < n:
            ch = text[k]
            if ch == "\\":
                k += 2
            elif ch == quote:
                return k + 1
            elif ch in "\n\r":
                break
            else:
                k += 1
        raise LexicalError("unterminated string", self.raw(pos))

    def _local_end(self, pos: int) -> int:
        """End of a local name (PN_LOCAL, with %hh and \\-escapes), never on a trailing dot."""
        text, n = self.text, len(self.text)
        k, last_good = pos, pos
        while k < n:
            run = _end(PN_CHARS_COLON_RUN, text, k)
            if run > k:
                k = last_good = run
                continue
            ch = text[k]
            if ch == "%" and k + 2 < n and text[k + 1] in HEX and text[k + 2] in HEX:
                k += 3
            elif ch == "\\" and k + 1 < n and text[k + 1] in "_~.-!$&'()*+,;=/?#@%":
                k += 2
            elif ch == ".":
                k += 1
                continue
            else:
                break
            last_good = k
        return last_good
