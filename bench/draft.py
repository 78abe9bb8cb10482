"""``kg draft`` measured leave-one-district-out on the article, against a plain baseline.

    .venv/bin/python bench/draft.py

For each of the 16 districts: draft the article with that district excluded (``Known.without``:
its practices, and the mechanisms and topics only it uses, are unknown to the drafter), take that
district's section and score it against the encoded graph (data/sources/article/districts/<id>.ttl):

- mechanism links (named mechanisms only): the gold links are the named mechanisms the district's
  practices use directly. A known id drafted is right when it is a gold link or a broader named
  mechanism of one (the inferred graph holds that link too); a new mechanism is right only when it
  names a gold mechanism the drafter could not know (one only this district uses): one label
  contains the other (3 characters or more, quote marks ignored) or they share half their
  character bigrams. A new name for something the drafter knew counts as wrong.
- topic links, scored the same way;
- facts: a gold fact is found when a drafted fact has its value and a quote overlapping the gold
  quote; its unit is right when the drafted unit is the gold unit;
- dates: the gold typed values of the district's practices and facts (dcterms:date,
  schema:startDate/endDate/startTime): found when a drafted date of that value lies inside the
  quote of the practice or fact that holds it;
- quotes: every drafted quote equals its slice of the article.

The baseline, computed in the same process on the same sections and with the same district
excluded: a plain lookup of the known Chinese labels plus Arabic numbers followed by a measure
word (the unit is the measure word). It reads no dates. Run by hand.
"""

import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import re

import pyoxigraph as ox

from app.build.load import SourceFiles, parse_turtle
from app.config import Settings
from app.draft.drafter import draft_text
from app.draft.known import Known, read_known, tail
from app.draft.model import DistrictDraft, Draft, SourceInfo
from app.draft.numbers import MEASURES, to_number
from app.draft.spotting import LabelIndex, unquoted

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "data" / "sources" / "article" / "article.txt"
SOURCE = SourceInfo("bench", "bench", "2023-07")
PREFIXES = """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#> PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX schema: <https://schema.org/> PREFIX dcterms: <http://purl.org/dc/terms/>"""


@dataclass
class Gold:
    mechanisms: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    topics: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    facts: dict[str, list[tuple[float, str, int, int]]] = field(default_factory=lambda: defaultdict(list))
    dates: dict[str, list[tuple[str, int, int]]] = field(default_factory=lambda: defaultdict(list))


def read_gold(settings: Settings, known: Known) -> Gold:
    store = ox.Store()

    def select(query: str) -> ox.QuerySolutions:
        result = store.query(PREFIXES + query)
        assert isinstance(result, ox.QuerySolutions)
        return result

    for path in SourceFiles.from_settings(settings).data:
        store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in parse_turtle(path))
    gold = Gold()
    for row in select("SELECT ?d ?m WHERE { ?p a bjrd:Practice ; bjrd:district ?d ; "
                                      "bjrd:usesMechanism ?m }"):
        m = tail(row["m"].value)
        if known.mechanisms[m].kind == "named":
            gold.mechanisms[tail(row["d"].value)].add(m)
    for row in select("SELECT ?d ?t WHERE { ?p a bjrd:Practice ; bjrd:district ?d ; "
                                      "bjrd:supervisesTopic ?t }"):
        gold.topics[tail(row["d"].value)].add(tail(row["t"].value))
    for row in select("""SELECT ?d ?v ?u ?s ?e WHERE { ?f a bjrd:Fact ; bjrd:district ?d ; schema:value ?v ;
            schema:unitText ?u ; bjrd:evidence [ oa:start ?s ; oa:end ?e ] FILTER(lang(?u) = "zh") }"""):
        gold.facts[tail(row["d"].value)].append((float(row["v"].value), row["u"].value, int(row["s"].value),
                                                 int(row["e"].value)))
    for row in select("""SELECT ?d ?v ?s ?e WHERE {
            { ?x a bjrd:Practice ; bjrd:district ?d } UNION { ?x a bjrd:Fact ; bjrd:district ?d }
            VALUES ?p { dcterms:date schema:startDate schema:endDate schema:startTime } ?x ?p ?v ;
            bjrd:evidence [ oa:start ?s ; oa:end ?e ] }"""):
        value = row["v"].value
        gold.dates[tail(row["d"].value)].append((value[:5] if value.count(":") == 2 else value,
                                                 int(row["s"].value), int(row["e"].value)))
    return gold


def bigrams(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)}


def names_same(a: str, b: str) -> bool:
    a, b = unquoted(a), unquoted(b)
    if len(a) >= 3 and len(b) >= 3 and (a in b or b in a):
        return True
    x, y = bigrams(a), bigrams(b)
    return bool(x and y) and len(x & y) / len(x | y) >= 0.5


def ancestors(cid: str, concepts: dict) -> set[str]:
    seen, todo = set(), [cid]
    while todo:
        c = todo.pop()
        for b in concepts[c].broader if c in concepts else ():
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


