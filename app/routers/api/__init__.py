"""The JSON routes under /api: which districts share which mechanism, with evidence.

Each subject has its module (districts, mechanisms, themes, topics, compare/matrix, search); this one
gathers them into the single ``router`` the app includes. Handlers stay thin: the answers come
from named queries (queries/*.rq) via ``app.api.catalog`` and are shaped in ``app.api.answers``.
"""

from fastapi import APIRouter

from app.routers.api import (
    compare as api_compare,
)
from app.routers.api import (
    districts as api_districts,
)
from app.routers.api import (
    mechanism_timeline as api_mechanism_timeline,
)
from app.routers.api import (
    mechanisms as api_mechanisms,
)
from app.routers.api import (
    search as api_search,
)
from app.routers.api import (
    sources as api_sources,
)
from app.routers.api import (
    themes as api_themes,
)
from app.routers.api import (
    topics as api_topics,
)

router = APIRouter()

#: Answered from the graph alone: ETags and 304 (app/web/caching.py).
CACHED = ("/api/*",)
for module in (api_districts, api_mechanisms, api_mechanism_timeline, api_themes, api_topics, api_compare, api_search,
               api_sources):
    router.include_router(module.router)
