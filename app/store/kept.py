"""Answers of the unbound /api named queries, kept beside a store on disk, one file per query.

The /api catalog (app/api/catalog.py) runs ten named queries unbound when a graph version is
first served. Over a store on disk that is most of a restart (at 100k triples 79 % of it, at
1M about two minutes over RocksDB), though the store has not changed. So each answer is written
once to ``<store>/kg-answers/<query>-<key>.json`` (RocksDB ignores a subdirectory), where the key
is a digest of the graph version, the query's name and its text: a restart over the same version
reads the rows back; a new version (a write, a rebuild, other code with other query text) has
another key, runs the query again and replaces the file. Files are written whole or not at all
(a temporary file renamed into place). A file that cannot be read or written is ignored with a
warning: the answer is then computed as without this module.
"""

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic_core import from_json

logger = logging.getLogger(__name__)

DIRECTORY = "kg-answers"
Rows = list[dict[str, Any]]


def kept_file(store_dir: Path, version: str, name: str, text: str) -> Path:
    key = hashlib.sha256("\n".join((version, name, text)).encode("utf-8")).hexdigest()[:32]
    return store_dir / DIRECTORY / f"{name}-{key}.json"


def kept_rows(store_dir: Path, version: str, name: str, text: str, compute: Callable[[], Rows]) -> Rows:
    """The rows of query ``name`` on graph ``version``: read from the kept file, or ``compute()``d and kept."""
    path = kept_file(store_dir, version, name, text)
    try:
        kept = from_json(path.read_bytes())  # pydantic-core's parser: 1.5x the standard library's here
        if isinstance(kept, dict) and kept.get("version") == version and isinstance(kept.get("rows"), list):
            return kept["rows"]
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        logger.warning("kept answer %s unreadable (%s): running the query", path, exc)
    rows = compute()
    try:
        path.parent.mkdir(exist_ok=True)
        for old in path.parent.glob(f"{name}-*.json"):  # answers of other versions of this query
            if old != path:
                old.unlink(missing_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps({"version": version, "query": name, "rows": rows}, ensure_ascii=False),
                           encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        logger.warning("could not keep the answer of %s in %s (%s)", name, path.parent, exc)
    return rows
