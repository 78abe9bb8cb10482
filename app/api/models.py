"""Pydantic response models of the JSON routes under ``/api`` (shapes fixed by CONTRACT.md).

``label`` is always ``{"zh": ..., "en": ...}``; ids are the slugs of the entity IRIs
(``{base}/id/{type}/{id}``); every ``quote`` / ``evidence`` string is a verbatim substring of the
article. Models only describe and serialise: the answers are built in ``app.api.answers``.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DistrictId = str
MechanismId = str
ThemeId = str


class ApiModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class Label(ApiModel):
    """A name in Chinese and English."""

    zh: str = Field(description="Chinese (zh)")
    en: str = Field(description="English (en)")


class DistrictRef(ApiModel):
    """A district named by id and label."""

    id: DistrictId = Field(description="District id (slug), e.g. haidian")
    label: Label


class ConceptRef(ApiModel):
    """A mechanism, theme or topic named by id and label."""

    id: str = Field(description="Mechanism, theme or topic id (slug)")
    label: Label


MechanismKind = Literal["named", "umbrella"]
KIND_DESCRIPTION = ("named: the article names the mechanism (its labels are the article's words); umbrella: an "
                    "analyst's category grouping narrower mechanisms, never counted when districts share mechanisms")
TOPIC_KIND_DESCRIPTION = ("named: the article names the topic (its labels are its words); umbrella: an analyst's "
                          "grouping of narrower topics (历史文化保护), never counted when districts share topics")
SHARED = ("Two districts share a mechanism when each has a practice that uses it, directly or through a narrower "
          "mechanism (月进站 counts for 家站), and it is a named one; umbrella categories are listed apart and "
          "never counted in overlaps, pairs or similarity.")
SIMILARITY = ("Weighted Jaccard of the two districts' named mechanisms, each weighted by its inverse district "
              "frequency ln(16 / districts using it), so rare shared mechanisms count more: "
              "Σ weight(shared) / Σ weight(either), rounded to 6 decimals; 0 if that is empty")


class MechanismRef(ConceptRef):
    """A mechanism named by id and label, with its kind."""

    kind: MechanismKind = Field(description=KIND_DESCRIPTION)


class DistrictMechanism(MechanismRef):
    """A mechanism a district uses, and how."""

    via: Literal["direct"] | list[str] = Field(
        description="direct: one of the district's practices names the mechanism itself; otherwise the ids of the "
        "narrower mechanisms its practices name, through which it uses this one")


class ExcludedNumber(ApiModel):
    """A number of the district's paragraph deliberately not made a fact (data/number-exclusions.tsv)."""

    text: str = Field(description="A verbatim snippet of the paragraph containing the number")
    reason: str = Field(description="Why it is not a fact (a telephone number, part of a fixed name …)")
    reason_zh: str = Field("", description="The same reason in Chinese")


# ---------------------------------------------------------------- districts


class DistrictSummary(ApiModel):
    """One of the 16 districts."""

    id: DistrictId = Field(description="District id (slug), the tail of its IRI")
    iri: str = Field(description="The district's IRI; it dereferences on this service")
    label: Label
    code: str = Field(description="GB/T 2260 administrative-division code (six digits)")


class PracticeSummary(ApiModel):
    """A practice of a district with the mechanisms and themes it names itself."""

    id: str = Field(description="Practice id (slug)")
    iri: str
    label: Label
    quote: str = Field(description="The verbatim passage of the article that reports the practice")
    quote_start: int = Field(description="Offset of the quote in the article (Unicode code points, from 0)")
    quote_end: int = Field(description="Offset just after the quote (exclusive)")
    mechanisms: list[MechanismId] = Field(
        description="The mechanisms the practice names itself (asserted, most specific); broader ones are implied"
    )
    themes: list[ThemeId] = Field(description="The themes asserted for the practice (most specific)")
    date: str | None = Field(None, examples=["2023", "2023-07"], description="When the article places it "
                             "(dcterms:date): a year (“今年” is 2023) or a month; null for a standing arrangement")
    start_time: str | None = Field(None, description="The clock time it starts at (schema:startTime, 07:00:00)")
    start_date: str | None = Field(None, description="First year of the period it covers (schema:startDate)")
    end_date: str | None = Field(None, description="Last year of the period it covers (schema:endDate)")


