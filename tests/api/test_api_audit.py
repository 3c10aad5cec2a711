"""The audit trail through the API: user changes are audited with their reason, site users see
their own site's records, verification, and exports that are themselves logged."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

API = "/api/v1"


def test_user_changes_are_audited_with_who_what_and_why(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin1"]
    body = {"username": "pi.s03", "full_name": "Dr S", "role": "investigator", "site_id": "S03"}
    assert client.post(f"{API}/users", json=body, headers=admin).status_code == 201
    patch = {"site_id": "S04", "reason": "moved to Chengdu"}
    assert client.patch(f"{API}/users/pi.s03", json=patch, headers=admin).status_code == 200
    page = client.get(f"{API}/audit?entity=users&action=user.update", headers=admin).json()
    (record,) = page["records"]
    assert record["username"] == "admin1" and record["role"] == "admin"
    assert record["before"] == {"site_id": "S03"} and record["after"] == {"site_id": "S04"}
    assert record["reason"] == "moved to Chengdu" and record["site_id"] == "S04"
    assert record["context"]["via"] == "api" and record["context"]["method"] == "PATCH"
    assert record["recorded_at"].endswith("Z")
    created = client.get(f"{API}/audit?action=user.create&entity_id=", headers=admin)
    assert created.status_code == 422  # empty filters are refused, not treated as "any"


def test_site_users_see_only_their_site(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    records = client.get(f"{API}/audit?limit=1000", headers=tokens["inv1"]).json()["records"]
    assert records and {r["site_id"] for r in records} == {"S01"}
    everything = client.get(f"{API}/audit?limit=1000", headers=tokens["admin1"]).json()
    assert len(everything["records"]) > len(records)
    assert None in {r["site_id"] for r in everything["records"]}


def test_paging_by_sequence(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin1"]
    first = client.get(f"{API}/audit?limit=3", headers=admin).json()
    assert [r["seq"] for r in first["records"]] == [1, 2, 3] and first["next_after_seq"] == 3
    second = client.get(f"{API}/audit?limit=3&after_seq=3", headers=admin).json()
    assert [r["seq"] for r in second["records"]] == [4, 5, 6]


def test_verify_and_export_which_is_itself_logged(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    monitor = tokens["monall"]
    report = client.get(f"{API}/audit/verify", headers=monitor).json()
    assert report["ok"] is True and report["problem_count"] == 0
    export = client.get(f"{API}/audit/export?format=csv", headers=monitor)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == report["records"]
    logged = client.get(f"{API}/audit?action=audit.export", headers=tokens["admin1"]).json()
    (record,) = logged["records"]
    assert record["username"] == "monall" and record["after"]["records"] == len(rows)
    assert record["after"]["format"] == "csv"


def test_a_site_monitor_exports_its_own_site_only(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    export = client.get(f"{API}/audit/export?format=json", headers=tokens["mon1"])
    document = export.json()
    assert document["scope"] == ["S01"]
    assert {r["site_id"] for r in document["records"]} <= {"S01"}
