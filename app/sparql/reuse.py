"""Answers reused: an identical query on the same graph version is answered from memory.

The key is what decides the answer — the query text, its dataset and the answer's format — and
the store is the graph's per-version memo, so a write (a new version, a new memo) makes every
kept answer unreachable. Bounded: at most ``ENTRIES`` answers, each at most ``MAX_BODY`` bytes
(a longer one is answered and not kept). Timeouts and errors are never kept.

Identical queries that arrive while the first one runs wait for its answer (or its error)
instead of taking a query worker each; if the first one's client goes away, they run their own.
"""

import asyncio
from collections.abc import Awaitable, Callable

from app.build.graph import KnowledgeGraph
from app.sparql.run import Answer, PreparedQuery

SECTION = "sparql-answers"
RUNNING = "sparql-running"
ENTRIES = 256
MAX_BODY = 256 * 1024


async def reuse_answer(graph: KnowledgeGraph, query: PreparedQuery,
                       run: Callable[[PreparedQuery], Awaitable[Answer]]) -> Answer:
    """The answer to ``query`` on ``graph``: kept from an earlier identical query, or ``run(query)``."""
    key = (SECTION, graph.version, query.text, query.dataset, query.format.name)
    kept = graph.memo.peek(key)
    if isinstance(kept, Answer):
        return kept
    running: dict[tuple[object, ...], asyncio.Future[Answer]] = graph.memo.get((RUNNING,), dict)
    first = running.get(key)
    if first is not None:
        try:
            return await asyncio.shield(first)
        except asyncio.CancelledError:
            if not first.cancelled():
                raise  # this request was cancelled, not the first one
    return await _run_first(graph, key, query, run, running)


async def _run_first(graph: KnowledgeGraph, key: tuple[object, ...], query: PreparedQuery,
                     run: Callable[[PreparedQuery], Awaitable[Answer]],
                     running: dict[tuple[object, ...], asyncio.Future[Answer]]) -> Answer:
    future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
    running[key] = future
    try:
        answer = await run(query)
    except asyncio.CancelledError:
        future.cancel()
        raise
    except Exception as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: waiting requests raise it, none may be waiting
        raise
    finally:
        if running.get(key) is future:
            del running[key]
    future.set_result(answer)
    if len(answer.body) <= MAX_BODY:
        graph.memo.get(key, lambda: answer, size=ENTRIES)
    return answer
