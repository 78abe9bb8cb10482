"""GET /api/search over real HTTP: Chinese substrings (with the other names of a concept), English
words in any form, ranking, snippets, paging.

The expected hits are found independently with SPARQL CONTAINS / REGEX over the same texts
(labels with synonyms, definitions, quotes, district paragraphs); the other names of a Chinese
query are the Chinese labels of the mechanisms and themes it names, read from the graph.
"""

import functools
import re
import threading
import time

import httpx
import pytest

from app.api import search as search_module
from app.build.graph import KnowledgeGraph
from app.routers.api import search as api_search
from tests.helpers import PREFIXES, select

TYPES = {"District": "district", "Mechanism": "mechanism", "Theme": "theme", "SupervisionTopic": "topic",
         "Practice": "practice", "Fact": "fact"}


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def matching(graph: KnowledgeGraph, condition: str) -> set[tuple[str, str]]:
    """(type, id) of every entity with a label, definition or quote satisfying ``condition`` on ?text."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?e ?class WHERE {{
          VALUES ?class {{ bjrd:District bjrd:Mechanism bjrd:Theme bjrd:SupervisionTopic bjrd:Practice bjrd:Fact }}
          ?e a ?class .
          ?e rdfs:label|skos:definition|bjrd:evidence/oa:exact|bjrd:paragraph/oa:exact ?text .
          FILTER({condition})
        }}""")
    return {(TYPES[slug(r["class"]).rsplit("#", 1)[-1]], slug(r["e"])) for r in rows}


def words(q: str) -> str:
    """A SPARQL regex for ``q`` as whole words (not touching an ASCII letter or digit)."""
    return '"(^|[^A-Za-z0-9])' + re.escape(q).replace("\\", "\\\\") + '([^A-Za-z0-9]|$)", "i"'


def variants(graph: KnowledgeGraph, q: str) -> set[str]:
    """``q`` and every Chinese label (without Latin letters) of the mechanisms and themes labelled ``q``."""
    rows = select(graph, PREFIXES + f"""
        SELECT DISTINCT ?other WHERE {{
          VALUES ?class {{ bjrd:Mechanism bjrd:Theme bjrd:SupervisionTopic }}
          ?c a ?class ; skos:prefLabel|skos:altLabel ?name ; skos:prefLabel|skos:altLabel ?other .
          FILTER(STR(?name) = "{q}" && LANG(?other) = "zh" && !REGEX(STR(?other), "[A-Za-z]"))
        }}""")
    return {q} | {r["other"] for r in rows}


def containing(names: set[str]) -> str:
    return " || ".join(f'CONTAINS(STR(?text), "{n}")' for n in sorted(names))


def hits(client: httpx.Client, q: str, **params: object) -> list[dict]:
    response = client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == int(response.headers["X-Total-Count"])
    return body["results"]


@pytest.mark.parametrize("q", ["月进站", "家站", "12345", "代表联络站", "专家顾问", "街道"])
def test_search_chinese_finds_every_substring_of_the_query_and_its_other_names(
        client: httpx.Client, graph: KnowledgeGraph, q: str) -> None:
    found = hits(client, q)
    expected = matching(graph, containing(variants(graph, q)))
    assert expected
    assert {(h["type"], h["id"]) for h in found} == expected
    assert len(found) == len(expected)


def test_search_chinese_variants_find_each_other(client: httpx.Client, graph: KnowledgeGraph) -> None:
    names = variants(graph, "街道")
    assert {"街乡", "镇街"} <= names, "the subdistrict theme names 街道, 街乡 and 镇街 as alternative labels"
    found = {(h["type"], h["id"]) for h in hits(client, "街道")}
    assert found == {(h["type"], h["id"]) for h in hits(client, "镇街")} == {
        (h["type"], h["id"]) for h in hits(client, "街乡")}
    assert found > matching(graph, 'CONTAINS(STR(?text), "街道")')


#: An English query and a regex for its word forms (plural, -ing, -ed) as the texts write them.
ENGLISH_FORMS = [
    ("inspection", "inspections?"), ("Special Inquiry", "special inquir(y|ies)"), ("deputies", "deput(y|ies)"),
    ("budget", "budget(s|ed|ing)?"), ("grid", "grids?"), ("subdistricts", "subdistricts?"),
]


def forms(pattern: str) -> str:
    return f'REGEX(STR(?text), "(^|[^A-Za-z0-9]){pattern}([^A-Za-z0-9]|$)", "i")'


@pytest.mark.parametrize(("q", "pattern"), ENGLISH_FORMS)
def test_search_english_matches_every_word_form_case_insensitively(client: httpx.Client, graph: KnowledgeGraph,
                                                                  q: str, pattern: str) -> None:
    found = hits(client, q)
    expected = matching(graph, forms(pattern))
    assert expected
    assert {(h["type"], h["id"]) for h in found} == expected
    assert hits(client, q.upper()) == found


def test_search_english_singular_and_plural_find_the_same(client: httpx.Client, graph: KnowledgeGraph) -> None:
    singular = {(h["type"], h["id"]) for h in hits(client, "subdistrict")}
    assert singular == {(h["type"], h["id"]) for h in hits(client, "subdistricts")}
    literal = matching(graph, f"REGEX(STR(?text), {words('subdistricts')})")
    assert singular > literal, "the plural alone is found in fewer texts"


