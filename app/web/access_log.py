"""The access log: logger ``app.access``, one JSON object per request and line (time, request_id,
method, path, status, duration_ms, client), written by :class:`BatchedLineWriter` to standard
output unless logging was set up for ``app.access`` already."""

import asyncio
import json
import logging
import re
import sys
import time
from typing import Any

access_logger = logging.getLogger("app.access")

#: Methods logged (and labelled in metrics) as they are; any other is escaped, or "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
#: Longer paths are cut in the access log (a made-up URL must not make a huge log line).
MAX_LOGGED_PATH = 2048


class Clock:
    """ISO 8601 UTC timestamps with milliseconds; the seconds part is formatted once per second."""

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""

    def now(self) -> str:
        now = time.time()
        second = int(now)
        if second != self.second:
            self.second, self.prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self.prefix}.{int((now - second) * 1000):03d}+00:00"


_CLOCK = Clock()
_PLAIN = re.compile(r"[ -!#-\[\]-~]*")  # printable ASCII but the quote and the backslash: JSON as it is


def access_line(request_id: str, method: str, path: str, status: int, seconds: float, client: str | None) -> str:
    """One access-log line: a JSON object (time, request_id, method, path, status, duration_ms, client)."""
    path = path[:MAX_LOGGED_PATH]
    method = method if method in METHODS else json.dumps(method, ensure_ascii=False)[1:-1]
    path_json = f'"{path}"' if _PLAIN.fullmatch(path) else json.dumps(path, ensure_ascii=False)
    client_json = "null" if client is None else (f'"{client}"' if _PLAIN.fullmatch(client) else json.dumps(client))
    return (
        f'{{"time": "{_CLOCK.now()}", "request_id": "{request_id}", "method": "{method}", '
        f'"path": {path_json}, "status": {status}, "duration_ms": {round(seconds * 1000, 2)}, '
        f'"client": {client_json}}}'
    )


class BatchedLineWriter(logging.Handler):
    """The access log's own handler: bare JSON lines on a stream, written in batches.

    Writing and flushing a line per request costs a system call each (about half the CPU of a
    stored answer, measured with ``bench/api.py``). Lines are kept in memory and written together
    at most ``delay_s`` later, in writes of under ``PIPE_BUF`` bytes that end at a line's end (so
    the lines of several processes on one pipe do not interleave), or at once when a batch is full;
    what is left is written at exit (``logging.shutdown`` flushes every handler). Outside an event
    loop each line is written at once. Records that come through ``logging`` (other code) are
    written the same way."""

    MAX_WRITE = 4000  # bytes, under the PIPE_BUF (4096) that makes a pipe write atomic on Linux

    def __init__(self, stream: Any, delay_s: float = 0.05, max_lines: int = 512) -> None:
        super().__init__()
        self.stream = stream
        self.delay_s = delay_s
        self.max_lines = max_lines
        self.pending: list[str] = []
        self.timer: asyncio.TimerHandle | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.write_line(self.format(record))

    def write_line(self, line: str) -> None:
        self.pending.append(line)
        if len(self.pending) >= self.max_lines:
            self.flush()
        elif self.timer is None:
            try:
                self.timer = asyncio.get_running_loop().call_later(self.delay_s, self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        lines, self.pending = self.pending, []
        chunk: list[str] = []
        size = 0  # bytes of chunk, newlines included
        try:
            for line in lines:
                length = len(line.encode("utf-8")) + 1
                if chunk and size + length > self.MAX_WRITE:
                    self._write(chunk)
                    chunk, size = [], 0
                chunk.append(line)
                size += length
            self._write(chunk)
        except (OSError, ValueError):  # a closed or broken stream: the lines are lost, the service goes on
            pass

    def _write(self, lines: list[str]) -> None:
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()


_WRITER = BatchedLineWriter(sys.stdout)


def batched_writer() -> BatchedLineWriter | None:
    """The batched writer when it alone receives the access log (set up by configure_access_log, and
    not replaced since), else None: records then go through ``logging`` as configured."""
    if access_logger.handlers == [_WRITER] and not access_logger.propagate and not access_logger.filters:
        return _WRITER
    return None


def configure_access_log() -> None:
    """Send ``app.access`` to standard output as bare JSON lines, unless logging was set up for it already."""
    if access_logger.handlers or access_logger.level != logging.NOTSET:
        return
    _WRITER.stream = sys.stdout
    _WRITER.setFormatter(logging.Formatter("%(message)s"))
    access_logger.addHandler(_WRITER)
    access_logger.setLevel(logging.INFO)
    # Not also through the root logger's handlers (that would print each line twice, reformatted).
    access_logger.propagate = False
