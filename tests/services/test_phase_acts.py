"""Closing phase 1 (OBD and RP2D by the design, e-signed) and phase 2 (RP2D, BOP2 looks)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
from svc_helpers import Acts, outcome

from dosewise.design import Boin12
from dosewise.design.bop2 import Bop2Design
from dosewise.protocol import Protocol, default_protocol, default_text, parse_protocol
from dosewise.report.design_data import phase2_plan as report_phase2_plan
from dosewise.store.tables import ESignature
from dosewise.trial import esign, signed
from dosewise.trial.access import Forbidden
from dosewise.trial.arm_state import arm_state, phase2_counts, seeded
from dosewise.trial.esign import SignatureRejected
from dosewise.trial.services import phases
from dosewise.trial.services.errors import MustWait, WrongState

PROTOCOL = default_protocol()
ARM = "new_donor"


def run_to_the_end_of_phase_1(acts: Acts) -> str:
    """Cohorts of NEN at whatever dose the design gives, until it ends dose finding."""
    for _ in range(6):
        with acts.uow("stat", readonly=True) as uow:
            state = arm_state(uow.session, ARM, as_of=acts.today)
        if state.next.action != "assign":
            return state.outcomes
        done = []
        for k, letter in enumerate("NEN"):
            site = ("S01", "S02")[k % 2]
            sid = acts.recruit(site, ARM)
            done.append((sid, site, acts.treat(sid, site).infused_on, letter))
        acts.advance(31)
        for sid, site, day0, letter in done:
            outcome(acts, sid, letter, day0, site)
    raise AssertionError("the design did not end dose finding")


def test_phase_1_cannot_close_before_the_design_ends_it(acts: Acts) -> None:
    with pytest.raises(WrongState) as err:
        acts.run("stat", phases.close_phase1, acts.signing(), ARM)
    assert "has not ended dose finding" in err.value.rule
    sid = acts.recruit("S01", ARM)
    acts.treat(sid)
    for site in ("S02", "S01"):
        acts.treat(acts.recruit(site, ARM), site)
    with pytest.raises(MustWait):
        acts.run("stat", phases.close_phase1, acts.signing(), ARM)
    with pytest.raises(Forbidden):
        acts.run("coord1", phases.close_phase1, acts.signing(), ARM)
    with pytest.raises(WrongState):
        acts.run("stat", phases.phase2_look, ARM)
    with pytest.raises(Forbidden):
        acts.run("inv1", phases.phase2_look, ARM)


def test_closing_phase_1_selects_the_designs_obd_and_opens_phase_2(acts: Acts) -> None:
    outcomes = run_to_the_end_of_phase_1(acts)
    cohorts = len(outcomes.split())
    design = Boin12(seeded(PROTOCOL.design_params(ARM), PROTOCOL, ARM, cohorts + 1))
    decision = design.decide(outcomes)
    assert decision.select_obd and decision.obd is not None
    with pytest.raises(WrongState) as err:  # no more phase 1 patients
        acts.recruit("S01", ARM)
    assert "dose finding has ended" in err.value.rule
    with pytest.raises(SignatureRejected):
        acts.run("inv1", phases.close_phase1, acts.signing("wrong password"), ARM)
    closure = acts.run("inv1", phases.close_phase1, acts.signing(), ARM)
    assert closure.obd_index == closure.rp2d_index == decision.obd.obd
    assert closure.basis["outcomes"] == outcomes
    design_doc = closure.basis["phase2_design"]
    assert design_doc["n_max"] == decision.obd.doses[decision.obd.obd - 1].n + 6
    assert design_doc["changed_at_closure"] == {}
    # The signed design is the design report's, shifted to the phase 1 patients actually at the
    # RP2D (the report plans for the most a dose can have): same rates, alpha, toxicity
    # monitoring, and looks at the same counts of expansion participants.
    shown = report_phase2_plan(PROTOCOL, ARM)
    assert shown is not None
    planned = shown.result.design
    n1 = design_doc["n_phase1_at_rp2d"]
    assert (design_doc["p0"], design_doc["p1"], design_doc["alpha"]) == (
        planned.p0,
        planned.p1,
        planned.alpha,
    )
    assert planned.toxicity is not None
    assert design_doc["toxicity"] == asdict(planned.toxicity)
    assert [n - n1 for n in design_doc["looks"]] == [
        n - shown.n_phase1_at_rp2d for n in planned.looks
    ]
    assert design_doc["type_i_error"] <= 0.10
    with acts.uow("stat", readonly=True) as uow:
        sig = uow.session.get(ESignature, closure.signature_id)
        assert sig is not None and sig.username == "inv1"
        assert esign.verify(sig).ok
        assert signed.check(uow.session, sig).ok  # bound to the closure row as it is now
        state = arm_state(uow.session, ARM, as_of=acts.today)
    assert state.phase == "phase2" and state.next.action == "assign"
    assert state.next.dose == closure.rp2d_index
    sid = acts.recruit("S02", ARM)
    a = acts.assign(sid, "S02")
    assert (a.phase, a.dose_index, a.decision["rule"]) == (2, closure.rp2d_index, "PHASE2_RP2D")
    with acts.uow("stat", readonly=True) as uow:
        now = arm_state(uow.session, ARM, as_of=acts.today)
    if phase2_counts(now.patients, closure.rp2d_index, True)["n"] == 0:
        with pytest.raises(
            WrongState
        ):  # nobody at the RP2D has a final BOR yet (no month-3 assessment)
            acts.run("stat", phases.phase2_look, ARM)
    acts.advance(70)
    with pytest.raises(WrongState):  # the BOR window has passed, but a day-28 BOR is not final
        acts.run("stat", phases.phase2_look, ARM)
    month3_at_rp2d(acts, closure.rp2d_index)
    look = acts.run("stat", phases.phase2_look, ARM)
    assert look.look == 1 and look.n == design_doc["n_phase1_at_rp2d"]
    assert look.decision in ("continue", "stop")


def month3_at_rp2d(acts: Acts, rp2d: int) -> None:
    """Record each phase 1 participant's month-3 assessment (as at day 28) at the RP2D."""
    from dosewise.trial.demo import plan
    from dosewise.trial.services import responses

    with acts.uow("stat", readonly=True) as uow:
        state = arm_state(uow.session, ARM, as_of=acts.today)
    for p in state.patients:
        if p.phase == 1 and p.analysed_dose == rp2d and p.infused_on is not None:
            coord = {"S01": "coord1", "S02": "coord2"}[p.site_id]
            acts.run(
                coord,
                responses.record_response,
                p.study_id,
                assessed_on=p.infused_on + timedelta(days=90),
                marrow=plan.marrow(bool(p.efficacy), 0),
                timepoint="month_3",
            )