class FactSummary(ApiModel):
    """A number the article states about a district's practice."""

    id: str = Field(description="Fact id (slug)")
    iri: str
    label: Label = Field(description="What the number counts")
    value: int | float = Field(description="The number as stated (20% is 20 with unit %)")
    min_value: int | float | None = Field(
        None, description="Set when the article gives a lower bound (“1000多”, “6个月以上”): the same number"
    )
    unit: str = Field(description="The unit as the article writes it (e.g. 项, 名, %)")
    unit_label: Label = Field(description="The unit in Chinese and English")
    quote: str = Field(description="The verbatim passage stating the number")
    practice: str | None = Field(None, description="Id of the practice the number is about")


class DistrictDetail(DistrictSummary):
    """A district with its practices, mechanisms, themes, facts and quoted evidence."""

    paragraph: str = Field(description="The article's whole paragraph about the district (verbatim)")
    practices: list[PracticeSummary] = Field(description="The district's practices, in article order")
    mechanisms: list[DistrictMechanism] = Field(
        description="Every named mechanism the district's practices use, directly or through a narrower mechanism "
        "(what counts when districts share mechanisms), ordered by id. " + SHARED
    )
    umbrellas: list[DistrictMechanism] = Field(
        description="The umbrella categories the district's practices reach (never counted as shared), ordered by id"
    )
    themes: list[ConceptRef] = Field(
        description="Every theme of the district's practices: the asserted ones plus every broader one, ordered by id"
    )
    topics: list[ConceptRef] = Field(
        description="The supervision topics its practices name, directly or through a narrower topic, ordered by id")
    facts: list[FactSummary] = Field(description="The numbers the article states about the district, in article order")
    excluded_numbers: list[ExcludedNumber] = Field(
        description="Numbers of its paragraph left out as facts, each with the reason, in the file's order")


class SimilarDistrict(ApiModel):
    """Another district and how much it has in common with the one asked about."""

    id: DistrictId
    label: Label
    similarity: float = Field(description=SIMILARITY)
    shared_count: int = Field(description="How many named mechanisms the two share, len(shared_mechanisms)")
    jaccard_mechanisms: float = Field(
        description="|shared| / |either| of the two districts' named mechanism sets (unweighted); 0 if both empty"
    )
    jaccard_themes: float = Field(description="The same for their theme sets")
    shared_mechanisms: list[MechanismRef] = Field(description="Named mechanisms both use, ordered by id. " + SHARED)
    shared_umbrellas: list[MechanismRef] = Field(description="Umbrella categories both reach (not counted), by id")


# ---------------------------------------------------------------- mechanisms


class MechanismSummary(ApiModel):
    """A mechanism and the districts that use it."""

    id: MechanismId = Field(description="Mechanism id (slug)")
    iri: str
    label: Label
    districts: list[DistrictId] = Field(
        description="Districts with a practice that uses the mechanism, directly or through a narrower one "
        "(the inferred bjrd:usesMechanism), in GB/T code order"
    )
    count: int = Field(description="Number of districts, len(districts)")
    broader: list[MechanismId] = Field(description="Asserted broader mechanisms (skos:broader)")
    narrower: list[MechanismId] = Field(description="Mechanisms directly narrower than this one")
    top: bool = Field(description="Whether it is a top concept of the mechanism scheme")
    kind: MechanismKind = Field(description=KIND_DESCRIPTION)


class DistrictEvidence(ApiModel):
    """A district with the quotes of its practices behind a mechanism or topic."""

    id: DistrictId
    label: Label
    evidence: list[str] = Field(
        description="The verbatim quote of every practice of the district that uses the mechanism (names the "
        "topic), directly or through a narrower one, in article order"
    )
    practices: list[str] = Field(description="Ids of those practices; evidence[i] is the quote of practices[i]")


