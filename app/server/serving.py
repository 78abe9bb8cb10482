"""``kg serve``'s server: uvicorn with the guarded connections of :mod:`app.server.connections`, stopped
by SIGTERM or SIGINT at any moment, start-up included."""

import contextlib
import signal
import threading
from collections.abc import Generator
from typing import Any

import uvicorn
from uvicorn.server import HANDLED_SIGNALS

from app.config import Settings
from app.server.connections import server_options


class GuardedServer(uvicorn.Server):
    """uvicorn's server, stopped by SIGTERM or SIGINT at any moment, start-up included.

    uvicorn catches the signals from the start and acts on them once start-up is over; and the
    start-up build (the graph loaded, inferred and validated in a thread nothing can interrupt,
    largely in the engine with the interpreter's lock held) keeps even a signal handler from
    running: ``kg serve`` stayed alive for the whole build after SIGTERM (two minutes on a
    1M-triple graph). Here the signals keep their default action until the service serves: the
    kernel ends the process at once (status 128 + n), with no handler that must first get its turn,
    and its children follow it (the query zygote dies with its parent, its workers with the zygote).
    Nothing has been served then, and nothing written that a store does not survive a kill of.
    Once serving, uvicorn's handlers and its graceful shutdown apply (answers in flight get
    ``GRACEFUL_SHUTDOWN_S``, then the runtime stops its workers)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, signal.SIG_DFL) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)
        for captured in reversed(self._captured_signals):  # as uvicorn does: end as the signal says
            signal.raise_signal(captured)

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets=sockets)
        if threading.current_thread() is threading.main_thread():
            for sig in HANDLED_SIGNALS:
                signal.signal(sig, self.handle_exit)


def serve(app: Any, settings: Settings, host: str, port: int, log_level: str) -> None:
    """Run ``app`` as ``kg serve`` does: uvicorn with :func:`server_options`, under :class:`GuardedServer`."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, **server_options(settings))
    GuardedServer(config).run()
