"""GET /compare (districts side by side) and the district pages' "most similar districts", over real HTTP."""

import re

import httpx
import pytest


def ids_in(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


@pytest.mark.parametrize("ids", [["daxing", "pinggu", "yanqing"], ["haidian", "chaoyang"]])
def test_compare_page_shows_what_api_compare_says(client: httpx.Client, ids: list[str]) -> None:
    api = client.get("/api/compare", params={"districts": ",".join(ids)}).json()
    response = client.get("/compare", params={"districts": ",".join(ids), "lang": "en"})
    assert response.status_code == 200
    html = response.text
    shared = html[html.index('id="shared-mechanisms"'):html.index('id="shared-themes"')]
    assert ids_in(shared, r'<tr class="shared-row kind-(\w+)" data-id="([^"]+)"') == [
        (m["kind"], m["id"]) for m in api["shared"]["mechanisms"] + api["shared"]["umbrellas"]]
    assert {m["kind"] for m in api["shared"]["mechanisms"]} <= {"named"}
    themes = html[html.index('id="shared-themes"'):html.index('id="only"')]
    assert ids_in(themes, r'<tr class="shared-row" data-id="([^"]+)"') == [t["id"] for t in api["shared"]["themes"]]
    assert ids_in(html, r'class="card only-column" data-district="([^"]+)"') == ids
    for alone in api["only"]:
        column = html.split(f'data-district="{alone["id"]}">', 1)[1].split("</section>", 1)[0]
        assert ids_in(column, r'<li data-id="([^"]+)"') == [m["id"] for m in alone["mechanisms"]]
    facts = html[html.index('id="compare-facts"'):]
    for group in api["facts"]:
        assert facts.count(f'data-district="{group["id"]}"') == max(1, len(group["facts"]))
        for fact in group["facts"]:
            assert f'/id/fact/{fact["id"]}?lang=en' in facts


@pytest.mark.parametrize(("districts", "status", "says"), [
    ("daxing", 400, "Give 2 to 6"),
    ("daxing,pinggu,yanqing,miyun,huairou,shunyi,tongzhou", 400, "Give 2 to 6"),
    ("daxing,daxing", 400, "repeated: daxing"),
    ("daxing,atlantis", 404, "Unknown district id atlantis"),
])
def test_compare_page_refuses_what_it_cannot_compare(client: httpx.Client, districts: str, status: int,
                                                    says: str) -> None:
    response = client.get("/compare", params={"districts": districts, "lang": "en"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert says in response.text
    assert 'id="compare-form"' in response.text


def test_compare_page_without_districts_is_the_picker(client: httpx.Client) -> None:
    response = client.get("/compare", params={"lang": "zh"})
    assert response.status_code == 200
    listed = ids_in(response.text, r'<input type="checkbox" value="([^"]+)"')
    assert listed == [d["id"] for d in client.get("/api/districts").json()]


def test_district_page_links_its_most_similar_districts_to_compare(client: httpx.Client) -> None:
    similar = client.get("/api/districts/daxing/similar").json()
    html = client.get("/id/district/daxing", params={"lang": "en"}, headers={"Accept": "text/html"}).text
    section = html[html.index('id="similar"'):]
    shown = ids_in(section, r'<li data-district="([^"]+)">')
    assert shown == [s["id"] for s in similar[:len(shown)]] and len(shown) == 5
    for other in shown:
        assert f"/compare?districts=daxing,{other}&amp;lang=en" in section
        assert client.get("/compare", params={"districts": f"daxing,{other}"}).status_code == 200


def test_compare_page_takes_names_people_type(client: httpx.Client) -> None:
    response = client.get("/compare", params={"districts": "大兴,Pinggu,110119", "lang": "en"})
    assert response.status_code == 301
    assert response.headers["location"] == "/compare?districts=daxing,pinggu,yanqing&lang=en"


@pytest.mark.parametrize("path", ["/compare?districts=daxing,pinggu", "/search?q=%E6%9C%88%E8%BF%9B%E7%AB%99"])
def test_new_pages_answer_304_to_their_etag(client: httpx.Client, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200 and first.headers["cache-control"] == "public, max-age=300"
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("ids", [["daxing", "pinggu", "yanqing"], ["haidian", "chaoyang"]])
def test_compare_page_shows_score_jaccard_and_rank_among_all_pairs(client: httpx.Client, ids: list[str]) -> None:
    every = [d["id"] for d in client.get("/api/districts").json()]
    everything = client.get("/api/compare", params={"districts": ",".join(every)}).json()["pairs"]
    assert len(everything) == len(every) * (len(every) - 1) // 2 == 120
    scores = sorted((p["similarity"] for p in everything), reverse=True)
    api = client.get("/api/compare", params={"districts": ",".join(ids)}).json()
    page = client.get("/compare", params={"districts": ",".join(ids), "lang": "en"}).text
    rows = re.findall(r'<tr data-pair="([\w,]+)">.*?data-similarity="([\d.]+)".*?data-rank="(\d+)">(\d+) / (\d+)<'
                      r'.*?data-jaccard="([\d.]+)"', page, re.DOTALL)
    assert [r[0] for r in rows] == [",".join(p["districts"]) for p in api["pairs"]]
    for (_, score, rank, shown, total, jaccard), pair in zip(rows, api["pairs"], strict=True):
        assert float(score) == pair["similarity"] and float(jaccard) == pair["jaccard_mechanisms"]
        assert int(rank) == int(shown) == scores.index(pair["similarity"]) + 1 and int(total) == 120
    assert "weighted Jaccard" in page  # one line on what the score means


@pytest.mark.parametrize(("districts", "says"), [
    ("daxing", "请给出 2 至 6 个区"), ("daxing,daxing", "重复的：daxing"),
    ("daxing,atlantis", "没有这个区 id：atlantis"),
])
def test_compare_page_errors_are_in_the_page_language(client: httpx.Client, districts: str, says: str) -> None:
    response = client.get("/compare", params={"districts": districts, "lang": "zh"})
    assert response.status_code in (400, 404)
    error = re.search(r'id="compare-error">(.*?)</p>', response.text, re.DOTALL)
    assert error is not None and says in error.group(1)
    assert not re.search(r"[A-Za-z]{4,} [a-z]{3,}", error.group(1).replace("atlantis", "")), "no English sentence"
