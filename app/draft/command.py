"""``kg draft ARTICLE.txt --source ID [--title T] [--issued YYYY-MM] [--exclude-district ID]
[--format turtle|json]``: read the arguments, draft, print. Exit 2 with a message naming the
argument for a missing or unreadable file, a bad --issued, an unknown --exclude-district.

What is known (districts, mechanisms, topics) is read from the store ``KG_STORE`` (``--store``)
names when it is a persisted one (``disk:PATH``, ``sparql:…``) that holds a dataset, so a deployment
that published sources through /curate drafts with what it published; else (``memory``, an empty
store) from the data files. A line on standard error says which.
"""

import argparse
import json
import re
import sys
from pathlib import Path

from app.config import Settings
from app.draft.drafter import draft_text
from app.draft.known import Known, StoreUnreadable, read_known, read_known_from_store
from app.draft.model import SourceInfo
from app.draft.writer import to_json, to_turtle
from app.rdf.source_text import SourceTextError, decode_source_text

EXIT_OK, EXIT_ERROR = 0, 2
ISSUED = re.compile(r"(19|20)\d\d-(0[1-9]|1[0-2])")
SOURCE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
#: 《北京人大》2023年第7期: a monthly's issue number is its month.
ISSUE_IN_TEXT = re.compile(r"((?:19|20)\d\d)年第(1[0-2]|[1-9])期")


class DraftArgumentError(ValueError):
    """An argument of ``kg draft`` that cannot be used; the message says which and why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", metavar="ARTICLE.txt", help="the article, UTF-8 plain text")
    parser.add_argument("--source", required=True, metavar="ID", help="the new source's id (a slug: a-z, 0-9, -)")
    parser.add_argument("--title", help="the article's title (default: the file's name)")
    parser.add_argument("--issued", metavar="YYYY-MM",
                        help="the issue's year and month; 今年 is read as its year "
                             "(default: 《…》YYYY年第N期 in the text)")
    parser.add_argument("--exclude-district", metavar="ID",
                        help="draft as if this district had never been encoded (its practices and the "
                             "mechanisms and topics only it uses are left out of what is known)")
    parser.add_argument("--format", choices=["turtle", "json"], default="turtle")
    parser.description = ("What is known (districts, mechanisms, topics) is read from the store --store / "
                          "KG_STORE names when it is a persisted store (disk:PATH, sparql:...) holding a dataset "
                          "(what was published through /curate included), else from the data files; a line on "
                          "standard error says which. Offsets count the file's characters as UTF-8 decodes "
                          "them: a BOM is character 0 and CRLF two characters, nothing is translated.")


def read_article(path: str) -> str:
    """The file's characters exactly as UTF-8 decodes them: a BOM (U+FEFF) stays character 0 and a
    CRLF two characters (no newline is translated), so offsets index the file's own text."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DraftArgumentError(f"ARTICLE.txt: no such file: {path}") from None
    except OSError as exc:
        raise DraftArgumentError(f"ARTICLE.txt: cannot read {path}: {exc.strerror}") from None
    try:
        return decode_source_text(data, path)  # the one reading of a source's text
    except SourceTextError as exc:
        raise DraftArgumentError(f"ARTICLE.txt: {exc}") from None


def source_info(args: argparse.Namespace, text: str) -> SourceInfo:
    if not SOURCE_ID.fullmatch(args.source):
        raise DraftArgumentError(f"--source {args.source!r}: use a slug of a-z, 0-9 and - (e.g. bjrd-2021-01)")
    issued = args.issued
    if issued is None:
        found = ISSUE_IN_TEXT.search(text)
        if not found:
            raise DraftArgumentError("--issued YYYY-MM is needed: the text names no issue (YYYY年第N期)")
        issued = f"{found[1]}-{int(found[2]):02d}"
    elif not ISSUED.fullmatch(issued):
        raise DraftArgumentError(f"--issued {issued!r}: expected YYYY-MM, e.g. 2023-07")
    return SourceInfo(args.source, args.title or Path(args.article).stem, issued)


def known_for_cli(settings: Settings) -> Known:
    """From the persisted store when it holds a dataset, else from the data files; says which on stderr."""
    try:
        stored = read_known_from_store(settings)
    except StoreUnreadable as exc:
        raise DraftArgumentError(str(exc)) from None
    if stored is not None:
        print(f"kg draft: what is known is read from the store {stored[1]}", file=sys.stderr)
        return stored[0]
    print(f"kg draft: what is known is read from the data files ({settings.data_dir})", file=sys.stderr)
    return read_known(settings)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        text = read_article(args.article)
        source = source_info(args, text)
        known = known_for_cli(settings)
        if args.exclude_district is not None:
            if args.exclude_district not in known.districts:
                raise DraftArgumentError(f"--exclude-district {args.exclude_district!r}: not a district id; one of "
                                         + ", ".join(sorted(known.districts)))
            known = known.without(args.exclude_district)
    except DraftArgumentError as exc:
        print(f"kg draft: {exc}", file=sys.stderr)
        return EXIT_ERROR
    draft = draft_text(text, known, source)
    if args.format == "json":
        print(json.dumps(to_json(draft), ensure_ascii=False, indent=1))
    else:
        sys.stdout.buffer.write(to_turtle(draft, settings.base_iri))
    return EXIT_OK
