"""The data lint: what a careful reader of the graph would notice, beyond what the shapes say.

Run by ``kg validate`` (a lint problem makes it exit 1) and by tests/test_lint.py. It reads the
asserted triples (ontology and data, not the inferred graph) and the article, and reports:

* ``control``: a C1 control character (U+0080–U+009F) or U+FFFD in any literal;
* ``mojibake``: UTF-8 read as Latin-1 or Windows-1252 (``â€™``, ``Ã©``): a run of characters of
  those code pages whose bytes decode as a UTF-8 multi-byte sequence;
* ``nfc``: a language-tagged literal not in Unicode NFC;
* ``space``: a language-tagged literal with leading or trailing white space;
* ``en-missing``: a node with a zh label or definition (per property) and no en one;
* ``en-chinese``: Chinese characters in an en label (definitions may gloss a Chinese name);
* ``label-shared``: one label (zh or en, preferred or alternative) on two concepts of one class;
* ``quote-source``: a practice's quote whose ``dcterms:source`` is none of the sources
  (``data/sources/{id}/``);
* ``quote-boundary``: a practice's quote that does not begin and end at a clause boundary of the
  text of its source (a mark of ``CLAUSE_MARKS``, white space or the paragraph's edge), unless
  ``data/lint-exclusions.tsv`` lists it with a reason (an exclusion that names no such quote is
  itself a problem, ``exclusion``). A practice's quote states an action and must read as a whole
  clause; a fact's quote is the number and what it counts (1297个网格群) and a theme's the words
  that name it, so those are not held to clause boundaries.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from app.build.load import source_dirs

EXCLUSIONS_FILE = "lint-exclusions.tsv"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OA = "http://www.w3.org/ns/oa#"
DCTERMS_SOURCE = "http://purl.org/dc/terms/source"
BJRD = "https://bjrd-kg.example.org/ontology#"
SCHEMA_UNIT = "https://schema.org/unitText"
#: Properties whose values are labels (an en one must have no Chinese characters).
LABELS = (RDFS_LABEL, SKOS + "prefLabel", SKOS + "altLabel", SCHEMA_UNIT)
#: Properties for which a zh value needs an en one on the same node.
PAIRED = (RDFS_LABEL, SKOS + "prefLabel", SKOS + "definition", SCHEMA_UNIT)
#: Classes whose members must not share a label.
CONCEPT_CLASSES = (BJRD + "Mechanism", BJRD + "SupervisionTopic", BJRD + "Theme", BJRD + "Unit")
#: Marks that end a clause or a phrase of one (the enumeration comma 、 does not: it splits a list).
CLAUSE_MARKS = frozenset("，,。；;：:！？!?")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
C1 = re.compile(r"[\u0080-\u009f\ufffd]")
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass(frozen=True, order=True)
class Problem:
    rule: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: <{self.subject}> {self.detail}"


def _byte(ch: str) -> int | None:
    """The byte a Latin-1 or Windows-1252 reading would have turned into ``ch``, if any."""
    try:
        return ch.encode("cp1252")[0]
    except UnicodeEncodeError:
        return ord(ch) if ord(ch) < 0x100 else None


def is_mojibake(text: str) -> bool:
    """True when a run of non-ASCII code-page characters in ``text`` is UTF-8 read as a code page."""
    run = bytearray()
    for ch in text + "\0":
        byte = _byte(ch) if ord(ch) >= 0x80 else None
        if byte is not None:
            run.append(byte)
            continue
        if UTF8_MULTIBYTE.search(bytes(run)):
            return True
        run.clear()
    return False


def literal_problems(subject: str, predicate: str, value: ox.Literal) -> Iterable[Problem]:
    text, lang = value.value, value.language
    where = f"{predicate.rsplit('#', 1)[-1].rsplit('/', 1)[-1]} {text!r}"
    if C1.search(text):
        yield Problem("control", subject, f"{where}: a C1 control character or U+FFFD")
    if is_mojibake(text):
        yield Problem("mojibake", subject, f"{where}: UTF-8 read as Latin-1/Windows-1252")
    if lang:
        if not unicodedata.is_normalized("NFC", text):
            yield Problem("nfc", subject, f"{where}@{lang}: not in Unicode NFC")
        if text != text.strip():
            yield Problem("space", subject, f"{where}@{lang}: leading or trailing white space")
        if lang == "en" and predicate in LABELS and HAN.search(text):
            yield Problem("en-chinese", subject, f"{where}@en: Chinese characters in an English label")


CLOSING = frozenset("”’」』）)》〉】")


def clause_boundary_before(article: str, at: int) -> bool:
    """A clause may begin at ``at``: after a clause mark, white space or the text's start (closing
    quotation marks or brackets after a clause mark, as in 。”, are skipped)."""
    while at > 0 and article[at - 1] in CLOSING:
        at -= 1
    return at <= 0 or article[at - 1] in CLAUSE_MARKS or article[at - 1].isspace()


def clause_boundary_after(article: str, end: int) -> bool:
    return end >= len(article) or article[end] in CLAUSE_MARKS or article[end].isspace() \
        or article[end - 1] in CLAUSE_MARKS


def local_name(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def read_exclusions(path: Path) -> dict[str, str]:
    """``quote-slug<TAB>reason`` lines (# starts a comment): quotes allowed to start or end mid-phrase."""
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                slug, _, reason = line.partition("\t")
                out[slug.strip()] = reason.strip()
    return out


def lint(triples: Iterable[ox.Triple | ox.Quad], article: str | Mapping[str, str],
         exclusions: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of ``triples`` (asserted ontology and data) read against ``article``: one text, or per
    source id (the last segment of a quote's ``dcterms:source``) that source's text."""
    exclusions = dict(exclusions or {})
    quoted_from: dict[str, str] = {}  # quote -> its source's id
    problems: list[Problem] = []
    types: dict[str, set[str]] = defaultdict(set)
    langs: dict[tuple[str, str], set[str]] = defaultdict(set)
    labels: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (class-less) label -> subjects
    offsets: dict[str, dict[str, int]] = defaultdict(dict)
    evidence: dict[str, set[str]] = defaultdict(set)  # quote -> what it is evidence for
    for triple in triples:
        subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
        if not isinstance(subject, ox.NamedNode):
            continue
        s = subject.value
        if predicate == RDF_TYPE and isinstance(obj, ox.NamedNode):
            types[s].add(obj.value)
        if predicate == BJRD + "evidence" and isinstance(obj, ox.NamedNode):
            evidence[obj.value].add(s)
        if predicate == DCTERMS_SOURCE and isinstance(obj, ox.NamedNode):
            quoted_from[s] = local_name(obj.value)
        if not isinstance(obj, ox.Literal):
            continue
        problems.extend(literal_problems(s, predicate, obj))
        if obj.language and predicate in PAIRED:
            langs[(s, predicate)].add(obj.language)
        if obj.language and predicate in (SKOS + "prefLabel", SKOS + "altLabel"):
            labels[(obj.language, obj.value, "")].add(s)
        if predicate in (OA + "start", OA + "end"):
            offsets[s][predicate[len(OA):]] = int(obj.value)
    for (s, predicate), found in sorted(langs.items()):
        if "zh" in found and "en" not in found:
            problems.append(Problem("en-missing", s, f"{local_name(predicate)}: a zh value and no en one"))
    for (lang, text, _), subjects in sorted(labels.items()):
        for cls in CONCEPT_CLASSES:
            sharing = sorted(s for s in subjects if cls in types[s])
            if len(sharing) > 1:
                problems.append(Problem("label-shared", sharing[0],
                                        f"label {text!r}@{lang} shared by {', '.join(map(local_name, sharing))}"))
    quotes = {q for q, of in evidence.items() if any(BJRD + "Practice" in types[s] for s in of)}
    for s in sorted(quotes):
        span = offsets.get(s, {})
        if "start" not in span or "end" not in span:
            continue
        start, end = span["start"], span["end"]
        if isinstance(article, str):
            text = article
        elif quoted_from.get(s) in article:
            text = article[quoted_from[s]]
        else:
            problems.append(Problem("quote-source", s, f"quoted from {quoted_from.get(s, 'no source')!r}, not one of "
                                                       f"the sources: {', '.join(article)}"))
            continue
        ends = [side for side, ok in (("begins", clause_boundary_before(text, start)),
                                      ("ends", clause_boundary_after(text, end))) if not ok]
        if ends and local_name(s) not in exclusions:
            context = f"…{text[max(start - 6, 0):start]}[{text[start:end]}]{text[end:end + 6]}…"
            problems.append(Problem("quote-boundary", s, f"{' and '.join(ends)} mid-phrase: {context}"))
        exclusions.pop(local_name(s), None)
    for slug in sorted(exclusions):
        problems.append(Problem("exclusion", slug, f"{EXCLUSIONS_FILE} lists a quote the graph does not have"))
    return sorted(set(problems))


def lint_files(triples: Iterable[ox.Triple | ox.Quad], data_dir: Path) -> list[Problem]:
    """:func:`lint` with the exclusions of ``data_dir``, each quote read against its own source's text
    (``data_dir/sources/{id}/article.txt``)."""
    texts = {s.id: s.text() for s in source_dirs(data_dir)}
    return lint(triples, texts, read_exclusions(data_dir / EXCLUSIONS_FILE))