def _both_readers(protocol: Protocol, arm: str) -> tuple[Bop2Design, Bop2Design]:
    """The arm's BOP2 design as the design report prints it and as a closure would sign it."""
    shown = report_phase2_plan(protocol, arm)
    assert shown is not None
    signed = phases.bop2_design(protocol, arm, shown.n_phase1_at_rp2d, phases.FROM_PROTOCOL)
    return shown.result.design, signed


@pytest.mark.parametrize("arm", PROTOCOL.arm_ids)
def test_the_design_report_and_the_closure_build_the_same_bop2_design(arm: str) -> None:
    report_design, signed = _both_readers(PROTOCOL, arm)
    assert report_design == signed
    settings = PROTOCOL.design.phase2
    assert (signed.p0, signed.p1, signed.alpha) == (
        settings.p0.value,
        settings.p1.value,
        settings.alpha.value,
    )
    assert signed.toxicity is not None and settings.phi_t1 is not None
    assert signed.toxicity.phi_t0 == PROTOCOL.design_params(arm).phi_t
    assert signed.toxicity.phi_t1 == settings.phi_t1.value


def test_both_readers_follow_a_changed_protocol_and_its_per_arm_overrides() -> None:
    text = (
        default_text()
        .replace("      value: 0.30\n", "      value: 0.25\n", 1)
        .replace("      value: [3]\n", "      value: [2, 4]\n", 1)
        .replace(
            "  per_arm: {}",
            "  per_arm:\n    new_donor:\n      phase2: {p1: 0.5, monitor_toxicity: false}",
        )
    )
    protocol = parse_protocol(text)
    for arm in protocol.arm_ids:
        report_design, signed = _both_readers(protocol, arm)
        assert report_design == signed
        assert signed.p0 == 0.25
        assert signed.looks == (14, 16, 18)  # 12 phase 1 patients at the RP2D + 2, 4, 6
    _, new_donor = _both_readers(protocol, "new_donor")
    _, autologous = _both_readers(protocol, "autologous")
    assert (new_donor.p1, new_donor.toxicity) == (0.5, None)
    assert autologous.p1 == 0.60 and autologous.toxicity is not None


def test_the_signer_may_change_the_protocols_rates_at_closure() -> None:
    changed = phases.bop2_design(PROTOCOL, ARM, 6, phases.Phase2Settings(p0=0.2, p1=0.5))
    kept = phases.bop2_design(PROTOCOL, ARM, 6, phases.FROM_PROTOCOL)
    assert (changed.p0, changed.p1) == (0.2, 0.5)
    assert (kept.p0, kept.p1) == (0.30, 0.60)
    assert changed.looks == kept.looks == (9, 12)
    assert changed.toxicity == kept.toxicity
