"""Parse uploads and evaluate updates in a throw-away process that can be killed.

Writers send text the main process must never parse itself: a Turtle, JSON-LD or RDF/XML body,
or a SPARQL Update. Parsers recurse (a JSON-LD document nested 20,000 levels deep overflows the
stack and takes the whole server down), expand XML entities (a 600-byte "billion laughs"
document needs gigabytes), and an update may run as long as a query. So each one runs in a
fresh process (``spawn``), confined like a query worker (:func:`app.store.sandbox.confine_worker`:
no sockets, ``KG_QUERY_MEMORY_MB`` of memory), under a deadline; it hands back N-Quads, which
the main process reads with the flat, non-recursive N-Quads parser.

Cheap checks run first, in the main process, without recursion: the nesting depth of a JSON-LD
body (an iterative scan), and DOCTYPE declarations in RDF/XML (refused: RDF needs no DTD, and
a DTD is where entities are declared).

Outcomes: the quads; :class:`BadRequest` (400) for a body or update that does not parse, is
too deep or declares a DTD; :class:`WriteTimeout` (503) at the deadline;
:class:`MemoryLimit` (503) when the process dies (the memory cap, or a crash).
"""

import importlib
import logging
import multiprocessing
import multiprocessing.connection
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox

from app.errors import BadRequest, MemoryLimit, QueryTimeout, RequestError
from app.rdf.sparql_guard import MAX_DEPTH

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")

#: Most quads one write may bring (a body) or change (an update): beyond, 400.
MAX_WRITE_QUADS = 1_000_000


class WriteTimeout(QueryTimeout):
    """The update or the parse of a body hit its deadline (503)."""


# ---------------------------------------------------------------- checks before any parser


