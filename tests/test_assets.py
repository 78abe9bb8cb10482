"""Front-end assets: the vendored builds, their record in VENDOR.md, and nothing fetched off-site.

The pages must work without internet: every script and stylesheet comes from /static, and none
of them fetches from another host. The browser test (test_browser.py) records the requests a
real browser makes; this file checks the static text, so it also covers code paths the browser
test does not run.
"""

import asyncio
import hashlib
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from app.config import ROOT
from app.routers import pages

STATIC = ROOT / "app" / "static"
VENDOR = STATIC / "vendor"
FRONTEND = ROOT / "frontend"
PAGES = ("/", "/query", "/explore")

#: Text in a script that makes the browser fetch a URL it names.
FETCHING_JS = [
    re.compile(r"""fetch\(\s*[`'"](?:https?:)?//"""),
    re.compile(r"""\.open\(\s*[`'"][A-Za-z]+[`'"]\s*,\s*[`'"](?:https?:)?//"""),
    re.compile(r"""\bsrc\s*=\s*\\?[`'"](?:https?:)?//"""),
    re.compile(r"""url\(\s*\\?['"]?(?:https?:)?//"""),
    re.compile(r"""@import\s+(?:url\()?\s*['"]?(?:https?:)?//"""),
    re.compile(r"""(?:importScripts|import|new\s+Worker)\(\s*[`'"](?:https?:)?//"""),
]
FETCHING_CSS = [re.compile(r"""url\(\s*['"]?(?:https?:)?//"""), re.compile(r"""@import\s""")]

#: Hosts front-end libraries commonly load fonts, code, tiles or vocabularies from.
KNOWN_REMOTE_HOSTS = ("fonts.googleapis.com", "fonts.gstatic.com", "cdn.jsdelivr.net", "unpkg.com",
                      "cdnjs.cloudflare.com", "code.jquery.com", "ajax.googleapis.com", "tile.openstreetmap.org",
                      "prefix.cc/popular", "prefix.cc/context", "lov.linkeddata.es", "validator.swagger.io")

#: Remote hosts present in a vendored build, and what keeps our pages from ever calling them.
DISABLED_REMOTE_HOSTS = {
    "lov.linkeddata.es": "only the YASQE property/class autocompleters call it; static/js/query.js removes them "
                         "(checked in the browser by test_query_editor_config_keeps_requests_on_origin)",
    "validator.swagger.io": "Swagger UI's validator badge; pages.api_docs sets validatorUrl to null",
}


class Refs(HTMLParser):
    """Every URL an HTML page names in src/href (and which of them are scripts or stylesheets)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.assets: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if attr.get(name):
                self.urls.append(attr[name] or "")
        if tag == "script" and attr.get("src"):
            self.assets.append(attr["src"] or "")
        if tag == "link" and attr.get("href") and "stylesheet" in (attr.get("rel") or ""):
            self.assets.append(attr["href"] or "")


def vendor_md() -> str:
    return (VENDOR / "VENDOR.md").read_text(encoding="utf-8")


def table_rows(markdown: str, header: str) -> list[list[str]]:
    """The body rows of the markdown table whose header line starts with ``header``."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    return rows


def lock_packages() -> dict[str, dict]:
    lock = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))
    return lock["packages"]


def page_assets(client: httpx.Client) -> set[str]:
    assets: set[str] = set()
    for path in PAGES:
        for lang in ("zh", "en"):
            assets.update(Refs(client.get(path, params={"lang": lang}).text).assets)
    return assets


def test_vendor_md_records_each_dependency_with_version_and_licence() -> None:
    manifest = json.loads((FRONTEND / "package.json").read_text(encoding="utf-8"))
    packages = lock_packages()
    rows = table_rows(vendor_md(), "| package | version | licence | files |")
    recorded = {row[0]: row for row in rows}
    assert set(recorded) == set(manifest["dependencies"]) == {"@zazuko/yasgui", "cytoscape", "swagger-ui-dist"}
    for name, (_, version, licence, _files) in recorded.items():
        assert manifest["dependencies"][name] == version, f"{name}: pin the exact version in package.json"
        assert packages[f"node_modules/{name}"]["version"] == version
        assert licence == packages[f"node_modules/{name}"]["license"]


