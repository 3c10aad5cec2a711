"""Close phase 1 of an arm (OBD and RP2D by the design, e-signed) and run its BOP2 looks.

**Closing phase 1.** Allowed only when the arm state says the design has ended dose finding
(``select_obd``: n_earlystop or the maximum sample size reached) or stopped with no OBD. The OBD
is the design's selection (``Boin12.select_obd``: isotonic MTD, then the highest posterior-mean
utility); the RP2D is the OBD. The closure, the data it rests on and the phase 2 design are
signed together (Part 11 e-signature, meaning *approval*). With an OBD the arm moves to phase 2;
without one it closes.

**Phase 2 (BOP2).** The registry gives neither the null and target response rates nor a
monitoring plan, so the phase 2 design has defaults (:data:`PHASE2_DEFAULTS`, assumptions the
signer can change at closure): response = CR or CRi as best overall response by day 97; H0
p0 = 0.30, H1 p1 = 0.60, type I error ≤ 0.10; joint toxicity monitoring of DLTs with φT0 = the
arm's φT (0.35) and φT1 = 0.15. The population is every participant infused at the RP2D, in
phase 1 and phase 2 alike (N = phase 1 patients at the RP2D + the expansion); looks after half
of the expansion and at N. The design's (λ, γ) are optimised once at closure
(``design.bop2.optimise_bop2``) and stored; each look re-applies them
(``bop2_with_parameters`` + ``bop2_decision``) to the evaluable participants (BOR final, DLT
adjudicated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dosewise.design.bop2 import (
    Bop2Design,
    ToxicityMonitoring,
    bop2_decision,
    bop2_with_parameters,
    optimise_bop2,
)
from dosewise.errors import InvalidInput
from dosewise.store.tables import Arm, Bop2Look, Phase1Closure
from dosewise.trial.access import authorize
from dosewise.trial.arm_state import ArmState, arm_state, phase2_counts
from dosewise.trial.services._common import (
    DesignStopped,
    MustWait,
    Signing,
    WrongState,
    arm_protocol,
    as_json,
    rule_version,
    sign,
    today,
    user_id,
)
from dosewise.trial.uow import UnitOfWork


@dataclass(frozen=True)
class Phase2Settings:
    """The BOP2 settings a closure fixes (see the module doc for why these defaults)."""

    p0: float = 0.30
    p1: float = 0.60
    alpha: float = 0.10
    monitor_toxicity: bool = True
    phi_t0: float | None = None  # default: the arm's phi_t
    phi_t1: float = 0.15


PHASE2_DEFAULTS = Phase2Settings()


def _bop2_design(n_max: int, looks: tuple[int, ...], s: Phase2Settings, phi_t: float) -> Bop2Design:
    tox = None
    if s.monitor_toxicity:
        tox = ToxicityMonitoring(
            phi_t0=s.phi_t0 if s.phi_t0 is not None else phi_t, phi_t1=s.phi_t1
        )
    return Bop2Design(n_max=n_max, looks=looks, p0=s.p0, p1=s.p1, alpha=s.alpha, toxicity=tox)


def phase2_design(state: ArmState, arm: Arm, obd: int, s: Phase2Settings) -> dict[str, Any]:
    """The arm's BOP2 design: N, looks, rates, and the optimised (λ, γ) with its boundaries."""
    n1 = sum(
        1
        for p in state.patients
        if p.phase == 1 and p.infused_on is not None and p.analysed_dose == obd
    )
    n_max = n1 + arm.phase2_expansion
    half = n1 + math.ceil(arm.phase2_expansion / 2)
    looks = (half, n_max) if 0 < half < n_max else (n_max,)
    design = _bop2_design(n_max, looks, s, float(state.params["phi_t"]))
    result = optimise_bop2(design)
    return as_json(
        {
            **result.as_dict(),
            "n_phase1_at_rp2d": n1,
            "population": "every participant infused at the RP2D (phases 1 and 2)",
            "response": "best overall response CR or CRi by day 97",
        }
    )


