"""The worklist through the API (issue 17 item 2): ``GET /api/v1/worklist`` with the site, kind,
overdue and mine filters; site users see their own site; bad filters are 422 naming the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

API = "/api/v1"


def test_worklist_lists_queries_by_site_with_filters(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    ids = {}
    for site in ("S01", "S02"):
        coord = tokens["coord1" if site == "S01" else "coord2"]
        sid = client.post(f"{API}/participants", json={"site_id": site}, headers=coord).json()
        ids[site] = sid["study_id"]
        raised = client.post(
            f"{API}/queries",
            headers=tokens["dm1"],
            json={
                "study_id": ids[site],
                "record_type": "participants",
                "field": "year_of_birth",
                "question": "?",
            },
        )
        assert raised.status_code == 201
    every = client.get(f"{API}/worklist", headers=tokens["dm1"]).json()
    assert every["sites"] == ["S01", "S02", "S03", "S04"]
    assert {(i["kind"], i["study_id"]) for i in every["items"]} == {
        ("query", ids["S01"]),
        ("query", ids["S02"]),
    }
    item = every["items"][0]
    assert item["overdue"] is False and item["detail"]["age_days"] == 0
    assert item["anchor"] == f"query-{item['detail']['query_id']}"
    assert every["counts"]["by_kind"]["query"] == 2 and every["counts"]["overdue"] == 0
    own = client.get(f"{API}/worklist", headers=tokens["coord1"]).json()
    assert own["sites"] == ["S01"] and [i["study_id"] for i in own["items"]] == [ids["S01"]]
    assert own["items"][0]["mine"] is True  # the site answers an open query
    one = client.get(f"{API}/worklist", params={"site_id": "S02"}, headers=tokens["stat"]).json()
    assert [i["site_id"] for i in one["items"]] == ["S02"]
    none = client.get(
        f"{API}/worklist", params={"overdue": "true", "kind": "query"}, headers=tokens["stat"]
    )
    assert none.status_code == 200 and none.json()["items"] == []
    assert (
        client.get(
            f"{API}/worklist", params={"site_id": "S02"}, headers=tokens["coord1"]
        ).status_code
        == 403
    )
    for params in ({"kind": "visits"}, {"site_id": "S99"}, {"overdue": "maybe"}):
        r = client.get(f"{API}/worklist", params=params, headers=tokens["stat"])
        assert r.status_code == 422, params
    assert client.get(f"{API}/worklist", headers=tokens["admin1"]).status_code == 403
