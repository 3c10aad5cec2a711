"""Reports at a data cut-off: ``load_trial_data(session, as_of=day)`` shows the trial as it stood
at the end of ``day``, by clinical dates.

Every count is recomputed here from the database rows of the scripted whole-trial run filtered by
their dates (the loader copies and cuts the rows; these tests only filter lists). The arm states
at a cut-off are checked against the states the service itself saved with each dose assignment
on the day it was made. A copy of the trial with entries made after the trial (a death dated
during it, a re-adjudicated DLT, an AE outcome) checks that what is dated before the cut-off
counts and what changed after it does not.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from demo_trial import DemoTrial
from dosewise.cli.app import main
from dosewise.report.ctgov import export_ctgov
from dosewise.report.dsmb import export_dsmb
from dosewise.report.exports import read_trial_data
from dosewise.report.odm import export_odm
from dosewise.report.sdtm import export_sdtm
from dosewise.report.trial_data import TrialData, load_trial_data
from dosewise.store.session import Database, open_database
from dosewise.store.tables import (
    AdverseEvent,
    AuditRecord,
    Consent,
    DltAdjudication,
    DoseAssignment,
    Enrollment,
    Infusion,
    Participant,
    Phase1Closure,
    ResponseAssessment,
    Screening,
    User,
)
from dosewise.trial.arm_state import arm_state
from dosewise.trial.audit import Actor
from dosewise.trial.services.adverse_events import update_adverse_event
from dosewise.trial.services.dlt import adjudicate_dlt
from dosewise.trial.services.participants import take_off_study
from dosewise.trial.uow import UnitOfWork

#: Days inside the demo trial (2026-01-05 .. 2026-12-27): AEs of cohort 1 still ongoing; the
#: participants waiting for cohort 2; phase 1 mid-way; the day phase 1 closed; phase 2 follow-up
#: (no best response yet); the second phase 2 batch just infused.
MID_DAYS = (
    date(2026, 1, 15),
    date(2026, 1, 25),
    date(2026, 3, 1),
    date(2026, 6, 2),
    date(2026, 7, 20),
    date(2026, 10, 1),
)


def cut(demo_db: DemoTrial, day: date) -> TrialData:
    with demo_db.db.sessions() as session:
        return load_trial_data(session, as_of=day)


@dataclass
class Rows:
    """The database rows, read directly (no loader)."""

    participants: list[Participant]
    screenings: list[Screening]
    consents: list[Consent]
    enrollments: list[Enrollment]
    assignments: list[DoseAssignment]
    infusions: list[Infusion]
    events: list[AdverseEvent]
    adjudications: list[DltAdjudication]
    assessments: list[ResponseAssessment]
    audit_days: list[str]


def read_rows(db: Database) -> Rows:
    with db.sessions() as s:

        def every(model: Any) -> list[Any]:
            return list(s.scalars(select(model).order_by(model.id)))

        rows = Rows(
            every(Participant),
            every(Screening),
            every(Consent),
            every(Enrollment),
            every(DoseAssignment),
            every(Infusion),
            every(AdverseEvent),
            [a for a in every(DltAdjudication) if a.status == "final"],
            every(ResponseAssessment),
            [r[:10] for r in s.scalars(select(AuditRecord.recorded_at))],
        )
        s.expunge_all()
    return rows


# --------------------------------------------------------------------------- the frames


@pytest.mark.parametrize("day", MID_DAYS, ids=str)
def test_the_frames_hold_the_rows_dated_by_the_cut_off(demo_db: DemoTrial, day: date) -> None:
    data, rows = cut(demo_db, day), read_rows(demo_db.db)
    registered = {p.id for p in rows.participants if p.registered_on <= day}
    assert set(data.participants["participant_id"]) == registered
    assert registered  # and a mid-trial day leaves records out:
    shown = len(data.adverse_events) + len(data.responses) + len(data.dlts)
    assert shown < len(rows.events) + len(rows.assessments) + len(rows.adjudications)
    enrolled = {e.participant_id for e in rows.enrollments if e.enrolled_on <= day}
    assert set(data.enrolled["participant_id"]) == enrolled
    treated = {i.participant_id for i in rows.infusions if i.infused_on <= day}
    assert set(data.treated["participant_id"]) == treated
    # adverse events by onset; a resolution after the day is not known yet
    events = [e for e in rows.events if e.onset_on <= day]
    ae = data.adverse_events
    assert Counter(int(g) for g in ae["grade"]) == Counter(e.grade for e in events)
    resolved = {
        e.id: e.resolved_on if e.resolved_on and e.resolved_on <= day else None for e in events
    }
    assert dict(zip(ae["ae_id"], ae["resolved_on"], strict=True)) == resolved
    for r in ae.itertuples():
        end = resolved[r.ae_id]
        assert r.duration_days == (None if end is None else (end - r.onset_on).days + 1)
    # DLT adjudications by the day they were made
    final = {
        a.participant_id: a.is_dlt for a in rows.adjudications if a.adjudicated_at.date() <= day
    }
    assert dict(zip(data.dlts["participant_id"], data.dlts["is_dlt"], strict=True)) == final
    people = data.participants.set_index("participant_id")
    assert {pid: people.loc[pid, "dlt"] for pid in registered if pid in final} == final
    assert all(people.loc[pid, "dlt"] is None for pid in registered - set(final))
    assert sum(bool(x) for x in data.treated["dlt"]) == sum(final.values())
    # response assessments by their date
    responses = Counter(
        (a.participant_id, a.assessed_on, a.response)
        for a in rows.assessments
        if a.assessed_on <= day
    )
    assert (
        Counter(
            zip(
                *(data.responses[c] for c in ("participant_id", "assessed_on", "response")),
                strict=True,
            )
        )
        == responses
    )
    # nobody died in the scripted run; the audit trail up to the end of the day (UTC)
    assert data.participants["death_on"].isna().all()
    assert len(data.audit) == sum(d <= day.isoformat() for d in rows.audit_days)
    assert all(str(r)[:10] <= day.isoformat() for r in data.audit["recorded_at"])
    # every date in the frames is on or before the cut-off
    for frame, column in (
        (data.participants, "last_on"),
        (data.participants, "infused_on"),
        (data.participants, "enrolled_on"),
        (data.adverse_events, "onset_on"),
        (data.dlts, "adjudicated_on"),
        (data.responses, "assessed_on"),
    ):
        assert all(d <= day for d in frame[column] if d is not None), column


def expected_status(rows: Rows, pid: int, day: date) -> str:
    """The furthest step the participant had reached by the end of ``day``."""
    if any(i.participant_id == pid and i.infused_on <= day for i in rows.infusions):
        return "treated"
    if any(
        a.participant_id == pid and a.assigned_at.date() <= day and a.status == "confirmed"
        for a in rows.assignments
    ):
        return "dose_assigned"
    if any(e.participant_id == pid and e.enrolled_on <= day for e in rows.enrollments):
        return "enrolled"
    screened = [s for s in rows.screenings if s.participant_id == pid and s.screened_on <= day]
    if screened:
        return "eligible" if screened[-1].eligible else "screen_failed"
    consented = any(c.participant_id == pid and c.consent_on <= day for c in rows.consents)
    return "consented" if consented else "registered"


@pytest.mark.parametrize("day", MID_DAYS, ids=str)
def test_each_status_is_the_furthest_step_reached_by_the_cut_off(
    demo_db: DemoTrial, day: date
) -> None:
    data, rows = cut(demo_db, day), read_rows(demo_db.db)
    status = dict(
        zip(data.participants["participant_id"], data.participants["status"], strict=True)
    )
    assert status == {pid: expected_status(rows, pid, day) for pid in status}
    enrolled_arm = {e.participant_id: e.arm_id for e in rows.enrollments if e.enrolled_on <= day}
    screened_arm = {s.participant_id: s.arm_id for s in rows.screenings if s.screened_on <= day}
    for r in data.participants.itertuples():
        assert r.arm_id == enrolled_arm.get(r.participant_id, screened_arm.get(r.participant_id))


def test_waiting_participants_are_enrolled_without_a_dose(demo_db: DemoTrial) -> None:
    """On 2026-01-25 one participant per arm was enrolled and told to wait for cohort 2."""
    data = cut(demo_db, date(2026, 1, 25))
    waiting = data.participants[data.participants["status"] == "enrolled"]
    assert sorted(waiting["arm_id"]) == sorted(data.arms["arm_id"])
    assert waiting["assigned_dose"].isna().all() and waiting["infused_on"].isna().all()


# --------------------------------------------------------------------------- the arm states


def test_the_arm_states_are_those_each_dose_was_assigned_on(demo_db: DemoTrial) -> None:
    """Each dose assignment saved the arm's state it was decided on: the cut-off state of that
    day counts the same outcomes (the new participant of the day is not counted yet)."""
    with demo_db.db.sessions() as s:
        saved = [
            (a.assigned_at.date(), a.arm_id, a.state) for a in s.scalars(select(DoseAssignment))
        ]
    by_day: dict[date, TrialData] = {}
    for day, arm, state in saved:
        data = by_day.get(day) or by_day.setdefault(day, cut(demo_db, day))
        now = data.states[arm].to_dict()
        assert now["phase"] == state["phase"], (day, arm)
        assert now["outcomes"] == state["outcomes"], (day, arm)
        counts = ("dose", "n", "dlt", "responses", "admissible")
        assert [[d[k] for k in counts] for d in now["doses"]] == [
            [d[k] for k in counts] for d in state["doses"]
        ], (day, arm)
    assert len(by_day) > 5


def test_an_arm_is_in_phase_1_until_its_closure(demo_db: DemoTrial) -> None:
    with demo_db.db.sessions() as s:
        closed = {
            c.arm_id: (c.closed_at.date(), c.obd_level) for c in s.scalars(select(Phase1Closure))
        }
    day = min(d for d, _ in closed.values())
    before, on = cut(demo_db, day - timedelta(days=1)), cut(demo_db, day)
    assert set(before.arms["phase"]) == {"phase1"} and before.arms["obd_level"].isna().all()
    assert {a: s.phase for a, s in before.states.items()} == dict.fromkeys(closed, "phase1")
    assert {a: s.closure for a, s in before.states.items()} == dict.fromkeys(closed)
    assert dict(zip(on.arms["arm_id"], on.arms["obd_level"], strict=True)) == {
        a: obd for a, (_, obd) in closed.items()
    }
    assert all(on.states[a].closure is not None for a in closed)


def test_a_cut_off_after_the_last_record_is_the_whole_trial(
    demo_db: DemoTrial, trial: TrialData
) -> None:
    later = demo_db.today + timedelta(days=90)
    with demo_db.db.sessions() as s:
        data = load_trial_data(s, as_of=later)
        states = {a: arm_state(s, a, as_of=later).to_dict() for a in data.states}
    assert {a: st.to_dict() for a, st in data.states.items()} == states
    for name in ("sites", "arms", "participants", "adverse_events", "dlts", "responses"):
        pd.testing.assert_frame_equal(getattr(data, name), getattr(trial, name), obj=name)
    # audit records appended since the fixture was read (other tests' exports) aside
    n = len(trial.audit)
    pd.testing.assert_frame_equal(data.audit.iloc[:n], trial.audit)
    assert len(trial.treated) == len(demo_db.result.patients)


def test_a_cut_off_before_the_first_record_is_an_empty_trial(demo_db: DemoTrial) -> None:
    data = cut(demo_db, date(2025, 12, 31))
    for frame in (data.participants, data.adverse_events, data.dlts, data.responses, data.audit):
        assert frame.empty
    assert len(data.arms) == 3 and set(data.arms["phase"]) == {"phase1"}
    assert all(d.n == 0 for st in data.states.values() for d in st.doses)
    assert {st.next.action for st in data.states.values()} == {"assign"}


# --------------------------------------------------------------------------- the writers


def test_every_writer_counts_what_the_cut_off_holds(demo_db: DemoTrial, tmp_path: Path) -> None:
    day = date(2026, 7, 20)
    data, rows = cut(demo_db, day), read_rows(demo_db.db)
    treated = sum(i.infused_on <= day for i in rows.infusions)
    events = sum(e.onset_on <= day for e in rows.events)
    registered = sum(p.registered_on <= day for p in rows.participants)
    assert 0 < treated < len(rows.infusions) and 0 < events < len(rows.events)
    dsmb = export_dsmb(data, tmp_path / "dsmb.html", "en")
    assert dsmb["treated"] == treated
    assert f'id="as-of">{day.isoformat()}<' in (tmp_path / "dsmb.html").read_text()
    ctgov = export_ctgov(data, tmp_path / "ctgov.json", "en")
    doc = json.loads((tmp_path / "ctgov.json").read_text())
    assert ctgov["treated"] == treated and doc["dataCutoffDate"] == day.isoformat()
    (tmp_path / "sdtm").mkdir()
    sdtm = export_sdtm(data, tmp_path / "sdtm", "en")
    # EX: one CAR-T record per infusion (4 SUPPEX qualifiers each) plus the lymphodepleting
    # agents, whose regimens started by the cut-off
    assert sdtm["datasets"]["AE"] == events and sdtm["datasets"]["SUPPEX"] == 4 * treated
    agents = sum(len(r) for r in data.lymphodepletions["agents"])
    assert sdtm["datasets"]["EX"] == treated + agents and agents >= 2 * treated
    odm = export_odm(data, tmp_path / "odm.xml", "en")
    assert odm["subjects"] == registered and odm["adverse_events"] == events
    assert odm["audit_records"] == len(data.audit) > 0


def run(args: list[str]) -> int:
    """Exit code of ``dosewise <args>`` run in-process."""
    try:
        main(args)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def test_the_cli_reports_at_a_mid_trial_cut_off(
    demo_db: DemoTrial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = date(2026, 3, 1)
    out = tmp_path / "dsmb.html"
    args = ["report", "dsmb", "--out", str(out), "--database-url", demo_db.url]
    assert run([*args, "--as-of", day.isoformat(), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    with demo_db.db.sessions() as s:
        treated = sum(d <= day for d in s.scalars(select(Infusion.infused_on)))
    assert doc["as_of"] == day.isoformat() and doc["treated"] == treated
    assert 0 < treated < len(demo_db.result.patients)


# --------------------------------------------------------------------------- later entries


@dataclass(frozen=True)
class Amended:
    """A copy of the trial with entries made after it ended, and what they were."""

    db: Database
    study_id: str
    died_on: date
    first_dlt: bool
    first_adjudicated: date
    amended_at: datetime
    event_id: int
    onset_on: date
    resolved_on: date


@pytest.fixture(scope="module")
def amended(demo_db: DemoTrial, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Amended]:
    """After the trial, its first participant is re-adjudicated (the DLT verdict reversed), an
    AE outcome is entered and their death is recorded, dated during the trial."""
    path = tmp_path_factory.mktemp("amended") / "trial.db"
    source, target = sqlite3.connect(demo_db.url.removeprefix("sqlite:///")), sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    db = open_database(demo_db.settings, f"sqlite:///{path}")
    at = datetime.combine(demo_db.today + timedelta(days=14), datetime.min.time(), UTC)
    died_on = demo_db.today - timedelta(days=20)
    with db.sessions() as s:
        p = s.scalars(select(Participant).order_by(Participant.id)).first()
        assert p is not None
        first = s.scalar(select(DltAdjudication).where(DltAdjudication.participant_id == p.id))
        event = s.scalars(
            select(AdverseEvent)
            .where(AdverseEvent.participant_id == p.id, AdverseEvent.resolved_on.is_not(None))
            .order_by(AdverseEvent.id)
        ).first()
        user = s.scalar(select(User).where(User.username == f"inv.{p.site_id.lower()}"))
        assert first is not None and event is not None and user is not None
        assert event.resolved_on is not None and event.resolved_on > event.onset_on
        facts = Amended(
            db,
            p.study_id,
            died_on,
            first.is_dlt,
            first.adjudicated_at.date(),
            at,
            event.id,
            event.onset_on,
            event.resolved_on,
        )
        version, actor = event.version, Actor.of(user)
    try:
        with UnitOfWork(db, actor, clock=lambda: at) as uow:
            adjudicate_dlt(uow, p.study_id, is_dlt=not facts.first_dlt, rationale="re-reviewed")
        with UnitOfWork(db, actor, clock=lambda: at) as uow:
            update_adverse_event(
                uow, p.study_id, event.id, version=version, reason="entered", outcome="recovered"
            )
        with UnitOfWork(db, actor, clock=lambda: at) as uow:
            take_off_study(
                uow, p.study_id, off_study_on=died_on, reason_code="death", reason="progression"
            )
        yield facts
    finally:
        db.dispose()


def person(data: TrialData, study_id: str) -> Any:
    p = data.participants
    return p[p["study_id"] == study_id].iloc[0]


def load(amended: Amended, day: date) -> TrialData:
    with amended.db.sessions() as s:
        return load_trial_data(s, as_of=day)


def test_a_death_entered_later_counts_from_its_date(amended: Amended) -> None:
    before, on = load(amended, amended.died_on - timedelta(days=1)), load(amended, amended.died_on)
    alive, dead = person(before, amended.study_id), person(on, amended.study_id)
    assert alive["death_on"] is None and alive["off_study_on"] is None
    assert alive["status"] == "treated" and alive["last_on"] < amended.died_on
    assert dead["death_on"] == amended.died_on == dead["last_on"] and dead["status"] == "off_study"
    assert str(dead["off_study_reason"]).startswith("death")


def test_a_later_re_adjudication_does_not_reach_back(amended: Amended) -> None:
    day = amended.amended_at.date()
    first = load(amended, day - timedelta(days=1))
    then = person(first, amended.study_id)
    assert bool(then["dlt"]) is amended.first_dlt
    row = first.dlts[first.dlts["study_id"] == amended.study_id].iloc[0]
    assert row["adjudicated_on"] == amended.first_adjudicated
    now = person(load(amended, day), amended.study_id)
    assert bool(now["dlt"]) is not amended.first_dlt


def test_an_event_resolved_after_the_cut_off_is_ongoing(amended: Amended) -> None:
    def event(day: date) -> Any:
        ae = load(amended, day).adverse_events
        return ae[ae["ae_id"] == amended.event_id].iloc[0]

    ongoing, resolved = event(amended.resolved_on - timedelta(days=1)), event(amended.resolved_on)
    assert ongoing["resolved_on"] is None and ongoing["duration_days"] is None
    assert ongoing["outcome"] is None
    assert resolved["resolved_on"] == amended.resolved_on and resolved["outcome"] == "recovered"
    assert resolved["duration_days"] == (amended.resolved_on - amended.onset_on).days + 1


def test_the_default_cut_off_is_the_last_record_s_day_and_leaves_nothing_out(
    amended: Amended,
) -> None:
    data = read_trial_data(amended.db, Actor.system("test"))
    assert data.as_of == amended.amended_at.date()
    with amended.db.sessions() as s:
        assert len(data.audit) == s.scalar(select(func.count()).select_from(AuditRecord))
        assert len(data.dlts) == s.scalar(
            select(func.count(func.distinct(DltAdjudication.participant_id)))
        )
    assert bool(person(data, amended.study_id)["dlt"]) is not amended.first_dlt