def json_depth(body: bytes) -> int:
    """The deepest nesting of [ and { in a JSON text, strings skipped; no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def check_body(body: bytes, fmt_name: str) -> None:
    """400 for a JSON-LD body nested deeper than MAX_DEPTH, or an RDF/XML body with a DTD."""
    if fmt_name == "jsonld" and json_depth(body) > MAX_DEPTH:
        raise BadRequest(f"The JSON-LD body nests arrays and objects more than {MAX_DEPTH} levels deep "
                         "(the limit); flatten it.")
    if fmt_name == "rdfxml":
        if body.startswith((b"\xfe\xff", b"\xff\xfe")) or b"\x00" in body[:512]:
            raise BadRequest("Send RDF/XML encoded as UTF-8.")
        if b"<!DOCTYPE" in body.upper():
            raise BadRequest("RDF/XML with a DOCTYPE is not accepted: entity declarations are never expanded. "
                             "Remove the DOCTYPE (and write the entities out).")


# ---------------------------------------------------------------- what the child runs


def _no_triple_terms(quads: list[ox.Quad]) -> None:
    """400 for RDF-star triple terms, or for more than MAX_WRITE_QUADS quads."""
    for quad in quads:
        if isinstance(quad.subject, ox.Triple) or isinstance(quad.object, ox.Triple):
            raise BadRequest("Triple terms (RDF-star) are not accepted in writes.")
    if len(quads) > MAX_WRITE_QUADS:
        raise BadRequest(f"One write may add or remove at most {MAX_WRITE_QUADS} triples (the limit).")


def parse_body(body: bytes, media_type: str, base_iri: str) -> bytes:
    """An RDF document → N-Quads (in the default graph)."""
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise BadRequest(f"Unsupported RDF media type {media_type}.")
    try:
        quads = list(ox.parse(body, format=fmt, base_iri=base_iri))
    except (SyntaxError, ValueError) as exc:
        raise BadRequest(f"The body does not parse: {exc}") from None
    _no_triple_terms(quads)
    _nothing_dropped(body, fmt, base_iri, quads)
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""


def _nothing_dropped(body: bytes, fmt: ox.RdfFormat, base_iri: str, quads: list[ox.Quad]) -> None:
    """422 when the parser left out part of the body instead of failing (the JSON-LD parser drops a
    value with an ill-formed language tag or IRI): the body read leniently, with nothing dropped,
    must give as many quads as the strict reading; the message names a triple left out."""
    try:
        lenient = list(ox.parse(body, format=fmt, base_iri=base_iri, lenient=True))
    except (SyntaxError, ValueError):
        return
    if len(lenient) <= len(quads):
        return
    from app.writes.terms import IllFormedTerm, check_triples, shown

    kept = {q.triple for q in quads}
    left_out = [q.triple for q in lenient if q.triple not in kept]
    check_triples(left_out, 1 << 62)  # names the term's fault when it is one the checks know
    raise IllFormedTerm(f"The body cannot be read as written: the parser leaves out {len(left_out)} triple(s), "
                        f"e.g. {shown(left_out[0])} (an ill-formed IRI or language tag). Nothing was written.")


GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph


def _apply(store: ox.Store, update: str, base_iri: str) -> None:
    try:
        store.update(update, base_iri=base_iri)
    except SyntaxError as exc:
        raise BadRequest(f"SPARQL Update syntax error: {exc}") from None
    except (ValueError, RuntimeError) as exc:  # pyoxigraph's evaluation errors
        raise BadRequest(f"The update could not be applied: {exc}") from None
    except OSError:
        raise BadRequest("The update could not be applied: it asked for a resource (network, file) that "
                         "updates may not use.") from None


def _sizes(store: ox.Store) -> dict[GraphName, int]:
    """Graph -> number of quads, counted inside the store."""
    sizes: dict[GraphName, int] = {}
    named = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    default = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert isinstance(named, ox.QuerySolutions) and isinstance(default, ox.QuerySolutions)
    for row in named:
        graph, n = row["g"], row["n"]
        if isinstance(graph, ox.NamedNode) and isinstance(n, ox.Literal):
            sizes[graph] = int(n.value)
    n = next(iter(default))["n"]
    sizes[ox.DefaultGraph()] = int(n.value) if isinstance(n, ox.Literal) else 0
    return sizes


def update_delta(graphs: list[tuple[str, bytes]], data_graph: str, update: str, base_iri: str) -> tuple[bytes, bytes]:
    """Graphs (name, N-Triples) and a SPARQL Update, with ``data_graph`` as its default graph → the
    quads the update adds and the quads it removes (N-Quads, each exact), so only the change travels
    back. The quads are parsed, not bulk-loaded: a bulk load would rename the blank nodes.

    Removed: the quads of the input no longer there. Added: the quads the update puts into an empty
    store (what ``INSERT DATA`` inserts, whatever the data) that were not there before and are now;
    they are all that was added exactly when each graph's size after is its size before, less the
    removed, plus them. Otherwise (an ``INSERT … WHERE``, new blank nodes) the dataset is loaded a
    second time and compared quad by quad."""
    targets: list[tuple[GraphName, bytes]] = [
        (ox.DefaultGraph() if name == data_graph else ox.NamedNode(name), body) for name, body in graphs]

    def load() -> ox.Store:
        store = ox.Store()
        for target, body in targets:
            store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, target)
                              for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
        return store

    after = load()
    empty = ox.Store()
    try:
        empty.update(update, base_iri=base_iri)
    except (SyntaxError, ValueError, RuntimeError, OSError):
        pass  # the update itself says what is wrong, below
    was = {q: q in after for q in empty}
    _apply(after, update, base_iri)
    removed = [quad for target, body in targets for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
               if (quad := ox.Quad(t.subject, t.predicate, t.object, target)) not in after]
    added = [q for q, present in was.items() if not present and q in after]
    before = {target: body.count(b"\n") for target, body in targets}
    sizes = _sizes(after)
    net: dict[GraphName, int] = {}
    for q in added:
        net[q.graph_name] = net.get(q.graph_name, 0) + 1
    for q in removed:
        net[q.graph_name] = net.get(q.graph_name, 0) - 1
    if any(sizes.get(g, 0) - before.get(g, 0) != net.get(g, 0) for g in {*sizes, *before, *net}):
        original = load()
        added = [q for q in after if q not in original]
    _no_triple_terms(added + removed)
    data = ox.NamedNode(data_graph)

    def named(quads: list[ox.Quad]) -> bytes:
        default = ox.DefaultGraph
        return ox.serialize([ox.Quad(q.subject, q.predicate, q.object, data) if isinstance(q.graph_name, default)
                             else q for q in quads], format=ox.RdfFormat.N_QUADS) or b""

    return named(added), named(removed)


_TARGETS: dict[str, Callable[..., object]] = {"parse_body": parse_body, "update_delta": update_delta}


def _target(name: str) -> Callable[..., object]:
    """One of :data:`_TARGETS`, or ``module:function`` (a module of this package that runs in a child)."""
    if ":" not in name:
        return _TARGETS[name]
    module, function = name.split(":", 1)
    if not module.startswith("app."):
        raise ValueError(f"no isolated target {name!r}")
    target: Callable[..., object] = getattr(importlib.import_module(module), function)
    return target


def _child(conn: multiprocessing.connection.Connection, target: str, args: tuple, memory_mb: int) -> None:
    from app.store.sandbox import confine_worker

    confine_worker(memory_mb)
    try:
        conn.send(("ok", _target(target)(*args)))
    except RequestError as exc:
        conn.send(("error", exc.detail, type(exc)))
    except MemoryError:
        conn.send(("memory", ""))
    except RecursionError:
        conn.send(("error", "The input is nested too deeply to parse; flatten it."))
    except Exception:  # whatever the parser raises, the parent gets an answer
        logger.exception("isolated %s failed", target)
        conn.send(("error", "The input could not be processed (the failure is logged)."))


# ---------------------------------------------------------------- the parent side


def run(target: str, args: tuple, *, timeout_s: float, memory_mb: int, what: str) -> Any:
    """Run ``target(*args)`` in a confined child under ``timeout_s``; blocking (call from a thread)."""
    parent, child = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(child, target, args, memory_mb), daemon=True,
                               name=f"kg-{target}")
    process.start()
    child.close()
    try:
        if not parent.poll(timeout_s):
            raise WriteTimeout(f"The {what} was stopped after {timeout_s:g} s (KG_UPDATE_TIMEOUT_S); nothing was "
                               "written. Simplify it.")
        try:
            message = parent.recv()
        except EOFError:
            raise MemoryLimit(f"The {what} needed more memory than the limit of {memory_mb} MB "
                              "(KG_QUERY_MEMORY_MB) or crashed its parser; nothing was written.") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        parent.close()
    if message[0] == "ok":
        return message[1]
    if message[0] == "memory":
        raise MemoryLimit(f"The {what} needed more memory than the limit of {memory_mb} MB (KG_QUERY_MEMORY_MB); "
                          "nothing was written.")
    kind = message[2] if len(message) > 2 else BadRequest
    raise kind(message[1])


def quads_of(nquads: bytes) -> list[ox.Quad]:
    return list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
