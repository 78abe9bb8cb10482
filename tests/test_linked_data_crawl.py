"""Linked data as a whole: a crawler follows every link of every HTML page (0 broken links), and
every entity is reachable (another KG_BASE_IRI: tests/test_base_iri.py)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import pytest

from app.ld.describe import ENTITY_KINDS
from tests.helpers import LiveServer

#: Routes another engineer builds: a link to them must resolve only if the route exists.
OPTIONAL_ROUTES = ("/", "/query", "/explore")
SKIPPED = ("/docs", "/redoc", "/openapi.json")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Links(HTMLParser):
    """Every href/src of a page, and the ids fragments can point at."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if attr.get("id"):
            self.ids.add(attr["id"] or "")
        for name in ("href", "src"):
            if attr.get(name) and tag in ("a", "link", "script", "img"):
                self.links.append(attr[name] or "")


def route_paths(server: LiveServer) -> set[str]:
    return {getattr(route, "path", "") for route in server.app.routes}  # type: ignore[attr-defined]


def key_of(url: str) -> str:
    """A page is the same page whatever its ?lang= (the links it has do not depend on it)."""
    parts = urlsplit(url)
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"))
    return parts.path + ("?" + query if query else "")


def is_view(url: str) -> bool:
    """A sorted, filtered or faceted view of an index (``/id/mechanism/?kind=named&sort=…``): its
    links are the index's own, and every combination of its facet links is a page of its own."""
    parts = urlsplit(url)
    return parts.path.endswith("/") and any(k not in ("lang", "source") for k, _ in parse_qsl(parts.query))


def crawl(server: LiveServer, starts: list[str]) -> Iterator[tuple[str, str, int]]:
    """(page, link, status) of every broken link reachable from ``starts``."""
    routes = route_paths(server)
    host = urlsplit(server.url).netloc
    seen: set[str] = set()
    pages_ids: dict[str, set[str]] = {}
    fragments: list[tuple[str, str, str]] = []
    frontier = [(start, "(start)") for start in starts]
    with httpx.Client(base_url=server.url, timeout=30, headers={"Accept": BROWSER_ACCEPT}) as client, \
            ThreadPoolExecutor(8) as pool:
        while frontier:
            batch = []
            for url, referrer in frontier:
                key = key_of(url)
                if key not in seen:
                    seen.add(key)
                    batch.append((url, referrer))
            results = pool.map(lambda item: (item, client.get(item[0])), batch)
            frontier = []
            for (url, referrer), response in results:
                if response.status_code != 200:
                    yield referrer, url, response.status_code
                    continue
                if not response.headers.get("content-type", "").startswith("text/html"):
                    continue
                if is_view(url):
                    continue  # checked, but not followed: its links are the index's, re-sorted or filtered
                page = Links(response.text)
                pages_ids[key_of(url)] = page.ids
                for link in page.links:
                    target = urljoin(server.url + url, link)
                    parts = urlsplit(target)
                    if parts.scheme not in ("http", "https") or parts.netloc != host:
                        continue
                    if parts.path.startswith(SKIPPED) or (parts.path == "/sparql" and "query=" in parts.query):
                        continue
                    if parts.path in OPTIONAL_ROUTES and parts.path not in routes:
                        continue
                    local = parts.path + ("?" + parts.query if parts.query else "")
                    if parts.fragment:
                        fragments.append((url, local, parts.fragment))
                    frontier.append((local, url))
    for referrer, local, fragment in fragments:
        ids = pages_ids.get(key_of(local))
        if ids is not None and fragment not in ids:
            yield referrer, f"{local}#{fragment}", 0


@pytest.mark.slow
def test_crawl_from_district_index_finds_no_broken_link(server: LiveServer) -> None:
    starts = ["/id/district/"] + (["/"] if "/" in route_paths(server) else [])
    broken = list(crawl(server, starts))
    assert not broken, f"{len(broken)} broken links, e.g. {broken[:5]}"


def test_crawl_reaches_every_entity(server: LiveServer) -> None:
    """Every entity page is reachable from the indexes by links (no orphan IRIs)."""
    graph = server.graph
    base = graph.settings.base_iri + "/id/"
    expected = {q.subject.value.removeprefix(graph.settings.base_iri) for q in graph.loaded.data
                if q.subject.value.startswith(base)}
    reached: set[str] = set()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for kind in ENTITY_KINDS:
            page = Links(client.get(f"/id/{kind}/", headers={"Accept": "text/html"}).text)
            reached |= {urlsplit(link).path for link in page.links}
    assert expected <= reached, sorted(expected - reached)[:5]