@dataclass
class Score:
    gold: int = 0
    found: int = 0
    predicted: int = 0
    right: int = 0
    unit_right: int = 0

    def add(self, other: "Score") -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 1.0


def unit_share(s: Score) -> str:
    return f"{s.unit_right / s.gold:.2f}" if s.gold else "—"


def score_links(predicted_known: set[str], predicted_new: set[str], gold: set[str], concepts: dict,
                unknown: set[str], named: set[str]) -> Score:
    """``unknown``: the gold concepts the drafter could not know; ``named``: the concepts that count."""
    closure = set(gold) | {a for g in gold for a in ancestors(g, concepts)}
    predicted_known = predicted_known & named
    found = gold & predicted_known
    right = len(predicted_known & closure)
    for label in predicted_new:
        hits = {g for g in unknown if any(names_same(label, lab) for lab in concepts[g].labels)}
        if hits:
            right += 1
            found |= hits
    return Score(len(gold), len(found), len(predicted_known) + len(predicted_new), right)


def tally_rules(section: DistrictDraft, gold: set[str], concepts: dict, unknown: set[str], named: set[str],
                tally: dict[str, list[int]]) -> None:
    """Per rule: how many distinct links it drafted in the section, and how many were right (as in score_links)."""
    closure = set(gold) | {a for g in gold for a in ancestors(g, concepts)}
    rules: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    for practice in section.practices:
        for p in practice.mechanisms:
            if p.new or p.id in named:
                rules[(p.id, p.label if p.new else "")].add(p.rule)
    for (cid, label), used in rules.items():
        if cid is not None:
            right = cid in closure
        else:
            right = any(names_same(label, lab) for g in unknown for lab in concepts[g].labels)
        for rule in used:
            tally[rule][0] += 1
            tally[rule][1] += right


def score_facts(drafted: list[tuple[float, str, int, int]], gold: list[tuple[float, str, int, int]]) -> Score:
    score = Score(gold=len(gold), predicted=len(drafted))
    used: set[int] = set()
    for value, unit, start, end in gold:
        match = next((i for i, (v, u, s, e) in enumerate(drafted)
                      if i not in used and v == value and s < end and start < e), None)
        if match is not None:
            used.add(match)
            score.found += 1
            score.right += 1
            score.unit_right += drafted[match][1] == unit
    return score


def score_dates(drafted: list[tuple[str, int, int]], gold: list[tuple[str, int, int]]) -> Score:
    """A gold date (on a practice or fact) is found when a drafted date of that value lies in its quote."""
    found = sum(any(v == value and start <= s and e <= end for v, s, e in drafted) for value, start, end in gold)
    right = sum(any(v == value and start <= s and e <= end for value, start, end in gold) for v, s, e in drafted)
    return Score(gold=len(gold), found=found, predicted=len(drafted), right=right)


def section_of(draft: Draft, district: str) -> DistrictDraft | None:
    return next((d for d in draft.districts if d.id == district), None)


def drafted_items(section: DistrictDraft, kind: str) -> tuple[set[str], set[str]]:
    props = [p for practice in section.practices for p in getattr(practice, kind)]
    return {p.id for p in props if p.id is not None}, {p.label for p in props if p.new}


def quotes_verbatim(text: str, draft: Draft) -> tuple[int, int]:
    spans = []
    for d in draft.districts:
        for p in d.practices:
            spans.append(p.span)
            spans += [x.span for x in p.mechanisms + p.topics]
            spans += [x.span for x in p.facts] + [x.span for x in p.dates]
    return sum(text[s.start:s.end] == s.quote for s in spans), len(spans)


ARABIC_FACT = re.compile(r"(\d+(?:\.\d+)?)(%|" + "|".join(MEASURES) + ")")


def baseline(text: str, section: DistrictDraft, mechanisms: LabelIndex, topics: LabelIndex
             ) -> tuple[set[str], set[str], list[tuple[float, str, int, int]]]:
    piece = text[section.start:section.end]
    mech = {mechanisms.by_label[m.group(0)][0].id for m in mechanisms.pattern.finditer(piece)} \
        if mechanisms.pattern else set()
    top = {topics.by_label[m.group(0)][0].id for m in topics.pattern.finditer(piece)} if topics.pattern else set()
    facts = []
    for m in ARABIC_FACT.finditer(piece):
        if m[2] == "年" and len(m[1]) == 4:
            continue
        value = to_number(m[1])
        if value is not None:
            facts.append((float(value), m[2], section.start + m.start(), section.start + m.end()))
    return mech, top, facts


