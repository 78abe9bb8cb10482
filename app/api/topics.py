"""The supervision topics (监督议题) and the districts that supervise each, with evidence.

A district supervises a topic when one of its practices names the topic or a narrower one
(老旧小区综合整治 counts for 城市更新), as districts share mechanisms (data/README.md, "Shared").
Answers are pure functions of the catalog, kept in its memo like the other /api answers.
"""

from app.api.answers import label, require
from app.api.catalog import Catalog, Concept, memoized
from app.api.models import TopicDetail, TopicDistrict, TopicSummary


def topic_summary(catalog: Catalog, topic: Concept) -> TopicSummary:
    districts = catalog.topic_districts[topic.id]
    return TopicSummary(id=topic.id, iri=topic.iri, label=label(topic.label), kind=topic.kind or "named",
                        districts=list(districts),
                        count=len(districts), broader=list(topic.broader), narrower=list(topic.narrower))


@memoized(8)
def list_topics(catalog: Catalog) -> list[TopicSummary]:
    return [topic_summary(catalog, t) for t in catalog.topics.values()]


@memoized(128)
def read_topic(catalog: Catalog, topic_id: str) -> TopicDetail:
    require("topic", catalog.topics, topic_id)
    topic = catalog.topics[topic_id]
    practices: dict[str, set[str]] = {}
    for u in catalog.topic_usage:
        if u.concept == topic_id:
            practices.setdefault(u.district, set()).add(u.practice)
    districts = []
    for district_id in catalog.topic_districts[topic_id]:
        ids = sorted(practices[district_id], key=lambda p: (catalog.practices[p].start, p))
        districts.append(TopicDistrict(id=district_id, label=label(catalog.districts[district_id].label),
                                       evidence=[catalog.practices[p].quote for p in ids], practices=ids))
    return TopicDetail(id=topic.id, iri=topic.iri, label=label(topic.label),
                       definition=label(topic.definition) if topic.definition else None, kind=topic.kind or "named",
                       broader=list(topic.broader), narrower=list(topic.narrower), count=len(districts),
                       districts=districts)
