"""Cached reads never outlive the records (issue 19, item 2), on SQLite and PostgreSQL.

The arm state's answer, its signature checks and a session's user are remembered by the
database-maintained counters (``data_version``, migration 0011). Each test first reads twice
(the second read served from memory), then changes the records one way — through the service,
from another process, by a direct ``UPDATE`` in the database — and checks the next read shows
the change.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, call, login, recruit
from fastapi.testclient import TestClient
from sqlalchemy import text

from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from dosewise.trial.state.cache import records_cache
from pg import PASSWORD, FakeClock, backend, backend_params, db_url, make_settings  # noqa: F401

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)
ARM = "autologous"


@pytest.fixture
def app_db(db_url: str) -> Iterator[tuple[Database, Settings]]:  # noqa: F811
    settings = make_settings(db_url)
    db = open_database(settings)
    yield db, settings
    db.dispose()


@pytest.fixture
def client(app_db: tuple[Database, Settings]) -> Iterator[TestClient]:
    db, settings = app_db
    with TestClient(create_app(settings, clock=FakeClock(), db=db)) as c:
        yield c


def hits(db: Database) -> int:
    with db.sessions() as session:
        return records_cache(session).stats.hits


def state_twice(client: TestClient, db: Database, headers: dict[str, str]) -> dict[str, Any]:
    """The arm state read twice: equal, and the second from the cache."""
    first = call(client, headers, "GET", f"/arms/{ARM}/state")
    before = hits(db)
    second = call(client, headers, "GET", f"/arms/{ARM}/state")
    assert second == first
    assert hits(db) > before
    return second


def assigned_and_signed(client: TestClient) -> tuple[str, int, dict[str, str]]:
    coord, stat = login(client, "coord1"), login(client, "stat")
    today = str(call(client, coord, "GET", f"/arms/{ARM}/state")["as_of"])
    sid = recruit(client, coord, "S01", ARM, today)
    a = call(client, coord, "POST", f"/participants/{sid}/dose-assignment", {})
    call(
        client, stat, "POST", f"/participants/{sid}/dose-assignment/confirm", {"password": PASSWORD}
    )
    return sid, int(a["id"]), stat


def test_a_write_through_the_service_changes_the_next_read(
    client: TestClient, app_db: tuple[Database, Settings]
) -> None:
    db, _ = app_db
    coord = login(client, "coord1")
    before = state_twice(client, db, coord)
    assert before["history"] == []
    sid = recruit(client, coord, "S01", ARM, str(before["as_of"]))
    call(client, coord, "POST", f"/participants/{sid}/dose-assignment", {})
    after = call(client, coord, "GET", f"/arms/{ARM}/state")
    assert after["version"] > before["version"]
    assert [p["study_id"] for p in after["patients"]] == [sid]


def test_a_direct_update_of_a_signed_record_shows_broken_at_once(
    client: TestClient, app_db: tuple[Database, Settings]
) -> None:
    db, _ = app_db
    _sid, assignment, stat = assigned_and_signed(client)
    assert state_twice(client, db, stat)["broken_signatures"] == []

    with db.engine.begin() as c:  # outside the service: no audit record, no act
        c.execute(text(f"UPDATE dose_assignments SET dose_index = 2 WHERE id = {assignment}"))

    state = call(client, stat, "GET", f"/arms/{ARM}/state")
    assert [b["id"] for b in state["broken_signatures"]] == [assignment]
    decisions = call(client, stat, "GET", f"/arms/{ARM}/decisions")
    assert any(d.get("signature_valid") is False for d in decisions)


def test_a_write_from_another_process_changes_the_next_read(
    client: TestClient, app_db: tuple[Database, Settings]
) -> None:
    db, settings = app_db
    _sid, assignment, stat = assigned_and_signed(client)
    assert state_twice(client, db, stat)["broken_signatures"] == []
    code = (
        "import sys\n"
        "from sqlalchemy import create_engine, text\n"
        "engine = create_engine(sys.argv[1])\n"
        "with engine.begin() as c:\n"
        "    c.execute(text('UPDATE dose_assignments SET dose_level = :l WHERE id = :i'),"
        " {'l': 'DL2', 'i': int(sys.argv[2])})\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, settings.database_url, str(assignment)],
        check=True,
        capture_output=True,
    )
    state = call(client, stat, "GET", f"/arms/{ARM}/state")
    assert [b["id"] for b in state["broken_signatures"]] == [assignment]


def test_a_site_users_cached_answer_is_not_another_sites(
    client: TestClient, app_db: tuple[Database, Settings]
) -> None:
    db, _ = app_db
    sid, _assignment, stat = assigned_and_signed(client)
    other = login(client, "coord2")
    assert [p["study_id"] for p in state_twice(client, db, stat)["patients"]] == [sid]
    assert state_twice(client, db, other)["patients"] == []
    assert state_twice(client, db, login(client, "coord1"))["patients"][0]["study_id"] == sid


def test_a_logout_ends_the_remembered_session_at_once(client: TestClient) -> None:
    coord = login(client, "coord1")
    for _ in range(2):
        assert client.get(f"{API}/auth/me", headers=coord).status_code == 200
    assert client.post(f"{API}/auth/logout", headers=coord).status_code in (200, 204)
    assert client.get(f"{API}/auth/me", headers=coord).status_code == 401


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE auth_sessions SET revoked_at = created_at",
        "UPDATE users SET active = false WHERE username = 'coord1'",
        "DELETE FROM auth_sessions",
    ],
)
def test_a_direct_update_of_a_session_or_user_ends_it_at_once(
    client: TestClient, app_db: tuple[Database, Settings], statement: str
) -> None:
    db, _ = app_db
    coord = login(client, "coord1")
    for _ in range(2):
        assert client.get(f"{API}/arms/{ARM}/state", headers=coord).status_code == 200
    with db.engine.begin() as c:
        c.execute(text(statement))
    assert client.get(f"{API}/arms/{ARM}/state", headers=coord).status_code == 401


def test_a_session_idle_or_expired_is_refused_though_remembered(
    app_db: tuple[Database, Settings],
) -> None:
    db, settings = app_db
    clock = FakeClock()
    with TestClient(create_app(settings, clock=clock, db=db)) as c:
        coord = login(c, "coord1")
        assert c.get(f"{API}/auth/me", headers=coord).status_code == 200
        clock.advance(minutes=settings.session_idle_minutes + 1)
        assert c.get(f"{API}/auth/me", headers=coord).status_code == 401
        coord = login(c, "coord1")
        for _ in range(settings.session_minutes // 20 + 1):  # used every 20 minutes
            clock.advance(minutes=20)
            if c.get(f"{API}/auth/me", headers=coord).status_code == 401:
                break
        else:
            pytest.fail("a session used every 20 minutes outlived its maximum length")
