"""A SPARQL 1.1 Protocol store as the backend and the graph store (``KG_STORE=sparql:…``): Oxigraph server, Fuseki …

Named queries are sent over HTTP with the route's variables bound by a ``VALUES`` block at the
start of the query's WHERE group (the protocol has no pre-binding), and answers are parsed with
pyoxigraph. Writes use the Graph Store Protocol when a ``gsp=`` URL is given, else SPARQL Update.
If the store cannot be reached the caller gets :class:`StoreUnavailable` (503) — never a hang
beyond the deadline — and the next request simply tries again, so the service recovers by itself.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from app.errors import BadRequest, StoreUnavailable
from app.rdf.terms import Term
from app.store.backends import Row
from app.store.graphs import (
    OWNS,
    VERSION,
    legacy_owned,
    meta_graph,
    ntriples,
    owned_quads,
    record_owned,
    record_version,
)
from app.store.screen import blank_out
from app.store.spec import StoreSpec

RESULTS_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
FORM = "application/x-www-form-urlencoded"
BATCH = 10_000
_RELATIVE_IRI = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.-]*:)[^<>\"{}|^`\\\s]*>")


def inject_values(query: str, bindings: Mapping[str, Term]) -> str:
    """``query`` with ``VALUES (?a ?b) { (<x> "y") }`` as the first element of its WHERE group."""
    if not bindings:
        return query
    blanked = blank_out(query, keep_length=True)
    where = re.search(r"\bWHERE\s*\{", blanked, re.IGNORECASE)
    if where:
        at = where.end()
    else:
        first = blanked.find("{")
        if first < 0:
            raise BadRequest("cannot bind variables: the query has no group pattern")
        at = first + 1
    names = " ".join(f"?{k}" for k in bindings)
    values = " ".join(str(v) for v in bindings.values())
    return f"{query[:at]} VALUES ({names}) {{ ({values}) }} {query[at:]}"


class SparqlBackend:
    """Backend (see app.store.backends) over HTTP."""

    def __init__(self, spec: StoreSpec, base_iri: str, timeout_s: float) -> None:
        self.spec = spec
        self.base_iri = base_iri
        self.timeout_s = timeout_s
        self.default_graphs: list[str] = []
        self.exclude_graphs: set[str] = set()
        #: The graphs the service owns in the store (its default dataset); None: all but excluded ones.
        self.owned: Callable[[], list[str]] | None = None
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)))

    def close(self) -> None:
        self.client.close()

    # -------------------------------------------------------------- transport

    def _request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        try:
            response = self.client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException:
            raise StoreUnavailable(f"The SPARQL store at {url} did not answer within {self.timeout_s:g} s.") from None
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"The SPARQL store at {url} cannot be reached ({exc}); retry shortly.") from None
        if response.status_code >= 500:
            raise StoreUnavailable(f"The SPARQL store at {url} failed: "
                                   f"HTTP {response.status_code} {response.text[:300]}")
        if response.status_code >= 400:
            raise BadRequest(f"The SPARQL store rejected the request: "
                             f"HTTP {response.status_code} {response.text[:500]}")
        return response

    def with_base(self, query: str) -> str:
        """The store does not know our base IRI: state it when the query has relative IRIs."""
        return f"BASE <{self.base_iri}> {query}" if _RELATIVE_IRI.search(query) else query

    def post_query(self, query: str, accept: str, default_graphs: Iterable[str] | None = None,
                   named_graphs: Iterable[str] = ()) -> httpx.Response:
        if default_graphs is None:
            if not self.default_graphs:  # not known yet (the store was down at start-up): ask now
                self.default_graphs = (self.owned() if self.owned else
                                       [g for g in self.named_graphs() if g not in self.exclude_graphs])
            graphs = self.default_graphs
            # A protocol dataset with default graphs but no named graphs has none: name them too.
            named_graphs = list(named_graphs) or graphs
        else:
            graphs = list(default_graphs)
        form = [("query", self.with_base(query))] + [("default-graph-uri", g) for g in graphs]
        form += [("named-graph-uri", g) for g in named_graphs]
        return self._request("POST", self.spec.query_url, content=urlencode(form).encode("ascii"),
                             headers={"Accept": accept, "Content-Type": FORM})

    # -------------------------------------------------------------- Backend

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[Row]:
        text = inject_values(query, bindings or {})
        body = self.post_query(text, RESULTS_JSON).content
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in solutions]

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        text = inject_values(query, bindings or {})
        body = self.post_query(text, NTRIPLES).content
        return [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]

    def ask(self, query: str) -> bool:
        body = self.post_query(query, RESULTS_JSON).content
        return bool(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

    # -------------------------------------------------------------- store

    def named_graphs(self) -> list[str]:
        query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
        body = self.post_query(query, RESULTS_JSON, default_graphs=[]).content
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(solutions, ox.QuerySolutions)
        return sorted(g.value for s in solutions if isinstance(g := s["g"], ox.NamedNode))

    def quads(self, graph: str) -> list[ox.Quad]:
        name = ox.NamedNode(graph)
        body = self.post_query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", NTRIPLES, default_graphs=[graph]).content
        return [ox.Quad(q.subject, q.predicate, q.object, name) for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]

    def update(self, text: str) -> None:
        if not self.spec.update_url:
            raise BadRequest("This store was configured without an update URL (KG_STORE=sparql:QUERY;update=URL).")
        self._request("POST", self.spec.update_url, content=text.encode("utf-8"),
                      headers={"Content-Type": "application/sparql-update"})

    def replace_graphs(self, graphs: Mapping[str, list[ox.Triple]],
                       progress: Callable[[int], None] | None = None) -> None:
        """Make each named graph hold exactly the given triples (idempotent)."""
        for name, triples in graphs.items():
            if self.spec.gsp_url:
                body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
                self._request("PUT", self.spec.gsp_url, params={"graph": name}, content=body,
                              headers={"Content-Type": NTRIPLES})
                if progress:
                    progress(len(triples))
                continue
            self.update(f"DROP SILENT GRAPH <{name}>")
            for start in range(0, len(triples), BATCH):
                chunk = triples[start:start + BATCH]
                self.update(f"INSERT DATA {{ GRAPH <{name}> {{\n{ntriples(chunk)}\n}} }}")
                if progress:
                    progress(len(chunk))


class RemoteStore:
    """A SPARQL 1.1 Protocol store over HTTP."""

    def __init__(self, spec: StoreSpec, base_iri: str, query_base: str, timeout_s: float) -> None:
        self.spec = spec
        self.meta = meta_graph(base_iri)
        # The service's own (trusted) named queries may take longer than a user's query on a large
        # store, e.g. the aggregates computed at start-up; user queries keep their deadline (proxy.py).
        self.backend = SparqlBackend(spec, query_base, max(60.0, 6 * timeout_s))
        self.backend.exclude_graphs = {self.meta}
        self.backend.owned = self.content_graphs

    def content_graphs(self) -> list[str]:
        """The graphs the service owns, as its meta graph records them (:data:`OWNS`): the store may
        hold other graphs (a co-tenant's), which the service never reads, serves, dumps or drops.
        A store loaded before ownership was recorded owns the graphs named under ``{base}/graph/``."""
        query = f"SELECT ?g WHERE {{ <{self.meta}> <{OWNS.value}> ?g }}"
        body = self.backend.post_query(query, RESULTS_JSON, default_graphs=[self.meta]).content
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(solutions, ox.QuerySolutions)
        owned = sorted({g.value for s in solutions if isinstance(g := s["g"], ox.NamedNode) and g.value != self.meta})
        return owned or legacy_owned(self.meta, self.backend.named_graphs())

    def read_graphs(self) -> dict[str, list[ox.Quad]]:
        return {name: self.backend.quads(name) for name in self.content_graphs()}

    def graph_sizes(self) -> dict[str, int]:
        """Content graph -> its number of triples (one query)."""
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        body = self.backend.post_query(query, RESULTS_JSON, default_graphs=[]).content
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(solutions, ox.QuerySolutions)
        owned = set(self.content_graphs())
        return {g.value: int(n.value) for s in solutions if isinstance(g := s["g"], ox.NamedNode)
                and isinstance(n := s["n"], ox.Literal) and g.value in owned}

    def read_version(self) -> str | None:
        """The version ``kg load`` (or the last commit) recorded in the meta graph; None if none.

        Asked with the meta graph as the dataset: it is left out of the default dataset of queries."""
        query = f"SELECT ?v WHERE {{ <{self.meta}> <{VERSION.value}> ?v }}"
        body = self.backend.post_query(query, RESULTS_JSON, default_graphs=[self.meta]).content
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(solutions, ox.QuerySolutions)
        values = [v.value for s in solutions if isinstance(v := s["v"], ox.Literal)]
        return values[0] if values else None

    async def ping(self) -> str | None:
        """None when the store answers a trivial query within 2 s, else what is wrong."""
        import httpx

        url = self.spec.query_url
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                response = await client.get(url, params={"query": "ASK {}"},
                                            headers={"Accept": "application/sparql-results+json"})
        except httpx.HTTPError as exc:
            return f"The SPARQL store at {url} cannot be reached ({exc or type(exc).__name__}); retry shortly."
        if response.status_code >= 400:
            return f"The SPARQL store at {url} answers HTTP {response.status_code}."
        return None

    def refresh_dataset(self) -> None:
        self.backend.default_graphs = self.content_graphs()

    def replace(self, graphs: Mapping[str, list[ox.Triple]], drop: list[str], version: str,
                progress: Callable[[int], None] | None = None,
                record: Callable[[], Sequence[ox.Triple]] | None = None) -> None:
        """Make the content graphs hold exactly ``graphs``, drop ``drop``; then, in one update, record
        ``version`` and the graphs owned (``graphs``: no other graph of the store is touched), and add
        ``record()`` (the load's provenance, asked for once the graphs are written) to the meta graph.
        Its earlier records (commits, loads) are kept: only the version and the owned graphs are replaced."""
        for name in drop:
            self.backend.update(f"DROP SILENT GRAPH <{name}>")
        self.backend.replace_graphs(graphs, progress)
        recorded = record() if record else ()
        if self.spec.update_url:
            self.backend.update(f"{record_version(self.meta, version, recorded)} ;\n{record_owned(self.meta, graphs)}")
        else:  # Graph Store Protocol only: the meta graph is read, and put back with the new version
            meta = ox.NamedNode(self.meta)
            earlier = [q.triple for q in self.backend.quads(self.meta) if q.predicate not in (VERSION, OWNS)]
            current = ox.Triple(meta, VERSION, ox.Literal(version))
            owned = [q.triple for q in owned_quads(self.meta, graphs)]
            self.backend.replace_graphs({self.meta: [*earlier, current, *owned, *recorded]})
        self.refresh_dataset()
