"""Content codings: which of ``br`` and ``gzip`` a client accepts, and the bytes in each.

Brotli is used when the optional ``brotli`` package is importable (``pip install -e '.[brotli]'``);
without it every answer falls back to gzip, which the standard library always has.
"""

import gzip
import importlib
from types import ModuleType

from app.rdf.negotiate import MAX_RANGE_PARAMS, MAX_RANGES, bounded_split, quality


def _load_brotli() -> ModuleType | None:
    try:
        return importlib.import_module("brotli")
    except ImportError:  # the optional extra is not installed: gzip only
        return None


brotli = _load_brotli()

#: Codings this process can produce, most preferred first.
AVAILABLE: tuple[str, ...] = ("br", "gzip") if brotli is not None else ("gzip",)


def accepted_codings(header: str | None) -> dict[str, float]:
    """Accept-Encoding as {coding: q} (names lower-cased; ``x-gzip`` counts as ``gzip``)."""
    codings: dict[str, float] = {}
    for part in bounded_split(header or "", ",", MAX_RANGES):  # bounded work, as negotiation
        fields = [f.strip() for f in bounded_split(part, ";", MAX_RANGE_PARAMS + 1)]
        if fields[0]:
            name = fields[0].lower()
            codings["gzip" if name == "x-gzip" else name] = quality(fields[1:])
    return codings


#: Answers of pick_coding for the Accept-Encoding values seen (clients send a handful of distinct
#: ones); emptied when it reaches PICKED_MAX, so made-up values cannot grow it.
_PICKED: dict[tuple[str | None, tuple[str, ...]], str | None] = {}
PICKED_MAX = 256


def pick_coding(header: str | None, available: tuple[str, ...] = AVAILABLE) -> str | None:
    """The coding to send: the client's highest q among ``available`` (ties: our order), None for identity."""
    key = (header, available)
    try:
        return _PICKED[key]
    except KeyError:
        pass
    picked = _pick(header, available)
    if len(_PICKED) >= PICKED_MAX:
        _PICKED.clear()
    _PICKED[key] = picked
    return picked


def _pick(header: str | None, available: tuple[str, ...]) -> str | None:
    codings = accepted_codings(header)
    best: tuple[float, int, str] | None = None
    for rank, name in enumerate(available):
        q = codings.get(name, codings.get("*", 0.0))
        if q > 0 and (best is None or (q, -rank) > best[:2]):
            best = (q, -rank, name)
    return best[2] if best else None


def encode(body: bytes, coding: str) -> bytes:
    """``body`` in ``coding`` (``br`` or ``gzip``; gzip without a timestamp, so equal bytes give equal output)."""
    if coding == "br":
        if brotli is None:
            raise ValueError("brotli is not installed")
        compressed: bytes = brotli.compress(body, quality=9)
        return compressed
    return gzip.compress(body, compresslevel=6, mtime=0)
