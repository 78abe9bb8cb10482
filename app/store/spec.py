"""``KG_STORE``: where the graph lives.

* ``memory`` — embedded Oxigraph in memory (default); loaded from the files at every start.
* ``disk:PATH`` — embedded Oxigraph on disk (RocksDB) at PATH; persists across restarts.
* ``sparql:QUERY_URL[;update=URL][;gsp=URL]`` — any SPARQL 1.1 Protocol store (Oxigraph server,
  Fuseki, Virtuoso, GraphDB, QLever, Neptune …). The app tier is then stateless.
"""

from dataclasses import dataclass

from app.errors import DataError


@dataclass(frozen=True)
class StoreSpec:
    kind: str  # memory | disk | sparql
    path: str = ""
    query_url: str = ""
    update_url: str = ""
    gsp_url: str = ""

    @classmethod
    def parse(cls, text: str) -> "StoreSpec":
        kind, _, rest = text.strip().partition(":")
        kind = kind.lower()
        if kind == "memory" and not rest:
            return cls("memory")
        if kind == "disk" and rest:
            return cls("disk", path=rest)
        if kind == "sparql" and rest:
            parts = rest.split(";")
            options = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
            unknown = set(options) - {"update", "gsp"}
            if unknown or any("=" not in p for p in parts[1:]):
                raise DataError(f"KG_STORE: unknown option(s) in {text!r}; use sparql:QUERY_URL[;update=URL][;gsp=URL]")
            return cls("sparql", query_url=parts[0], update_url=options.get("update", ""),
                       gsp_url=options.get("gsp", ""))
        raise DataError(f"KG_STORE={text!r} is not one of memory, disk:PATH, sparql:QUERY_URL[;update=URL][;gsp=URL]")

    def __str__(self) -> str:
        if self.kind == "disk":
            return f"disk:{self.path}"
        if self.kind == "sparql":
            extra = f";update={self.update_url}" if self.update_url else ""
            extra += f";gsp={self.gsp_url}" if self.gsp_url else ""
            return f"sparql:{self.query_url}{extra}"
        return "memory"
