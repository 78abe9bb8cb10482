"""Every entity page says how to cite it: its label, its IRI and the article it comes from (read from the graph)."""

import html
import re

import httpx
import pytest

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, select


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_entity_pages_say_how_to_cite_them(client: httpx.Client, graph: KnowledgeGraph, lang: str) -> None:
    title = select(graph, PREFIXES + """PREFIX schema: <https://schema.org/>
        SELECT ?t WHERE { ?a a schema:Article ; dcterms:title ?t FILTER(lang(?t) = "zh") }""")[0]["t"]
    practice = client.get("/api/districts/haidian").json()["practices"][0]["id"]
    for kind, slug in (("district", "haidian"), ("mechanism", "monthly-station-visit"), ("practice", practice)):
        iri = graph.iri(kind, slug)
        label = select(graph, PREFIXES + f'SELECT ?l WHERE {{ <{iri}> rdfs:label ?l FILTER(lang(?l) = "{lang}") }}')
        page = client.get(f"/id/{kind}/{slug}", params={"lang": lang}, headers={"Accept": "text/html"}).text
        cite = re.search(r'<p class="ld-cite" id="how-to-cite">(.*?)</p>', page, re.S)
        assert cite, (kind, slug)
        text = html.unescape(cite.group(1))
        assert iri in text and title.strip("《》") in text
        assert label and label[0]["l"] in text


def test_cite_line_names_the_release_and_its_dump(client: httpx.Client, graph: KnowledgeGraph) -> None:
    release = client.get("/export/SHA256SUMS").headers["x-release"]
    page = client.get("/id/district/haidian", params={"lang": "en"}, headers={"Accept": "text/html"}).text
    cite = re.search(r'<p class="ld-cite" id="how-to-cite">(.*?)</p>', page, re.S)
    assert cite
    href = f"/export/{release}/bjrd-kg.ttl"
    assert f'href="{href}"' in cite.group(1)
    assert f"release {release}" in html.unescape(re.sub(r"<[^>]+>", "", cite.group(1)))
    assert client.get(href).status_code == 200
