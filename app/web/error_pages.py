"""HTML error pages for browsers: outside /api/ and /sparql, a client whose Accept prefers HTML to
JSON gets a page (with a search box, and the path's last segment as a guess) instead of a JSON or
plain-text error. Chosen by the one negotiation table, JSON first (the default for ``*/*``)."""

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import Response

from app.errors import NotAcceptable
from app.rdf.formats import BY_NAME, Format
from app.rdf.negotiate import negotiate
from app.web.request_view import view_of
from app.web.templating import pick_lang, templates

#: Paths whose clients are programs, never browsers: they keep their JSON or text errors.
MACHINE_PATHS = ("/api/", "/sparql", "/static/")
_OFFERED = (Format("json", "application/json", "json", "api"), BY_NAME["html"])


def wants_html(request: Request) -> bool:
    """Whether the client prefers HTML to JSON (a browser), on a path that has HTML pages."""
    path = request.url.path
    if path.startswith(MACHINE_PATHS):
        return False
    try:
        return negotiate(view_of(request).accept, _OFFERED) is _OFFERED[1]
    except NotAcceptable:
        return False


def html_error_page(request: Request, status_code: int, detail: str,
                    headers: Mapping[str, str] | None) -> Response | None:
    """The error page, or None when the client does not want HTML."""
    if not wants_html(request):
        return None
    lang = pick_lang(request.query_params.get("lang"), view_of(request).accept_language)
    guess = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return templates.TemplateResponse(
        request, "pages/error.html",
        {"lang": lang, "status": status_code, "detail": detail, "path": request.url.path, "guess": guess},
        status_code=status_code, headers={**(headers or {}), "Vary": "Accept"})
