"""The draft's records: every proposal carries its verbatim quote, offsets, rule and confidence."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A slice of the article: ``text[start:end] == quote`` (code points, end exclusive)."""

    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class ConceptProposal:
    """A link to a known mechanism or topic (``id`` set) or a new one (``id`` None, ``new``)."""

    id: str | None
    label: str
    new: bool
    span: Span
    rule: str
    confidence: float
    broader: str | None = None


@dataclass(frozen=True)
class FactProposal:
    """A number with its measure word; ``unit_listed`` is False when that word is not one of the ontology's
    units (S05-unit-listed would refuse the fact: the curator must pick a listed unit)."""

    value: int | float
    unit: str
    counts: str
    span: Span
    rule: str
    confidence: float
    min_value: bool = False
    unit_listed: bool = True


@dataclass(frozen=True)
class DateProposal:
    """A typed value: ``value`` is "2023", "2023-07" or "07:00"; ``role`` is date, start or end."""

    value: str
    datatype: str
    span: Span
    rule: str
    role: str = "date"


@dataclass
class PracticeDraft:
    span: Span
    mechanisms: list[ConceptProposal] = field(default_factory=list)
    topics: list[ConceptProposal] = field(default_factory=list)
    facts: list[FactProposal] = field(default_factory=list)
    dates: list[DateProposal] = field(default_factory=list)


@dataclass
class DistrictDraft:
    id: str
    start: int
    end: int
    practices: list[PracticeDraft] = field(default_factory=list)


@dataclass(frozen=True)
class SourceInfo:
    id: str
    title: str
    issued: str  # YYYY-MM

    @property
    def year(self) -> int:
        return int(self.issued[:4])


@dataclass
class Draft:
    source: SourceInfo
    districts: list[DistrictDraft]
