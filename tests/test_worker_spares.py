"""A query worker killed from outside (segfault, OOM killer: here SIGKILL) is replaced from the warm
spare: with a pool of one worker, ``/ready`` stays 200 and the next ``ASK {}`` answers."""

import os
import signal
import time

import httpx
import pytest

from app.config import Settings
from app.sparql.workers import QueryWorkers
from tests.helpers import serve_in_thread


def wait_for_spare(pool: QueryWorkers, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while pool.spare is None:
        assert time.monotonic() < deadline, "no spare worker was started"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGSEGV])
def test_pool_of_one_worker_killed_stays_ready_and_answers(signum: int) -> None:
    for live in serve_in_thread(Settings(query_workers=1, query_timeout_s=5)):
        pool = live.app.state.runtime.runner  # type: ignore[attr-defined]
        assert isinstance(pool, QueryWorkers)
        wait_for_spare(pool)
        for round_ in range(3):  # each death is covered by the spare, and a new spare comes back
            (victim,) = [w for w in pool.all if w is not pool.spare]
            os.kill(victim.process.pid, signum)
            victim.process.join(5)
            probes = [httpx.get(f"{live.url}/ready", timeout=10) for _ in range(5)]
            assert [p.status_code for p in probes] == [200] * 5, round_
            # A text not asked before in this version: answered by a worker, not from the stored answers.
            response = httpx.get(f"{live.url}/sparql", params={"query": f"ASK {{ FILTER({round_} >= 0) }}"}, timeout=10)
            assert response.status_code == 200 and response.json()["boolean"] is True
            assert victim not in pool.all
            wait_for_spare(pool)
        assert len(pool.all) == 2  # one worker and one spare: the pool does not grow