def test_vendor_md_records_the_bundled_packages_as_locked() -> None:
    packages = lock_packages()
    rows = table_rows(vendor_md(), "| package | version | licence | bundled in |")
    assert rows
    for name, version, licence, _bundled_in in rows:
        assert packages[f"node_modules/{name}"]["version"] == version, name
        assert licence, name


def test_vendored_files_exist_and_match_their_recorded_hashes() -> None:
    rows = table_rows(vendor_md(), "| file | sha256 |")
    recorded = {path: digest for path, digest in rows}
    assert {"yasgui/yasgui.min.js", "yasgui/yasgui.min.css", "cytoscape/cytoscape.min.js"} <= set(recorded)
    for path, digest in recorded.items():
        data = (VENDOR / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{path} differs from the build VENDOR.md records"
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()} - {"VENDOR.md"}
    assert on_disk == set(recorded), "every vendored file is recorded, and only those"


def test_node_modules_is_not_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "node_modules/" in ignored
    assert not list(VENDOR.rglob("node_modules"))


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_names_no_url_on_another_host(client: httpx.Client, path: str, lang: str) -> None:
    refs = Refs(client.get(path, params={"lang": lang}).text)
    assert refs.urls
    for url in refs.urls:
        parts = urlsplit(url)
        assert not parts.netloc and parts.scheme in ("", "blob"), f"{path} links off-site: {url}"


def test_page_assets_are_served_from_static(client: httpx.Client) -> None:
    assets = page_assets(client)
    assert {"/static/style.css", "/static/pages.css", "/static/vendor/yasgui/yasgui.min.js",
            "/static/vendor/yasgui/yasgui.min.css", "/static/vendor/cytoscape/cytoscape.min.js",
            "/static/js/query.js", "/static/js/explore.js"} <= {asset.split("?")[0] for asset in assets}
    for asset in assets:
        assert asset.startswith("/static/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.content


def test_page_assets_fetch_nothing_from_another_host(client: httpx.Client) -> None:
    scan_assets(client, page_assets(client))


def test_query_script_removes_the_off_origin_autocompleters(client: httpx.Client) -> None:
    script = client.get("/static/js/query.js").text
    assert 'OFF_ORIGIN_AUTOCOMPLETERS = ["property", "class"]' in script
    assert "persistenceId: null" in script
    assert "prefixCcApi = null" in script


def scan_assets(client: httpx.Client, assets: set[str]) -> None:
    for asset in assets:
        text = client.get(asset).text
        patterns = FETCHING_CSS if asset.endswith(".css") else FETCHING_JS
        for pattern in patterns:
            match = pattern.search(text)
            assert match is None, f"{asset} fetches off-site: …{text[max(0, match.start() - 80):match.end() + 80]}…"
        for host in KNOWN_REMOTE_HOSTS:
            if host in text:
                assert host in DISABLED_REMOTE_HOSTS, f"{asset} names {host}"


def read_docs_page() -> str:
    """GET /docs from an app with FastAPI's CDN-based docs switched off and the pages router included."""
    app = FastAPI(docs_url=None, redoc_url=None)
    app.include_router(pages.router)

    async def get() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            response = await c.get("/docs")
            assert response.status_code == 200
            return response.text

    return asyncio.run(get())


def test_docs_route_serves_the_vendored_swagger_ui(client: httpx.Client) -> None:
    refs = Refs(read_docs_page())
    assert {asset.split("?")[0] for asset in refs.assets} == {"/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                                             "/static/vendor/swagger-ui/swagger-ui.css",
                                                             "/static/js/docs.js"}
    assert all(not urlsplit(url).netloc for url in refs.urls)
    assert '"validatorUrl": null' in read_docs_page()
    scan_assets(client, set(refs.assets))


def test_docs_page_loads_nothing_from_another_host(client: httpx.Client) -> None:
    refs = Refs(client.get("/docs").text)
    assert all(not urlsplit(url).netloc for url in refs.urls)
