"""One article -> a Draft: sections by district, a practice per clause, and every spotter's proposals."""

from app.draft.clauses import split_clauses
from app.draft.dates import find_dates
from app.draft.known import Known
from app.draft.model import ConceptProposal, DistrictDraft, Draft, PracticeDraft, SourceInfo
from app.draft.naming import new_mechanisms
from app.draft.numbers import find_facts
from app.draft.sections import find_sections
from app.draft.spotting import LabelIndex, spot_known
from app.draft.topics import new_topics


def unique(proposals: list[ConceptProposal]) -> list[ConceptProposal]:
    """One proposal per concept (known id or new label) and place; the first, surest one kept."""
    seen: set[tuple[str, int, int]] = set()
    kept = []
    for p in sorted(proposals, key=lambda p: (p.span.start, -p.confidence)):
        key = (p.id or p.label, p.span.start, p.span.end)
        if key not in seen:
            seen.add(key)
            kept.append(p)
    return kept


def draft_text(text: str, known: Known, source: SourceInfo) -> Draft:
    """Propose an encoding of ``text``; ``known`` is what the graph holds (or ``known.without(d)``)."""
    mechanisms, topics = LabelIndex.of(known.mechanisms), LabelIndex.of(known.topics)
    districts = []
    for section in find_sections(text, known.districts):
        district = DistrictDraft(section.district, section.start, section.end)
        for clause in split_clauses(text, section.start, section.end):
            district.practices.append(PracticeDraft(
                clause,
                mechanisms=unique(spot_known(text, clause, mechanisms) + new_mechanisms(text, clause, mechanisms)),
                topics=unique(spot_known(text, clause, topics) + new_topics(text, clause, topics, mechanisms)),
                facts=find_facts(text, clause),
                dates=find_dates(text, clause, source.year),
            ))
        districts.append(district)
    return Draft(source, districts)
