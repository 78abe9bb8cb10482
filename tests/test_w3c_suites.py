"""The W3C SPARQL 1.1 test suites through the HTTP front, differentially against pyoxigraph (issue 23, item 6).

The suites (``../shared/w3c-sparql11/``, data only: manifests, queries, data) are run as a client
would run them, over real HTTP:

* **query syntax** (syntax-query, syntax-fed and the negative tests of the other manifests): each
  query to ``/sparql``; pyoxigraph parses it (an empty store) — accepted there must be 200 here,
  refused there must be 400 here;
* **update syntax** (syntax-update-1, -2): each update to ``/update`` of a writable service over an
  empty dataset; accepted by pyoxigraph must not be 400, refused must be 400;
* **query evaluation** (every ``QueryEvaluationTest``): every data file of the suites is a named graph
  of a disk store the service serves (and owns); each query is sent with its test's dataset as
  ``default-graph-uri`` / ``named-graph-uri`` (or none, when the query names its own with FROM), and
  its answer compared with pyoxigraph's on the same graphs with the same dataset (blank nodes
  compared by position only);
* **protocol** (protocol/manifest.ttl): each request as the manifest writes it (``/sparql/`` is
  ``/sparql`` for queries, ``/update`` for updates), the status class, format and boolean checked
  against the manifest's expectations, on a writable service holding the test's graphs;
* **update evaluation** (every ``UpdateEvaluationTest``, two commits each): the test's dataset written
  in one update, then the test's update sent to ``/update`` (the default graph is the service's data
  graph), and every graph compared with what pyoxigraph makes of the same update.

What differs is a failure, unless refused by design and listed in :data:`REFUSED` with the reason.
Skipped, with a message, when the suites are not beside the repository.
"""

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyoxigraph as ox
import pytest

from app.config import ROOT, Settings
from app.store.graphs import VERSION, meta_graph, owned_quads
from tests.helpers import SUITE_LIMITS, LiveServer, running_oxigraph, serve_in_thread

SUITES = Path(__file__).resolve().parents[2] / "shared" / "w3c-sparql11"
W3C = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
#: The default graph of a test without data: a graph of the service's that holds nothing.
EMPTY = W3C + "empty"
TOKEN = "w3c-suites-writer"

#: Tests whose answer here differs from pyoxigraph's by design, and why.
REFUSED: dict[str, str] = {
    # SERVICE: this service never contacts another (app/rdf/sparql_guard.py); 400 instead.
    "syntax-fed/test_1": "SERVICE is refused",
    "syntax-fed/test_2": "SERVICE is refused",
    "syntax-fed/test_3": "SERVICE is refused",
    **{f"service/service{i}": "SERVICE is refused" for i in range(1, 8)},
    # A dataset may name only the service's own graphs (a store may be shared with others): FROM a
    # graph it does not hold is 400, where pyoxigraph reads an empty graph.
    "syntax-query/test_42": "FROM a graph the service does not hold",
    # LOAD: updates never fetch a document; 400 instead.
    **{f"syntax-update-1/test_{i}": "LOAD is refused" for i in (1, 2, 3, 4, 37)},
    "update-silent/load-silent": "LOAD is refused",
    "update-silent/load-into-silent": "LOAD is refused",
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SUITES.is_dir(), reason=f"the W3C SPARQL 1.1 suites are not beside the repository: "
                                                   f"put their data in {SUITES} to run them"),
]


# ------------------------------------------------------------------ the manifests


@dataclass(frozen=True)
class Case:
    name: str  # dir/local name, e.g. aggregates/agg01
    kind: str  # the mf: type
    query: str = ""  # IRI of the query or update file
    data: tuple[str, ...] = ()
    graph_data: tuple[str, ...] = ()  # IRIs; for update tests "graph name=file IRI"
    node: Any = None  # (manifest graph, the test's node in it), for protocol tests


def local(iri: str) -> Path:
    return SUITES / iri.removeprefix(W3C)


#: A manifest: subject -> predicate IRI -> objects.
Graph = dict[Any, dict[str, list[Any]]]


def _manifests() -> Iterator[tuple[str, Graph]]:
    for path in sorted(SUITES.glob("*/manifest.ttl")):
        base = f"{W3C}{path.parent.name}/manifest.ttl"
        graph: Graph = {}
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base):
            graph.setdefault(quad.subject, {}).setdefault(quad.predicate.value, []).append(quad.object)
        yield path.parent.name, graph


def _one(graph: Graph, node: Any, predicate: str) -> Any:
    values = graph.get(node, {}).get(predicate, [])
    return values[0] if values else None


