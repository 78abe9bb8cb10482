"""One reading of each request (app/web/request_view.py) and bounded work before anything runs
(app/web/bodies.py), over real HTTP: repeated header lines, singletons given twice, too many lines,
parameters, bodies counted as they arrive, the write token's scheme in any case, and redirects built
from the public URL. Each attack of issue 23 here failed before the change."""

import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pyoxigraph as ox
import pytest

import app
from app.config import Settings
from app.rdf.negotiate import MAX_RANGES, parse_accept
from app.web.caching import Request, StoredAnswers, store
from app.web.request_view import MAX_HEADER_LINES, MAX_PARAMS, SINGLETONS, RequestView, max_query_string
from app.writes.provenance import token_id
from tests.helpers import LiveServer, serve_in_thread

TOKEN = "request-view-token-0123456789"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
META = "https://bjrd-kg.example.org/graph/meta"
ASK = "ASK { ?s ?p ?o }"


@pytest.fixture(scope="module")
def front() -> Iterator[LiveServer]:
    """A writable service with small caps (a 2 KB query, 64 KB bodies) whose public URL is not its address."""
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, max_query_bytes=2048,
                                        max_body_bytes=64 * 1024, public_url="https://kg.example.net"))


@pytest.fixture()
def client(front: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=front.url, timeout=30) as c:
        yield c


def entity_path(client: httpx.Client) -> str:
    return urlsplit(client.get("/api/themes").json()[0]["iri"]).path


# --------------------------------------------------------------------------- the view itself


def test_repeated_list_fields_are_joined_in_order_and_names_fold_case() -> None:
    view = RequestView.read([(b"accept", b"text/turtle"), (b"Accept-Language", b"en"), (b"ACCEPT", b"text/html"),
                             (b"accept", b""), (b"cookie", b"a=1"), (b"cookie", b"b=2")])
    assert view.accept == "text/turtle, text/html"
    assert view.accept_language == "en"
    assert view.get("cookie") == "a=1; b=2"
    assert view.raw()[0] == (b"accept", b"text/turtle, text/html")


@pytest.mark.parametrize("name", sorted(SINGLETONS))
def test_a_singleton_given_twice_is_refused(name: str) -> None:
    with pytest.raises(Exception, match=f"header {name} is given more than once"):
        RequestView.read([(name.encode(), b"1"), (name.title().encode(), b"1")])


@pytest.mark.parametrize("header", ["Bearer t0k", "bearer t0k", "BEARER t0k", "bEaReR   t0k  "])
def test_the_bearer_scheme_is_read_in_any_case(header: str) -> None:
    assert RequestView.read([(b"authorization", header.encode())]).bearer == "t0k"


def test_negotiation_reads_a_bounded_number_of_ranges() -> None:
    header = ", ".join(f"type{i}/sub;q=0.{i % 9 + 1}" for i in range(10_000))
    ranges = parse_accept(header)
    assert len(ranges) == MAX_RANGES
    assert [r.type for r in ranges[:3]] == ["type0", "type1", "type2"]


def test_a_stored_answers_key_counts_against_the_budget() -> None:
    """Long Accept headers (up to 64 KiB each) on tiny answers cannot grow the store past its budget."""
    answers = StoredAnswers(budget=100_000)
    for i in range(100):
        key = ("http", "/api/districts", "", "text/x-" * 1_500 + str(i), "")
        answers.put(key, store("v", Request(key, "", ""), [], b"{}", None, 1024))
    assert answers.size <= 100_000
    assert sum(len(part) for key in answers.entries for part in key) <= 100_000


#: Where header lines may be read as they came: the view itself, and the request id (read by the
#: observability layer, outside the request front, so that even a refused request carries one).
READERS = {"app/web/request_view.py", "app/web/observability.py"}
_DIRECT = re.compile(r"""request\.headers|scope\[["']headers["']\]|Headers\(scope""")


def test_no_other_layer_reads_the_header_lines() -> None:
    """By construction: every reading goes through the view (FastAPI's Header() parameters read the
    lines the front wrote back, one per name), so no two layers can read a request differently."""
    root = Path(app.__file__).parent
    readers = {str(path.relative_to(root.parent)) for path in root.rglob("*.py") if _DIRECT.search(path.read_text())}
    assert readers <= READERS, sorted(readers - READERS)


