"""The matrix CSV /explore builds in the browser writes each cell as the server's CSV writer does
(app/ld/tables.py): text starting like a formula behind a ', numbers as numbers, RFC 4180 quoting.

The browser's table is the view shown (filtered and sorted), so it is built in the page; its cells must
be as safe in a spreadsheet as those of /export/matrix.csv. Slow-marked (Chromium).
"""

import pytest
from playwright.sync_api import Page

from app.ld.tables import FORMULA_START, write_csv
from tests.helpers import LiveServer
from tests.test_browser import CHROMIUM, Traffic, browser, open_explore, page

__all__ = ["browser", "page"]  # fixtures, imported to be found here

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]

#: Every start a spreadsheet reads as a formula, inside and outside quoting, and plain cells.
CELLS = [*(f"{start}HYPERLINK(\"http://x\",\"y\")" for start in FORMULA_START), "=1+1", "+86 10", "-3", "@SUM(A1)",
         "\tx", "\rx", "a,b", 'say "hi"', "line\nbreak", "代表之家", "'quoted", "", 0, 1, 16, -2, 2.5]


def server_row(values: list[object]) -> str:
    """The row app/ld/tables.py writes for ``values`` (header aside)."""
    written = write_csv([str(i) for i in range(len(values))], [values], bom=False).decode("utf-8")
    return written.split("\r\n", 1)[1].removesuffix("\r\n")


def test_explore_csv_cells_are_neutralised_like_the_server_tables(page: tuple[Page, Traffic],
                                                                   server: LiveServer) -> None:
    tab, traffic = page
    open_explore(tab, server)
    row = tab.evaluate("(cells) => cells.map((c) => window.kgCsvField(c)).join(',')", CELLS)
    assert row == server_row(CELLS)
    for value in CELLS:
        if isinstance(value, str) and value.startswith(FORMULA_START):
            cell = tab.evaluate("(c) => window.kgCsvField(c)", value)
            assert cell.lstrip('"').startswith("'"), value
    traffic.assert_clean()