def _all(graph: Graph, node: Any, predicate: str) -> list[Any]:
    return graph.get(node, {}).get(predicate, [])


def _list(graph: Graph, node: Any) -> list[Any]:
    items = []
    while node is not None and not (isinstance(node, ox.NamedNode) and node.value == RDF + "nil"):
        items.append(_one(graph, node, RDF + "first"))
        node = _one(graph, node, RDF + "rest")
    return items


def read_cases() -> list[Case]:
    if not SUITES.is_dir():
        return []
    cases = []
    for directory, graph in _manifests():
        for node, properties in graph.items():
            for kind in (t.value.removeprefix(MF) for t in properties.get(RDF + "type", []) if t.value.startswith(MF)):
                name = f"{directory}/{node.value.rsplit('#', 1)[-1]}"
                action = _one(graph, node, MF + "action")
                if kind in ("PositiveSyntaxTest11", "NegativeSyntaxTest11", "PositiveUpdateSyntaxTest11",
                            "NegativeUpdateSyntaxTest11"):
                    assert isinstance(action, ox.NamedNode)
                    cases.append(Case(name, kind, action.value))
                elif kind == "QueryEvaluationTest":
                    query = _one(graph, action, QT + "query")
                    assert isinstance(query, ox.NamedNode)
                    cases.append(Case(name, kind, query.value, tuple(d.value for d in _all(graph, action, QT + "data")),
                                      tuple(d.value for d in _all(graph, action, QT + "graphData"))))
                elif kind == "ProtocolTest":
                    cases.append(Case(name, kind, node=(graph, node)))
                elif kind == "UpdateEvaluationTest":
                    request = _one(graph, action, UT + "request")
                    named = tuple(f"{_one(graph, g, RDFS + 'label').value}={_one(graph, g, UT + 'graph').value}"
                                  for g in _all(graph, action, UT + "graphData"))
                    data = tuple(d.value for d in _all(graph, action, UT + "data"))
                    cases.append(Case(name, kind, request.value, data, named))
    return sorted(cases, key=lambda c: c.name)


CASES = read_cases()


def _ids(kinds: tuple[str, ...]) -> list[Case]:
    return [c for c in CASES if c.kind in kinds]


def _param(case: Case) -> object:
    return pytest.param(case, id=case.name)


def _refused(case: Case, response: httpx.Response) -> bool:
    """For a test listed in :data:`REFUSED`: check it is refused (400), and say so."""
    if case.name not in REFUSED:
        return False
    assert response.status_code == 400, f"{case.name} ({REFUSED[case.name]}): {response.status_code}"
    return True


# ------------------------------------------------------------------ data and answers


def _format(path: Path) -> ox.RdfFormat:
    return {".rdf": ox.RdfFormat.RDF_XML, ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
            ".trig": ox.RdfFormat.TRIG}.get(path.suffix, ox.RdfFormat.TURTLE)


def _load_graph(store: ox.Store, iri: str, name: str | None = None) -> None:
    path = local(iri)
    graph = ox.NamedNode(name or iri)
    store.add_graph(graph)
    for quad in ox.parse(path=str(path), format=_format(path), base_iri=iri):
        store.add(ox.Quad(quad.subject, quad.predicate, quad.object, graph))


def evaluation_graphs() -> list[str]:
    return sorted({g for c in _ids(("QueryEvaluationTest",)) for g in (*c.data, *c.graph_data)})


def _term(term: object) -> str:
    if isinstance(term, ox.BlankNode):
        return "_:"
    if isinstance(term, ox.Triple):
        return f"<< {_term(term.subject)} {_term(term.predicate)} {_term(term.object)} >>"
    return str(term)


def _answer(result: object) -> object:
    """A comparable form of an answer: a boolean, or a multiset of rows (triples), blank nodes anonymous."""
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return Counter(tuple((n, _term(s[n])) for n in names if s[n] is not None) for s in result)
    return Counter(_term(t) for t in result)  # type: ignore[attr-defined]


def _front_answer(response: httpx.Response) -> object:
    media = response.headers.get("content-type", "").split(";")[0]
    if media == "application/n-triples":
        return Counter(_term(q.triple) for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))
    return _answer(ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON))


def _names_dataset(text: str) -> bool:
    """Whether a test's query has a FROM clause (the harness's own reading, not the service's)."""
    blanked = re.sub(r"#[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|<[^<>\s]*>", " ", text)
    return re.search(r"\bFROM\b", blanked, re.IGNORECASE) is not None


# ------------------------------------------------------------------ the services


