"""Acting through the API in end-to-end tests: log in, recruit, assign (template users)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
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
    client: TestClient,
    headers: dict[str, str],
    site: str,
    arm: str,
    today: str,
    age: int = 34,
    *,
    enroll: bool = True,
) -> str:
    """Register, consent, screen (eligible) and, with ``enroll``, enroll one participant;
    the study ID."""
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
    if enroll:
        call(client, headers, "POST", f"/participants/{sid}/enrollment", {"arm_id": arm})
    return str(sid)


def as_of(client: TestClient, headers: dict[str, str]) -> date:
    """Today at the trial's sites, as the service sees it (the arm state's ``as_of``)."""
    return date.fromisoformat(call(client, headers, "GET", "/arms/autologous/state")["as_of"])


def together(n: int, fn: Callable[[], httpx.Response]) -> list[int]:
    """Status codes of ``n`` requests released at the same moment."""
    gate = threading.Barrier(n)
    codes: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        gate.wait()
        code = fn().status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(codes) == n
    return codes
