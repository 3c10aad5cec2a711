"""Two sites assigning into the same arm at the same moment never receive an inconsistent dose
(issue 6, item 7), on PostgreSQL with two real concurrent connections.

The assignment locks the arm row (``SELECT ... FOR UPDATE``) and computes the arm state inside
its transaction. To make the overlap certain, the state computation is slowed down: the first
request holds the lock while it computes, the second waits for it and then sees the first one's
patient. With the arm version both clients read, exactly one wins and the other is refused
(409, saying why); its retry gets the dose the design gives next. Without a version, the second
is served after the first — and when the cohort is full, it is told to wait rather than given a
fourth place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_helpers import API, call, login, recruit
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from dosewise.store.tables import DoseAssignment, Enrollment
from dosewise.trial.services import dosing
from pg import FakeClock, make_settings, pg_url  # noqa: F401

pytestmark = pytest.mark.postgres
HOLD_S = 0.4


@pytest.fixture
def app_db(pg_url: str) -> Iterator[tuple[Database, Settings]]:  # noqa: F811
    settings = make_settings(pg_url)
    db = open_database(settings)
    yield db, settings
    db.dispose()


@pytest.fixture
def slow_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold the arm lock a while: the state computation sleeps before it reads."""
    real = dosing.arm_state

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(HOLD_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(dosing, "arm_state", slow)


def together(*calls: Callable[[], Any]) -> list[tuple[Any, float]]:
    """Run the calls in threads released at the same moment; (result, seconds) each."""
    barrier = threading.Barrier(len(calls))
    out: list[tuple[Any, float]] = [(None, 0.0)] * len(calls)

    def run(i: int, fn: Callable[[], Any]) -> None:
        barrier.wait()
        start = time.perf_counter()
        out[i] = (fn(), time.perf_counter() - start)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_two_sites_assigning_at_once_exactly_one_wins_and_the_retry_is_right(
    app_db: tuple[Database, Settings], slow_state: None
) -> None:
    db, settings = app_db
    clock = FakeClock()
    app = create_app(settings, clock=clock, db=db)
    today = clock().date().isoformat()
    with TestClient(app) as one, TestClient(app) as two:
        h1, h2 = login(one, "coord1"), login(two, "coord2")
        a = recruit(one, h1, "S01", "autologous", today)
        b = recruit(two, h2, "S02", "autologous", today)
        version = call(one, h1, "GET", "/arms/autologous/state")["version"]

        def assign(client: TestClient, headers: dict[str, str], sid: str) -> Any:
            return client.post(
                f"{API}/participants/{sid}/dose-assignment",
                json={"expected_arm_version": version},
                headers=headers,
            )

        results = together(lambda: assign(one, h1, a), lambda: assign(two, h2, b))
        codes = sorted(r.status_code for r, _ in results)
        assert codes == [201, 409]
        loser, waited = next((r, s) for r, s in results if r.status_code == 409)
        winner = next(r for r, _ in results if r.status_code == 201).json()
        assert waited >= HOLD_S  # it queued behind the winner's lock
        error = loser.json()["error"]
        assert error["code"] == "conflict" and error["field"] == "version"
        assert "someone else acted on it first" in error["message"]
        # The retry, from the fresh state, gets the dose the design gives the next patient.
        lost_sid = a if winner["study_id"] == b else b
        client, headers = (one, h1) if lost_sid == a else (two, h2)
        state = call(client, headers, "GET", "/arms/autologous/state")
        assert state["next"]["action"] == "assign" and state["version"] > version
        retry = call(
            client,
            headers,
            "POST",
            f"/participants/{lost_sid}/dose-assignment",
            {"expected_arm_version": state["version"]},
        )
        assert (retry["cohort"], retry["dose_index"]) == (winner["cohort"], winner["dose_index"])
        assert (
            retry["dose_index"] == state["next"]["dose"] == 1
        )  # DL1, the start dose (design dose 1)


def test_a_full_cohort_is_never_overfilled_by_concurrent_requests(
    app_db: tuple[Database, Settings], slow_state: None
) -> None:
    db, settings = app_db
    clock = FakeClock()
    app = create_app(settings, clock=clock, db=db)
    today = clock().date().isoformat()
    with TestClient(app) as one, TestClient(app) as two:
        h1, h2 = login(one, "coord1"), login(two, "coord2")
        for site, client, headers in (("S01", one, h1), ("S02", two, h2)):
            sid = recruit(client, headers, site, "autologous", today)
            call(client, headers, "POST", f"/participants/{sid}/dose-assignment", {})
        # Two more, one place left in cohort 1: both ask at once, with no version.
        c = recruit(one, h1, "S01", "autologous", today)
        d = recruit(two, h2, "S02", "autologous", today)
        results = together(
            lambda: one.post(f"{API}/participants/{c}/dose-assignment", json={}, headers=h1),
            lambda: two.post(f"{API}/participants/{d}/dose-assignment", json={}, headers=h2),
        )
        codes = sorted(r.status_code for r, _ in results)
        assert codes == [201, 409]
        refused = next(r for r, _ in results if r.status_code == 409).json()["error"]
        assert refused["code"] == "must_wait"
        assert "cohort 2" in refused["message"] and "pending" in refused["message"]
    with db.sessions() as session:
        per_cohort = session.execute(
            select(DoseAssignment.cohort, func.count()).group_by(DoseAssignment.cohort)
        ).all()
    assert [tuple(row) for row in per_cohort] == [(1, 3)]


def test_concurrent_enrollments_get_distinct_sequences(app_db: tuple[Database, Settings]) -> None:
    db, settings = app_db
    clock = FakeClock()
    app = create_app(settings, clock=clock, db=db)
    day = clock().date()
    with TestClient(app) as one, TestClient(app) as two:
        h1, h2 = login(one, "coord1"), login(two, "coord2")
        from dosewise.trial.demo import plan

        sids = []
        for client, headers, site in ((one, h1, "S01"), (two, h2, "S02")) * 3:
            sid = call(client, headers, "POST", "/participants", {"site_id": site})["study_id"]
            call(
                client,
                headers,
                "POST",
                f"/participants/{sid}/consents",
                {"consent_version": "v1", "record": plan.consent_record(day, 40)},
            )
            call(
                client,
                headers,
                "POST",
                f"/participants/{sid}/screenings",
                {"arm_id": "new_donor", "record": plan.screening_record(day, 40, "male")},
            )
            sids.append((client, headers, sid))
        results = together(
            *[
                (
                    lambda c=c, h=h, s=s: c.post(
                        f"{API}/participants/{s}/enrollment",
                        json={"arm_id": "new_donor"},
                        headers=h,
                    )
                )
                for c, h, s in sids
            ]
        )
    assert [r.status_code for r, _ in results] == [201] * 6
    assert sorted(r.json()["sequence"] for r, _ in results) == [1, 2, 3, 4, 5, 6]
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 6