def close_phase1(
    uow: UnitOfWork,
    signing: Signing,
    arm_id: str,
    *,
    expected_arm_version: int | None = None,
    phase2: Phase2Settings = PHASE2_DEFAULTS,
) -> Phase1Closure:
    """End dose finding in the arm with the design's OBD as RP2D, e-signed by the closer."""
    authorize(uow.actor, "phase1.close")
    arm = uow.claim_arm(arm_id, expected_arm_version)
    if arm.phase != "phase1":
        raise WrongState("arm_id", arm_id, f"phase 1 is already closed (the arm is in {arm.phase})")
    protocol = arm_protocol(uow.session, arm)
    state = arm_state(uow.session, arm_id, as_of=today(uow), protocol=protocol)
    step = state.next
    if step.action == "wait":
        raise MustWait("wait_until", step.wait_until and step.wait_until.isoformat(), step.reason)
    if step.action not in ("select_obd", "stop"):
        raise WrongState("arm_id", arm_id, f"the design has not ended dose finding: {step.reason}")
    decision = step.decision or {}
    obd_result = decision.get("obd_result") or {}
    obd = obd_result.get("obd") if step.action == "select_obd" else None
    level = None if obd is None else protocol.dose_levels.by_index(int(obd)).name
    design = None if obd is None else phase2_design(state, arm, int(obd), phase2)
    basis = as_json(
        {
            "reason": step.reason,
            "outcomes": step.outcomes,
            "seed": step.seed,
            "decision": decision,
            "obd_result": obd_result,
            "rp2d_rule": "the RP2D is the design's OBD",
            "arm_version": arm.version,
            "as_of": state.as_of.isoformat(),
            "doses": [d.to_dict() for d in state.doses],
            "phase2_design": design,
        }
    )
    content = {
        "arm_id": arm_id,
        "obd_index": obd,
        "obd_level": level,
        "rp2d_index": obd,
        "rp2d_level": level,
        "outcomes": step.outcomes,
        "reason": step.reason,
        "rule_version": rule_version(protocol, arm_id),
        "phase2_design": None
        if design is None
        else {k: design[k] for k in ("n_max", "looks", "p0", "p1", "alpha", "lambda", "gamma")},
    }
    uow.act("phase1.close")
    signature = sign(uow, signing, "phase1_closures", arm_id, content)
    closure = uow.add(
        Phase1Closure(
            arm_id=arm_id,
            obd_index=obd,
            obd_level=level,
            rp2d_index=obd,
            rp2d_level=level,
            basis=basis,
            rule_version=rule_version(protocol, arm_id),
            closed_at=uow.now(),
            closed_by=user_id(uow),
            signature_id=signature.id,
        )
    )
    arm.phase = "phase2" if obd is not None else "closed"
    uow.commit()
    return closure


def phase2_look(
    uow: UnitOfWork, arm_id: str, *, expected_arm_version: int | None = None
) -> Bop2Look:
    """Apply the arm's BOP2 rule to the evaluable participants now; a stop closes the arm."""
    authorize(uow.actor, "phase2.look")
    arm = uow.claim_arm(arm_id, expected_arm_version)
    if arm.phase != "phase2":
        raise WrongState("arm_id", arm_id, f"the arm is in {arm.phase}, not phase 2")
    protocol = arm_protocol(uow.session, arm)
    state = arm_state(uow.session, arm_id, as_of=today(uow), protocol=protocol)
    info = state.phase2 or {}
    stored = info.get("design")
    if not stored:
        raise DesignStopped("arm_id", arm_id, "the arm has no phase 2 design")
    tox = stored.get("toxicity")
    design = Bop2Design(
        n_max=int(stored["n_max"]),
        looks=tuple(int(n) for n in stored["looks"]),
        p0=float(stored["p0"]),
        p1=float(stored["p1"]),
        alpha=float(stored["alpha"]),
        toxicity=None if tox is None else ToxicityMonitoring(**tox),
    )
    result = bop2_with_parameters(design, float(stored["lambda"]), float(stored["gamma"]))
    counts = phase2_counts(state.patients, int(info["rp2d_index"]), tox is not None)
    n = counts["n"]
    previous = info.get("looks") or []
    if n < 1:
        raise WrongState(
            "arm_id", arm_id, "no participant at the RP2D is evaluable yet (BOR final)"
        )
    if previous and n <= int(previous[-1]["n"]):
        raise WrongState(
            "arm_id",
            arm_id,
            f"no new evaluable participant since look {previous[-1]['look']} (n={n})",
        )
    if n > design.n_max:
        raise InvalidInput("n", n, f"exceeds the design's N = {design.n_max}")
    decision = bop2_decision(
        result, n, counts["responses"], counts["toxicities"] if tox is not None else None
    )
    uow.act("phase2.look")
    look = uow.add(
        Bop2Look(
            arm_id=arm_id,
            look=len(previous) + 1,
            n=n,
            responses=counts["responses"],
            toxicities=counts["toxicities"] if tox is not None else None,
            decision=decision.action,
            boundaries=as_json(result.as_dict()["boundaries"]),
            detail=as_json(
                {
                    "reason": decision.reason,
                    "futility": decision.futility,
                    "toxicity": decision.toxicity,
                    "pr_futile": decision.pr_futile,
                    "pr_toxic": decision.pr_toxic,
                    "cutoff": decision.cutoff,
                    "planned_look": decision.planned_look,
                    "treated_at_rp2d": counts["treated"],
                    "lambda": result.lambda_,
                    "gamma": result.gamma,
                }
            ),
            looked_at=uow.now(),
            looked_by=user_id(uow),
        )
    )
    if decision.action != "continue":
        arm.phase = "closed"
    uow.commit()
    return look
