"""Dose assignment from the arm's design state, its confirmation, and the product that follows.

The rules checked are the issue's: the dose comes from the arm's BOIN12 state as of now and
equals what the design gives for the same outcomes; while the design says the next patient
must wait, the assignment is refused and says until when; the decision is confirmed by a
statistician or investigator with an e-signature; a product short of the planned level falls
back to DL-1 (registry fallback rule) and is analysed at DL-1.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from svc_helpers import Acts, outcome

from dosewise.design import Boin12
from dosewise.protocol import default_protocol
from dosewise.store.tables import AuditRecord, DoseAssignment, ESignature, User
from dosewise.trial import esign
from dosewise.trial.access import Forbidden
from dosewise.trial.arm_state import arm_state, seeded
from dosewise.trial.confidential import PLACEHOLDER
from dosewise.trial.esign import SignatureRejected
from dosewise.trial.services import dosing, participants
from dosewise.trial.services.errors import MustWait, WrongState
from dosewise.trial.uow import ConcurrencyConflict, NotFound

PROTOCOL = default_protocol()


def state(acts: Acts, arm: str = "autologous"):  # type: ignore[no-untyped-def]
    with acts.uow("stat", readonly=True) as uow:
        return arm_state(uow.session, arm, as_of=acts.today)


def test_the_first_cohort_starts_at_dl1_and_fills_before_the_design_decides(acts: Acts) -> None:
    doses = []
    for site in ("S01", "S02", "S01"):
        sid = acts.recruit(site)
        a = acts.assign(sid, site)
        doses.append((a.cohort, a.dose_index, a.dose_level, a.decision["rule"]))
    # DL1 is the registry's start dose and design dose 1 (fallback_policy safety_only).
    assert doses == [(1, 1, "DL1", "START")] * 3
    s = state(acts)
    assert s.cohort == {
        "number": 1,
        "dose": 1,
        "size": 3,
        "filled": 3,
        "places_left": 0,
        "members": s.cohort["members"] if s.cohort else [],
    }
    assert s.next.action == "wait" and s.next.wait_until is None  # nobody infused yet


def test_must_wait_says_until_when_and_the_refusal_is_audited(acts: Acts) -> None:
    treated = []
    for site in ("S01", "S02", "S01"):
        sid = acts.recruit(site)
        inf = acts.treat(sid, site)
        treated.append((sid, site, inf.infused_on))
    waiting = acts.recruit("S02")
    acts.advance(10)
    with pytest.raises(MustWait) as err:
        acts.assign(waiting, "S02")
    # The last outcome is known at the later of the protocol's DLT window (28 days) and its
    # efficacy read-out (CR/CRi by study day 28): both from the protocol file.
    windows = default_protocol().windows
    until = treated[0][2] + timedelta(days=max(windows.dlt_days, windows.efficacy_days.value))
    assert err.value.value == until.isoformat()
    assert "must wait" in err.value.rule and treated[1][0] in err.value.rule
    # an S02 coordinator is told of S02's pending participant, of S01's only as a placeholder
    assert treated[0][0] not in err.value.rule and PLACEHOLDER in err.value.rule
    with acts.uow("stat", readonly=True) as uow:
        refusals = list(
            uow.session.scalars(
                select(AuditRecord).where(AuditRecord.action == "dose.assign_refused")
            )
        )
        assert (
            uow.session.scalar(select(DoseAssignment.id).where(DoseAssignment.cohort == 2)) is None
        )
    assert len(refusals) == 1 and refusals[0].site_id == "S02"
    pending = state(acts).pending
    assert [p.days_left for p in pending] == [(until - treated[0][2]).days - 10] * 3
    assert all("dlt_window" in p.waiting_for for p in pending)


def test_the_next_cohort_gets_the_designs_decision_for_the_recorded_outcomes(acts: Acts) -> None:
    letters = "NTN"
    infused = []
    for site, _ in zip(("S01", "S02", "S01"), letters, strict=True):
        sid = acts.recruit(site)
        infused.append((sid, site, acts.treat(sid, site).infused_on))
    acts.advance(31)
    for (sid, site, day0), letter in zip(infused, letters, strict=True):
        adjudication = outcome(acts, sid, letter, day0, site)
        assert adjudication.is_dlt == (letter == "T")
    s = state(acts)
    assert s.outcomes == "1NTN"
    assert s.next.action == "assign" and s.next.new_decision
    expected = Boin12(seeded(PROTOCOL.design_params("autologous"), PROTOCOL, "autologous", 2))
    decision = expected.decide("1NTN")
    assert s.next.dose == decision.next_dose and s.next.decision is not None
    assert s.next.decision["rule"] == decision.rule and s.next.decision["tied"] == list(
        decision.tied
    )
    sid = acts.recruit("S02")
    a = acts.assign(sid, "S02")
    assert (a.cohort, a.dose_index) == (2, decision.next_dose)
    assert a.decision["outcomes"] == "1NTN" and a.decision["seed"] == expected.params.seed
    assert a.state["outcomes"] == "1NTN"


def test_a_stale_arm_version_is_refused_with_409(acts: Acts) -> None:
    sid = acts.recruit("S01")
    seen = state(acts).version
    other = acts.recruit("S02")  # moves the arm on
    with pytest.raises(ConcurrencyConflict) as err:
        acts.run("coord1", dosing.assign_dose, sid, expected_arm_version=seen)
    assert err.value.http_status == 409 and "reload the arm state" in err.value.rule
    fresh = state(acts).version
    a = acts.run("coord1", dosing.assign_dose, sid, expected_arm_version=fresh)
    assert a.dose_index == 1
    assert acts.assign(other, "S02").dose_index == 1


def test_confirmation_is_e_signed_by_a_statistician_or_investigator(acts: Acts) -> None:
    sid = acts.recruit("S01")
    acts.assign(sid)
    with pytest.raises(Forbidden):
        acts.run("coord1", dosing.confirm_dose, acts.signing(), sid)
    with pytest.raises(NotFound):  # another site's participant reads like an unused ID
        acts.run("inv2", dosing.confirm_dose, acts.signing(), sid)
    with pytest.raises(SignatureRejected):
        acts.run("stat", dosing.confirm_dose, acts.signing("not my password"), sid)
    with acts.uow("stat", readonly=True) as uow:
        stat = uow.session.scalar(select(User).where(User.username == "stat"))
        assert stat is not None and stat.failed_logins == 1  # 21 CFR 11.300(d)
    a = acts.run("inv1", dosing.confirm_dose, acts.signing(), sid)
    assert a.status == "confirmed"
    with acts.uow("stat", readonly=True) as uow:
        sig = uow.session.get(ESignature, a.signature_id)
        assert sig is not None and sig.username == "inv1" and sig.meaning == "approval"
        assert esign.verify(sig, dosing.confirmation_content(a, sid)).ok
    with pytest.raises(WrongState):
        acts.confirm(sid)


def test_a_short_product_falls_back_to_dl_minus_1_and_is_followed_for_safety_only(
    acts: Acts,
) -> None:
    sid = acts.recruit("S01")
    acts.assign(sid)
    acts.confirm(sid)
    product = acts.release(sid, 1, short=True)
    # 60% of the DL1 target is below DL1's window (80-120%) but inside DL-1's (40-60% of DL1).
    assert (product.planned_level, product.assigned_level, product.fallback) == (
        "DL1",
        "DL-1",
        True,
    )
    assert product.status == "released"
    # Under fallback_policy safety_only DL-1 is outside the dose finding (design index 0): the
    # participant is followed for safety, in no level's design data, and their place is free.
    s = state(acts)
    assert s.patients[0].status == "safety_only" and s.cohort is not None
    assert s.cohort["places_left"] == 3
    infusion = acts.infuse(sid, product.feasibility["volume_ml"])
    assert (infusion.actual_level, infusion.actual_dose_index) == ("DL-1", 0)
    s = state(acts)
    patient = s.patients[0]
    assert (patient.assigned_dose, patient.analysed_dose, patient.fallback) == (1, 0, True)
    assert patient.status == "safety_only" and patient.letter is None
    assert [d.level for d in s.outside_doses] == ["DL-1"] and s.outside_doses[0].treated == 1
    assert all(d.treated == 0 for d in s.doses)
    # The next participant takes the free place in cohort 1, at its dose.
    replacement = acts.recruit("S02")
    a = acts.assign(replacement, "S02")
    assert (a.cohort, a.dose_index, a.dose_level) == (1, 1, "DL1")


def test_a_product_below_every_window_is_rejected_and_cannot_be_infused(acts: Acts) -> None:
    sid = acts.recruit("S01")
    acts.assign(sid)
    acts.confirm(sid)
    tiny = {"tnc": 1e6, "viability": 0.9, "cd3": 0.95, "car": 0.4, "volume_ml": 50}
    from dosewise.trial.services import products

    product = acts.run(
        "coord1",
        products.release_product,
        sid,
        lot="L1",
        certificate=tiny,
        weight_kg=60,
        released_on=acts.today,
    )
    assert product.status == "rejected" and product.assigned_level is None
    assert "remanufacture" in product.feasibility["reason"]
    with pytest.raises(WrongState):
        acts.infuse(sid, 10)


def test_a_participant_lost_before_infusion_is_replaced_in_the_same_cohort(acts: Acts) -> None:
    sids = [acts.recruit(site) for site in ("S01", "S02", "S01")]
    for sid, site in zip(sids, ("S01", "S02", "S01"), strict=True):
        acts.assign(sid, site)
    acts.run(
        "coord2",
        participants.take_off_study,
        sids[1],
        off_study_on=acts.today,
        reason_code="withdrawal",
        reason="withdrew before infusion",
    )
    s = state(acts)
    assert s.cohort is not None and s.cohort["places_left"] == 1
    replacement = acts.recruit("S02")
    a = acts.assign(replacement, "S02")
    assert (a.cohort, a.dose_index) == (1, 1)
