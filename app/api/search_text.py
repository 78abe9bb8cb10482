"""The text of /api/search (app.api.search): how texts and queries are cut into FTS5 tokens and terms,
folded (OpenCC t2s, a light stemmer), and where a term is found in a text for its snippet."""

import functools
import re
import threading

import opencc

#: Characters of one literal that are indexed and searched.
MAX_INDEXED = 4096
CJK_CLASS = "\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
CJK = re.compile(f"[{CJK_CLASS}\uff00-\uffef]")
TERM = re.compile(f"[{CJK_CLASS}]+|[A-Za-z0-9]+")
WORD = re.compile(r"[A-Za-z0-9]+")
VOWEL = re.compile(r"[aeiouy]")
LATIN = re.compile(r"[A-Za-z]")
_T2S = opencc.OpenCC("t2s")
_T2S_LOCK = threading.Lock()


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stemmer: the same stem for the plural, -ing and -ed forms of a word.

    Applied to both the text and the query, so it only has to be consistent, not linguistic.
    """
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "y"
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and VOWEL.search(w[:-len(suffix)]):
            w = w[:-len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # planned -> plan
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def simplified(text: str) -> str:
    """``text`` in simplified characters (OpenCC t2s); Latin text unchanged."""
    if not CJK.search(text):
        return text
    with _T2S_LOCK:
        return str(_T2S.convert(text))


def tokens(text: str) -> str:
    """The tokens FTS5 indexes for a text: CJK bigrams (and each run's last character), word stems."""
    out: list[str] = []
    for run in TERM.findall(text[:MAX_INDEXED]):
        if run[0] > "\u007f":  # a CJK run (TERM's other runs are ASCII)
            out += map(str.__add__, run, run[1:])
            out.append(run[-1])
        else:
            out.append(stem(run))
    return " ".join(out)


def term_query(term: str) -> str:
    """The FTS5 expression of one term (built from tokens only: nothing of the query is passed as syntax)."""
    if CJK.match(term):
        if len(term) == 1:
            return f'"{term}"*'
        return '"' + " ".join(term[i:i + 2] for i in range(len(term) - 1)) + '"'
    s = stem(term)
    return f'"{s}"' if s.isdigit() or len(s) < 3 else f'"{s}"*'


def terms_of(q: str) -> list[str]:
    return [m.group() for m in TERM.finditer(q)]


def find_span(text: str, needles: list[str], stems: list[str]) -> tuple[int, int] | None:
    """The first needle found in ``text`` (case-insensitively), else the first word a term stem starts."""
    text = text[:MAX_INDEXED]
    folded = text.casefold()
    same = len(folded) == len(text)
    for needle in needles:
        at = folded.find(needle.casefold()) if same else text.find(needle)
        if at >= 0:
            return at, at + len(needle)
    for m in WORD.finditer(text):
        word = stem(m.group())
        for s in stems:
            prefix = len(s) >= 3 and not s.isdigit() and (word.startswith(s) or m.group().lower().startswith(s))
            if word == s or prefix:
                return m.span()
    return None