# --------------------------------------------------------------------------- over HTTP


def test_two_accept_lines_negotiate_as_one_joined_header(client: httpx.Client) -> None:
    """The route and the stored answers read the same thing: N-Triples first, then HTML."""
    path = entity_path(client)
    joined = client.get(path, headers={"Accept": f"application/n-triples, {BROWSER}"})
    repeated = client.get(path, headers=[("Accept", "application/n-triples"), ("accept", BROWSER)])
    browser = client.get(path, headers={"Accept": BROWSER})
    assert joined.headers["content-type"].startswith("application/n-triples")
    assert repeated.headers["content-type"] == joined.headers["content-type"]
    assert repeated.content == joined.content
    assert browser.headers["content-type"].startswith("text/html")


def test_two_accept_language_lines_on_a_page(client: httpx.Client) -> None:
    """The first line decides (zh), stored or not; a reader who sends only en then gets English."""
    repeated = client.get("/", headers=[("Accept-Language", "zh-CN"), ("Accept-Language", "en")])
    english = client.get("/", headers={"Accept-Language": "en"})
    assert repeated.status_code == english.status_code == 200
    assert '<html lang="zh' in repeated.text
    assert '<html lang="en' in english.text


@pytest.mark.parametrize("lines", [["zh;q=0.1, en"], ["zh;q=0.1", "en"], ["fr", "en;q=0.3"]])
def test_accept_language_is_chosen_by_q(client: httpx.Client, lines: list[str]) -> None:
    """The page's language is the highest q among zh and en, in one line or several (it was the first)."""
    response = client.get("/", headers=[("Accept-Language", line) for line in lines])
    assert response.status_code == 200
    assert '<html lang="en' in response.text


@pytest.mark.parametrize("line", ["Content-Type: application/sparql-query", "Host: a.example",
                                  f"Authorization: Bearer {TOKEN}", "X-Request-ID: abc"])
