"""/api/compare and /api/matrix: what districts have in common."""

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from pydantic import AfterValidator, BeforeValidator

from app.api import compare as service
from app.api.across.years import YearComparison, item_key, parse_item
from app.api.catalog import Catalog, catalog_for
from app.api.examples import example
from app.api.models import Comparison, Matrix
from app.deps import GraphDep
from app.ld.tables import write_csv
from app.rdf.formats import BY_NAME, Format
from app.rdf.negotiate import negotiate
from app.routers.api.common import CSV, JSON, TABLE_FORMATS, documented, get_table_format, off_loop, render

router = APIRouter(prefix="/api", tags=["compare"])

MATRIX_JSON = Format("json", "application/json", "json", "api")
MATRIX_FORMATS = (MATRIX_JSON, BY_NAME["csv"])


def split_ids(value: object) -> object:
    """Accept ``a,b,c`` as well as repeated ``districts=a&districts=b``."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


def check_ids(ids: list[str]) -> list[str]:
    """2 to 16 distinct items, each a district id or ``id@YYYY`` (that district in one year), as their keys."""
    if not 2 <= len(ids) <= 16:
        raise ValueError(f"give 2 to 16 district ids separated by commas, e.g. haidian,chaoyang; got {len(ids)}")
    keys = [item_key(parse_item(i)) for i in ids]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"each district may be given once; repeated: {', '.join(repeated)}")
    return keys


DistrictIds = Annotated[
    list[str],
    BeforeValidator(split_ids),
    AfterValidator(check_ids),
    Query(description="2 to 16 distinct district ids, comma-separated (e.g. haidian,chaoyang,fengtai); an item "
          "id@YYYY is that district in one year (dongcheng@2021,dongcheng@2023)", examples=["haidian,chaoyang"]),
]


@router.get("/compare", summary="比较几个区 · Compare districts",
            response_model=Comparison | YearComparison,
            responses=documented(example("comparison"), not_found="district"))
async def get_compare(graph: GraphDep, districts: DistrictIds) -> Response:
    """几个区的共同点（shared）、各自独有的做法（only）、数据事实（facts）与计数（counts），以及每两区之间的共同点。

    The named mechanisms and the themes all the given districts use, and what each pair of them shares.
    Two districts share a mechanism when each uses it, directly or through a narrower mechanism, and it is a
    named one; umbrella categories come apart (`shared_umbrellas`) and are never counted. Pairs are ranked by
    `similarity` (weighted Jaccard: each named mechanism weighs ln(16 / districts using it), so rare ones count
    more) and say how many they share (`shared_count`). Also `shared` (the same with each district's quotes),
    `only` (what each does that none of the others does), `facts` (each district's numbers) and `counts`. The
    HTML page `/compare?districts=…` shows it side by side (2 to 6 districts).

    An item `id@YYYY` (e.g. `dongcheng@2021,dongcheng@2023`) is the district in one year: it counts only the
    practices dated to that year (by their source's issue, unless the text dates them; the years a district has:
    `/api/districts/{id}/years`), so of one district over two years `shared_*` is what it kept and each `only`
    what is new or dropped. Then each of `districts`, `only` and `facts` adds `year` (null for a plain id) and
    `item` (the item as asked), which `pairs`, the evidence and `counts` are keyed by; a year the district has
    no practice in is 404 naming its years, a malformed item (`dongcheng@`, `@2023`, `dongcheng@20x3`) 422."""
    catalog = await catalog_for(graph)
    items = [parse_item(k) for k in districts]
    if all(year is None for _, year in items):
        body = await render(service.compare_districts, catalog, (tuple(districts),), None)
    else:
        compared = await off_loop(lambda: service.compared_items(catalog, graph, items))
        body = await render(service.compare_items, catalog, (compared,), None)
    return Response(body, media_type=JSON)


@router.get(
    "/matrix", summary="区—机制矩阵 · District × mechanism matrix",
    response_model=Matrix,
    responses={
        200: {"content": {"application/json": {"example": example("matrix")},
                          "text/csv": {"example": example("matrix_csv")}}},
        406: {"description": "Neither JSON nor CSV is acceptable"},
    },
)
async def get_matrix(graph: GraphDep, accept: Annotated[str | None, Header()] = None, format: Annotated[
        str | None, Query(description="json or csv (overrides Accept; default: by Accept, JSON)")] = None) -> Response:
    """区 × 工作机制 0/1 矩阵，JSON 或 CSV（format=csv 或 Accept: text/csv）。

    The district × named mechanism 0/1 matrix as JSON (with the umbrella categories in `umbrella_matrix`,
    apart), or as CSV for `format=csv` or Accept: text/csv (named mechanisms only: a header
    `district,district_zh,district_en,<mechanism ids…>`, one row per district). The same matrix in long form,
    with every label and the umbrella categories too: `/export/matrix.csv`."""
    catalog = await catalog_for(graph)
    if format is not None:
        chosen = MATRIX_FORMATS[TABLE_FORMATS.index(await get_table_format(format))]
        headers = {}
    else:
        chosen = negotiate(accept, MATRIX_FORMATS)
        headers = {"Vary": "Accept"}
    if chosen is MATRIX_JSON:
        body = await render(service.read_matrix, catalog, (), None)
        return Response(body, media_type=JSON, headers=headers)
    csv = await off_loop(lambda: catalog.memo.get(("matrix-csv",), lambda: matrix_table(catalog), size=1))
    return Response(csv, media_type=CSV, headers=headers)


def matrix_table(catalog: Catalog) -> bytes:
    """The named-mechanism matrix as CSV, one row per district (its id and labels, then 0/1 per mechanism id)."""
    matrix = service.read_matrix(catalog)
    columns = ["district", "district_zh", "district_en", *(m.id for m in matrix.mechanisms)]
    rows = [[d.id, d.label.zh, d.label.en, *row] for d, row in zip(matrix.districts, matrix.matrix, strict=True)]
    return write_csv(columns, rows, bom=False)
