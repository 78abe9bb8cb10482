"""Answers across sources and years: a district over the years (``years``), which ``/api/compare`` reads for an
item ``id@year``. A subpackage of ``api`` (the same floor), so that ``api`` stays one room of at most 2,500 lines.
"""
