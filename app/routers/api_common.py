"""Parameters and documentation shared by the /api routers: paging, errors, examples."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Response

T = TypeVar("T")

TOTAL_HEADER = "X-Total-Count"


@dataclass(frozen=True)
class Page:
    limit: int | None
    offset: int

    def apply(self, items: Sequence[T], response: Response) -> list[T]:
        """The page of ``items``; the total goes in the X-Total-Count header."""
        response.headers[TOTAL_HEADER] = str(len(items))
        end = None if self.limit is None else self.offset + self.limit
        return list(items[self.offset:end])


def get_page(
    limit: Annotated[int | None, Query(ge=1, le=1000, description="At most this many items (default: all)")] = None,
    offset: Annotated[int, Query(ge=0, description="Skip this many items first")] = 0,
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(get_page)]

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
