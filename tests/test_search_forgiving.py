"""Search that forgives (issue 25, item 2), over real HTTP: words in any order, every one required,
partial words, misspellings with "did you mean", traditional characters, space-separated Chinese terms,
the concept the text names as a best match, and the numbers of fact hits.

Expectations come from the graph (ad-hoc SPARQL over labels, definitions, quotes and paragraphs).
"""

import re

import httpx
import pytest

from app.api.search import MAX_INDEXED, find_span, simplified, tokens
from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, select

TEXTS = "rdfs:label|skos:prefLabel|skos:altLabel|skos:definition|bjrd:evidence/oa:exact|bjrd:paragraph/oa:exact"


def search(client: httpx.Client, q: str, **params: object) -> dict:
    response = client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def keys(body: dict) -> list[tuple[str, str]]:
    return [(h["type"], h["id"]) for h in body["results"]]


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def labelled(graph: KnowledgeGraph, text: str) -> str:
    rows = select(graph, PREFIXES + f'SELECT ?e WHERE {{ ?e rdfs:label|skos:prefLabel "{text}"@en }}')
    assert len(rows) == 1, rows
    return slug(rows[0]["e"])


def test_english_words_in_any_order_find_the_concept(client: httpx.Client, graph: KnowledgeGraph) -> None:
    wanted = ("mechanism", labelled(graph, "Deputies' homes and liaison stations"))
    body = search(client, "deputy liaison station")
    assert body["every_term"] is True
    assert keys(body)[0] == wanted
    assert keys(search(client, "station liaison deputy")) == keys(body)
    assert keys(search(client, "Deputy Liaison Stations")) == keys(body)


def test_every_word_is_required(client: httpx.Client, graph: KnowledgeGraph) -> None:
    """Each hit of a several-word text has each word (by its beginning, in any form) in one of its texts."""
    body = search(client, "deputy liaison station")
    for kind, entity_id in keys(body):
        texts = " ".join(r["t"] for r in select(graph, PREFIXES + f"""
            SELECT ?t WHERE {{ ?e {TEXTS} ?t FILTER(STRENDS(STR(?e), "/{kind}/{entity_id}")) }}"""))
        for word in ("deput", "liaison", "station"):
            assert re.search(rf"(^|[^A-Za-z0-9]){word}", texts, re.I), (kind, entity_id, word)
    one = set(keys(search(client, "liaison")))
    assert set(keys(body)) < one


def test_space_separated_chinese_terms_are_all_required(client: httpx.Client, graph: KnowledgeGraph) -> None:
    rows = select(graph, PREFIXES + """SELECT DISTINCT ?e WHERE {
        ?e a bjrd:Practice ; rdfs:label|bjrd:evidence/oa:exact ?a , ?b .
        FILTER(CONTAINS(STR(?a), "代表") && CONTAINS(STR(?b), "预算")) }""")
    expected = {("practice", slug(r["e"])) for r in rows}
    assert expected
    body = search(client, "代表 预算")
    assert body["every_term"] is True
    assert expected <= set(keys(body))
    assert set(keys(body)) < set(keys(search(client, "代表")))


def test_terms_no_entity_has_together_give_those_with_some(client: httpx.Client) -> None:
    body = search(client, "月进站 海淀")
    assert body["total"] > 0 and body["every_term"] is False
    assert set(keys(search(client, "月进站"))) <= set(keys(body))
    assert ("district", "haidian") in keys(body)


@pytest.mark.parametrize(("partial", "word"), [("liais", "liaison"), ("budg", "budget"), ("inspec", "inspection")])
def test_partial_words_find_what_the_word_finds(client: httpx.Client, partial: str, word: str) -> None:
    assert set(keys(search(client, word))) <= set(keys(search(client, partial))) != set()


