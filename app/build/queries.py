"""The index of named SPARQL queries in ``queries/``.

Each ``.rq`` file holds one query and a header of ``#+ key: value`` lines (in the spirit of
grlc): ``summary`` (what it returns), ``route`` (which route runs it), ``bind`` (variables a
route binds; left unbound, the file still runs as a documented example), and for examples
``title-zh`` / ``title-en``.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

HEADER = re.compile(r"^#\+\s*([\w-]+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return self.meta.get("summary", "")

    @classmethod
    def read(cls, path: Path, prefix: str = "") -> "NamedQuery":
        text = path.read_text(encoding="utf-8")
        meta = {}
        for line in text.splitlines():
            match = HEADER.match(line)
            if match:
                meta[match.group(1)] = match.group(2)
        return cls(prefix + path.stem, path, text, meta)


def read_queries(queries_dir: Path) -> dict[str, NamedQuery]:
    """Route queries by their stem (``district_detail``), others as ``examples/…``, ``checks/…``."""
    index: dict[str, NamedQuery] = {}
    for sub in ("", "examples/", "checks/", "rules/"):
        for path in sorted((queries_dir / sub).glob("*.rq")):
            query = NamedQuery.read(path, sub)
            index[query.name] = query
    return index
