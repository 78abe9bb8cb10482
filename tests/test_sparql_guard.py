"""The SPARQL guard (app/rdf/sparql_guard.py): SERVICE and LOAD are refused exactly when they are
keywords — however spelled — and never when they sit in a comment, string, IRI or name."""

import re

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import BadRequest, QueryRefused
from app.rdf.sparql_guard import MAX_CHAIN, MAX_DEPTH, line_col, screen_query, screen_update

TARGET = "http://127.0.0.1:9/sparql"

#: Spellings that engines run as SERVICE (several verified against Oxigraph and rdflib).
SERVICE_SPELLINGS = [
    f"SELECT * {{ SERVICE <{TARGET}> {{ ?s ?p ?o }} }}",
    f"select * {{ service silent <{TARGET}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ SeRvIcE <{TARGET}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ # a comment ended by CR\rSERVICE <{TARGET}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ # CRLF\r\nSERVICE <{TARGET}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{\tSERVICE\r<{TARGET}>\t{{ ?s ?p ?o }} }}",
    f"SELECT * {{ \\u0053ERVICE <{TARGET}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ \\u0073\\u0065rvice <{TARGET}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ \\U00000053ERVICE <{TARGET}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ \\\\u0053ERVICE <{TARGET}> {{ ?s ?p ?o }} }}",  # rdflib reads \S + ERVICE … as SERVICE
    f"PREFIX : <{TARGET}> SELECT * {{ SERVICE:x {{ ?s ?p ?o }} }}",
    f"PREFIX ex: <{TARGET}> SELECT * {{ SERVICEex:x {{ ?s ?p ?o }} }}",
    f"SELECT * {{ SERVICESILENT<{TARGET}> {{ ?s ?p ?o }} }}",
    f"PREFIX : <{TARGET}> SELECT * {{ ?a ?b trueSERVICE:x {{ ?s ?p ?o }} }}",
    f"SELECT * {{ ?a ?b true.SERVICE<{TARGET}>{{ ?s ?p ?o }} }}",
    f"SELECT * {{ ?a ?b ?o.SERVICE<{TARGET}>{{ ?s ?p ?o }} }}",
    f"SELECT * {{ ?a ?b []SERVICE<{TARGET}>{{ ?s ?p ?o }} }}",
    f"SELECT * {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{TARGET}> {{ ?a ?b ?c }} }} }}",
    f"SELECT * {{ OPTIONAL {{ SERVICE ?u {{ ?s ?p ?o }} }} VALUES ?u {{ <{TARGET}> }} }}",
    # '<' read as "less than" by the engines, as an IRI by a longest-match lexer:
    f"SELECT * {{ ?s ?p ?o FILTER(?o<?x#>'''\n) SERVICE <{TARGET}> {{ ?a ?b ?c }} }}#'''",
    f"SELECT * {{ ?s ?p ?o FILTER(1<'>' || true) SERVICE <{TARGET}> {{ ?a ?b ?c }} }} #'",
]

#: The word SERVICE where it is not a keyword: these must run.
NOT_SERVICE = [
    'SELECT * { ?s ?p "SERVICE <http://x/> { }" }',
    "SELECT * { ?s ?p 'it\\'s a \\' SERVICE' }",
    "SELECT * { ?s ?p '''multi\nline SERVICE <http://x/> { } ''' }",
    'SELECT * { ?s ?p """SERVICE""" }',
    'SELECT * { ?s ?p "\\u0053ERVICE" }',
    "SELECT * { ?s <http://ex/SERVICE> ?o }",
    "SELECT * { ?s ?p ?o } # SERVICE <http://x/> { }",
    "SELECT * { ?s ?p ?o # SERVICE\n}",
    "PREFIX ex: <http://ex/> SELECT * { ?s ex:SERVICE ?o . ?s ex:service.x ?o }",
    "SELECT ?SERVICE $service WHERE { ?SERVICE ?p $service }",
    "SELECT * { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }",
    "SELECT * { ?s ?p ?o FILTER(?o = <http://www.w3.org/2002/07/owl#Class>) }",
    "SELECT * { VALUES (?a ?b) { (<http://x#1> <http://x#2>) (<http://x#3> UNDEF) } }",
    "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#> SELECT * { ?s a sd:Service }",
]


