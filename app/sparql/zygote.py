"""The zygote: one process per graph version that loads the dataset once and forks the query workers.

Each worker used to load its own copy of the dataset (N + 1 copies at 1M triples: several GB).
Now one process per generation — the zygote, started with ``spawn`` so that it inherits nothing
of the server — reads the dataset (streamed from the main process over a socket, no file and no
bytes object of it in the main process) and then only forks: on each request from the main
process it ``os.fork()``\\s a worker, which shares the loaded store copy-on-write. A fork costs
milliseconds, so a replacement for a killed worker is ready at once.

Control protocol, over a Unix socket pair (main ↔ zygote): the zygote sends ``b"r"`` once the
dataset is loaded; then each ``b"f"`` from the main process is answered with the worker's pid and,
as ``SCM_RIGHTS``, two descriptors: the main process's end of the worker's socket pair (its
query pipe) and a pidfd of the worker (signalled race-free, polled for its exit: the worker is
the zygote's child, not the main process's). The worker confines itself after the fork exactly as
before (:func:`app.store.sandbox.confine_worker`: seccomp, no sockets, ``RLIMIT_AS``).

Lifetimes: the zygote ignores SIGCHLD (the kernel reaps its workers), and each worker is SIGKILLed
by the kernel when the zygote exits (``PR_SET_PDEATHSIG``). The zygote exits when its control
socket closes (the main process closed the generation), and is SIGKILLed by the kernel when the
main process dies (``PR_SET_PDEATHSIG`` too: even while it loads the dataset, e.g. when ``kg serve``
is stopped during start-up), so nothing outlives the service.
"""

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import select
import signal
import socket
import struct
import threading
from collections.abc import Callable
from typing import IO, Any

from app.sparql.worker import WorkerConfig, load_dataset, serve

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")
_PID = struct.Struct("<q")


def zygote_main(control: socket.socket, data: socket.socket | None, config: WorkerConfig) -> None:
    """Entry point of the zygote process: load the dataset, then fork a worker per request."""
    from app.store.sandbox import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when the pool stops
    die_with_parent(os.getppid())  # killed with the main process, even while it loads the dataset
    shared = None
    if data is not None:
        with data, data.makefile("rb") as stream:
            shared = load_dataset(config, stream)
    import app.sparql.run  # noqa: F401 - imported once here, shared by every worker

    # Objects that exist now are never collected again: a worker's collector leaves their pages shared.
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    control.sendall(b"r")
    zygote = os.getpid()
    while True:
        try:
            request = control.recv(1)
        except OSError:
            request = b""
        if request != b"f":
            return  # the main process closed the generation (or is gone)
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            _worker(control, ours, theirs, shared, config, zygote)
        theirs.close()
        fds = [ours.fileno()]
        with contextlib.suppress(OSError):  # already dead: the main process sees EOF on its pipe
            fds.append(os.pidfd_open(pid))
        socket.send_fds(control, [_PID.pack(pid)], fds)
        for fd in fds[1:]:
            os.close(fd)
        ours.close()


def _worker(control: socket.socket, ours: socket.socket, theirs: socket.socket, shared: object | None,
            config: WorkerConfig, zygote: int) -> None:
    """The forked child: never returns into the zygote's loop."""
    code = 0
    try:
        from app.store.sandbox import die_with_parent

        control.close()
        ours.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        die_with_parent(zygote)
        serve(multiprocessing.connection.Connection(theirs.detach()), shared, config)
    except BaseException:  # noqa: BLE001 - whatever happens, the child must not run the zygote's loop
        logger.exception("query worker failed")
        code = 1
    finally:
        os._exit(code)


class ForkedProcess:
    """A worker forked by the zygote, seen from the main process through its pidfd."""

    def __init__(self, pid: int, pidfd: int | None) -> None:
        self.pid = pid
        self._pidfd = pidfd

    def is_alive(self) -> bool:
        if self._pidfd is None:
            return False
        return not select.select([self._pidfd], [], [], 0)[0]

    def kill(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def join(self, timeout: float | None = None) -> None:
        if self._pidfd is not None:
            select.select([self._pidfd], [], [], timeout)

    def __del__(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None


class Zygote:
    """The main process's handle on one zygote (see the module docstring)."""

    def __init__(self, config: WorkerConfig, write_dataset: Callable[[IO[bytes]], None] | None) -> None:
        self.config = config
        self.write_dataset = write_dataset
        self.process: Any = None
        self._control: socket.socket | None = None
        self._lock = threading.Lock()  # one fork request at a time on the control socket

    async def start(self, timeout_s: float = 300) -> None:
        """Start the zygote and stream it the dataset; returns once it is loaded."""
        control, control_child = socket.socketpair()
        data, data_child = socket.socketpair() if self.write_dataset is not None else (None, None)
        self.process = _CONTEXT.Process(target=zygote_main, args=(control_child, data_child, self.config),
                                        daemon=True, name="kg-query-zygote")
        self._control = control
        try:
            # Starting a spawned process blocks until the child has read its arguments: not on the loop.
            await asyncio.to_thread(self.process.start)
        finally:
            control_child.close()
            if data_child is not None:
                data_child.close()
        if data is not None and self.write_dataset is not None:
            await asyncio.to_thread(self._send, data, self.write_dataset)
        control.settimeout(timeout_s)
        ready = await asyncio.to_thread(self._read_ready)
        if ready != b"r":
            raise EOFError("the query zygote exited while loading the dataset")
        control.settimeout(30)

    @staticmethod
    def _send(data: socket.socket, write_dataset: Callable[[IO[bytes]], None]) -> None:
        with data, data.makefile("wb") as stream:
            write_dataset(stream)

    def _read_ready(self) -> bytes:
        assert self._control is not None
        with self._lock:
            return self._control.recv(1)

    def fork(self) -> tuple[multiprocessing.connection.Connection, ForkedProcess]:
        """A new worker (blocking: call it from a thread). EOFError/OSError when the zygote is gone."""
        with self._lock:
            if self._control is None:
                raise EOFError("the query zygote is closed")
            self._control.sendall(b"f")
            message, fds, _, _ = socket.recv_fds(self._control, _PID.size, 2)
        if len(message) != _PID.size or not fds:
            for fd in fds:
                os.close(fd)
            raise EOFError("the query zygote did not answer")
        (pid,) = _PID.unpack(message)
        return multiprocessing.connection.Connection(fds[0]), ForkedProcess(pid, fds[1] if len(fds) > 1 else None)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def close(self) -> None:
        """Stop the zygote: it exits when its control socket closes (its workers with it)."""
        control, self._control = self._control, None
        if control is not None:
            with contextlib.suppress(OSError):
                control.shutdown(socket.SHUT_RDWR)
            control.close()
        if self.process is not None and self.process.pid is not None:
            self.process.join(2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(2)
