"""Close phase 1 of an arm (OBD and RP2D by the design, e-signed) and run its BOP2 looks.

**Closing phase 1.** Allowed only when the arm state says the design has ended dose finding
(``select_obd``: n_earlystop or the maximum sample size reached) or stopped with no OBD. The OBD
is the design's selection (``Boin12.select_obd``: isotonic MTD, then the highest posterior-mean
utility); the RP2D is the OBD. The closure, the data it rests on and the phase 2 design are
signed together (Part 11 e-signature, meaning *approval*). With an OBD the arm moves to phase 2;
without one it closes.

**Phase 2 (BOP2).** The settings are the protocol's ``design.phase2`` block (with the arm's
``per_arm`` overrides): p0, p1, the type I error, the interim looks and the joint DLT
monitoring. :meth:`dosewise.protocol.Protocol.bop2_plan` resolves them and
:meth:`~dosewise.protocol.phase2.Bop2Plan.design` builds the design, the same call the design
report makes, so the signed design is the one the report shows. The signer may change the rates
and the monitoring at closure (:class:`Phase2Settings`, ``None`` = the protocol's value).
Response = CR or CRi as best overall response by the end of the protocol's BOR window
(``windows.bor``, day 97). The population is every participant infused at the RP2D, in phase 1
and phase 2 alike (N = phase 1 patients at the RP2D + the expansion). The design's (λ, γ) are
optimised once at closure (``design.bop2.optimise_bop2``) and stored; each look re-applies them
(``bop2_with_parameters`` + ``bop2_decision``) to the evaluable participants (BOR final, DLT
adjudicated).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dosewise.design.bop2 import (
    Bop2Design,
    ToxicityMonitoring,
    bop2_decision,
    bop2_with_parameters,
    optimise_bop2,
)
from dosewise.errors import InvalidInput
from dosewise.protocol import Protocol
from dosewise.store.tables import Arm, Bop2Look, Phase1Closure
from dosewise.trial import signed
from dosewise.trial.access import authorize
from dosewise.trial.confidential import redact_for
from dosewise.trial.refusals import as_reason, refusal
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
from dosewise.trial.state import ArmState, arm_state, phase2_counts
from dosewise.trial.uow import UnitOfWork


@dataclass(frozen=True)
class Phase2Settings:
    """What the signer changes at closure in the protocol's BOP2 settings (None: keep it)."""

    p0: float | None = None
    p1: float | None = None
    alpha: float | None = None
    monitor_toxicity: bool | None = None
    phi_t0: float | None = None
    phi_t1: float | None = None


#: Close with the protocol's phase 2 settings unchanged.
FROM_PROTOCOL = Phase2Settings()


def bop2_design(protocol: Protocol, arm_id: str, n1: int, s: Phase2Settings) -> Bop2Design:
    """The arm's BOP2 design with ``n1`` phase 1 participants at the RP2D (protocol + ``s``)."""
    return protocol.bop2_plan(arm_id).with_(**asdict(s)).design(n1)


def phase2_design(
    protocol: Protocol, state: ArmState, arm: Arm, obd: int, s: Phase2Settings
) -> dict[str, Any]:
    """The arm's BOP2 design: N, looks, rates, and the optimised (λ, γ) with its boundaries."""
    n1 = sum(
        1
        for p in state.patients
        if p.phase == 1 and p.infused_on is not None and p.analysed_dose == obd
    )
    plan = protocol.bop2_plan(arm.id)
    result = optimise_bop2(bop2_design(protocol, arm.id, n1, s))
    changed = {k: v for k, v in asdict(s).items() if v is not None and v != getattr(plan, k)}
    return as_json(
        {
            **result.as_dict(),
            "n_phase1_at_rp2d": n1,
            "settings_source": "the protocol's design.phase2",
            "changed_at_closure": changed,
            "population": "every participant infused at the RP2D (phases 1 and 2)",
            "response": (f"best overall response CR or CRi by day {protocol.windows.bor.last_day}"),
        }
    )


def close_phase1(
    uow: UnitOfWork,
    signing: Signing,
    arm_id: str,
    *,
    expected_arm_version: int | None = None,
    phase2: Phase2Settings = FROM_PROTOCOL,
) -> Phase1Closure:
    """End dose finding in the arm with the design's OBD as RP2D, e-signed by the closer."""
    authorize(uow.actor, "phase1.close")
    arm = uow.claim_arm(arm_id, expected_arm_version)
    if arm.phase != "phase1":
        raise refusal(WrongState, "arm_id", arm_id, "phase1_closed", arm_phase=arm.phase)
    protocol = arm_protocol(uow.session, arm)
    state = arm_state(uow.session, arm_id, as_of=today(uow), protocol=protocol)
    step = state.next
    told = redact_for(uow.actor, state).next  # may name other sites' pending patients
    if step.action == "wait":
        raise MustWait(
            "wait_until",
            step.wait_until and step.wait_until.isoformat(),
            told.reason,
            reason_code=told.reason_code,
            reason_params=told.reason_params,
        )
    if step.action not in ("select_obd", "stop"):
        raise refusal(WrongState, "arm_id", arm_id, "design_not_ended", step=as_reason(told))
    decision = step.decision or {}
    obd_result = decision.get("obd_result") or {}
    obd = obd_result.get("obd") if step.action == "select_obd" else None
    level = None if obd is None else protocol.dose_levels.by_index(int(obd)).name
    design = None if obd is None else phase2_design(protocol, state, arm, int(obd), phase2)
    basis = as_json(
        {
            "reason": step.reason,
            "reason_code": step.reason_code or None,
            "reason_params": step.reason_params,
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
    uow.act("phase1.close")
    closure = Phase1Closure(
        arm_id=arm_id,
        obd_index=obd,
        obd_level=level,
        rp2d_index=obd,
        rp2d_level=level,
        basis=basis,
        rule_version=rule_version(protocol, arm_id),
        closed_at=uow.now(),
        closed_by=user_id(uow),
    )
    signature = sign(uow, signing, "phase1_closures", arm_id, signed.closure_content(closure))
    closure.signature_id = signature.id
    uow.add(closure)
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
        raise refusal(WrongState, "arm_id", arm_id, "not_phase2", arm_phase=arm.phase)
    protocol = arm_protocol(uow.session, arm)
    state = arm_state(uow.session, arm_id, as_of=today(uow), protocol=protocol)
    info = state.phase2 or {}
    stored = info.get("design")
    if not stored:
        raise refusal(DesignStopped, "arm_id", arm_id, "no_phase2_design")
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
        raise refusal(WrongState, "arm_id", arm_id, "none_evaluable")
    if previous and n <= int(previous[-1]["n"]):
        raise refusal(
            WrongState, "arm_id", arm_id, "no_new_evaluable", look=previous[-1]["look"], n=n
        )
    if n > design.n_max:
        raise refusal(InvalidInput, "n", n, "exceeds_n", n_max=design.n_max)
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
                    "reason_code": str(decision.why.code),
                    "reason_params": decision.why.params_dict(),
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
