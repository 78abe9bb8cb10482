"""When a practice is dated, for the timelines (app.api.timeline) and a district's years (app.api.across.years).

A practice is dated by its source (the year of the issue its quote comes from) unless the text gives it a date
of its own (``dcterms:date``, or the start of a period); the ``*_timeline`` queries bind ``dated`` for the
latter and ``issued`` for the former.
"""

from typing import Any, NamedTuple


def year_of(row: dict[str, Any]) -> int | None:
    """The year a ``*_timeline`` row dates its practice to; None when it gives no four-digit year."""
    written = row.get("dated") or row.get("issued")
    return int(str(written)[:4]) if written and str(written)[:4].isdigit() else None


class PracticeDate(NamedTuple):
    """A practice in a year: the source reporting it, and whether the text dates it (not the issue)."""

    source: str
    dated: bool