class MechanismDistrict(DistrictEvidence):
    """A district that uses a mechanism: the quotes of its practices that use it (or a narrower mechanism)."""


class MechanismDetail(ApiModel):
    """A mechanism, the districts that share it with their evidence, and its themes."""

    id: MechanismId
    iri: str
    label: Label
    definition: Label | None = Field(None, description="skos:definition")
    broader: list[MechanismId]
    narrower: list[MechanismId]
    top: bool
    kind: MechanismKind = Field(description=KIND_DESCRIPTION)
    count: int = Field(description="Number of districts that use it")
    districts: list[MechanismDistrict] = Field(description="The districts that use it, in GB/T code order")
    themes: list[ConceptRef] = Field(
        description="Themes of the practices that use it (asserted plus broader), ordered by id"
    )


# ---------------------------------------------------------------- themes


class ThemeDetail(ApiModel):
    """A theme, the districts with practices on it and the mechanisms those practices use."""

    id: ThemeId = Field(description="Theme id (slug)")
    iri: str
    label: Label
    definition: Label | None = None
    broader: list[ThemeId] = Field(description="Asserted broader themes")
    narrower: list[ThemeId]
    top: bool = Field(description="One of the five themes of the article's opening paragraph")
    districts: list[DistrictRef] = Field(
        description="Districts with a practice on the theme or a narrower one, in GB/T code order"
    )
    mechanisms: list[ConceptRef] = Field(
        description="Mechanisms (asserted plus broader) used by the practices on the theme, ordered by id"
    )


class ThemePractice(ApiModel):
    """A practice on a theme."""

    id: str = Field(description="Practice id (slug)")
    iri: str
    label: Label
    district: DistrictId


class ThemeWithPractices(ThemeDetail):
    """One theme: as listed, plus its practices."""

    practices: list[ThemePractice] = Field(
        description="The practices on the theme or a narrower one, in article order"
    )


# ---------------------------------------------------------------- compare, matrix, search


class PairComparison(ApiModel):
    """What two of the compared districts share."""

    districts: list[DistrictId] = Field(description="The two district ids")
    shared_mechanisms: list[MechanismRef] = Field(description="Named mechanisms both use, by id")
    shared_umbrellas: list[MechanismRef] = Field(description="Umbrella categories both reach (not counted), by id")
    shared_themes: list[ConceptRef]
    shared_count: int = Field(description="len(shared_mechanisms)")
    jaccard_mechanisms: float = Field(description="Unweighted Jaccard of the two named mechanism sets")
    similarity: float = Field(description=SIMILARITY)


class ConceptEvidence(ApiModel):
    """A mechanism or theme in a comparison, with the quotes behind it for each district using it."""

    id: str = Field(description="Mechanism or theme id (slug)")
    label: Label
    kind: Literal["named", "umbrella"] = Field(
        description="Mechanisms: their bjrd:mechanismKind; themes: umbrella when they have narrower themes")
    evidence: dict[DistrictId, list[str]] = Field(
        description="For each compared district that uses it: the verbatim quotes of its practices that do")


class SharedConcepts(ApiModel):
    """What every compared district uses: named mechanisms, umbrella categories apart, then the themes."""

    mechanisms: list[ConceptEvidence] = Field(description="Named mechanisms, by id")
    umbrellas: list[ConceptEvidence] = Field(default_factory=list, description="Umbrella categories, by id")
    themes: list[ConceptEvidence]


class DistrictAlone(ApiModel):
    """What one compared district uses and none of the others does."""

    id: DistrictId
    label: Label
    mechanisms: list[ConceptEvidence] = Field(description="Named mechanisms, by id")
    umbrellas: list[ConceptEvidence] = Field(default_factory=list, description="Umbrella categories, by id")
    themes: list[ConceptEvidence]


class DistrictFacts(ApiModel):
    """The numbers the article states about one compared district."""

    id: DistrictId
    label: Label
    facts: list[FactSummary] = Field(description="In article order")