def main() -> int:
    settings = Settings()
    text = ARTICLE.read_text(encoding="utf-8")
    full = read_known(settings)
    gold = read_gold(settings, full)
    named = {k for k, c in full.mechanisms.items() if c.kind == "named"}
    rows: list[tuple[str, int, dict[str, Score]]] = []
    totals: dict[str, Score] = defaultdict(Score)
    verbatim = [0, 0]
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for district in sorted(full.districts):
        known = full.without(district)
        draft = draft_text(text, known, SOURCE)
        ok, n = quotes_verbatim(text, draft)
        verbatim[0] += ok
        verbatim[1] += n
        section = section_of(draft, district)
        assert section is not None, district
        k_mech, n_mech = drafted_items(section, "mechanisms")
        k_top, n_top = drafted_items(section, "topics")
        unknown_m = gold.mechanisms[district] - set(known.mechanisms)
        unknown_t = gold.topics[district] - set(known.topics)
        facts = [(float(f.value), f.unit, f.span.start, f.span.end) for p in section.practices for f in p.facts]
        dates = [(d.value, d.span.start, d.span.end) for p in section.practices for d in p.dates]
        tally_rules(section, gold.mechanisms[district], full.mechanisms, unknown_m, named, tally)
        b_mech, b_top, b_facts = baseline(text, section, LabelIndex.of(known.mechanisms), LabelIndex.of(known.topics))
        scores = {
            "mech": score_links(k_mech, n_mech, gold.mechanisms[district], full.mechanisms, unknown_m, named),
            "topic": score_links(k_top, n_top, gold.topics[district], full.topics, unknown_t, set(full.topics)),
            "facts": score_facts(facts, gold.facts[district]),
            "dates": score_dates(dates, gold.dates[district]),
            "base-mech": score_links(b_mech, set(), gold.mechanisms[district], full.mechanisms, set(), named),
            "base-topic": score_links(b_top, set(), gold.topics[district], full.topics, set(), set(full.topics)),
            "base-facts": score_facts(b_facts, gold.facts[district]),
        }
        for k, s in scores.items():
            totals[k].add(s)
        rows.append((district, len(unknown_m), scores))

    print(f"{'district':<12} {'unique':>6} {'mech R':>7} {'mech P':>7} {'topic R':>7} {'topic P':>7} "
          f"{'facts R':>7} {'unit':>5} {'dates R':>7} | {'base mR':>7} {'base mP':>7} {'base fR':>8}")
    for district, unique, r in rows:
        print(f"{district:<12} {unique:>6} {r['mech'].recall:>7.2f} {r['mech'].precision:>7.2f} "
              f"{r['topic'].recall:>7.2f} {r['topic'].precision:>7.2f} {r['facts'].recall:>7.2f} "
              f"{unit_share(r['facts']):>5} {r['dates'].recall:>7.2f} | "
              f"{r['base-mech'].recall:>7.2f} {r['base-mech'].precision:>7.2f} {r['base-facts'].recall:>8.2f}")
    t = totals
    print()
    print("pooled over the 16 districts (sums of counts)   draft   baseline   ratio")
    lines = [
        ("mechanism links recall", t["mech"].recall, t["base-mech"].recall),
        ("mechanism links precision", t["mech"].precision, t["base-mech"].precision),
        ("topic links recall", t["topic"].recall, t["base-topic"].recall),
        ("topic links precision", t["topic"].precision, t["base-topic"].precision),
        ("facts recall", t["facts"].recall, t["base-facts"].recall),
        ("facts with the unit right", t["facts"].unit_right / t["facts"].gold,
         t["base-facts"].unit_right / t["base-facts"].gold),
        ("facts precision", t["facts"].precision, t["base-facts"].precision),
    ]
    for name, ours, base in lines:
        print(f"  {name:<44} {ours:>5.2f}   {base:>8.2f}   {ours / base if base else float('inf'):>5.2f}")
    print(f"  {'dates recall':<44} {t['dates'].recall:>5.2f}        —")
    print(f"  {'dates precision':<44} {t['dates'].precision:>5.2f}        —")
    print(f"  {'quotes verbatim at their offsets':<44} {verbatim[0]}/{verbatim[1]}")
    print(f"  counts: mechanisms gold {t['mech'].gold}, found {t['mech'].found}, drafted {t['mech'].predicted}, "
          f"right {t['mech'].right}; facts gold {t['facts'].gold}, found {t['facts'].found}, "
          f"drafted {t['facts'].predicted}; dates gold {t['dates'].gold}, found {t['dates'].found}")

    print("\n  mechanism links by the rule that drafted them (a link two rules drafted counts for both)")
    for rule, (drafted, right) in sorted(tally.items(), key=lambda kv: -kv[1][0]):
        print(f"  {rule:<44} {drafted:>4} drafted {right:>4} right  {right / drafted:>5.2f}")
    times = []
    for _ in range(5):
        start = time.perf_counter()
        draft_text(text, read_known(settings), SOURCE)
        times.append(time.perf_counter() - start)
    command = [sys.executable, "-m", "app", "draft", str(ARTICLE), "--source", "bench", "--issued", "2023-07",
               "--format", "json"]
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
    print(f"  whole article: read known + draft {statistics.median(times):.3f} s in process (median of 5); "
          f"`kg draft --format json` {statistics.median(walls):.2f} s wall, process start included (median of 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
