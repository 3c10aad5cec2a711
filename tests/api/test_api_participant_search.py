"""The participant list through the API (issue 17 item 3): search, filters, sorting and paging
as query parameters; X-Total-Count; the existing fields unchanged, ``phase`` and
``open_queries`` added."""

from __future__ import annotations

from fastapi.testclient import TestClient

API = "/api/v1"
FIELDS = {
    "study_id",
    "site_id",
    "arm_id",
    "status",
    "year_of_birth",
    "registered_on",
    "off_study_on",
    "off_study_reason",
    "version",
}


def test_search_sort_page_and_count(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    ids = []
    for _ in range(5):
        r = client.post(f"{API}/participants", json={"site_id": "S01"}, headers=tokens["coord1"])
        ids.append(r.json()["study_id"])
    client.post(
        f"{API}/queries",
        headers=tokens["dm1"],
        json={
            "study_id": ids[2],
            "record_type": "participants",
            "field": "status",
            "question": "?",
        },
    )
    stat = tokens["stat"]
    plain = client.get(f"{API}/participants", headers=stat)
    assert [p["study_id"] for p in plain.json()] == ids and plain.headers["x-total-count"] == "5"
    assert set(plain.json()[0]) >= FIELDS and {"phase", "open_queries"} <= set(plain.json()[0])
    page = client.get(
        f"{API}/participants",
        params={"sort": "study_id", "order": "desc", "limit": 2, "offset": 1},
        headers=stat,
    )
    assert [p["study_id"] for p in page.json()] == sorted(ids, reverse=True)[1:3]
    assert page.headers["x-total-count"] == "5"
    found = client.get(f"{API}/participants", params={"q": ids[3].lower()}, headers=stat).json()
    assert [p["study_id"] for p in found] == [ids[3]]
    flagged = client.get(f"{API}/participants", params={"open_queries": "true"}, headers=stat)
    assert [(p["study_id"], p["open_queries"]) for p in flagged.json()] == [(ids[2], 1)]
    for params in ({"sort": "name"}, {"limit": 0}, {"phase": 3}, {"q": "S01 0001"}):
        r = client.get(f"{API}/participants", params=params, headers=stat)
        assert r.status_code == 422, params
    r = client.get(f"{API}/participants", params={"open_queries": "true"}, headers=tokens["dsmb"])
    assert r.status_code == 403
