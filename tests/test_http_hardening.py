"""Smaller findings of issue 13: odd entity ids are 404, read-only graphs are 403 to writers,
DROP of a missing graph is a 4xx, HTML carries security headers, `kg serve` bounds headers."""

import asyncio
import base64
import hashlib
import re
import socket
from collections.abc import Iterator

import httpx
import pytest
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.web.headers import SecurityHeaders
from tests.helpers import LiveServer, kg_serve, serve_in_thread

TOKEN = "hardening-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "https://bjrd-kg.example.org"


@pytest.mark.parametrize("slug", ["a%20b", "a%3Eb", "a%7Bb", "a%22b", "%3C", "a%5Cb"])
@pytest.mark.parametrize("accept", ["text/html", "text/turtle"])
def test_entity_id_with_iri_forbidden_character_is_404(client: httpx.Client, slug: str, accept: str) -> None:
    response = client.get(f"/id/district/{slug}", headers={"Accept": accept})
    assert response.status_code == 404


@pytest.fixture(scope="module")
def writable() -> Iterator[LiveServer]:
    yield from serve_in_thread(Settings(write_token=TOKEN, query_workers=1, query_timeout_s=5))


@pytest.fixture()
def w(writable: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=writable.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("graph", [f"{BASE}/graph/ontology", f"{BASE}/graph/meta", f"{BASE}/graph/inferred"])
def test_read_only_graph_put_and_update_are_403(w: httpx.Client, graph: str) -> None:
    version = w.get("/ready").json()["graph_version"]
    put = w.put("/graph-store", params={"graph": graph}, content=b"<urn:a> <urn:b> <urn:c> .",
                headers={**AUTH, "Content-Type": "application/n-triples"})
    assert put.status_code == 403
    assert "read-only" in put.text
    update = w.post("/update", content=f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:b> <urn:c> }} }}".encode(),
                    headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert update.status_code == 403
    assert f"<{graph}> is read-only" in update.text
    assert w.get("/ready").json()["graph_version"] == version


def test_update_dropping_the_ontology_is_403(w: httpx.Client) -> None:
    response = w.post("/update", content=f"DROP GRAPH <{BASE}/graph/ontology>".encode(),
                      headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code == 403


def test_drop_missing_graph_is_400(w: httpx.Client) -> None:
    response = w.post("/update", content=b"DROP GRAPH <urn:x-test:missing>",
                      headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code == 400
    assert "update could not be applied" in response.text


@pytest.mark.parametrize("path", ["/", "/query", "/explore", "/docs", "/id/district/haidian.html", "/ontology",
                                  "/read", "/search?q=%E4%BB%A3%E8%A1%A8", "/compare?districts=haidian,daxing",
                                  "/id/mechanism/", "/void", "/no-such-page"])
def test_html_pages_carry_security_headers(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    if response.status_code == 404 and path != "/no-such-page":
        pytest.skip(f"{path} is not served")
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "script-src 'self'" in policy and "'unsafe-eval'" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    # No inline script is trusted (no 'unsafe-inline', hash or nonce), and the page needs none.
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src")).split()
    assert script_src == ["script-src", "'self'"]
    for attrs, _ in re.findall(rb"<script([^>]*)>(.*?)</script>", response.content, re.DOTALL):
        assert b"src=" in attrs or b'type="application/json"' in attrs, attrs


def test_json_answers_carry_nosniff_without_csp(client: httpx.Client) -> None:
    response = client.get("/api/districts")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


def test_policy_trusts_no_script_found_in_the_page() -> None:
    """A script that found its way into a page (say, through a template bug) is not allowed by the
    policy: the policy is not derived from the page (it used to name the hash of every inline script)."""
    injected = b"<!doctype html><title>t</title><script>document.title = 'ran'</script>"

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        await HTMLResponse(injected)(scope, receive, send)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=SecurityHeaders(page))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get("/")

    policy = asyncio.run(get()).headers["content-security-policy"]
    digest = base64.b64encode(hashlib.sha256(b"document.title = 'ran'").digest()).decode()
    assert digest not in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "nonce-" not in policy


@pytest.mark.slow
def test_kg_serve_refuses_oversized_headers() -> None:
    with kg_serve() as (_, port):
        ok = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30)
        assert ok.status_code == 200
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
            answer = b""
            while len(answer) < 12:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 431")