def _empty_sources(tmp: Path) -> tuple[Path, Path]:
    """(data, ontology) directories of a dataset with no article: no data, the shapes only."""
    data, ontology = tmp / "data", tmp / "ontology"
    data.mkdir()
    ontology.mkdir()
    shutil.copy(ROOT / "ontology" / "shapes.ttl", ontology / "shapes.ttl")
    return data, ontology


@pytest.fixture(scope="module", params=["disk", "sparql"])
def evaluation(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, ox.Store]]:
    """The service over a store holding every data file of the evaluation tests as a graph of its own
    (a disk store, or a real Oxigraph server, where the query is sent as the guard read it), and
    pyoxigraph's store with the same graphs (the reference)."""
    reference = ox.Store()
    graphs = evaluation_graphs()
    for iri in graphs:
        _load_graph(reference, iri)
    reference.add_graph(ox.NamedNode(EMPTY))
    options = {"validate_on_start": False, "query_workers": 2, "query_timeout_s": 10, **SUITE_LIMITS}
    meta = meta_graph(Settings().base_iri)
    records = [ox.Quad(ox.NamedNode(meta), VERSION, ox.Literal("w3c-suites"), ox.NamedNode(meta)),
               *owned_quads(meta, [*graphs, EMPTY])]
    if request.param == "disk":
        path = tmp_path_factory.mktemp("w3c-store")
        served = ox.Store(str(path))
        served.extend(reference)
        for iri in [*graphs, EMPTY]:  # the graphs that hold nothing too
            served.add_graph(ox.NamedNode(iri))
        served.extend(records)
        served.flush()
        del served
        yield from _serve(Settings(store=f"disk:{path}", **options), reference)
        return
    with running_oxigraph() as store:
        gsp = next(part.split("=", 1)[1] for part in store.split(";") if part.startswith("gsp="))
        body = ox.serialize([*reference, *records], format=ox.RdfFormat.N_QUADS)
        httpx.post(gsp, content=body, headers={"Content-Type": "application/n-quads"}, timeout=60).raise_for_status()
        yield from _serve(Settings(store=store, **options), reference)


