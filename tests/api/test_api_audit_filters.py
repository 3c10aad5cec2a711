"""The audit trail for monitors (issue 17 item 5), through the API on SQLite and PostgreSQL:
every record of one participant by study ID, a user's records with their sign-ins, acts and a
range of days; newest first with paging and a total; ids inside records named."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pg import FakeClock, backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)
API = "/api/v1"


def _register(client: TestClient, tokens, coord: str = "coord1", site: str = "S01") -> str:  # type: ignore[no-untyped-def]
    r = client.post(f"{API}/participants", json={"site_id": site}, headers=tokens[coord])
    assert r.status_code == 201, r.text
    return str(r.json()["study_id"])


def test_by_study_id_user_and_names(client: TestClient, tokens, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    sid = _register(client, tokens)
    other = _register(client, tokens)
    q = client.post(
        f"{API}/queries",
        json={
            "study_id": sid,
            "record_type": "participants",
            "field": "year_of_birth",
            "question": "?",
        },
        headers=tokens["mon1"],
    ).json()
    client.post(f"{API}/queries/{q['id']}/answers", json={"text": "ok"}, headers=tokens["coord1"])
    page = client.get(f"{API}/audit", params={"study_id": sid}, headers=tokens["mon1"]).json()
    entities = {(r["entity"], r["action"]) for r in page["records"]}
    assert ("participants", "participant.register") in entities
    assert ("data_queries", "query.raise") in entities
    assert ("data_query_messages", "query.answer") in entities
    assert page["total"] == len(page["records"])
    assert all(
        r["names"].get("entity_id", sid) == sid
        for r in page["records"]
        if r["entity"] == "participants"
    )
    register = next(r for r in page["records"] if r["action"] == "participant.register")
    assert register["names"]["created_by"] == "coord1"
    assert register["after"]["created_by"] != "coord1"  # the trail keeps the id
    others = client.get(f"{API}/audit", params={"study_id": other}, headers=tokens["mon1"]).json()
    assert not {r["seq"] for r in others["records"]} & {r["seq"] for r in page["records"]}
    r = client.get(f"{API}/audit", params={"study_id": "S01-9999"}, headers=tokens["mon1"])
    assert r.status_code == 422 and r.json()["error"]["field"] == "study_id"


def test_sign_ins_name_the_user_and_match_the_user_filter(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    tokens["coord2"]  # signs in
    page = client.get(
        f"{API}/audit",
        params={"username": "coord2", "action": "auth.login"},
        headers=tokens["admin1"],
    ).json()
    assert page["records"], "coord2's sign-in is found by the user filter"
    assert {r["subject"] for r in page["records"]} == {"coord2"}
    assert {r["username"] for r in page["records"]} == {"anonymous"}  # as recorded


def test_newest_first_paging_and_days(client: TestClient, tokens, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    first_day = clock().date()
    _register(client, tokens)
    clock.advance(days=3)
    tokens.clear()
    _register(client, tokens)
    admin = tokens["admin1"]
    newest = client.get(f"{API}/audit", params={"order": "desc", "limit": 3}, headers=admin).json()
    seqs = [r["seq"] for r in newest["records"]]
    assert seqs == sorted(seqs, reverse=True) and newest["next_before_seq"] == seqs[-1]
    assert newest["next_after_seq"] is None
    older = client.get(
        f"{API}/audit", params={"order": "desc", "limit": 3, "before_seq": seqs[-1]}, headers=admin
    ).json()
    assert [r["seq"] for r in older["records"]] == [seqs[-1] - 1, seqs[-1] - 2, seqs[-1] - 3]
    day1 = client.get(
        f"{API}/audit",
        params={
            "action": "participant.register",
            "date_from": first_day.isoformat(),
            "date_to": first_day.isoformat(),
        },
        headers=admin,
    ).json()
    assert day1["total"] == 1
    both = client.get(
        f"{API}/audit",
        params={"action": "participant.register", "date_from": first_day.isoformat()},
        headers=admin,
    ).json()
    assert both["total"] == 2
    r = client.get(
        f"{API}/audit", params={"date_from": "2026-02-01", "date_to": "2026-01-01"}, headers=admin
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "date_to"
