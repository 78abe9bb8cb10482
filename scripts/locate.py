"""Authoring aid: print the Turtle for a verbatim quote of the article.

    python scripts/locate.py "区人大及其常委会工作制度104项"

prints ``oa:exact "…" ; oa:start N ; oa:end M`` with the offsets (Unicode code points,
end exclusive) of the text in data/sources/*/article.txt (the one source), or exits 1 if the text is not in the article
or occurs more than once (then quote a longer passage).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.rdf.source_text import read_source_text  # noqa: E402

SOURCE = next((Path(__file__).resolve().parent.parent / "data" / "sources").glob("*/article.txt"))


def main() -> int:
    text = read_source_text(SOURCE)  # the offsets every reader counts in (CRLF is two, a BOM is 0)
    exact = sys.argv[1]
    hits = [i for i in range(len(text)) if text.startswith(exact, i)]
    if len(hits) != 1:
        print(f"{len(hits)} occurrences of {exact!r}: quote a passage that occurs exactly once", file=sys.stderr)
        return 1
    start = hits[0]
    print(f'oa:exact "{exact}" ; oa:start {start} ; oa:end {start + len(exact)}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
