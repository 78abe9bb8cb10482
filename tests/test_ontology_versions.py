"""The ontology's version IRIs resolve, over real HTTP: ``owl:versionIRI`` (and ``owl:priorVersion``)
of /ontology dereference by content negotiation to the ontology as of that version."""

import re
from urllib.parse import urlsplit

import httpx
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF

ONTOLOGY = rdflib.URIRef("https://bjrd-kg.example.org/ontology")


def ontology_graph(client: httpx.Client, path: str, accept: str = "text/turtle") -> rdflib.Graph:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200, path
    fmt = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}[accept]
    return rdflib.Graph().parse(data=response.content, format=fmt)


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/rdf+xml"])
def test_version_iri_resolves_to_the_current_ontology(client: httpx.Client, accept: str) -> None:
    current = ontology_graph(client, "/ontology")
    version_iri = current.value(ONTOLOGY, OWL.versionIRI)
    info = str(current.value(ONTOLOGY, OWL.versionInfo))
    assert version_iri is not None and str(version_iri).endswith("/" + info)
    pinned = ontology_graph(client, urlsplit(str(version_iri)).path, accept)
    assert isomorphic(pinned, current)


def test_prior_version_resolves_to_that_version(client: httpx.Client) -> None:
    current = ontology_graph(client, "/ontology")
    prior = current.value(ONTOLOGY, OWL.priorVersion)
    assert prior is not None
    older = ontology_graph(client, urlsplit(str(prior)).path)
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in older
    assert older.value(ONTOLOGY, OWL.versionIRI) == prior
    assert str(older.value(ONTOLOGY, OWL.versionInfo)) == str(prior).rsplit("/", 1)[-1]
    assert str(older.value(ONTOLOGY, OWL.versionInfo)) != str(current.value(ONTOLOGY, OWL.versionInfo))


def test_ontology_page_shows_its_version_and_links_the_version_iri(client: httpx.Client) -> None:
    current = ontology_graph(client, "/ontology")
    info = str(current.value(ONTOLOGY, OWL.versionInfo))
    page = client.get("/ontology", params={"lang": "en"}, headers={"Accept": "text/html"}).text
    version = re.search(r'<dd class="ld-version">(.*?)</dd>', page, re.S)
    assert version and f'<span class="version-info">{info}</span>' in version.group(1)
    assert f'href="/ontology/{info}"' in version.group(1)
    older = client.get("/ontology/1.0.0", params={"lang": "en"}, headers={"Accept": "text/html"})
    assert older.status_code == 200 and '<span class="version-info">1.0.0</span>' in older.text


def test_unknown_version_is_404_naming_the_versions(client: httpx.Client) -> None:
    response = client.get("/ontology/9.9.9", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert "/ontology/1.0.0" in response.text
