"""The stored answers change nothing a client can see: a differential test.

Two services are built from the same checkout, one storing answers (the default) and one with
``KG_ANSWER_STORE_MB=0`` (every read runs its route). The same random requests — header lines
repeated, names in any case and order, q-values, ``format=`` forms, ``Accept-Encoding``,
``If-None-Match``, GET or HEAD — go to both, in the same order, over real HTTP; status, ``Content-Type``,
``Content-Language``, ``Content-Encoding``, ``Vary``, ``ETag`` and body must agree, on ``/id/*``,
``/sparql``, ``/api/*``, the pages and the dumps. A stored answer that one request could poison for
the next (the issue-23 bug: the store keyed on the last of two ``Accept`` lines, the route on the
first) makes the second service answer differently from the first.
"""

import random
import re
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import httpx
import pytest

from app.config import Settings
from tests.helpers import SUITE_LIMITS, LiveServer, serve_in_thread

pytestmark = pytest.mark.slow

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPTS = [BROWSER, "application/n-triples", "text/turtle", "application/ld+json", "application/rdf+xml",
           "application/sparql-results+json", "text/csv", "application/json", "text/tab-separated-values",
           "application/sparql-results+xml", "*/*", "text/*;q=0.5, application/json;q=0.4", "text/csv;q=0",
           "application/ld+json;q=0.2, text/turtle;q=0.9", "image/png", ""]
LANGUAGES = ["en", "zh-CN,zh;q=0.9", "en-US,en;q=0.8", "fr", "", "zh;q=0.1, en"]
CODINGS = ["gzip", "br", "identity", "gzip;q=0, br", "br;q=0.5, gzip", "*", ""]
FORMATS = ["json", "csv", "xml", "tsv", "turtle", "application/sparql-results+json", "json,csv", "text/csv", ""]


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[LiveServer, LiveServer]]:
    limits = {k: v for k, v in SUITE_LIMITS.items() if k in Settings.model_fields}
    common = Settings(query_workers=1, **limits)
    stored = serve_in_thread(common)
    fresh = serve_in_thread(common.model_copy(update={"answer_store_mb": 0}))
    yield next(stored), next(fresh)
    for server in (stored, fresh):
        server.close()


def read_paths(server: LiveServer) -> list[str]:
    """A few URLs of each kind the service stores answers for, found from the graph's own lists."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        themes = client.get("/api/themes").json()
        districts = client.get("/api/districts").json()
    entity = urlsplit(themes[0]["iri"]).path
    district = urlsplit(districts[0]["iri"]).path
    query = quote(f"SELECT ?t WHERE {{ <{themes[0]['iri']}> ?p ?t }} LIMIT 3")
    ids = f"{districts[0]['id']},{districts[1]['id']}"
    return [entity, district, f"{entity}?format=turtle", f"/sparql?query={query}", "/sparql", "/api/matrix",
            "/api/districts", f"/api/themes/{themes[0]['id']}", "/", f"/search?q={quote(districts[0]['label']['zh'])}",
            f"/compare?districts={ids}", "/void", "/export/SHA256SUMS", "/export?format=turtle"]


def random_request(rng: random.Random, paths: list[str],
                   etags: list[str]) -> tuple[str, str, list[tuple[str, str]]]:
    method = "HEAD" if rng.random() < 0.15 else "GET"
    path = rng.choice(paths)
    if path.startswith("/sparql?") and rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            path += "&format=" + quote(rng.choice(FORMATS))
    headers: list[tuple[str, str]] = []
    for name, values, repeat in (("Accept", ACCEPTS, 3), ("Accept-Language", LANGUAGES, 2),
                                 ("Accept-Encoding", CODINGS, 2)):
        for _ in range(rng.choice([0, 1, 1, repeat])):
            spelled = rng.choice([name, name.lower(), name.upper()])
            headers.append((spelled, rng.choice(values)))
    if etags and rng.random() < 0.3:
        headers.append(("If-None-Match", rng.choice([rng.choice(etags), '"nope"', "*"])))
    rng.shuffle(headers)
    return method, path, headers


def blank_nodes_renamed(body: bytes) -> bytes:
    """With its blank node labels (each build draws its own, and some syntaxes order by them) made one,
    and then its lines sorted."""
    renamed, count = re.subn(rb"_:[A-Za-z0-9]+", b"_:b", body)
    return b"\n".join(sorted(renamed.splitlines())) if count else body


def seen(response: httpx.Response) -> tuple[object, ...]:
    """What a client sees of an answer (the body as httpx decodes it from its content-coding; per-request
    tokens such as a CSP nonce, and blank node labels, left out)."""
    coding = response.headers.get("content-encoding")
    body: bytes | None = re.sub(rb'nonce="[^"]*"', b'nonce=""', response.content)
    if body is not None:
        body = blank_nodes_renamed(body)
    if response.url.path.startswith("/export"):
        body = None  # each build's dumps name its own load time: the two services' differ, stored or not
    return (response.status_code, response.headers.get("content-type"), response.headers.get("content-language"),
            coding, response.headers.get("vary"), response.headers.get("etag"), body)


def test_stored_answers_match_fresh_ones(pair: tuple[LiveServer, LiveServer]) -> None:
    stored, fresh = pair
    paths = read_paths(stored)
    rng = random.Random(23)
    etags: list[str] = []
    differences: list[str] = []
    with (httpx.Client(base_url=stored.url, timeout=60) as a, httpx.Client(base_url=fresh.url, timeout=60) as b):
        for _ in range(400):
            method, path, headers = random_request(rng, paths, etags)
            one = a.request(method, path, headers=headers)
            two = b.request(method, path, headers=headers)
            if one.headers.get("etag"):
                etags.append(one.headers["etag"])
            left, right = seen(one), seen(two)
            if left != right:
                fields = ("status", "content-type", "content-language", "content-encoding", "vary", "etag", "body")
                differing = [f for f, x, y in zip(fields, left, right, strict=True) if x != y]
                differences.append(f"{method} {path} {headers}: {differing} {left[:6]} vs {right[:6]}")
    assert not differences, f"{len(differences)} of 400 differ; first:\n" + "\n".join(differences[:5])


def test_the_poisoning_request_of_issue_23(pair: tuple[LiveServer, LiveServer]) -> None:
    """Two Accept lines, then a browser's one: the browser gets what its own Accept asks for."""
    stored, fresh = pair
    path = read_paths(stored)[0]
    for server in (stored, fresh):
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.get(path, headers=[("Accept", "application/n-triples"), ("Accept", BROWSER)])
            browser = client.get(path, headers={"Accept": BROWSER})
            assert browser.status_code == 200
            assert browser.headers["content-type"].startswith("text/html"), server.url
