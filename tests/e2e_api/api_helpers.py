"""Acting through the API in end-to-end tests: log in, recruit, assign (template users)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from dosewise.trial.demo import plan
from pg import PASSWORD

API = "/api/v1"
COORD = {"S01": "coord1", "S02": "coord2"}


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def call(
    client: TestClient, headers: dict[str, str], method: str, path: str, body: Any = None
) -> Any:
    r = client.request(method, API + path, json=body, headers=headers)
    assert r.status_code < 300, (method, path, r.status_code, r.text)
    return r.json()


def recruit(
    client: TestClient, headers: dict[str, str], site: str, arm: str, today: str, age: int = 34
) -> str:
    """Register, consent, screen (eligible) and enroll one participant; the study ID."""
    from datetime import date

    day = date.fromisoformat(today)
    sid = call(client, headers, "POST", "/participants", {"site_id": site})["study_id"]
    call(
        client,
        headers,
        "POST",
        f"/participants/{sid}/consents",
        {"consent_version": "v1", "record": plan.consent_record(day, age)},
    )
    screening = call(
        client,
        headers,
        "POST",
        f"/participants/{sid}/screenings",
        {"arm_id": arm, "record": plan.screening_record(day, age, "male")},
    )
    assert screening["eligible"], screening
    call(client, headers, "POST", f"/participants/{sid}/enrollment", {"arm_id": arm})
    return str(sid)
