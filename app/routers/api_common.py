"""What the /api routers share: paging, rendering answers once, and their OpenAPI documentation.

Answers are pure functions of the catalog (one per graph version), so their JSON is rendered
once per catalog, route arguments and page, and served from memory after that; the route's
``response_model`` still documents the shape (FastAPI passes a returned Response through).
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Query, Response
from pydantic import TypeAdapter

from app.api.catalog import Catalog

TOTAL_HEADER = "X-Total-Count"
JSON = "application/json"
ANY = TypeAdapter(Any)
T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    limit: int | None
    offset: int

    def slice(self, items: Sequence[Any]) -> list[Any]:
        end = None if self.limit is None else self.offset + self.limit
        return list(items[self.offset:end])


async def get_page(
    limit: Annotated[int | None, Query(ge=1, le=1000, description="At most this many items (default: all)")] = None,
    offset: Annotated[int, Query(ge=0, description="Skip this many items first")] = 0,
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(get_page)]

Answer = Callable[..., Any]


#: Answers not in the catalog's memo yet are computed in a thread, at most two at once. At 10M triples
#: a first search takes seconds (29.5 s for 代表), a comparison several: on the event loop that would
#: stop every other request, and many at once would take every core.
_COMPUTING = threading.BoundedSemaphore(2)


async def off_loop(compute: Callable[[], T]) -> T:
    """``compute()`` in a worker thread, waiting for one of the two computing slots."""

    def run() -> T:
        with _COMPUTING:
            return compute()

    return await anyio.to_thread.run_sync(run)


async def render(answer: Answer, catalog: Catalog, args: tuple[Any, ...], page: Page | None) -> bytes:
    """The JSON of ``answer(catalog, *args)`` (one page of it for a list), computed once per graph version
    (off the event loop the first time)."""

    def build() -> bytes:
        value = answer(catalog, *args)
        return ANY.dump_json(value if page is None else page.slice(value))

    key = ("json", answer.__module__, answer.__qualname__, args, page)
    body = catalog.memo.peek(key)
    if body is None:
        body = await off_loop(lambda: catalog.memo.get(key, build, size=1024))
    assert isinstance(body, bytes)
    return body


async def respond(answer: Answer, catalog: Catalog, *args: Any, page: Page | None = None) -> Response:
    """A JSON response with the (cached) answer; a paged list also gets its total in X-Total-Count."""
    body = await render(answer, catalog, args, page)
    headers = None if page is None else {TOTAL_HEADER: str(len(answer(catalog, *args)))}  # memoized by now
    return Response(body, media_type=JSON, headers=headers)


PAGED = {"headers": {TOTAL_HEADER: {"description": "Number of items before limit/offset",
                                    "schema": {"type": "integer"}}}}


def documented(example: Any, *, paged: bool = False, not_found: str | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for a route: its 200 example, and the 404 it can answer."""
    responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {"application/json": {"example": example}}, **(PAGED if paged else {})},
    }
    if not_found:
        responses[404] = {
            "description": f"Unknown {not_found} id",
            "content": {"application/json": {"example": {
                "detail": f"Unknown {not_found} id 'nowhere'. Valid {not_found} ids: …"}}},
        }
    return responses
