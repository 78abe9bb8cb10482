"""One reading of a source's text, the one its quotes' offsets count in.

A source's text (``data/sources/{id}/article.txt``) is read as its bytes decode as strict UTF-8: no
newline is translated (a CRLF is two characters), a byte-order mark stays character 0, and a byte
that is not UTF-8 is an error naming the file, the byte and its line, never a replacement character.
Every reader uses it: loading and the verbatim check (``kg validate``'s lint), coverage, ``/read``,
the text's SHA-256 and ``kg draft``, so a quote is checked, drafted and shown at the same offsets.
Decoding strict UTF-8 and encoding back gives the same bytes, so :func:`text_sha256` of the text is
the SHA-256 of the file.
"""

import hashlib
from pathlib import Path

from app.errors import DataError


class SourceTextError(DataError):
    """A source's text cannot be read, or is not UTF-8; the message names the file."""


def decode_source_text(data: bytes, name: str | Path) -> str:
    """``data`` as a source's text (strict UTF-8, nothing translated); an error names ``name`` and where."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceTextError(f"{name}: not UTF-8 text: byte {exc.start} (0x{data[exc.start]:02x}, line {line}, "
                              f"byte {column} of the line) {exc.reason}") from None


def read_source_text(path: Path) -> str:
    """The text of the file at ``path``, read for offsets (see the module's docstring)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceTextError(f"{path}: no such file") from None
    except OSError as exc:
        raise SourceTextError(f"{path}: cannot read: {exc.strerror}") from None
    return decode_source_text(data, path)


def text_sha256(text: str) -> str:
    """The SHA-256 (hex) of a source's text as its file holds it (UTF-8, as read)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
