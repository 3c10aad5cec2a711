"""Registering, consenting, screening and enrolling participants through the services.

Checks the issue's rules: pseudonymous study IDs and no identifiers stored; eligibility per arm
by the protocol's criteria (screen failures name the failed criterion); consent before
screening (criterion I8); enrollment only after an eligible screening and a valid consent; site
staff act only at their own site; every act is audited in its own transaction.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from svc_helpers import Acts

from dosewise.errors import DosewiseError, InvalidInput
from dosewise.store.tables import AuditRecord, Consent, Enrollment, Participant, Screening
from dosewise.trial.access import Forbidden
from dosewise.trial.demo import plan
from dosewise.trial.services import participants
from dosewise.trial.services.errors import WrongState
from dosewise.trial.uow import UnitOfWork


def test_study_ids_are_issued_per_site_and_carry_no_identity(acts: Acts) -> None:
    ids = [acts.run("coord1", participants.register_participant, "S01").study_id for _ in range(3)]
    other = acts.run("coord2", participants.register_participant, "S02").study_id
    assert ids == ["S01-0001", "S01-0002", "S01-0003"]
    assert other == "S02-0001"


def test_staff_register_only_at_their_own_site(acts: Acts) -> None:
    with pytest.raises(Forbidden) as err:
        acts.run("coord1", participants.register_participant, "S02")
    assert err.value.field == "site_id"
    for role_user in ("stat", "dsmb", "monall", "admin1"):
        with pytest.raises(Forbidden):
            acts.run(role_user, participants.register_participant, "S01")


def test_consent_is_checked_against_the_age_band_and_stored_without_names(acts: Acts) -> None:
    sid = acts.run("coord1", participants.register_participant, "S01").study_id
    child = {
        "consent_date": acts.today.isoformat(),
        "date_of_birth": "2015-06-01",
        "patient_able_to_sign": True,
        "signatures": [
            {"form": "treatment", "signer": "patient", "name": "Wang Xiaoming"},
            {"form": "voluntary", "signer": "patient", "name": "Wang Xiaoming"},
        ],
    }
    consent = acts.run("coord1", participants.record_consent, sid, child, consent_version="v1")
    # Age 10 is in the 8-18 band: patient and guardian sign both forms (protocol consent.bands).
    assert consent.age_years == 10 and consent.band == "8-18"
    assert consent.valid is False
    assert sorted(consent.missing) == [
        "treatment consent form: guardian",
        "voluntary consent form: guardian",
    ]
    stored = json.dumps(consent.record)
    assert "Wang" not in stored and "2015-06-01" not in stored
    assert consent.record["age_years"] == 10


def test_screening_needs_the_recorded_consent_and_finds_screen_failures(acts: Acts) -> None:
    sid = acts.run("coord1", participants.register_participant, "S01").study_id
    record = plan.screening_record(acts.today, 34, "male")
    # No consent yet: criterion I8 cannot be assessed, so the screening is incomplete.
    s = acts.run("coord1", participants.screen, sid, "autologous", record)
    assert not s.eligible and s.failed_criteria == ["not assessed: I8"]
    acts.run(
        "coord1",
        participants.record_consent,
        sid,
        plan.consent_record(acts.today, 34),
        consent_version="v1",
    )
    s = acts.run("coord1", participants.screen, sid, "autologous", record)
    assert s.eligible
    failing = plan.screening_record(acts.today, 34, "male", {"ecog": 3})
    s = acts.run("coord1", participants.screen, sid, "autologous", failing)
    assert not s.eligible and s.failed_criteria == ["I5"]
    with acts.uow("coord1", readonly=True) as uow:
        p = uow.session.scalar(select(Participant).where(Participant.study_id == sid))
        assert p is not None and p.status == "screen_failed"
        criteria = uow.session.scalars(select(Screening.criteria)).all()
    # I1-I9, E1-E15 and the arm requirements A1-A2, each with its evidence
    assert all(len(c) == 26 for c in criteria)


def test_arm_specific_criteria_apply_only_to_their_arm(acts: Acts) -> None:
    sid = acts.register("S01")
    blasts = {"peripheral_blood_blasts": {"value": 30, "unit": "%"}}
    record = plan.screening_record(acts.today, 34, "male", blasts)
    assert not acts.run("coord1", participants.screen, sid, "autologous", record).eligible
    assert acts.run("coord1", participants.screen, sid, "prior_sct_donor", record).eligible


def test_enrollment_requires_an_eligible_screening_for_that_arm(acts: Acts) -> None:
    sid = acts.register("S01")
    with pytest.raises(WrongState) as err:
        acts.run("coord1", participants.enroll, sid, "autologous")
    assert err.value.field == "arm_id"
    record = plan.screening_record(acts.today, 34, "male")
    acts.run("coord1", participants.screen, sid, "new_donor", record)
    with pytest.raises(WrongState):
        acts.run("coord1", participants.enroll, sid, "autologous")
    e = acts.run("coord1", participants.enroll, sid, "new_donor")
    assert (e.arm_id, e.phase, e.sequence) == ("new_donor", 1, 1)
    with pytest.raises(WrongState):
        acts.run("coord1", participants.enroll, sid, "new_donor")


def test_enrollment_sequences_count_per_arm_and_raise_the_arm_version(acts: Acts) -> None:
    first = acts.recruit("S01", "autologous")
    second = acts.recruit("S02", "autologous")
    third = acts.recruit("S01", "new_donor")
    with acts.uow("stat", readonly=True) as uow:
        rows = {e.participant_id: e for e in uow.session.scalars(select(Enrollment))}
        by_sid = {
            p.study_id: rows[p.id] for p in uow.session.scalars(select(Participant)) if p.id in rows
        }
    assert [by_sid[s].sequence for s in (first, second, third)] == [1, 2, 1]
    assert by_sid[second].arm_version > by_sid[first].arm_version


def test_off_study_needs_a_known_reason_and_is_audited_with_it(acts: Acts) -> None:
    sid = acts.register("S02")
    with pytest.raises(InvalidInput) as err:
        acts.run(
            "coord2",
            participants.take_off_study,
            sid,
            off_study_on=acts.today,
            reason_code="bored",
            reason="x",
        )
    assert err.value.field == "reason_code"
    acts.run(
        "coord2",
        participants.take_off_study,
        sid,
        off_study_on=acts.today,
        reason_code="withdrawal",
        reason="withdrew consent",
    )
    with acts.uow("coord2", readonly=True) as uow:
        rec = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "participant.off_study")
        ).one()
    assert rec.reason == "withdrew consent" and rec.site_id == "S02"


def test_a_refused_act_writes_nothing(acts: Acts) -> None:
    sid = acts.register("S01")
    before = (acts.count(Screening), acts.count(Consent), acts.count(AuditRecord))
    bad = plan.screening_record(acts.today, 34, "male", {"ecog": 9})  # ECOG is 0-5
    with pytest.raises(DosewiseError) as err:
        acts.run("coord1", participants.screen, sid, "autologous", bad)
    assert err.value.field == "ecog"
    with pytest.raises(DosewiseError):
        acts.run("coord1", participants.screen, sid, "no_such_arm", bad)
    assert (acts.count(Screening), acts.count(Consent), acts.count(AuditRecord)) == before


def test_every_act_is_one_audited_transaction(acts: Acts) -> None:
    sid = acts.recruit("S01", "autologous")
    with UnitOfWork(acts.db, acts.actor("inv1"), readonly=True) as uow:
        rows = list(uow.session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    actions = [r.action for r in rows if r.action.startswith(("participant.", "consent."))]
    assert actions[:1] == ["participant.register"]
    assert {"consent.record", "participant.screen", "participant.enroll"} <= set(actions)
    enroll = [r for r in rows if r.action == "participant.enroll"]
    # One transaction: the enrollment row, the participant's status change, the arm version.
    assert len({r.txn for r in enroll}) == 1
    assert {r.entity for r in enroll} >= {"enrollments", "participants"}
    assert sid in json.dumps([r.after for r in rows if r.entity == "participants"])
