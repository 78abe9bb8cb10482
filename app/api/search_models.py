"""Pydantic response models of /api/search (app.api.search): hits, the concept the text names, the page."""

from typing import Literal

from pydantic import Field

from app.api.models import ApiModel, DistrictId, Label

SearchType = Literal["district", "mechanism", "theme", "topic", "practice", "fact"]
SearchField = Literal["label", "definition", "quote", "paragraph"]


class SearchHit(ApiModel):
    """One entity whose label, definition or quote matches the search text."""

    type: SearchType
    id: str
    iri: str
    label: Label
    district: DistrictId | None = Field(
        description="The district the entity belongs to (null for mechanisms, themes, topics)")
    field: SearchField = Field(description="Where the best match is: label (or synonym), definition, quote, paragraph")
    snippet: str = Field(description="The matching text around the match, the match marked «like this», cuts marked …")
    value: int | float | None = Field(None, description="A fact: the number as stated (null for other types)")
    unit: Label | None = Field(None, description="A fact: the unit of its value (null for other types)")


class BestMatch(ApiModel):
    """The district, mechanism, theme or topic the whole search text names (a label or another name of it)."""

    type: SearchType
    id: str
    iri: str
    label: Label
    definition: Label | None = None
    districts: list[DistrictId] = Field(
        description="The districts using it (a district: itself), directly or through a narrower one")


class SearchResults(ApiModel):
    """Search hits, best first: exact label matches, then labels, definitions, quotes, district paragraphs."""

    total: int = Field(description="Number of hits before limit/offset (also in X-Total-Count)")
    results: list[SearchHit]
    query: str | None = Field(None, description="The text searched: the one given, in simplified characters, or "
                              "the correction offered in did_you_mean when the text given finds nothing")
    every_term: bool = Field(True, description="Whether every hit matches every term; false: no entity does, and "
                             "the hits match some of them, most first")
    did_you_mean: str | None = Field(None, description="When the text given finds nothing: the closest spelling "
                                     "that does (its hits are the results)")
    variants: list[str] = Field(default_factory=list, description="The other names of the concept the text names, "
                                "searched too (代表之家 also finds 家站 and 代表联络站)")
    best_match: BestMatch | None = Field(None, description="The concept or district the whole text names")
