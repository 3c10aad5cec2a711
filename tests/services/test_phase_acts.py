"""Closing phase 1 (OBD and RP2D by the design, e-signed) and phase 2 (RP2D, BOP2 looks)."""

from __future__ import annotations

import pytest
from svc_helpers import Acts, outcome

from dosewise.design import Boin12
from dosewise.protocol import default_protocol
from dosewise.store.tables import ESignature
from dosewise.trial import esign
from dosewise.trial.access import Forbidden
from dosewise.trial.arm_state import arm_state, seeded
from dosewise.trial.esign import SignatureRejected
from dosewise.trial.services import phases
from dosewise.trial.services._common import MustWait, WrongState

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
    assert design_doc["type_i_error"] <= 0.10
    with acts.uow("stat", readonly=True) as uow:
        sig = uow.session.get(ESignature, closure.signature_id)
        assert sig is not None and sig.username == "inv1"
        assert esign.verify(sig).ok
        state = arm_state(uow.session, ARM, as_of=acts.today)
    assert state.phase == "phase2" and state.next.action == "assign"
    assert state.next.dose == closure.rp2d_index
    sid = acts.recruit("S02", ARM)
    a = acts.assign(sid, "S02")
    assert (a.phase, a.dose_index, a.decision["rule"]) == (2, closure.rp2d_index, "PHASE2_RP2D")
    with pytest.raises(WrongState):  # nobody's BOR is final yet (day 97)
        acts.run("stat", phases.phase2_look, ARM)
    acts.advance(70)
    look = acts.run("stat", phases.phase2_look, ARM)
    assert look.look == 1 and look.n == design_doc["n_phase1_at_rp2d"]
    assert look.decision in ("continue", "stop")
