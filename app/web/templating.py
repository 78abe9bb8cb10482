"""The one Jinja2 environment for server-side HTML (templates in app/templates/), and the static files
(app/static/)."""

import hashlib
import os
from pathlib import Path

from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.types import Scope

from app.rdf.negotiate import MAX_RANGE_PARAMS, MAX_RANGES, bounded_split, quality

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

VENDOR_DIR = STATIC_DIR / "vendor"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def read_vendor_version() -> str:
    """A short hash of vendor/VENDOR.md, which lists the SHA-256 of every vendored file: pages load
    the vendored builds as ``…?v=<this>``, so a new build is a new URL and the old one can be cached."""
    manifest = VENDOR_DIR / "VENDOR.md"
    return hashlib.sha256(manifest.read_bytes()).hexdigest()[:12] if manifest.exists() else "0"


VENDOR_VERSION = read_vendor_version()
templates.env.globals["vendor_version"] = VENDOR_VERSION


def html_lang(tag: str | None) -> str:
    """An HTML ``lang`` value for a page language or an RDF language tag: Chinese is ``zh-Hans`` (the
    article and every Chinese label are in simplified characters), anything else as it is."""
    return "zh-Hans" if tag == "zh" else (tag or "")


templates.env.filters["html_lang"] = html_lang

#: The vendored builds change only with VENDOR.md (and so with their ?v=): a year, immutable.
VENDOR_CACHE = "public, max-age=31536000, immutable"
#: The service's own scripts and stylesheets change with the code: revalidate after five minutes.
OWN_CACHE = "public, max-age=300"


class StaticAssets(StaticFiles):
    """``/static``: the vendored builds cached for a year, the service's own assets for minutes."""

    def file_response(self, full_path: "str | os.PathLike[str]", stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = Path(full_path).resolve().is_relative_to(VENDOR_DIR.resolve())
        response.headers["Cache-Control"] = VENDOR_CACHE if vendored else OWN_CACHE
        return response


def pick_lang(query_lang: str | None, accept_language: str | None) -> str:
    """``zh`` or ``en``: ``?lang=`` wins, then Accept-Language (the request's one reading of it,
    app/web/request_view.py): of its zh* and en* ranges the highest q, the first listed on a tie (q=0
    refuses one), read to its first MAX_RANGES ranges like every negotiation; then zh."""
    if query_lang in ("zh", "en"):
        return query_lang
    best, best_q = "zh", 0.0
    for part in bounded_split(accept_language or "", ",", MAX_RANGES):
        fields = bounded_split(part, ";", MAX_RANGE_PARAMS + 1)
        tag = fields[0].strip().lower()
        lang = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if lang is not None:
            q = quality(fields[1:])
            if q > best_q:
                best, best_q = lang, q
    return best
