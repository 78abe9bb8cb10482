"""``kg load`` run in-process releases its connections to a remote store (a real Oxigraph server).

The connections are read from the kernel's table of this machine's TCP sockets (/proc/net/tcp, tcp6): after
``main(["load", ...])`` returns, no connection to the store's port is still established. Before the fix the
command left its HTTP client's keep-alive connection open until a garbage collection found it.
"""

import re
from pathlib import Path

import pytest

from app.cli import main
from tests.helpers import running_oxigraph

TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
ESTABLISHED = "01"

pytestmark = [pytest.mark.slow,  # a whole load and validation: some 4 s
              pytest.mark.skipif(not TCP_TABLES[0].exists(), reason="needs Linux's /proc/net/tcp")]


def established_to(port: int) -> int:
    """How many TCP connections on this machine to ``port`` (the client's side) are established."""
    count = 0
    for table in TCP_TABLES:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == ESTABLISHED:
                count += 1
    return count


def test_load_into_a_remote_store_leaves_no_connection_open(capsys: pytest.CaptureFixture[str]) -> None:
    with running_oxigraph() as spec:
        found = re.search(r"127\.0\.0\.1:(\d+)/", spec)
        assert found
        port = int(found[1])
        assert main(["load", "--into", spec]) == 0
        out = capsys.readouterr().out
        assert re.search(r"^version \S+$", out, re.M)  # it did load, over connections to that port
        assert established_to(port) == 0
