"""The one Jinja2 environment for server-side HTML (templates in app/templates/, assets in app/static/)."""

from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def pick_lang(query_lang: str | None, accept_language: str | None) -> str:
    """``zh`` or ``en``: ``?lang=`` wins, then the first of zh/en in Accept-Language, then zh."""
    if query_lang in ("zh", "en"):
        return query_lang
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"
