"""The arm state and the dose assignment answered on the event loop when memory holds the
answer (:mod:`dosewise.http.loop_first`): on SQLite, a repeated read and a repeated refusal take
no thread-pool call, answer exactly what the thread would, and the refusal is in the audit trail
before its 409 arrives; anything else (an unknown session, a changed record, an assignment
that writes) is served in the thread pool as before. PostgreSQL keeps the thread pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import API, call, login, recruit
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import dosewise.http.loop_first as loop_first_module
from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.store.tables import AuditRecord
from dosewise.trial.uow import event_group
from pg import PASSWORD, backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)
ARM = "autologous"


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions ``loop_first`` handed to the thread pool."""
    calls: list[str] = []
    real = loop_first_module.run_in_threadpool

    async def counting(fn: Callable[..., Any], *args: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await real(fn, *args)

    monkeypatch.setattr(loop_first_module, "run_in_threadpool", counting)
    return calls


def refusals(db: Database) -> int:
    """Refused assignments in the audit trail."""
    with db.sessions() as session:
        stmt = select(func.count()).where(AuditRecord.action == "dose.assign_refused")
        return int(session.scalar(stmt) or 0)


def cohort_assigned_one_waiting(client: TestClient) -> tuple[dict[str, str], str]:
    """Three participants assigned and confirmed (outcomes pending) and one more enrolled:
    the design says the fourth must wait."""
    coord, stat = login(client, "coord1"), login(client, "stat")
    today = str(call(client, coord, "GET", f"/arms/{ARM}/state")["as_of"])
    for _ in range(3):
        sid = recruit(client, coord, "S01", ARM, today)
        call(client, coord, "POST", f"/participants/{sid}/dose-assignment", {})
        call(
            client,
            stat,
            "POST",
            f"/participants/{sid}/dose-assignment/confirm",
            {"password": PASSWORD},
        )
    return coord, recruit(client, coord, "S01", ARM, today)


def test_a_repeated_read_takes_no_thread_and_a_changed_record_goes_back_to_one(
    client: TestClient, app_db: tuple[Database, Settings], thread_calls: list[str], backend: str
) -> None:
    coord = login(client, "coord1")
    first = client.get(f"{API}/arms/{ARM}/state", headers=coord)
    assert first.status_code == 200 and thread_calls == ["_state_json"]  # session new, computed
    again = client.get(f"{API}/arms/{ARM}/state", headers=coord)
    assert again.content == first.content
    expected = ["_state_json"] * (1 if backend == "sqlite" else 2)
    assert thread_calls == expected
    recruit(client, coord, "S01", ARM, str(first.json()["as_of"]))
    changed = client.get(f"{API}/arms/{ARM}/state", headers=coord)
    assert changed.status_code == 200 and changed.content != first.content
    assert thread_calls[-1] == "_state_json" and len(thread_calls) == len(expected) + 1


def test_a_repeated_refusal_is_answered_on_the_loop_audited_before_its_answer(
    client: TestClient, app_db: tuple[Database, Settings], thread_calls: list[str], backend: str
) -> None:
    db, _ = app_db
    coord, waiting = cohort_assigned_one_waiting(client)
    path = f"{API}/participants/{waiting}/dose-assignment"
    first = client.post(path, json={}, headers=coord)
    assert first.status_code == 409 and first.json()["error"]["code"] == "must_wait"
    calls, audited, batches = len(thread_calls), refusals(db), event_group(db).batches
    for n in range(1, 4):
        again = client.post(path, json={}, headers=coord)
        assert again.status_code == 409 and again.json() == first.json()
        assert refusals(db) == audited + n  # durable when the answer arrived
    if backend == "sqlite":
        assert len(thread_calls) == calls  # the refusals were answered on the loop
        assert event_group(db).batches == batches + 3  # each awaited its group commit
    else:
        assert thread_calls[calls:] == ["_assign"] * 3