@pytest.mark.parametrize("query", SERVICE_SPELLINGS)
def test_guard_service_spelling_is_refused(query: str) -> None:
    with pytest.raises(QueryRefused, match=r"^SERVICE at line \d+, column \d+ is not allowed"):
        screen_query(query)


@pytest.mark.parametrize("query", NOT_SERVICE)
def test_guard_service_outside_a_keyword_is_accepted(query: str) -> None:
    assert screen_query(query) == "SELECT"
    list(ox.Store().query(query))  # and it is valid SPARQL (an empty store: nothing is fetched)


def test_guard_refusal_names_line_and_column_after_cr() -> None:
    with pytest.raises(QueryRefused) as refused:
        screen_query(f"SELECT * {{\r  # x\r   SERVICE <{TARGET}> {{ }} }}")
    assert refused.value.detail.startswith("SERVICE at line 3, column 4 ")
    assert refused.value.status_code == 400


def test_guard_line_col_counts_cr_lf_and_crlf() -> None:
    assert line_col("a\rb\nc\r\nd", 7) == (4, 1)


@pytest.mark.parametrize("update", [
    "LOAD <http://127.0.0.1:9/x.ttl>",
    "load silent <http://127.0.0.1:9/x.ttl> into graph <urn:g>",
    "# c\rLOAD <http://127.0.0.1:9/x.ttl>",
    "\\u004cOAD <http://127.0.0.1:9/x.ttl>",
    "PREFIX : <http://127.0.0.1:9/> LOAD:x",
    "INSERT DATA { <urn:a> <urn:b> 1 } ;\nLOAD <http://127.0.0.1:9/x.ttl>",
    f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{TARGET}> {{ ?s ?p ?o }} }}",
])
def test_guard_update_with_load_or_service_is_refused(update: str) -> None:
    with pytest.raises(QueryRefused, match=r"^(LOAD|SERVICE) at line \d+, column \d+ is not allowed"):
        screen_update(update)


def test_guard_update_mentioning_load_in_data_is_accepted() -> None:
    screen_update("INSERT DATA { <urn:a> <urn:b> 'LOAD <http://x/>' } # LOAD")


@pytest.mark.parametrize("form", ["INSERT DATA { <urn:a> <urn:b> 1 }", "DROP ALL", "# c\rCLEAR DEFAULT",
                                  "PREFIX x: <urn:> DELETE WHERE { ?s ?p ?o }"])
def test_guard_update_sent_as_query_is_refused(form: str) -> None:
    with pytest.raises(QueryRefused, match="read-only"):
        screen_query(form)


@pytest.mark.parametrize("bracket", ["(", "{", "["])
def test_guard_nesting_beyond_limit_is_refused(bracket: str) -> None:
    closing = {"(": ")", "{": "}", "[": "]"}[bracket]
    deep = "SELECT * { FILTER(" + bracket * (MAX_DEPTH + 10) + "1" + closing * (MAX_DEPTH + 10) + ") }"
    with pytest.raises(QueryRefused, match=f"more than {MAX_DEPTH} levels deep"):
        screen_query(deep)
    with pytest.raises(QueryRefused, match=f"more than {MAX_DEPTH} levels deep"):
        screen_update("INSERT DATA {" + "{" * 30_000)


def test_guard_nesting_at_limit_is_accepted() -> None:
    depth = MAX_DEPTH - 3  # { FILTER( … ) }
    screen_query("SELECT * { FILTER(" + "(" * depth + "1" + ")" * depth + ") }")


@pytest.mark.parametrize("text", [
    "SELECT * { FILTER(" + "+".join(["1"] * (MAX_CHAIN + 10)) + ") }",
    "SELECT * { FILTER(" + "(1 + " * 200 + "1" + " + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1)" * 200 + ") }",
    "SELECT * {" + " {} UNION" * (MAX_CHAIN + 10) + " {} }",
    "SELECT * { ?s " + "/".join(["<urn:p>"] * (MAX_CHAIN + 10)) + " ?o }",
])
def test_guard_chain_beyond_limit_is_refused(text: str) -> None:
    with pytest.raises(QueryRefused, match=f"More than {MAX_CHAIN} chained operators"):
        screen_query(text)
    with pytest.raises(QueryRefused, match=f"More than {MAX_CHAIN} chained operators"):
        screen_update("INSERT { <urn:a> <urn:b> 1 } WHERE " + text.removeprefix("SELECT * "))