def test_a_misspelt_word_is_corrected(client: httpx.Client) -> None:
    body = search(client, "budjet")
    assert body["did_you_mean"] == "budget" and body["query"] == "budget"
    assert body["total"] > 0 and keys(body) == keys(search(client, "budget"))
    assert search(client, "budget")["did_you_mean"] is None
    assert search(client, "zzzqqqxx")["total"] == 0


@pytest.mark.parametrize(("typo", "name"), [("代表连络站", "代表联络站"), ("专题洵问", "专题询问")])
def test_a_mistyped_chinese_name_is_corrected(client: httpx.Client, graph: KnowledgeGraph, typo: str,
                                              name: str) -> None:
    assert select(graph, PREFIXES + f'SELECT ?c WHERE {{ ?c skos:prefLabel|skos:altLabel "{name}"@zh }}')
    body = search(client, typo)
    assert body["did_you_mean"] == name and body["total"] > 0
    assert keys(body) == keys(search(client, name))


def test_a_misspelt_word_among_others_is_corrected_too(client: httpx.Client) -> None:
    body = search(client, "budjet 代表")
    assert body["did_you_mean"] == "budget 代表"
    assert set(keys(search(client, "budget"))) <= set(keys(body))


@pytest.mark.parametrize(("traditional", "simple"), [("預算", "预算"), ("代表之傢", "代表之家"), ("監督", "监督")])
def test_traditional_characters_find_the_simplified(client: httpx.Client, traditional: str, simple: str) -> None:
    assert simplified(traditional) == simple
    body = search(client, traditional)
    assert body["total"] > 0 and body["query"] == simple
    assert keys(body) == keys(search(client, simple))


def test_chinese_synonyms_are_kept_and_named(client: httpx.Client, graph: KnowledgeGraph) -> None:
    body = search(client, "代表之家")
    assert {"家站", "代表联络站"} <= set(body["variants"])
    assert set(keys(search(client, "家站"))) <= set(keys(body))
    concept = select(graph, PREFIXES + 'SELECT ?c WHERE { ?c skos:altLabel|skos:prefLabel "代表之家"@zh }')
    assert body["best_match"]["id"] == slug(concept[0]["c"]) and body["best_match"]["type"] == "mechanism"
    assert search(client, "代表之傢")["best_match"] == body["best_match"]


def test_best_match_is_the_concept_or_district_the_text_names(client: httpx.Client, graph: KnowledgeGraph) -> None:
    haidian = search(client, "海淀区")["best_match"]
    assert haidian["type"] == "district" and haidian["id"] == "haidian" and haidian["districts"] == ["haidian"]
    inquiry = search(client, "special inquiry")["best_match"]
    users = select(graph, PREFIXES + f"""SELECT DISTINCT ?d WHERE {{
        ?p bjrd:district ?d ; bjrd:usesMechanism/skos:broader* <{inquiry["iri"]}> }}""")
    assert inquiry["type"] == "mechanism" and set(inquiry["districts"]) == {slug(r["d"]) for r in users}
    assert search(client, "deputy liaison")["best_match"] is None


def test_fact_hits_carry_value_unit_and_district(client: httpx.Client, graph: KnowledgeGraph) -> None:
    facts = [h for h in search(client, "63")["results"] if h["type"] == "fact"]
    assert facts
    for hit in facts:
        [row] = select(graph, PREFIXES + f"""SELECT ?v ?d ?u WHERE {{ <{hit["iri"]}> schema:value ?v ;
            bjrd:district ?d ; schema:unitText ?u FILTER(lang(?u) = "zh") }}""")
        assert hit["value"] == row["v"] and hit["district"] == slug(row["d"]) and hit["unit"]["zh"] == row["u"]
    assert all(h["value"] is None for h in search(client, "63")["results"] if h["type"] != "fact")


def test_the_text_indexed_per_literal_is_bounded() -> None:
    huge = "预算" * 100_000 + " budget" * 100_000
    assert len(tokens(huge).split()) <= MAX_INDEXED
    assert find_span("x" * (MAX_INDEXED + 10) + "预算", ["预算"], []) is None
