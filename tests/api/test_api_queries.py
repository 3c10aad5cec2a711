"""Data queries through the API (issue 17 item 1): raise, answer, close and re-open; the
thread names people, not ids; site staff see their own site only; counts by age; OpenAPI
documents the routes. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pg import FakeClock, backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)
API = "/api/v1"


def _participant(client: TestClient, tokens: dict[str, dict[str, str]], site: str) -> str:
    coord = {"S01": "coord1", "S02": "coord2"}[site]
    r = client.post(
        f"{API}/participants", json={"site_id": site, "year_of_birth": 1990}, headers=tokens[coord]
    )
    assert r.status_code == 201, r.text
    return str(r.json()["study_id"])


def _ask(client: TestClient, who: dict[str, str], sid: str, **kw: object) -> dict:  # type: ignore[type-arg]
    body = {
        "study_id": sid,
        "record_type": "participants",
        "field": "year_of_birth",
        "question": "Does 1990 match the source?",
        **kw,
    }
    r = client.post(f"{API}/queries", json=body, headers=who)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_query_thread_from_raise_to_close(client: TestClient, tokens, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    sid = _participant(client, tokens, "S01")
    q = _ask(client, tokens["mon1"], sid)
    record = client.get(f"{API}/participants/{sid}", headers=tokens["coord1"]).json()
    assert record["open_queries"] == 1 and record["phase"] is None
    dsmb = client.get(f"{API}/participants/{sid}", headers=tokens["dsmb"]).json()
    assert dsmb["open_queries"] is None  # DSMB members read no queries
    assert (q["status"], q["raised_by"], q["age"], q["messages"]) == ("open", "mon1", "lt7", [])
    r = client.post(
        f"{API}/queries/{q['id']}/answers", json={"text": "Yes"}, headers=tokens["coord1"]
    )
    assert r.status_code == 200 and r.json()["status"] == "answered"
    r = client.post(f"{API}/queries/{q['id']}/close", json={}, headers=tokens["stat"])
    assert r.status_code == 403 and r.json()["error"]["field"] == "query_id"
    r = client.post(
        f"{API}/queries/{q['id']}/reopen", json={"text": "No: 1991"}, headers=tokens["mon1"]
    )
    assert r.json()["status"] == "open"
    client.post(
        f"{API}/queries/{q['id']}/answers", json={"text": "Corrected"}, headers=tokens["inv1"]
    )
    r = client.post(f"{API}/queries/{q['id']}/close", json={"text": "ok"}, headers=tokens["dm1"])
    done = r.json()
    assert done["status"] == "closed" and done["closed_at"]
    assert [(m["kind"], m["posted_by"]) for m in done["messages"]] == [
        ("answer", "coord1"),
        ("reopen", "mon1"),
        ("answer", "inv1"),
        ("close", "dm1"),
    ]
    r = client.post(
        f"{API}/queries/{q['id']}/answers", json={"text": "late"}, headers=tokens["coord1"]
    )
    assert r.status_code == 409
    audit = client.get(f"{API}/audit?limit=200", headers=tokens["admin1"]).json()
    rows = audit["records"] if isinstance(audit, dict) else audit
    actions = {row["action"] for row in rows}
    assert {"query.raise", "query.answer", "query.close", "query.reopen"} <= actions


def test_bad_input_names_the_field(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    sid = _participant(client, tokens, "S01")
    base = {
        "study_id": sid,
        "record_type": "participants",
        "field": "year_of_birth",
        "question": "?",
    }
    for change, field in (
        ({"field": "password_hash"}, "field"),
        ({"record_type": "adverse_events", "field": "grade"}, "record_id"),
        ({"record_type": "users"}, "record_type"),
    ):
        r = client.post(f"{API}/queries", json={**base, **change}, headers=tokens["dm1"])
        assert r.status_code == 422, (change, r.text)
        assert field in (r.json()["error"]["field"] or ""), (change, r.text)
    r = client.post(f"{API}/queries", json={**base, "study_id": "S01-9999"}, headers=tokens["dm1"])
    assert r.status_code == 404


def test_site_scoping_and_counts_by_age(client: TestClient, tokens, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    s1, s2 = _participant(client, tokens, "S01"), _participant(client, tokens, "S02")
    _ask(client, tokens["monall"], s1)
    clock.advance(days=8)
    tokens.clear()  # sessions expire
    q2 = _ask(client, tokens["monall"], s2)
    clock.advance(days=30)
    tokens.clear()
    _ask(client, tokens["dm1"], s1, field="registered_on")
    mine = client.get(f"{API}/queries", headers=tokens["coord1"]).json()
    assert {q["study_id"] for q in mine} == {s1} and len(mine) == 2
    assert client.get(f"{API}/queries/{q2['id']}", headers=tokens["coord1"]).status_code == 403
    assert client.get(f"{API}/queries?site_id=S02", headers=tokens["coord1"]).status_code == 403
    everything = client.get(f"{API}/queries/summary", headers=tokens["dm1"]).json()
    assert everything == {
        "unresolved": 3,
        "open": 3,
        "answered": 0,
        "by_age": {"lt7": 1, "7to30": 1, "gt30": 1},
    }
    one = client.get(f"{API}/queries/summary?study_id={s1}", headers=tokens["stat"]).json()
    assert one["by_age"] == {"lt7": 1, "7to30": 0, "gt30": 1}
    assert client.get(f"{API}/queries", headers=tokens["dsmb"]).status_code == 403
    newest = client.get(f"{API}/queries?status=open", headers=tokens["dm1"]).json()
    assert newest[0]["field"] == "registered_on"


def test_openapi_documents_the_query_routes(client: TestClient) -> None:
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    assert {
        "/api/v1/queries",
        "/api/v1/queries/summary",
        "/api/v1/queries/{query_id}",
        "/api/v1/queries/{query_id}/answers",
        "/api/v1/queries/{query_id}/close",
        "/api/v1/queries/{query_id}/reopen",
    } <= set(paths)
