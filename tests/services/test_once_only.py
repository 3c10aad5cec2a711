"""Once-only acts under concurrency, on SQLite and PostgreSQL: N requests at the same moment,
exactly one succeeds and the others are refused with 409 ``wrong_state``.

The finding behind these tests (issue 15): on PostgreSQL 10 concurrent confirmations of one dose
assignment all returned 200 (10 signatures), 8 product releases created 3 products, and 54 of
391 registrations under 20 clients got 409 "duplicate study_id" for an ID the server chose.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from svc_helpers import Acts

from dosewise.errors import DosewiseError
from dosewise.store.base import Base
from dosewise.store.tables import (
    AuditRecord,
    DltAdjudication,
    DoseAssignment,
    Enrollment,
    ESignature,
    Infusion,
    Lymphodepletion,
    Participant,
    Product,
)
from dosewise.trial.audit import Actor
from dosewise.trial.demo import plan
from dosewise.trial.services import adverse_events, dlt, participants, products, responses
from dosewise.trial.uow import UnitOfWork
from pg import backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)

N = 12


def race(n: int, act: Callable[[], Any]) -> list[str]:
    """Run ``act`` in ``n`` threads released together; each outcome as ``ok`` or the error's
    ``http_status code``."""
    gate = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        gate.wait()
        try:
            act()
            result = "ok"
        except DosewiseError as exc:
            result = f"{exc.http_status} {exc.code}"
        except Exception as exc:
            result = f"crash {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == n, "a request hung"
    return outcomes


def assert_exactly_one(outcomes: list[str]) -> None:
    assert Counter(outcomes) == Counter({"ok": 1, "409 wrong_state": len(outcomes) - 1})


def count(acts: Acts, model: type[Base], **where: Any) -> int:
    with UnitOfWork(acts.db, Actor.system("test"), readonly=True) as uow:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(uow.session.scalar(stmt) or 0)


def test_registrations_never_refuse_an_id_the_server_chose(acts: Acts) -> None:
    outcomes = race(20, lambda: acts.run("coord1", participants.register_participant, "S01"))
    assert Counter(outcomes) == Counter({"ok": 20})
    with UnitOfWork(acts.db, Actor.system("test"), readonly=True) as uow:
        ids = sorted(uow.session.scalars(select(Participant.study_id)))
    assert ids == [f"S01-{i:04d}" for i in range(1, 21)]


def test_one_enrolment(acts: Acts) -> None:
    sid = acts.register("S01")
    record = plan.screening_record(acts.today, 34, "male")
    assert acts.run("coord1", participants.screen, sid, "autologous", record).eligible
    outcomes = race(N, lambda: acts.run("coord1", participants.enroll, sid, "autologous"))
    assert_exactly_one(outcomes)
    assert count(acts, Enrollment) == 1


def test_one_dose_assignment(acts: Acts) -> None:
    sid = acts.recruit("S01")
    assert_exactly_one(race(N, lambda: acts.assign(sid)))
    assert count(acts, DoseAssignment) == 1


def test_one_confirmation_one_signature(acts: Acts) -> None:
    sid = acts.recruit("S01")
    acts.assign(sid)
    assert_exactly_one(race(N, lambda: acts.confirm(sid)))
    assert count(acts, ESignature) == 1
    assert count(acts, AuditRecord, action="dose.confirm", entity="e_signatures") == 1


def test_one_product_release(acts: Acts) -> None:
    sid = acts.recruit("S01")
    dose = acts.assign(sid).dose_index
    acts.confirm(sid)
    assert_exactly_one(race(N, lambda: acts.release(sid, dose)))
    assert count(acts, Product) == 1


def _released(acts: Acts) -> tuple[str, float]:
    sid = acts.recruit("S01")
    dose = acts.assign(sid).dose_index
    acts.confirm(sid)
    return sid, float(acts.release(sid, dose).feasibility["volume_ml"])


def _lymphodeplete(acts: Acts, sid: str) -> Any:
    return acts.run(
        "coord1",
        products.record_lymphodepletion,
        sid,
        regimen="Flu/Cy",
        agents=[{"agent": "fludarabine", "dose": 30, "unit": "mg/m2/day"}],
        start_on=acts.today,
        end_on=acts.today,
    )


def test_one_lymphodepletion(acts: Acts) -> None:
    sid, _volume = _released(acts)
    assert_exactly_one(race(N, lambda: _lymphodeplete(acts, sid)))
    assert count(acts, Lymphodepletion) == 1


def test_one_infusion(acts: Acts) -> None:
    sid, volume = _released(acts)
    _lymphodeplete(acts, sid)

    def infuse() -> Any:
        return acts.run(
            "coord1",
            products.record_infusion,
            sid,
            infused_on=acts.today,
            infused_volume_ml=volume,
        )

    assert_exactly_one(race(N, infuse))
    assert count(acts, Infusion) == 1


def test_one_dlt_adjudication(acts: Acts) -> None:
    sid = acts.recruit("S01")
    day0 = acts.treat(sid).infused_on
    acts.advance(29)
    acts.run(
        "coord1",
        adverse_events.record_adverse_event,
        sid,
        term="Cytokine release syndrome",
        onset_on=day0 + timedelta(days=2),
        crs={"fever": True, "hypotension": True, "vasopressors": 0},
        resolved_on=day0 + timedelta(days=9),
        attribution="definite",
    )
    acts.run(
        "coord1",
        responses.record_response,
        sid,
        assessed_on=day0 + timedelta(days=28),
        marrow=plan.marrow(True, 0),
    )
    outcomes = race(N, lambda: acts.run("inv1", dlt.adjudicate_dlt, sid))
    assert_exactly_one(outcomes)
    assert count(acts, DltAdjudication) == 1


def test_a_second_lymphodepletion_is_refused_in_sequence_too(acts: Acts) -> None:
    sid, _volume = _released(acts)
    _lymphodeplete(acts, sid)
    with pytest.raises(DosewiseError) as err:
        _lymphodeplete(acts, sid)
    assert err.value.code == "wrong_state" and "already has its lymphodepleting" in err.value.rule


def test_the_database_refuses_a_second_current_record(acts: Acts) -> None:
    """Behind the locks, the partial unique indexes: a writer that bypasses the services still
    cannot store a second dose assignment in force for one participant."""
    sid = acts.recruit("S01")
    acts.assign(sid)
    with UnitOfWork(acts.db, acts.actor("coord1"), clock=acts.clock) as uow:
        a = uow.session.scalar(select(DoseAssignment))
        assert a is not None
        uow.act("test.duplicate")
        copy = {k: v for k, v in a.column_values().items() if k != "id"}
        uow.add(DoseAssignment(**copy))
        with pytest.raises(DosewiseError) as err:
            uow.commit()
    assert err.value.http_status == 409 and err.value.code == "duplicate"
    assert count(acts, DoseAssignment) == 1
