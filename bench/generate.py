"""Write a synthetic data directory, N times the article, in the same ontology and valid under the shapes.

    .venv/bin/python bench/generate.py --triples 1000000 --out /tmp/kg-1m   # about 1M triples in total
    .venv/bin/python bench/generate.py --issues 19 --out /tmp/kg-100k        # or: how many issues (19 ≈ 100k)
    KG_DATA_DIR=/tmp/kg-1m .venv/bin/kg stats

How it scales honestly. There are 16 districts and their GB/T 2260 codes are unique and match
``^1101\\d\\d$`` (shape S01), so the districts cannot multiply. What multiplies is the article:
the synthetic graph is N issues of the magazine, each reporting on the same 16 districts.
Issue 0 is the article itself, unchanged (so ``--issues 1`` is exactly data/). Every further
issue ``k`` repeats the article's district files with

* every practice, fact and quote re-minted with the suffix ``-sNNNNN`` (``prac:haidian-expert-adviser-pool-s00042``),
  labels marked with the issue (``…（第42期）``, ``… (issue 42)``), quotes' ``dcterms:source`` the issue's
  own ``src:article-sNNNNN`` (whose text is the same file: its offsets stay valid and its
  ``oa:exact`` stays verbatim), fact values and themes as in the article;
* every ``bjrd:usesMechanism`` link to a mechanism ``m`` of the article re-drawn: with
  probability ``KEEP`` still ``m`` (the widely shared head); else, with probability ``MINT``, a new
  mechanism minted as a narrower concept of ``m`` (``mech:m-vN``; written to mechanisms.ttl); else one
  of the minted mechanisms under the same top concept as ``m`` (so in the same family, e.g. forms of
  supervision), chosen in proportion to how often it has been used so far (preferential attachment,
  Simon's model: a long tail of mechanisms used once or twice and a few widely shared ones).
  Mechanisms grow about as fast as in the article (≈ 0.5 per practice).

So per district there stay ≈ 9 practices, ≈ 3 facts and ≈ 12 quotes per issue; the shapes hold
(every minted mechanism is used, S03-used). Output is streamed, issue by issue; nothing scales
with N in memory except the mechanisms' use lists (one short string per reused link).

Files: source/, source.ttl, themes.ttl, topics.ttl, districts.ttl copied unchanged; mechanisms.ttl = the
article's scheme followed by the minted mechanisms; issues.ttl = the synthetic issues' metadata;
districts/<id>.ttl = the district's practices, facts and quotes of every issue.
"""

import argparse
import json
import random
import re
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
BASE = "https://bjrd-kg.example.org"

#: Default graph size (data + ontology + inferred, distinct, as ``kg stats`` counts) of the
#: article alone, and what each further issue adds: measured with this generator (seed 1) on
#: 1 and 26 issues; ``--triples`` divides by it.
ARTICLE_TRIPLES = 5911
TRIPLES_PER_ISSUE = 5210

KEEP = 0.15  # a link keeps the article's mechanism
MINT = 0.6  # … else mints a narrower one with this probability, else reuses a narrower one

