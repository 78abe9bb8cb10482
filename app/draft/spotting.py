"""Known mechanisms and topics spotted by their Chinese labels (skos:prefLabel and skos:altLabel).

One pass per scheme with the labels longest first, so that at any place the longest label wins
(执法检查 before 检查) and a match is never read again inside another. A preferred label is
surer than an alternative one, and a two-character alternative (调研, 议案) surest least."""

import re
from dataclasses import dataclass

from app.draft.known import Concept
from app.draft.model import ConceptProposal, Span


@dataclass(frozen=True)
class LabelIndex:
    pattern: re.Pattern[str] | None
    by_label: dict[str, tuple[Concept, bool]]  # label -> (concept, is the preferred label)

    @classmethod
    def of(cls, concepts: dict[str, Concept]) -> "LabelIndex":
        by_label: dict[str, tuple[Concept, bool]] = {}
        for c in sorted(concepts.values(), key=lambda c: c.id):
            for label in c.alt_labels:
                if len(label) >= 2:
                    by_label.setdefault(label, (c, False))
        for c in sorted(concepts.values(), key=lambda c: c.id):
            if len(c.label) >= 2:
                by_label[c.label] = (c, True)
        labels = sorted(by_label, key=lambda s: (-len(s), s))
        pattern = re.compile("|".join(map(re.escape, labels))) if labels else None
        return cls(pattern, by_label)

    def longest_inside(self, text: str) -> Concept | None:
        """The concept whose label is the longest one written inside ``text``."""
        hits = [label for label in self.by_label if label in text]
        return self.by_label[max(hits, key=len)][0] if hits else None

    def overlapping(self, text: str) -> Concept | None:
        """The concept with a label inside ``text`` or one that contains it (全国文明城区 in 创建全国文明城区)."""
        inside = self.longest_inside(text)
        if inside is not None:
            return inside
        return next((self.by_label[label][0] for label in self.by_label if text in label), None)

    def ending(self, text: str) -> Concept | None:
        """The concept a name ends with (区人大常委会组成人员联系代表制度 ends with a known label)."""
        plain = unquoted(text)
        hits = [label for label in self.by_label if plain.endswith(unquoted(label))]
        return self.by_label[max(hits, key=len)][0] if hits else None


def unquoted(label: str) -> str:
    return re.sub("[“”「」『』]", "", label)


def confidence_of(label: str, preferred: bool) -> float:
    if preferred:
        return 0.9
    return 0.5 if len(label) <= 2 else 0.75


def spot_known(text: str, clause: Span, index: LabelIndex) -> list[ConceptProposal]:
    """Every known label written in the clause, one proposal per place."""
    if index.pattern is None:
        return []
    found = []
    for m in index.pattern.finditer(text, clause.start, clause.end):
        concept, preferred = index.by_label[m.group(0)]
        found.append(ConceptProposal(concept.id, concept.label, False, Span(m.group(0), m.start(), m.end()),
                                     "known-preferred-label" if preferred else "known-alternative-label",
                                     confidence_of(m.group(0), preferred)))
    return found
