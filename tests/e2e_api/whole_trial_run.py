"""The demonstration trial on a fresh database, played through the REST API (for the
whole-trial test): :class:`ApiDesk` does each of the script's acts as an HTTP request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from dosewise.trial.demo import DemoError, DemoResult, MovableClock, load_demo_trial
from pg import FakeClock, fresh_url, make_settings

API = "/api/v1"


class ApiDesk:
    """The demo script's acts as API requests: a session per user, logged in on first use."""

    def __init__(self, client: TestClient, password: str) -> None:
        self.client = client
        self.password = password
        self.tokens: dict[str, str] = {}
        self.acts = 0

    def _login(self, user: str) -> str:
        r = self.client.post(
            f"{API}/auth/login", json={"username": user, "password": self.password}
        )
        if r.status_code != 200:
            raise DemoError(f"login {user}: {r.status_code} {r.text}")
        self.client.cookies.clear()
        self.tokens[user] = r.json()["access_token"]
        return self.tokens[user]

    def call(
        self,
        user: str,
        method: str,
        path: str,
        body: Any = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> Any:
        for attempt in (0, 1):
            token = self.tokens.get(user) or self._login(user)
            r = self.client.request(
                method, API + path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            if r.status_code == 401 and attempt == 0:
                self.tokens.pop(user, None)
                continue
            break
        self.acts += 1
        if r.status_code not in expect:
            raise DemoError(f"{method} {path} as {user}: {r.status_code} {r.text[:500]}")
        return r.json()

    def register(self, user: str, site_id: str, year_of_birth: int) -> str:
        body = {"site_id": site_id, "year_of_birth": year_of_birth}
        return str(self.call(user, "POST", "/participants", body)["study_id"])

    def consent(self, user: str, study_id: str, version: str, record: dict[str, Any]) -> None:
        body = {"consent_version": version, "record": record}
        self.call(user, "POST", f"/participants/{study_id}/consents", body)

    def screen(
        self, user: str, study_id: str, arm_id: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        body = {"arm_id": arm_id, "record": record}
        out: dict[str, Any] = self.call(user, "POST", f"/participants/{study_id}/screenings", body)
        return out

    def enroll(self, user: str, study_id: str, arm_id: str) -> None:
        self.call(user, "POST", f"/participants/{study_id}/enrollment", {"arm_id": arm_id})

    def arm_state(self, user: str, arm_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self.call(user, "GET", f"/arms/{arm_id}/state")
        return out

    def assign(self, user: str, study_id: str, arm_version: int) -> dict[str, Any]:
        out: dict[str, Any] = self.call(
            user,
            "POST",
            f"/participants/{study_id}/dose-assignment",
            {"expected_arm_version": arm_version},
            expect=(201, 409),
        )
        return out

    def confirm(self, user: str, study_id: str, meaning: str) -> None:
        body = {"password": self.password, "meaning": meaning}
        self.call(user, "POST", f"/participants/{study_id}/dose-assignment/confirm", body)

    def release(self, user: str, study_id: str, product: dict[str, Any]) -> dict[str, Any]:
        body = {**product, "password": self.password}
        out: dict[str, Any] = self.call(user, "POST", f"/participants/{study_id}/products", body)
        return out

    def lymphodeplete(self, user: str, study_id: str, course: dict[str, Any]) -> None:
        self.call(user, "POST", f"/participants/{study_id}/lymphodepletion", course)

    def infuse(self, user: str, study_id: str, infused_on: date, volume_ml: float) -> int | None:
        body = {"infused_on": infused_on.isoformat(), "infused_volume_ml": volume_ml}
        out = self.call(user, "POST", f"/participants/{study_id}/infusion", body)
        index = out["actual_dose_index"]
        return None if index is None else int(index)

    def adverse_event(self, user: str, study_id: str, event: dict[str, Any]) -> None:
        self.call(user, "POST", f"/participants/{study_id}/adverse-events", event)

    def response(self, user: str, study_id: str, assessment: dict[str, Any]) -> None:
        self.call(user, "POST", f"/participants/{study_id}/response-assessments", assessment)

    def adjudicate(self, user: str, study_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self.call(
            user, "POST", f"/participants/{study_id}/dlt-adjudications", {}
        )
        return out

    def close_phase1(self, user: str, arm_id: str, arm_version: int) -> dict[str, Any]:
        body = {"password": self.password, "expected_arm_version": arm_version}
        out: dict[str, Any] = self.call(user, "POST", f"/arms/{arm_id}/phase1-closure", body)
        return out

    def look(self, user: str, arm_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self.call(user, "POST", f"/arms/{arm_id}/phase2/looks", {})
        return out


def load_through_api(
    db: Database, settings: Settings, clock: MovableClock, password: str
) -> DemoResult:
    """:func:`load_demo_trial` with every act an HTTP request to the app."""
    with TestClient(create_app(settings, clock=clock, db=db)) as client:
        return load_demo_trial(
            db, settings, clock, password=password, desk=lambda pw: ApiDesk(client, pw)
        )


@dataclass
class Trial:
    """A database holding the whole scripted trial, and what the script did."""

    backend: str
    db: Database
    settings: Settings
    clock: FakeClock
    result: DemoResult


@contextmanager
def run_trial(backend: str, tmp: Path) -> Iterator[Trial]:
    """The whole NCT07070323 trial run through the API on a fresh database of ``backend``."""
    urls = fresh_url(backend, tmp)
    url = next(urls)
    # A year of simulated time passes between requests: sessions that outlive the idle timeout
    # spare the script a login after every jump (the timeouts have their own tests), and the
    # SQLite file need not survive a power loss (crash safety has its own tests).
    settings = make_settings(url).replace(
        session_idle_minutes=60 * 24 * 400,
        session_minutes=60 * 24 * 400,
        sqlite_synchronous="NORMAL",
    )
    db = open_database(settings)
    clock = FakeClock()
    try:
        result = load_through_api(db, settings, clock, "demo trial password")
        yield Trial(backend, db, settings, clock, result)
    finally:
        db.dispose()
        urls.close()