class ComparisonCounts(ApiModel):
    """Sizes of the comparison, per district id where it says so."""

    shared_mechanisms: int = Field(description="Named mechanisms every compared district uses")
    shared_umbrellas: int = 0
    shared_themes: int
    mechanisms: dict[DistrictId, int] = Field(description="Named mechanisms each district uses (direct or through "
                                                          "a narrower one)")
    umbrellas: dict[DistrictId, int] = Field(default_factory=dict, description="Umbrella categories each reaches")
    themes: dict[DistrictId, int]
    only_mechanisms: dict[DistrictId, int] = Field(description="Named mechanisms only this one of the compared uses")
    only_themes: dict[DistrictId, int]
    facts: dict[DistrictId, int]


class Comparison(ApiModel):
    """What a set of districts has in common: mechanisms and themes all of them use, and pair by pair;
    with the evidence, what each does alone, their facts side by side, and the counts."""

    districts: list[DistrictRef] = Field(description="The compared districts, in the order asked")
    shared_mechanisms: list[MechanismRef] = Field(
        description="Named mechanisms used by every compared district, ordered by id. " + SHARED
    )
    shared_umbrellas: list[MechanismRef] = Field(
        default_factory=list, description="Umbrella categories every compared district reaches (not counted), by id")
    shared_themes: list[ConceptRef] = Field(description="Themes used by every compared district, ordered by id")
    pairs: list[PairComparison] = Field(
        description="Every pair of the compared districts, most similar first (similarity, then shared_count, then "
        "the order asked)")
    shared: SharedConcepts | None = Field(
        None, description="shared_mechanisms, shared_umbrellas and shared_themes again, with their evidence")
    only: list[DistrictAlone] = Field(
        default_factory=list,
        description="For each compared district (in the order asked): what none of the others uses")
    facts: list[DistrictFacts] = Field(default_factory=list, description="Each compared district's facts")
    counts: ComparisonCounts | None = None


class MatrixMechanism(ApiModel):
    """A column of the district × mechanism matrix."""

    id: MechanismId
    label: Label
    count: int = Field(description="Number of districts that use it (the column sum)")
    kind: MechanismKind = Field("named", description=KIND_DESCRIPTION)


class Matrix(ApiModel):
    """Which district uses which mechanism, as a 0/1 matrix (for heat maps)."""

    districts: list[DistrictRef] = Field(description="Rows, in GB/T code order")
    mechanisms: list[MatrixMechanism] = Field(description="Columns: the named mechanisms, most shared first (tie: id)")
    matrix: list[list[int]] = Field(
        description="matrix[i][j] is 1 when districts[i] uses mechanisms[j] (directly or through a narrower one)"
    )
    umbrellas: list[MatrixMechanism] = Field(
        default_factory=list, description="The umbrella categories apart (never counted as shared), most reached first")
    umbrella_matrix: list[list[int]] = Field(
        default_factory=list, description="umbrella_matrix[i][j] is 1 when districts[i] reaches umbrellas[j]")


# ---------------------------------------------------------------- topics


class TopicSummary(ApiModel):
    """A supervision topic and the districts that supervise it."""

    id: str = Field(description="Topic id (slug), the tail of its IRI")
    iri: str
    label: Label
    kind: MechanismKind = Field(description=TOPIC_KIND_DESCRIPTION)
    districts: list[DistrictId] = Field(
        description="Districts with a practice that names the topic or a narrower one, in GB/T code order")
    count: int = Field(description="Number of districts, len(districts)")
    broader: list[str] = Field(description="Asserted broader topics (skos:broader)")
    narrower: list[str] = Field(description="Topics directly narrower than this one")


class TopicDistrict(DistrictEvidence):
    """A district that supervises a topic: the quotes of its practices that name it (or a narrower topic)."""


class TopicDetail(ApiModel):
    """A supervision topic and the districts that supervise it, with their evidence."""

    id: str
    iri: str
    label: Label
    definition: Label | None = Field(None, description="skos:definition")
    kind: MechanismKind = Field(description=TOPIC_KIND_DESCRIPTION)
    broader: list[str]
    narrower: list[str]
    count: int = Field(description="Number of districts that supervise it")
    districts: list[TopicDistrict] = Field(description="The districts that supervise it, in GB/T code order")
