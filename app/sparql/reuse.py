"""Answers reused: an identical query on the same graph version is answered from memory.

The key is what decides the answer — the query text, its dataset and the answer's format — and
the store is the graph's per-version memo, so a write (a new version, a new memo) makes every
kept answer unreachable. Bounded: at most ``ENTRIES`` answers, each at most ``MAX_BODY`` bytes
(a longer one is answered and not kept). Timeouts and errors are never kept: they raise.
"""

from collections.abc import Awaitable, Callable

from app.sparql.run import Answer, PreparedQuery
from app.store.graph import KnowledgeGraph

SECTION = "sparql-answers"
ENTRIES = 256
MAX_BODY = 256 * 1024


async def reuse_answer(graph: KnowledgeGraph, query: PreparedQuery,
                       run: Callable[[PreparedQuery], Awaitable[Answer]]) -> Answer:
    """The answer to ``query`` on ``graph``: kept from an earlier identical query, or ``run(query)``."""
    key = (SECTION, graph.version, query.text, query.dataset, query.format.name)
    kept = graph.memo.peek(key)
    if isinstance(kept, Answer):
        return kept
    answer = await run(query)
    if len(answer.body) <= MAX_BODY:
        graph.memo.get(key, lambda: answer, size=ENTRIES)
    return answer