PREFIXES = {
    "bjrd": "https://bjrd-kg.example.org/ontology#",
    "dcterms": "http://purl.org/dc/terms/",
    "dist": f"{BASE}/id/district/",
    "fact": f"{BASE}/id/fact/",
    "mech": f"{BASE}/id/mechanism/",
    "oa": "http://www.w3.org/ns/oa#",
    "prac": f"{BASE}/id/practice/",
    "quote": f"{BASE}/id/quote/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "scheme": f"{BASE}/id/scheme/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "src": f"{BASE}/id/source/",
    "theme": f"{BASE}/id/theme/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
HEADER = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
RENAMED = ("prac", "fact", "quote")  # entities minted again in every issue
ARTICLE = f"{BASE}/id/source/article"
USES = "https://bjrd-kg.example.org/ontology#usesMechanism"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SAFE_LOCAL = re.compile(r"^[A-Za-z0-9_-]+$")

# A template is a list of pieces: plain Turtle text, or a slot filled per issue.
SUFFIX, SOURCE, MECH, LABEL_END = "suffix", "source", "mech", "label-end"
Piece = str | tuple[str, str]


def qname(iri: str) -> tuple[str, str] | None:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and SAFE_LOCAL.match(iri[len(ns):]):
            return prefix, iri[len(ns):]
    return None


def render_node(node: ox.NamedNode, pieces: list[Piece]) -> None:
    q = qname(node.value)
    if q is None:
        pieces.append(f"<{node.value}>")
    elif q[0] in RENAMED:
        pieces += [f"{q[0]}:{q[1]}", (SUFFIX, "")]
    else:
        pieces.append(f"{q[0]}:{q[1]}")


def render_object(predicate: ox.NamedNode, obj: ox.NamedNode | ox.BlankNode | ox.Literal, pieces: list[Piece]) -> None:
    if isinstance(obj, ox.NamedNode):
        if predicate.value == USES:
            pieces.append((MECH, qname(obj.value)[1]))
        elif obj.value == ARTICLE:
            pieces.append((SOURCE, ""))
        else:
            render_node(obj, pieces)
    elif isinstance(obj, ox.Literal) and predicate.value == LABEL and obj.language in ("zh", "en"):
        text = str(ox.Literal(obj.value))  # "…" with Turtle escapes
        pieces += [text[:-1], (LABEL_END, obj.language)]
    elif isinstance(obj, ox.Literal):
        pieces.append(str(obj))
    else:
        raise ValueError(f"unexpected object {obj!r} (blank nodes are not templated)")


def template(path: Path) -> list[Piece]:
    """The district file as Turtle pieces, one block per subject, with slots for what varies per issue."""
    by_subject: dict[str, list[ox.Triple]] = defaultdict(list)
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        by_subject[quad.subject.value].append(quad.triple)
    pieces: list[Piece] = []
    for triples in by_subject.values():
        render_node(triples[0].subject, pieces)
        for i, t in enumerate(triples):
            pieces.append(" " if i == 0 else " ;\n    ")
            render_node(t.predicate, pieces)
            pieces.append(" ")
            render_object(t.predicate, t.object, pieces)
        pieces.append(" .\n")
    return pieces


@dataclass
class Mechanism:
    zh: str
    en: str
    def_zh: str
    def_en: str
    kind: str = "Named"  # bjrd:mechanismKind (the variant keeps it)
    words: tuple[str, ...] = ()  # the zh labels: the article's words for it, which the variant keeps as altLabels


@dataclass
class Mechanisms:
    """The mechanisms of the article and the narrower ones minted so far, with their use counts."""

    base: dict[str, Mechanism]
    top: dict[str, str]  # the top concept above each mechanism of the article
    rng: random.Random
    out: IO[str]
    variants: dict[str, list[str]] = field(
        default_factory=lambda: defaultdict(list))  # by top concept, one entry per use
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # narrower ones minted, per mechanism
    minted: int = 0
    triples: int = 0

    @classmethod
    def read(cls, path: Path, rng: random.Random, out: IO[str]) -> "Mechanisms":
        fields: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
        broader: dict[str, str] = {}
        words: dict[str, list[str]] = defaultdict(list)
        kinds: dict[str, str] = {}
        skos = PREFIXES["skos"]
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            slug = quad.subject.value.rsplit("/", 1)[1]
            if quad.predicate.value in (skos + "prefLabel", skos + "altLabel") and quad.object.language == "zh":
                words[slug].append(quad.object.value)
            if quad.predicate.value == PREFIXES["bjrd"] + "mechanismKind":
                kinds[slug] = quad.object.value.rsplit("#", 1)[1]
            if quad.predicate.value == skos + "broader":
                broader[quad.subject.value.rsplit("/", 1)[1]] = quad.object.value.rsplit("/", 1)[1]
            if quad.predicate.value in (skos + "prefLabel", skos + "definition"):
                key = (quad.predicate.value.rsplit("#", 1)[1], quad.object.language)
                fields[quad.subject.value.rsplit("/", 1)[1]][key] = quad.object.value
        base = {m: Mechanism(f[("prefLabel", "zh")], f[("prefLabel", "en")], f[("definition", "zh")],
                             f[("definition", "en")], kinds.get(m, "Named"), tuple(words[m]))
                for m, f in fields.items() if ("definition", "zh") in f}
        top = {}
        for m in base:
            t = m
            while t in broader:
                t = broader[t]
            top[m] = t
        return cls(base, top, rng, out)

    def pick(self, broader: str, issue: int) -> str:
        """The mechanism a link of the article to ``broader`` becomes in ``issue`` (minting it if new)."""
        r = self.rng.random()
        if issue == 0 or r < KEEP or self.base[broader].kind == "Umbrella":
            return broader  # an analyst's category (bjrd:Umbrella) gets no variants: it must group narrower ones
        uses = self.variants[self.top[broader]]
        if not uses or self.rng.random() < MINT:
            self.counts[broader] += 1
            chosen = self.mint(broader, issue, self.counts[broader])
        else:
            chosen = self.rng.choice(uses)
        uses.append(chosen)
        return chosen

    def mint(self, broader: str, issue: int, n: int) -> str:
        m = self.base[broader]
        slug = f"{broader}-v{n}"
        self.out.write(
            f"mech:{slug} a bjrd:Mechanism ;\n"
            f"    skos:prefLabel {lit(f'{m.zh}（变体{n}）', 'zh')} , {lit(f'{m.en} (variant {n})', 'en')} ;\n"
            f"    skos:definition {lit(f'{m.def_zh}（第{issue}期首次报道的变体{n}）', 'zh')} ,\n"
            f"        {lit(f'{m.def_en} (variant {n}, first reported in issue {issue})', 'en')} ;\n"
            f"    skos:broader mech:{broader} ;\n"
            + "".join(f"    skos:altLabel {lit(word, 'zh')} ;\n" for word in m.words)
            + f"    bjrd:mechanismKind bjrd:{m.kind} ;\n"
            f"    skos:inScheme scheme:mechanisms .\n\n"
        )
        self.minted += 1
        self.triples += 8 + len(m.words)
        return slug


def lit(text: str, lang: str) -> str:
    """A language-tagged literal in Turtle."""
    return str(ox.Literal(text, language=lang))


def fill(pieces: list[Piece], issue: int, mechanisms: Mechanisms) -> Iterator[str]:
    suffix = f"-s{issue:05d}" if issue else ""
    source = f"src:article{suffix}"
    label_end = {"zh": f"（第{issue}期）\"@zh" if issue else "\"@zh",
                 "en": f" (issue {issue})\"@en" if issue else "\"@en"}
    for piece in pieces:
        if isinstance(piece, str):
            yield piece
        elif piece[0] == SUFFIX:
            yield suffix
        elif piece[0] == SOURCE:
            yield source
        elif piece[0] == MECH:
            yield f"mech:{mechanisms.pick(piece[1], issue)}"
        else:
            yield label_end[piece[1]]


def write_issue_metadata(out: IO[str], issue: int) -> None:
    out.write(
        f"src:article-s{issue:05d} a schema:Article , dcterms:BibliographicResource ;\n"
        f"    dcterms:title \"各区人大工作亮点扫描（合成第{issue}期）\"@zh , "
        f"\"Highlights of the district people's congresses (synthetic issue {issue})\"@en ;\n"
        f"    dcterms:isPartOf src:beijing-renda ;\n"
        f"    dcterms:language \"zh\" ;\n"
        f"    schema:encoding src:article-text .\n\n"
    )


def generate(out: Path, issues: int, seed: int) -> dict[str, int]:
    if out.exists():
        shutil.rmtree(out)
    source = DATA / "sources" / "article"
    (out / "sources" / "article" / "districts").mkdir(parents=True)
    for name in ("article.txt", "source.ttl"):
        shutil.copy(source / name, out / "sources" / "article" / name)
    for name in ("themes.ttl", "topics.ttl", "districts.ttl"):
        shutil.copy(DATA / name, out / name)
    shutil.copy(DATA / "mechanisms.ttl", out / "mechanisms.ttl")
    files = sorted((source / "districts").glob("*.ttl"))
    templates = {p.stem: template(p) for p in files}
    per_issue = 0
    kinds: dict[str, int] = defaultdict(int)
    for p in files:
        for quad in ox.parse(path=str(p), format=ox.RdfFormat.TURTLE):
            per_issue += 1
            if quad.predicate.value == PREFIXES["rdf"] + "type":
                kinds[quad.object.value.rsplit("#", 1)[1]] += 1
    paragraphs = sum(1 for q in ox.parse(path=str(DATA / "districts.ttl"), format=ox.RdfFormat.TURTLE)
                     if q.predicate.value == PREFIXES["bjrd"] + "paragraph")
    rng = random.Random(seed)
    with open(out / "mechanisms.ttl", "a", encoding="utf-8") as mech_out, \
            open(out / "issues.ttl", "w", encoding="utf-8") as issues_out:
        mech_out.write("\n# Synthetic mechanisms (bench/generate.py): narrower variants minted by later issues.\n\n")
        issues_out.write(HEADER + "\n# Synthetic issues (bench/generate.py); "
                         "their quotes point into the article's text.\n\n")
        mechanisms = Mechanisms.read(DATA / "mechanisms.ttl", rng, mech_out)
        with ExitStack() as stack:
            outs = {d: stack.enter_context(open(out / "sources" / "article" / "districts" / f"{d}.ttl", "w",
                                                encoding="utf-8"))
                    for d in templates}
            for f in outs.values():
                f.write(HEADER + "\n")
            for issue in range(issues):
                if issue:
                    write_issue_metadata(issues_out, issue)
                for district, pieces in templates.items():
                    outs[district].write("".join(fill(pieces, issue, mechanisms)))
    return {
        "issues": issues,
        "practices": kinds["Practice"] * issues,
        "facts": kinds["Fact"] * issues,
        "quotes": paragraphs + kinds["Quote"] * issues,
        "mechanisms": len(mechanisms.base) + mechanisms.minted,
        "asserted_district_triples": per_issue * issues,
        "asserted_mechanism_triples_minted": mechanisms.triples,
        "estimated_total_triples": ARTICLE_TRIPLES + TRIPLES_PER_ISSUE * (issues - 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--issues", type=int, help="number of issues (1 = the article alone)")
    size.add_argument("--triples", type=int, help="about this many triples in total (data + ontology + inferred)")
    parser.add_argument("--out", type=Path, required=True, help="data directory to (re)create")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    issues = args.issues or max(1, 1 + round((args.triples - ARTICLE_TRIPLES) / TRIPLES_PER_ISSUE))
    started = time.perf_counter()
    summary = generate(args.out, issues, args.seed)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    json.dump(summary, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
