"""Through the API, on SQLite and PostgreSQL: concurrent confirmations and releases give one
201 and 409s, registrations under 20 clients never 409, and a signed record edited in the
database is reported as an invalid signature and stops the arm (issue 15, items 2 and 3)."""

from __future__ import annotations

from collections import Counter

import pytest
from api_helpers import API, as_of, call, login, recruit, together
from fastapi.testclient import TestClient
from sqlalchemy import text

from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.trial.demo import plan
from pg import PASSWORD, backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)


def test_ten_confirmations_one_signature(client: TestClient) -> None:
    coord, stat = login(client, "coord1"), login(client, "stat")
    sid = recruit(client, coord, "S01", "autologous", as_of(client, coord).isoformat())
    call(client, coord, "POST", f"/participants/{sid}/dose-assignment", {})
    codes = together(
        10,
        lambda: client.post(
            f"{API}/participants/{sid}/dose-assignment/confirm",
            json={"password": PASSWORD},
            headers=stat,
        ),
    )
    assert Counter(codes) == Counter({200: 1, 409: 9})
    record = call(client, stat, "GET", f"/participants/{sid}")
    assert [a["status"] for a in record["dose_assignments"]] == ["confirmed"]


def test_eight_releases_one_product(client: TestClient) -> None:
    coord, stat = login(client, "coord1"), login(client, "stat")
    today = as_of(client, coord).isoformat()
    sid = recruit(client, coord, "S01", "autologous", today)
    call(client, coord, "POST", f"/participants/{sid}/dose-assignment", {})
    call(
        client, stat, "POST", f"/participants/{sid}/dose-assignment/confirm", {"password": PASSWORD}
    )
    body = {
        "lot": "M-1",
        "certificate": plan.certificate(1e6, 60.0, False),
        "weight_kg": 60.0,
        "released_on": today,
    }
    codes = together(
        8, lambda: client.post(f"{API}/participants/{sid}/products", json=body, headers=coord)
    )
    assert Counter(codes) == Counter({201: 1, 409: 7})
    assert len(call(client, coord, "GET", f"/participants/{sid}")["products"]) == 1


def test_twenty_registrations_all_numbered(client: TestClient) -> None:
    coord = login(client, "coord1")
    codes = together(
        20, lambda: client.post(f"{API}/participants", json={"site_id": "S01"}, headers=coord)
    )
    assert Counter(codes) == Counter({201: 20})


def test_an_edited_signed_dose_is_invalid_everywhere_and_stops_the_arm(
    client: TestClient, app_db: tuple[Database, Settings]
) -> None:
    db, _settings = app_db
    coord, stat = login(client, "coord1"), login(client, "stat")
    today = as_of(client, coord).isoformat()
    sid = recruit(client, coord, "S01", "autologous", today)
    a = call(client, coord, "POST", f"/participants/{sid}/dose-assignment", {})
    call(
        client, stat, "POST", f"/participants/{sid}/dose-assignment/confirm", {"password": PASSWORD}
    )
    shown = call(client, stat, "GET", f"/participants/{sid}")["dose_assignments"][0]
    assert shown["signature"]["valid"] is True

    with db.engine.begin() as c:
        c.execute(text(f"UPDATE dose_assignments SET dose_index = 2 WHERE id = {a['id']}"))

    shown = call(client, stat, "GET", f"/participants/{sid}")["dose_assignments"][0]
    assert shown["signature"]["valid"] is False
    state = call(client, stat, "GET", "/arms/autologous/state")
    assert [b["id"] for b in state["broken_signatures"]] == [a["id"]]
    decisions = call(client, stat, "GET", "/arms/autologous/decisions")
    assert any(d.get("signature_valid") is False for d in decisions)
    other = recruit(client, coord, "S01", "autologous", today)
    refused = client.post(f"{API}/participants/{other}/dose-assignment", json={}, headers=coord)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "signature_broken"
