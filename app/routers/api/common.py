"""What the /api routers share: paging, rendering answers once, and their OpenAPI documentation.

Answers are pure functions of the catalog (one per graph version), so their JSON is rendered
once per catalog, route arguments and page, and served from memory after that; the route's
``response_model`` still documents the shape (FastAPI passes a returned Response through).
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_args

import anyio.to_thread
from fastapi import Depends, Query, Response
from pydantic import BaseModel, TypeAdapter

from app.api.catalog import Catalog
from app.errors import BadRequest
from app.ld.tables import records_csv

TOTAL_HEADER = "X-Total-Count"
JSON = "application/json"
CSV = "text/csv; charset=utf-8; header=present"
#: What ``?format=`` may ask of an /api list route (json: the default).
TABLE_FORMATS = ("json", "csv")
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


async def get_table_format(format: Annotated[str | None, Query(
        description="json (default) or csv: the same list as a table (UTF-8, no BOM; a label as label_zh and "
        "label_en; a list as its values or ids joined by ;), for pandas, R and spreadsheets")] = None) -> str:
    chosen = "json" if format is None else format.strip().lower()
    if chosen not in TABLE_FORMATS:
        raise BadRequest(f"Unknown format {format!r}; use one of: {', '.join(TABLE_FORMATS)} (default json).")
    return chosen


TableFormatDep = Annotated[str, Depends(get_table_format)]


def columns_of(model: type[BaseModel]) -> list[str]:
    """The CSV columns of a model's rows when there is none to read them from: a label as two."""
    columns = []
    for name, info in model.model_fields.items():
        options = get_args(info.annotation) or (info.annotation,)  # Label | None: either
        if any(isinstance(o, type) and issubclass(o, BaseModel) and set(o.model_fields) == {"zh", "en"}
               for o in options):
            columns += [f"{name}_zh", f"{name}_en"]
        else:
            columns.append(name)
    return columns

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


async def render_csv(answer: Answer, catalog: Catalog, args: tuple[Any, ...], page: Page | None,
                     row: type[BaseModel] | None = None, items: Callable[[Any], Sequence[Any]] | None = None) -> bytes:
    """The CSV of a list answer (one page of it), one row per item, computed once per graph version;
    ``items``: where the list is in the answer (default: the answer); ``row``: the model of an item."""

    def build() -> bytes:
        value = answer(catalog, *args)
        listed = list(items(value) if items is not None else value)
        records = ANY.dump_python(listed if page is None else page.slice(listed), mode="json")
        return records_csv(records, columns_of(row) if row is not None else ())

    key = ("csv", answer.__module__, answer.__qualname__, args, page)
    body = catalog.memo.peek(key)
    if body is None:
        body = await off_loop(lambda: catalog.memo.get(key, build, size=1024))
    assert isinstance(body, bytes)
    return body


async def respond(answer: Answer, catalog: Catalog, *args: Any, page: Page | None = None, fmt: str = "json",
                  row: type[BaseModel] | None = None) -> Response:
    """A JSON response with the (cached) answer, or for ``fmt`` csv a list answer as a table (``row``: the
    model of its items); a paged list also gets its total in X-Total-Count."""
    if fmt == "csv":
        body = await render_csv(answer, catalog, args, page, row)
        return Response(body, media_type=CSV, headers={TOTAL_HEADER: str(len(answer(catalog, *args)))})
    body = await render(answer, catalog, args, page)
    headers = None if page is None else {TOTAL_HEADER: str(len(answer(catalog, *args)))}  # memoized by now
    return Response(body, media_type=JSON, headers=headers)


PAGED = {"headers": {TOTAL_HEADER: {"description": "Number of items before limit/offset",
                                    "schema": {"type": "integer"}}}}


def documented(example: Any, *, paged: bool = False, not_found: str | None = None,
               table: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for a route: its 200 example (and its CSV form, for a ``table``: a route taking
    ``?format=csv``), and the 404 it can answer."""
    content: dict[str, Any] = {"application/json": {"example": example}}
    if table:
        content["text/csv"] = {"schema": {"type": "string", "description": "?format=csv: one row per item"}}
    responses: dict[int | str, dict[str, Any]] = {200: {"content": content, **(PAGED if paged else {})}}
    if table:
        responses[400] = {"description": "Unknown format", "content": {"application/json": {"example": {
            "detail": "Unknown format 'xlsx'; use one of: json, csv (default json)."}}}}
    if not_found:
        responses[404] = {
            "description": f"Unknown {not_found} id",
            "content": {"application/json": {"example": {
                "detail": f"Unknown {not_found} id 'nowhere'. Valid {not_found} ids: …"}}},
        }
    return responses
