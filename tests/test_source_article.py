"""The article as an entity, over real HTTP: its author is a person with an IRI (not a blank
node), its page lists every quote that cites it with what each is evidence for, and it links the
readable full text."""

import html
import re

import httpx
import rdflib
from rdflib.namespace import DCTERMS, FOAF, RDF

from app.build.graph import KnowledgeGraph
from tests.helpers import PREFIXES, select

SCHEMA = rdflib.Namespace("https://schema.org/")


def test_author_is_a_person_entity(client: httpx.Client, graph: KnowledgeGraph) -> None:
    article = rdflib.URIRef(graph.iri("source", "article"))
    described = rdflib.Graph().parse(data=client.get("/id/source/article.ttl").content, format="turtle")
    authors = list(described.objects(article, SCHEMA.author))
    assert authors == [rdflib.URIRef(graph.iri("person", "xue-ruijie"))]
    assert list(described.objects(article, DCTERMS.creator)) == authors
    person = rdflib.Graph().parse(data=client.get("/id/person/xue-ruijie.ttl").content, format="turtle")
    assert {SCHEMA.Person, FOAF.Person} <= set(person.objects(authors[0], RDF.type))
    assert {str(n) for n in person.objects(authors[0], SCHEMA.name)} == {"薛睿杰", "Xue Ruijie"}
    assert (article, SCHEMA.author, authors[0]) in person  # the person's page names the article
    assert not any(isinstance(o, rdflib.BNode) for o in described.objects(article, None))


def test_article_description_carries_every_quote_citing_it(client: httpx.Client, graph: KnowledgeGraph) -> None:
    article = graph.iri("source", "article")
    quotes = select(graph, PREFIXES + f"SELECT ?q ?exact WHERE {{ ?q dcterms:source <{article}> ; oa:exact ?exact }}")
    assert len(quotes) >= 210
    described = rdflib.Graph().parse(data=client.get("/id/source/article.ttl").content, format="turtle")
    cited = set(described.subjects(DCTERMS.source, rdflib.URIRef(article)))
    assert cited == {rdflib.URIRef(r["q"]) for r in quotes}
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    assert {str(described.value(rdflib.URIRef(r["q"]), oa.exact)) for r in quotes} == {r["exact"] for r in quotes}


def test_article_page_lists_the_quotes_with_what_they_support(client: httpx.Client, graph: KnowledgeGraph) -> None:
    article = graph.iri("source", "article")
    page = client.get("/id/source/article", params={"lang": "zh"}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    rows = re.findall(r'<tr><td class="muted">(\d+)–(\d+)</td><td lang="zh-Hans"><a href="([^"]+)">', page.text)
    quotes = select(graph, PREFIXES + f"""SELECT ?q ?start WHERE {{ ?q dcterms:source <{article}> ; oa:start ?start }}
        ORDER BY ?start ?q""")
    assert [href.split("?")[0] for *_, href in rows] == [r["q"].removeprefix(graph.settings.base_iri) for r in quotes]
    assert [int(start) for start, *_ in rows] == [r["start"] for r in quotes]
    # A practice's quote links to its practice from the row.
    practice = select(graph, PREFIXES + """SELECT ?p ?q WHERE { ?p a bjrd:Practice ; bjrd:evidence ?q } LIMIT 1""")[0]
    quote_path = practice["q"].removeprefix(graph.settings.base_iri)
    row = re.search(rf'<a href="{re.escape(quote_path)}\?lang=zh">.*?</tr>', page.text, re.S)
    assert row and practice["p"].removeprefix(graph.settings.base_iri) in row.group(0)
    author = re.search(r'<dd class="ld-author">(.*?)</dd>', page.text, re.S)
    assert author and 'href="/id/person/xue-ruijie?lang=zh"' in author.group(1)
    assert "薛睿杰" in html.unescape(author.group(1))
    assert 'href="/read?lang=zh"' in page.text
    assert client.get("/read", params={"lang": "zh"}).status_code == 200


def test_person_index_lists_the_author(client: httpx.Client) -> None:
    page = client.get("/id/person/", params={"lang": "zh"}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "/id/person/xue-ruijie" in page.text