def _serve(settings: Settings, reference: ox.Store) -> Iterator[tuple[LiveServer, ox.Store]]:
    for live in serve_in_thread(settings):
        yield live, reference


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A writable service over an empty dataset (memory)."""
    data, ontology = _empty_sources(tmp_path_factory.mktemp("w3c-empty"))
    settings = Settings(write_token=TOKEN, validate_on_start=False, query_workers=1, query_timeout_s=10,
                        shacl_engine="sparql", data_dir=data, ontology_dir=ontology, **SUITE_LIMITS)
    for live in serve_in_thread(settings):
        with httpx.Client(base_url=live.url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            yield client


# ------------------------------------------------------------------ syntax


@pytest.mark.parametrize("case", [_param(c) for c in _ids(("PositiveSyntaxTest11", "NegativeSyntaxTest11"))])
def test_w3c_query_syntax(case: Case, evaluation: tuple[LiveServer, ox.Store]) -> None:
    live, _ = evaluation
    text = local(case.query).read_text(encoding="utf-8")
    response = httpx.post(live.url + "/sparql", data={"query": text}, timeout=60,
                          headers={"Accept": "application/sparql-results+json, application/n-triples;q=0.9"})
    if _refused(case, response):
        return
    try:
        ox.Store().query(text, base_iri=case.query)
        outcome = 200
    except SyntaxError:
        outcome = 400
    except (ValueError, RuntimeError, OSError):
        outcome = 0  # parsed, but the engine cannot evaluate it (an unknown custom function): an error both ways
    if outcome:
        assert response.status_code == outcome, f"{response.status_code}: {response.text[:500]}"
    else:  # a remote store may call its own failure to evaluate a 500 (then 503 here)
        assert response.status_code >= 400, f"{response.status_code}: {response.text[:500]}"


@pytest.mark.parametrize("case", [_param(c) for c in _ids(("PositiveUpdateSyntaxTest11",
                                                           "NegativeUpdateSyntaxTest11"))])
def test_w3c_update_syntax(case: Case, writable: httpx.Client) -> None:
    text = local(case.query).read_text(encoding="utf-8")
    response = writable.post("/update", content=text.encode("utf-8"),
                             headers={"Content-Type": "application/sparql-update"})
    if _refused(case, response):
        return
    try:
        ox.Store().update(text, base_iri=case.query)
        outcome = "applied"
    except SyntaxError:
        outcome = "syntax error"
    except (OSError, ValueError, RuntimeError):
        outcome = "failed"  # parsed, then failed on an empty dataset (DROP GRAPH of a graph that is not there)
    assert response.status_code < 500, response.text[:500]
    if outcome == "syntax error":
        assert response.status_code == 400, response.text[:500]
    elif outcome == "applied":  # applied, or refused by the write's checks (403 a read-only graph, 422 the shapes)
        assert response.status_code != 400, f"{response.status_code}: {response.text[:500]}"
    else:
        assert response.status_code >= 400, f"{response.status_code}: {response.text[:500]}"


# ------------------------------------------------------------------ evaluation


@pytest.mark.parametrize("case", [_param(c) for c in _ids(("QueryEvaluationTest",))])
def test_w3c_query_evaluation(case: Case, evaluation: tuple[LiveServer, ox.Store]) -> None:
    live, reference = evaluation
    text = f"BASE <{case.query}>\n" + local(case.query).read_text(encoding="utf-8")
    own_dataset = _names_dataset(text)
    default = [ox.NamedNode(g) for g in case.data] or [ox.NamedNode(EMPTY)]
    named: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(g) for g in case.graph_data]
    form: dict[str, str | list[str]] = {"query": text}
    if not own_dataset:
        form |= {"default-graph-uri": [g.value for g in default], "named-graph-uri": [g.value for g in named]}
    response = httpx.post(live.url + "/sparql", data=form, timeout=60,
                          headers={"Accept": "application/sparql-results+json, application/n-triples;q=0.9"})
    if _refused(case, response):
        return
    try:
        expected = _answer(reference.query(text) if own_dataset else
                           reference.query(text, default_graph=list(default), named_graphs=named))
    except (SyntaxError, ValueError, RuntimeError, OSError) as exc:
        expected = f"error: {exc}"
    if isinstance(expected, str):
        assert response.status_code >= 400, f"pyoxigraph: {expected}; the front: {response.text[:300]}"
        return
    assert response.status_code == 200, response.text[-600:]
    assert _front_answer(response) == expected


# ------------------------------------------------------------------ protocol


def _requests(case: Case) -> tuple[list[dict], list[tuple[str, str]]]:
    graph, node = case.node
    loaded = [(str(_one(graph, g, RDFS + "label").value), _one(graph, g, UT + "graph").value)
              for g in _all(graph, node, UT + "graphData")]
    action = _one(graph, node, MF + "action")
    requests = []
    for request in _list(graph, _one(graph, action, HT + "requests")):
        body_node = _one(graph, request, HT + "body")
        body = _one(graph, body_node, CNT + "chars")
        encoding = _one(graph, body_node, CNT + "characterEncoding")
        headers = {str(_one(graph, h, HT + "fieldName").value): str(_one(graph, h, HT + "fieldValue").value)
                   for h in _list(graph, _one(graph, request, HT + "headers"))}
        response = _one(graph, request, HT + "resp")
        requests.append({
            "method": str(_one(graph, request, HT + "methodName").value),
            "path": str(_one(graph, request, HT + "absolutePath").value),
            "body": body.value.encode(encoding.value if isinstance(encoding, ox.Literal) else "utf-8")
            if isinstance(body, ox.Literal) else None,
            "headers": headers,
            "status": {s.value.rsplit("StatusCode", 1)[-1] for s in _all(graph, response, MF + "expectedStatus")},
            "format": getattr(_one(graph, response, MF + "expectedFormat"), "value", None),
            "boolean": getattr(_one(graph, response, MF + "expectedBoolean"), "value", None),
        })
    return requests, loaded


def _route(request: dict) -> str:
    """``/sparql/…`` of the manifest: ``/update`` for an update, ``/sparql`` for anything else."""
    split = urlsplit(request["path"])
    content_type = request["headers"].get("content-type", "")
    body = (request["body"] or b"").decode("utf-8", "replace")
    form = parse_qsl(body) if "x-www-form-urlencoded" in content_type else []
    is_update = request["method"] == "POST" and ("sparql-update" in content_type or any(k == "update" for k, _ in form))
    return ("/update" if is_update else "/sparql") + (f"?{split.query}" if split.query else "")


@pytest.mark.parametrize("case", [_param(c) for c in _ids(("ProtocolTest",))])
def test_w3c_protocol(case: Case, writable: httpx.Client) -> None:
    requests, loaded = _requests(case)
    assert case.name not in REFUSED  # none is
    graphs = {"http://kasei.us/2009/09/sparql/data/data0.rdf": None, **{name: file for name, file in loaded}}
    for name, file in graphs.items():
        content = local(file).read_bytes() if file else b'<urn:x-w3c:s> <urn:x-w3c:p> "data0" .'
        put = writable.put("/graph-store", params={"graph": name}, content=content,
                           headers={"Content-Type": "application/n-triples"})
        assert put.status_code in (201, 204), put.text[:300]
    for request in requests:
        response = writable.request(request["method"], _route(request), content=request["body"],
                                    headers=request["headers"])
        status = f"{response.status_code // 100}xx"
        assert status in request["status"], f"{request['method']} {request['path']}: {response.status_code} " \
                                            f"{response.text[:300]}"
        if request["format"] == "boolean":
            assert ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON) \
                if "json" in response.headers.get("content-type", "") else True
        if request["boolean"] is not None:
            result = ox.parse_query_results(response.content, format=_results_format(response))
            assert isinstance(result, ox.QueryBoolean) and bool(result) == (request["boolean"] == "true")


def _results_format(response: httpx.Response) -> ox.QueryResultsFormat:
    media = response.headers.get("content-type", "").split(";")[0]
    return {"application/sparql-results+xml": ox.QueryResultsFormat.XML,
            "text/csv": ox.QueryResultsFormat.CSV, "text/tab-separated-values": ox.QueryResultsFormat.TSV,
            }.get(media, ox.QueryResultsFormat.JSON)


# ------------------------------------------------------------------ update evaluation


def _triples(path_iri: str) -> list[ox.Triple]:
    path = local(path_iri)
    return [q.triple for q in ox.parse(path=str(path), format=_format(path), base_iri=path_iri)]


def _lines(triples: list[ox.Triple]) -> str:
    return "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)


def _graph_of(client: httpx.Client, params: dict[str, str]) -> Counter[str]:
    response = client.get("/graph-store", params=params, headers={"Accept": "application/n-triples"})
    if response.status_code == 404:
        return Counter()
    assert response.status_code == 200, response.text[:300]
    return Counter(_term(q.triple) for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))


def _held(client: httpx.Client, system: set[str]) -> set[str]:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    rows = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    return {b["g"]["value"] for b in rows} - system


@pytest.mark.parametrize("case", [_param(c) for c in _ids(("UpdateEvaluationTest",))])
def test_w3c_update_evaluation(case: Case, writable: httpx.Client) -> None:
    """The update applied through /update to the test's dataset (the default graph is the service's data
    graph, the named graphs its other graphs) leaves each graph as pyoxigraph leaves it."""
    base = Settings().base_iri
    system = {f"{base}/graph/{name}" for name in ("data", "ontology", "inferred")}
    named = dict(item.split("=", 1) for item in case.graph_data)
    default = [t for iri in case.data for t in _triples(iri)]
    reference = ox.Store()
    reference.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in default)
    # The test's dataset, in one write: every graph of the previous test dropped, the data graph replaced.
    setup = [f"DROP SILENT GRAPH <{g}>" for g in sorted(_held(writable, system) | set(named))]
    setup.append("CLEAR SILENT DEFAULT")
    blocks = [_lines(default)]
    for name, iri in named.items():
        triples = _triples(iri)
        reference.add_graph(ox.NamedNode(name))
        reference.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name)) for t in triples)
        blocks.append(f"GRAPH <{name}> {{\n{_lines(triples)}\n}}")
    setup.append("INSERT DATA {\n" + "\n".join(blocks) + "\n}")
    prepared = writable.post("/update", content=" ;\n".join(setup).encode("utf-8"),
                             headers={"Content-Type": "application/sparql-update"})
    assert prepared.status_code == 204, prepared.text[:500]
    text = f"BASE <{case.query}>\n" + local(case.query).read_text(encoding="utf-8")
    response = writable.post("/update", content=text.encode("utf-8"),
                             headers={"Content-Type": "application/sparql-update"})
    if _refused(case, response):
        return
    try:
        reference.update(text)
    except (SyntaxError, ValueError, RuntimeError, OSError) as exc:
        assert 400 <= response.status_code < 500, f"pyoxigraph: {exc}; the front: {response.status_code}"
        return
    assert response.status_code == 204, response.text[:500]
    expected = {g.value: Counter(_term(q.triple) for q in reference.quads_for_pattern(None, None, None, g))
                for g in reference.named_graphs() if isinstance(g, ox.NamedNode)}
    expected = {g: triples for g, triples in expected.items() if triples}  # an empty graph is no graph here
    assert _graph_of(writable, {"default": ""}) == Counter(
        _term(q.triple) for q in reference.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    assert {g: _graph_of(writable, {"graph": g}) for g in _held(writable, system)} == expected
