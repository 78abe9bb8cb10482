"""GET /health over real HTTP."""

import httpx

from app.build.graph import KnowledgeGraph


def test_health_reports_ok_and_triple_count(client: httpx.Client, graph: KnowledgeGraph) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["triples"] == len({q.triple for q in graph.loaded.quads})
    assert body["triples"] > 5000