def test_a_singleton_header_twice_is_400_naming_it(front: LiveServer, line: str) -> None:
    """(A second Content-Length is refused by the HTTP parser itself, before the application.)"""
    head = (f"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            f"Content-Length: {len(ASK)}\r\n{line}\r\n{line.lower()}\r\nConnection: close\r\n\r\n")
    answer = raw_request(front, head.encode() + ASK.encode())
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    name = line.split(":")[0].lower()
    assert f"header {name} is given more than once".encode() in answer


def test_too_many_header_lines_is_431(client: httpx.Client) -> None:
    headers = [("X-Filler", str(i)) for i in range(MAX_HEADER_LINES + 1)]
    response = client.get("/health", headers=headers)
    assert response.status_code == 431
    assert str(MAX_HEADER_LINES) in response.text


def test_too_many_parameters_is_400_naming_the_cap(client: httpx.Client) -> None:
    url = "/sparql?query=" + quote(ASK) + "&f=1" * (MAX_PARAMS + 10)
    response = client.get(url)
    assert response.status_code == 400
    assert f"more than {MAX_PARAMS} parameters" in response.text
    form = "query=" + quote(ASK) + "&f=1" * (MAX_PARAMS + 10)
    response = client.post("/sparql", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert f"more than {MAX_PARAMS} parameters" in response.text


def test_an_update_form_of_too_many_parameters_is_400(client: httpx.Client) -> None:
    """/update's form body is capped in number like every other (it was split whole on the event loop)."""
    update = ('INSERT DATA { <https://bjrd-kg.example.org/id/mechanism/monthly-station-visit> '
              '<http://www.w3.org/2004/02/skos/core#altLabel> "参数"@zh }')
    form = "update=" + quote(update) + "&f=1" * (MAX_PARAMS + 10)
    response = client.post("/update", content=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400
    assert f"more than {MAX_PARAMS} parameters" in response.text


def test_a_query_string_past_its_cap_is_414(client: httpx.Client, front: LiveServer) -> None:
    limit = max_query_string(front.graph.settings)
    response = client.get("/api/districts?" + "x" * (limit + 1))
    assert response.status_code == 414
    assert str(limit) in response.json()["detail"]


def test_many_formats_are_bounded_and_still_answered(client: httpx.Client) -> None:
    """format=json,json,… within the form cap: one JSON answer (the alternatives read once each)."""
    response = client.get("/sparql", params={"query": ASK, "format": ",".join(["json"] * 60)})
    assert response.status_code == 200
    assert response.json()["boolean"] is True
    response = client.get("/sparql", params={"query": ASK, "format": ",".join(["json"] * (MAX_RANGES + 1))})
    assert response.status_code == 400
    assert f"more than {MAX_RANGES} formats" in response.text


def chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_a_chunked_query_body_gets_the_query_cap(client: httpx.Client, front: LiveServer) -> None:
    """Without Content-Length, a POST /sparql body is counted against KG_MAX_QUERY_BYTES as it comes:
    413 naming it, although the body is under KG_MAX_BODY_BYTES."""
    cap = front.graph.settings.max_query_bytes
    body = ASK.encode() + b" #" + b"x" * (4 * cap)
    response = client.post("/sparql", content=chunks(body), headers={"Content-Type": "application/sparql-query"})
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert f"limit of {cap} bytes (KG_MAX_QUERY_BYTES)" in response.text


def test_a_chunked_form_of_formats_gets_the_query_cap(client: httpx.Client, front: LiveServer) -> None:
    """The issue's freeze: format=json,json,… as a chunked form body (here 60 KB, under the body cap)."""
    settings = front.graph.settings
    body = ("query=" + quote(ASK) + "&format=" + ",".join(["json"] * 12_000)).encode()
    assert 3 * settings.max_query_bytes + 4096 < len(body) < settings.max_body_bytes
    response = client.post("/sparql", content=chunks(body),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "KG_MAX_QUERY_BYTES" in response.text


def test_a_body_on_any_route_is_counted_chunked(client: httpx.Client, front: LiveServer) -> None:
    cap = front.graph.settings.max_body_bytes
    response = client.put("/graph-store?default", content=chunks(b"#" * (2 * cap)),
                          headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 413
    assert f"limit of {cap} bytes (KG_MAX_BODY_BYTES)" in response.text


def meta_writers(server: LiveServer) -> set[str]:
    store = server.graph.store.store  # type: ignore[union-attr]
    prov = "http://www.w3.org/ns/prov#wasAssociatedWith"
    return {q.object.value for q in store.quads_for_pattern(None, ox.NamedNode(prov), None, ox.NamedNode(META))}


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_the_writer_recorded_is_the_tokens_whatever_the_schemes_case(front: LiveServer, scheme: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    label = f"写入者-{scheme}"
    update = (f'INSERT DATA {{ <https://bjrd-kg.example.org/id/mechanism/monthly-station-visit> '
              f'<http://www.w3.org/2004/02/skos/core#altLabel> "{label}"@zh }}')
    with caplog.at_level(logging.INFO, logger="app.writes"):
        response = httpx.post(front.url + "/update", content=update, timeout=60, headers={
            "Authorization": f"{scheme} {TOKEN}", "Content-Type": "application/sparql-update"})
    assert response.status_code == 204, response.text
    assert meta_writers(front) == {f"{META}/writer/{token_id(TOKEN)}"}
    lines = [r.getMessage() for r in caplog.records if r.name == "app.writes"]
    assert lines and token_id(TOKEN) in lines[-1]


def raw_request(server: LiveServer, data: bytes) -> bytes:
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_the_trailing_slash_redirect_is_built_from_the_public_url(front: LiveServer) -> None:
    """A Host header of the client's choosing does not reach the Location (KG_PUBLIC_URL does)."""
    answer = raw_request(front, b"GET /api/districts/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    assert answer.split(b"\r\n", 1)[0].split(b" ")[1] in (b"307", b"308")
    location = next(line for line in answer.split(b"\r\n") if line.lower().startswith(b"location:"))
    assert location.split(b":", 1)[1].strip() == b"https://kg.example.net/api/districts"


def test_without_a_public_url_the_redirect_names_the_listen_address() -> None:
    for server in serve_in_thread(Settings(query_workers=1)):
        answer = raw_request(server, b"GET /api/districts/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        location = next(line for line in answer.split(b"\r\n") if line.lower().startswith(b"location:"))
        assert location.split(b":", 1)[1].strip() == (server.url + "/api/districts").encode()