def test_guard_chain_at_limit_is_accepted_and_engine_survives() -> None:
    query = "SELECT * { FILTER(" + "+".join(["1"] * (MAX_CHAIN - 5)) + ") }"
    screen_query(query)
    list(ox.Store().query(query))  # this process's own stack survives it


@pytest.mark.parametrize("text", ["SELECT * { ?s ?p 'unterminated }", "SELECT * { ?s ?p ?o ",
                                  "SELECT * { ?s ?p ?o ) }"])
def test_guard_lexical_error_is_400(text: str) -> None:
    with pytest.raises(BadRequest, match="syntax error at line 1"):
        screen_query(text)


# ---------------------------------------------------------------- property: refusal iff keyword

ESCAPABLE = st.sampled_from(["\\t", "\\n", '\\"', "\\'", "\\\\", "\\u0053", "\\U00000045"])
LINE_END = st.sampled_from(["\n", "\r", "\r\n"])
SPACE = st.lists(st.sampled_from([" ", "\t", "\n", "\r", "\r\n"]), min_size=1, max_size=3).map("".join)


def _mixed_case(draw: st.DrawFn, word: str) -> str:
    out = []
    for ch in word:
        escapes = [f"\\u{ord(ch.upper()):04X}", f"\\u{ord(ch.lower()):04x}"]
        spelled = draw(st.sampled_from([ch.upper(), ch.lower(), *escapes]))
        out.append(spelled)
    return "".join(out)


@st.composite
def decoy(draw: st.DrawFn) -> str:
    """A valid group-pattern fragment with SERVICE inside something that is not a keyword."""
    word = draw(st.sampled_from(["SERVICE", "service", "Service", "\\u0053ERVICE"]))
    kind = draw(st.sampled_from(["comment", "string", "long", "iri", "local", "var", "filter"]))
    if kind == "comment":
        return f"# {word} <http://127.0.0.1:9/> {{ }}{draw(LINE_END)}"
    if kind == "string":
        quote = draw(st.sampled_from(['"', "'"]))
        return f"?s ?p {quote}{draw(ESCAPABLE)}{word}{draw(ESCAPABLE)}{quote} ."
    if kind == "long":
        quote = draw(st.sampled_from(['"""', "'''"]))
        return f"?s ?p {quote}x{draw(LINE_END)}{word} <http://127.0.0.1:9/> {{ }}{quote} ."
    if kind == "iri":
        return f"?s <http://ex/{word.replace(chr(92), '')}> ?o ."
    if kind == "local":
        return f"?s ex:{word.replace(chr(92), '')} ?o ."
    if kind == "var":
        return f"?s ?p ?{word.replace(chr(92), '')} ."
    return f'FILTER(?o != "{word}")'


@st.composite
def query_with_hidden_service(draw: st.DrawFn) -> tuple[str, bool]:
    """(query, True if it holds a real SERVICE keyword)."""
    parts = draw(st.lists(decoy(), max_size=4))
    real = draw(st.booleans())
    if real:
        keyword = _mixed_case(draw, "service")
        lead = draw(st.sampled_from(["", "# c\r", "# c\n", "# c\r\n"]))
        silent = draw(st.sampled_from(["", "SILENT ", "silent\t"]))
        service = f"{lead}{keyword}{draw(SPACE)}{silent}<{TARGET}>{draw(SPACE)}{{ ?a ?b ?c }}"
        parts.insert(draw(st.integers(0, len(parts))), service)
    body = draw(SPACE).join(parts)
    return (f"PREFIX ex: <http://ex/>{draw(SPACE)}SELECT * WHERE {{ ?s ?p ?o .{draw(SPACE)}{body}{draw(SPACE)}}}"
            f"{draw(SPACE)}LIMIT 1"), real


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query_with_hidden_service())
def test_guard_refuses_exactly_real_service_keywords(case: tuple[str, bool]) -> None:
    query, real = case
    if real:
        with pytest.raises(QueryRefused, match="^SERVICE at line"):
            screen_query(query)
    else:
        assert screen_query(query) == "SELECT"
        list(ox.Store().query(query))  # valid SPARQL, and an empty store fetches nothing


