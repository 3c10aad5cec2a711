"""Stored clinical records as the response bodies of ``_trial_schemas`` (no rule here)."""

from __future__ import annotations

from typing import Any

from dosewise.api.routers._trial_outputs import (
    AdverseEventOut,
    BestResponseOut,
    Bop2LookOut,
    ClosureOut,
    DltOut,
    DoseAssignmentOut,
    ParticipantOut,
    ProductOut,
    ResponseOut,
)
from dosewise.store.tables import (
    AdverseEvent,
    Arm,
    BestResponse,
    Bop2Look,
    DltAdjudication,
    DoseAssignment,
    Participant,
    Phase1Closure,
    Product,
    ResponseAssessment,
)
from dosewise.trial.services import reads
from dosewise.trial.state.reasons import decision_text
from dosewise.trial.uow import UnitOfWork


def participant_out(p: Participant) -> ParticipantOut:
    return ParticipantOut(**reads.summary(p))


def assignment_out(
    uow: UnitOfWork, a: DoseAssignment, study_id: str, lang: str = "en"
) -> DoseAssignmentOut:
    d = a.decision or {}
    return DoseAssignmentOut(
        id=a.id,
        study_id=study_id,
        arm_id=a.arm_id,
        phase=a.phase,
        cohort=a.cohort,
        dose_index=a.dose_index,
        dose_level=a.dose_level,
        status=a.status,
        rule=d.get("rule"),
        reason=decision_text(d, lang) or None,
        reason_code=d.get("reason_code"),
        reason_params=d.get("reason_params") or {},
        outcomes=d.get("outcomes"),
        seed=d.get("seed"),
        decision=d,
        arm_version=a.arm_version,
        assigned_at=a.assigned_at,
        confirmed_at=a.confirmed_at,
        signature=reads.signature_of(uow, a.signature_id),
    )


def product_out(uow: UnitOfWork, prod: Product, study_id: str) -> ProductOut:
    plan = prod.feasibility or {}
    return ProductOut(
        id=prod.id,
        study_id=study_id,
        lot=prod.lot,
        planned_level=prod.planned_level,
        planned_dose_index=prod.planned_dose_index,
        assigned_level=prod.assigned_level,
        assigned_dose_index=prod.assigned_dose_index,
        fallback=prod.fallback,
        status=prod.status,
        reason=str(plan.get("reason", "")),
        volume_ml=plan.get("volume_ml"),
        feasibility=plan,
        released_on=prod.released_on,
        signature=reads.signature_of(uow, prod.signature_id),
    )


def ae_out(row: AdverseEvent, study_id: str) -> AdverseEventOut:
    return AdverseEventOut(
        id=row.id,
        study_id=study_id,
        term=row.term,
        category=row.category,
        scale=row.scale,
        grade=row.grade,
        grading=(row.components or {}).get("grading"),
        onset_on=row.onset_on,
        resolved_on=row.resolved_on,
        study_day=row.study_day,
        serious=row.serious,
        attribution=row.attribution,
        version=row.version,
    )


def dlt_out(uow: UnitOfWork, row: DltAdjudication, study_id: str) -> DltOut:
    ev: dict[str, Any] = row.evaluation or {}
    return DltOut(
        id=row.id,
        study_id=study_id,
        is_dlt=row.is_dlt,
        evaluable=row.evaluable,
        rule_status=str(ev.get("rule_status", "")),
        departs_from_rule=bool(ev.get("departs_from_rule")),
        definition_version=row.rule_id,
        rationale=row.rationale,
        reason=str(ev.get("reason", "")),
        dlt_events=[e for e in ev.get("events", []) if e.get("is_dlt")],
        signature=reads.signature_of(uow, row.signature_id),
        status=row.status,
        not_evaluable_reason=ev.get("not_evaluable_reason"),
        reopened=ev.get("reopened"),
    )


def bor_out(row: BestResponse | None, study_id: str) -> BestResponseOut | None:
    if row is None:
        return None
    basis = row.basis or {}
    return BestResponseOut(
        study_id=study_id,
        bor=row.bor,
        responder=row.responder,
        final=bool(basis.get("final")),
        reason=str(basis.get("reason", "")),
        basis=basis,
    )


def response_out(row: ResponseAssessment, best: BestResponse | None, study_id: str) -> ResponseOut:
    return ResponseOut(
        id=row.id,
        study_id=study_id,
        assessed_on=row.assessed_on,
        study_day=row.study_day,
        timepoint=row.timepoint,
        response=row.response,
        mrd_negative=row.mrd_negative,
        best_response=bor_out(best, study_id),
    )


def closure_out(uow: UnitOfWork, c: Phase1Closure, arm: Arm) -> ClosureOut:
    basis = c.basis or {}
    return ClosureOut(
        arm_id=c.arm_id,
        obd_index=c.obd_index,
        obd_level=c.obd_level,
        rp2d_index=c.rp2d_index,
        rp2d_level=c.rp2d_level,
        reason=basis.get("reason"),
        outcomes=basis.get("outcomes"),
        closed_at=c.closed_at,
        phase=arm.phase,
        phase2_design=basis.get("phase2_design"),
        signature=reads.signature_of(uow, c.signature_id),
    )


def look_out(look: Bop2Look) -> Bop2LookOut:
    detail = look.detail or {}
    bounds: Any = look.boundaries or []
    return Bop2LookOut(
        arm_id=look.arm_id,
        look=look.look,
        n=look.n,
        responses=look.responses,
        toxicities=look.toxicities,
        decision=look.decision,
        reason=str(detail.get("reason", "")),
        boundaries=list(bounds),
        detail=detail,
        looked_at=look.looked_at,
    )