def test_search_english_matches_word_beginnings_not_insides(client: httpx.Client, graph: KnowledgeGraph) -> None:
    """A partial word finds the words it begins (inspec: inspection); a word's inside finds nothing of itself
    (nspec: only, if anything, what a corrected spelling finds, named in did_you_mean)."""
    assert {(h["type"], h["id"]) for h in hits(client, "inspec")} == matching(
        graph, 'REGEX(STR(?text), "(^|[^A-Za-z0-9])inspec", "i")')
    assert matching(graph, 'REGEX(STR(?text), "nspec", "i")')
    inside = client.get("/api/search", params={"q": "nspec"}).json()
    if inside["did_you_mean"] is None:
        assert inside["results"] == []
    else:
        assert inside["results"] == hits(client, inside["did_you_mean"])


@pytest.mark.parametrize("q", ["专题询问", "代表之家", "Special inquiry", "海淀区", "月进站"])
def test_search_exact_label_matches_come_first(client: httpx.Client, graph: KnowledgeGraph, q: str) -> None:
    exact = {(TYPES[slug(r["class"]).rsplit("#", 1)[-1]], slug(r["e"])) for r in select(graph, PREFIXES + f"""
        SELECT DISTINCT ?e ?class WHERE {{
          VALUES ?class {{ bjrd:District bjrd:Mechanism bjrd:Theme bjrd:SupervisionTopic bjrd:Practice bjrd:Fact }}
          ?e a ?class ; rdfs:label ?l FILTER(LCASE(STR(?l)) = LCASE("{q}"))
        }}""")}
    assert exact
    found = hits(client, q)
    assert {(h["type"], h["id"]) for h in found[:len(exact)]} == exact
    assert all(h["field"] == "label" for h in found[:len(exact)])


@pytest.mark.parametrize("q", ["月进站", "budget", "63", "七点行动"])
def test_search_snippet_marks_the_match_in_the_text(client: httpx.Client, graph: KnowledgeGraph,
                                                    source_text: str, q: str) -> None:
    names = {n.casefold() for n in variants(graph, q)}
    for hit in hits(client, q):
        marked = re.search(r"«(.*?)»", hit["snippet"])
        assert marked, hit
        text = marked.group(1).casefold()
        assert text in names or (q.isascii() and re.fullmatch(f"{q}(s|ed|ing)?", text)), hit
        plain = hit["snippet"].replace("«", "").replace("»", "").strip("…")
        if hit["field"] in ("quote", "paragraph"):
            assert plain in source_text
        texts = [r["t"] for r in select(graph, PREFIXES + f"""
            SELECT ?t WHERE {{
              <{hit["iri"]}> rdfs:label|skos:definition|bjrd:evidence/oa:exact|bjrd:paragraph/oa:exact ?t
            }}""")]
        assert any(plain in t for t in texts), hit
        assert hit["iri"].endswith("/" + hit["id"])


def test_search_results_carry_label_and_district(client: httpx.Client, graph: KnowledgeGraph) -> None:
    districts = {slug(r["p"]): slug(r["d"]) for r in select(graph, PREFIXES + """
        SELECT ?p ?d WHERE { ?p bjrd:district ?d }""")}
    for hit in hits(client, "家站"):
        assert set(hit["label"]) == {"zh", "en"}
        if hit["type"] in ("practice", "fact"):
            assert hit["district"] == districts[hit["id"]]
        elif hit["type"] == "district":
            assert hit["district"] == hit["id"]
        else:
            assert hit["district"] is None


def test_search_type_filter_limit_and_offset(client: httpx.Client) -> None:
    everything = hits(client, "家站")
    practices = hits(client, "家站", type="practice")
    assert practices == [h for h in everything if h["type"] == "practice"]
    response = client.get("/api/search", params={"q": "家站", "limit": 3, "offset": 2})
    assert response.json()["results"] == everything[2:5]
    assert response.json()["total"] == len(everything) == int(response.headers["X-Total-Count"])


def test_search_nothing_found_is_empty(client: httpx.Client) -> None:
    response = client.get("/api/search", params={"q": "zzzqqq"})
    assert response.status_code == 200
    assert response.json()["total"] == 0 and response.json()["results"] == []
    assert response.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize(("params", "why"), [
    ({}, "missing"), ({"q": ""}, "at least 1"), ({"q": "   "}, "spaces"), ({"q": "x" * 201}, "at most 200"),
    ({"q": "家站", "type": "congress"}, "district"), ({"q": "家站", "limit": 0}, "greater than or equal"),
])
def test_search_bad_parameters_are_422(client: httpx.Client, params: dict, why: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert why in (error["msg"] + error["type"])


def test_a_slow_first_search_does_not_stop_other_requests(client: httpx.Client,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A search not answered before is computed off the event loop (at 10M triples a first search takes
    seconds): while one is computing, the service answers others at once."""
    computing = threading.Event()
    original = search_module.search_page

    @functools.wraps(original)
    def slow_page(*args: object, **kwargs: object) -> object:
        computing.set()
        time.sleep(2.0)  # as a first search over millions of texts
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(api_search, "search_page", slow_page)
    answers: list[httpx.Response] = []
    searching = threading.Thread(target=lambda: answers.append(
        client.get("/api/search", params={"q": "月进站", "type": "practice", "limit": 7})))
    searching.start()
    assert computing.wait(10)
    started = time.monotonic()
    health = client.get("/health")
    took = time.monotonic() - started
    searching.join(30)
    assert health.status_code == 200
    assert took < 1.0, f"/health waited {took:.2f} s behind a search"
    assert answers and answers[0].status_code == 200
    assert all(hit["type"] == "practice" for hit in answers[0].json()["results"])