@st.composite
def update_with_hidden_load(draw: st.DrawFn) -> tuple[str, bool]:
    """(update, True if it holds a real LOAD operation)."""
    word = draw(st.sampled_from(["LOAD", "load", "\\u004cOAD"]))
    hidden = draw(st.sampled_from([
        f'INSERT DATA {{ <urn:a> <urn:b> "{word} <http://127.0.0.1:9/x>" }}',
        f"INSERT DATA {{ <urn:a> <urn:b> '''{word}\n<http://127.0.0.1:9/x>''' }}",
        f"# {word} <http://127.0.0.1:9/x>\rINSERT DATA {{ <urn:a> <urn:{word.replace(chr(92), '')}> 1 }}",
        f"DELETE WHERE {{ ?s <http://ex/{word.replace(chr(92), '')}> ?o }}",
    ]))
    real = draw(st.booleans())
    operations = [hidden]
    if real:
        keyword = _mixed_case(draw, "load")
        lead = draw(st.sampled_from(["", "# c\r", "# c\n"]))
        operations.insert(draw(st.integers(0, 1)), f"{lead}{keyword}{draw(SPACE)}<http://127.0.0.1:9/x.ttl>")
    return f"{draw(SPACE)};{draw(SPACE)}".join(operations), real


@settings(max_examples=200, deadline=None)
@given(update_with_hidden_load())
def test_guard_refuses_exactly_real_load_operations(case: tuple[str, bool]) -> None:
    update, real = case
    if real:
        with pytest.raises(QueryRefused, match="^LOAD at line"):
            screen_update(update)
    else:
        screen_update(update)
        ox.Store().update(update)  # valid SPARQL Update, and nothing to fetch


def _reference_pn_chars_base(c: str) -> bool:
    """PN_CHARS_BASE as SPARQL 1.1 §19.8 writes it, independent of app/rdf/sparql_chars.py."""
    o = ord(c)
    return ("A" <= c <= "Z" or "a" <= c <= "z" or 0xC0 <= o <= 0xD6 or 0xD8 <= o <= 0xF6 or 0xF8 <= o <= 0x2FF
            or 0x370 <= o <= 0x37D or 0x37F <= o <= 0x1FFF or 0x200C <= o <= 0x200D or 0x2070 <= o <= 0x218F
            or 0x2C00 <= o <= 0x2FEF or 0x3001 <= o <= 0xD7FF or 0xF900 <= o <= 0xFDCF or 0xFDF0 <= o <= 0xFFFD
            or 0x10000 <= o <= 0xEFFFF)


def _reference_pn_chars(c: str) -> bool:
    o = ord(c)
    return _reference_pn_chars_base(c) or c in "_-0123456789\u00b7" or 0x300 <= o <= 0x36F or 0x203F <= o <= 0x2040


@pytest.mark.slow  # a scan of all 1,114,112 codepoints per class: seconds
def test_character_classes_and_their_scanners_agree_with_the_grammar_on_every_codepoint() -> None:
    """The tokenizer scans runs of a class with a compiled scanner: each scanner must take exactly
    the characters of its class, for every codepoint (surrogates included)."""
    from app.rdf import sparql_chars as ch

    everything = "".join(map(chr, range(0x110000)))
    base = {o for o in range(0x110000) if _reference_pn_chars_base(chr(o))}
    pn = {o for o in range(0x110000) if _reference_pn_chars(chr(o))}
    assert {o for o in range(0x110000) if ch.pn_chars_base(chr(o))} == base
    assert {o for o in range(0x110000) if ch.pn_chars(chr(o))} == pn
    every = set(range(0x110000))
    classes = {
        ch.PN_CHARS_RUN: pn,
        ch.PN_CHARS_DOT_RUN: pn | {ord(".")},
        ch.PN_CHARS_COLON_RUN: pn | {ord(":")},
        ch.VARNAME_RUN: pn - {ord("-")},
        ch.IRI_RUN: every - set(range(0x21)) - set(map(ord, '<>"{}|^`\\')),
        ch.COMMENT_RUN: every - {ord("\n"), ord("\r")},
    }
    for run, expected in classes.items():
        assert run.pattern.endswith("]*")
        one = re.compile(run.pattern[:-1])  # the class alone: every codepoint it takes, in one scan
        taken = {m.start() for m in one.finditer(everything)}
        assert taken == expected, (run.pattern[:30], sorted(taken ^ expected)[:5])
