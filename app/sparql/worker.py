"""Inside one query worker: the dataset it reads and the loop that answers queries over its pipe.

The dataset is opened once per generation, in the zygote (:mod:`app.sparql.zygote`), and every
worker is a fork of it: the in-memory store is shared copy-on-write (reads do not write its
pages). A store on disk is opened read-only by each worker after the fork (RocksDB is not
fork-safe), from the generation's snapshot (:mod:`app.store.snapshots`); the OS page cache is
what they share then.
"""

import logging
import multiprocessing.connection
import os
import resource
from dataclasses import dataclass
from typing import IO

from app.errors import RequestError
from app.sparql.run import PreparedQuery

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    engine: str
    base_iri: str  # the query base (relative IRIs resolve against it)
    store_path: str = ""  # the disk store's snapshot, opened read-only; "" = the dataset streamed at start (memory)
    default_graphs: tuple[str, ...] = ()  # the graphs whose union is the default graph
    max_rows: int = 100_000  # longest answer (rows or triples); longer ones are truncated
    memory_mb: int = 1024  # address space a query may add to the loaded worker (RLIMIT_AS)
    recycle_mb: int = 64  # replaced after an answer once it has made this much its own (0: never)


def own_mb(faults_at_fork: int) -> float:
    """Memory this process has faulted in since the fork (minor faults × page size), in MB."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_at_fork) * resource.getpagesize() / 2**20


def memory_message(memory_mb: int) -> str:
    return (f"The query needed more memory than its limit of {memory_mb} MB (KG_QUERY_MEMORY_MB) and was "
            "stopped; simplify it or add a LIMIT.")


def load_dataset(config: WorkerConfig, nquads: IO[bytes] | None) -> object | None:
    """The backend shared by every worker of a generation, read from ``nquads`` (N-Quads, to EOF);
    None for a store on disk (each worker opens it itself, see :func:`open_backend`)."""
    import pyoxigraph as ox

    from app.store.backends import OxigraphBackend, make_backend

    if config.store_path or nquads is None:
        return None
    if config.engine == "oxigraph":
        # Parsed straight into the store: no Python list of every quad (about 1 GB at 1M triples).
        store = ox.Store()
        store.bulk_load(input=nquads, format=ox.RdfFormat.N_QUADS)
        return OxigraphBackend(store, config.base_iri)
    return make_backend(config.engine, list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)), config.base_iri)


def open_backend(config: WorkerConfig, shared: object | None) -> object:
    """The backend this worker queries: the shared one, or the disk store opened read-only here."""
    if shared is not None:
        return shared
    import pyoxigraph as ox

    from app.store.backends import OxigraphBackend

    on_disk = OxigraphBackend(ox.Store.read_only(config.store_path), config.base_iri)
    on_disk.default_graphs = list(config.default_graphs)
    return on_disk


def serve(conn: multiprocessing.connection.Connection, shared: object | None, config: WorkerConfig) -> None:
    """Confine this process, then answer queries from ``conn`` until it closes."""
    from app.rdf.formats import BY_NAME
    from app.sparql.run import Dataset, run_query
    from app.store.backends import Backend
    from app.store.sandbox import confine_worker

    try:
        backend: Backend = open_backend(config, shared)  # type: ignore[assignment]
    except Exception as exc:  # noqa: BLE001 - said to the main process, which logs it and tries again
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    confine_worker(config.memory_mb)  # no sockets from here on, and a memory cap
    conn.send(("ready", os.getpid()))
    faults_at_fork = resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    def replace_me() -> bool:
        """The last field of every answer. A worker that has made ``recycle_mb`` its own since the fork
        (pages first touched, or copied from the zygote's: reads of the shared store do write some of
        its pages) is replaced by a fresh fork, so the workers keep sharing the dataset instead of
        drifting to a copy each (KG_WORKER_RECYCLE_MB)."""
        return bool(config.recycle_mb) and own_mb(faults_at_fork) > config.recycle_mb

    while True:
        try:
            text, form, format_name, default_graphs, named_graphs = conn.recv()
        except EOFError:
            return
        try:
            prepared = PreparedQuery(text, form, BY_NAME[format_name], Dataset(default_graphs, named_graphs))
            result = run_query(backend, prepared, config.max_rows)
            # The body goes as raw bytes after its description: no pickled copy of it on either side.
            conn.send(("ok", result.format.name, result.form, result.truncated, replace_me()))
            conn.send_bytes(result.body)
        except RequestError as exc:
            conn.send(("error", type(exc).__name__, exc.detail, replace_me()))
        except MemoryError:
            conn.send(("error", "MemoryLimit", memory_message(config.memory_mb), replace_me()))
        except RecursionError:
            conn.send(("error", "BadRequest", "The query is nested too deeply for the engine; flatten it.",
                       replace_me()))
        except (ValueError, SyntaxError, TypeError, RuntimeError) as exc:
            # The engine could not evaluate the query (e.g. an unsupported construct).
            conn.send(("error", "BadRequest", f"The query could not be evaluated: {exc}", replace_me()))
        except OSError:
            # The sandbox refused a system call (a socket): say so without the engine's text.
            conn.send(("error", "BadRequest", ("The query could not be evaluated: it asked for a resource "
                                               "(network, file) that query workers may not use."), replace_me()))
        except Exception:  # a worker never dies from a query; the query gets 500
            logger.exception("query worker: the engine failed on a query")
            conn.send(("error", "EngineFailure", ("The query engine failed on this query (logged); "
                                                  "simplify the query or report it."), replace_me()))
