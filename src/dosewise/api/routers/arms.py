"""Arms: the dose-finding state (one function for every view), the decision history, closing
phase 1 (OBD and RP2D, e-signed) and the phase 2 BOP2 looks."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import select

from dosewise.api.auth import (
    Caller,
    CurrentUser,
    Runtime,
    acting,
    require,
    require_in_handler,
    runtime,
)
from dosewise.api.errors import responses
from dosewise.api.language import reason_lang
from dosewise.api.routers._trial_outputs import ArmOut, ArmStateOut, Bop2LookOut, ClosureOut
from dosewise.api.routers._trial_schemas import ArmIdPath, ClosePhase1In, LookIn
from dosewise.api.routers._trial_views import closure_out, look_out
from dosewise.http.language import answer_language
from dosewise.http.loop_first import loop_first
from dosewise.store.tables import Arm
from dosewise.trial import signed
from dosewise.trial.confidential import confined_site, redact_for
from dosewise.trial.esign import Signing
from dosewise.trial.services import phases
from dosewise.trial.services.calendar import today
from dosewise.trial.state import arm_state
from dosewise.trial.state.cache import records_cache
from dosewise.trial.state.reasons import decision_text
from dosewise.trial.uow import UnitOfWork

router = APIRouter(prefix="/arms", tags=["arms"])


def _arm_out(arm: Arm) -> ArmOut:
    return ArmOut(
        id=arm.id,
        label=arm.label,
        design=arm.design,
        phase=arm.phase,
        version=arm.version,
        phase1_max_n=arm.phase1_max_n,
        phase2_expansion=arm.phase2_expansion,
    )


@router.get("", response_model=list[ArmOut], summary="The arms", responses=responses(401, 403))
def list_arms(
    user: CurrentUser = Depends(require("arm.read")), rt: Runtime = Depends(runtime)
) -> list[ArmOut]:
    with user.uow(rt, readonly=True) as uow:
        return [_arm_out(a) for a in uow.session.scalars(select(Arm).order_by(Arm.id))]


def _state_of(uow: UnitOfWork, arm_id: str, lang: str, as_of: date) -> dict[str, Any]:
    """The arm state's answer as ``uow``'s actor may see it, its words in ``lang``."""
    state = redact_for(uow.actor, arm_state(uow.session, arm_id, as_of=as_of))
    data = state.to_dict()
    data["next"] = state.next.to_dict(lang)
    if lang != "en":  # English: the stored reasons, exactly as `dosewise arm state` prints
        data["history"] = [{**h, "reason": decision_text(h, lang)} for h in data["history"]]
        data["notes"] = [decision_text(n, lang) for n in data["note_codes"]]
    return signed.with_signatures(uow.session, arm_id, data)


def _state(user: CurrentUser, rt: Runtime, arm_id: str, lang: str = "en") -> dict[str, Any]:
    with user.uow(rt, readonly=True) as uow:
        return _state_of(uow, arm_id, lang, today(uow))


def _state_json(rt: Runtime, caller: Caller, arm_id: str) -> bytes:
    """The validated ``ArmStateOut`` as JSON, shared by every reader with the same audience
    (the site the redaction confines them to), language and day until the records change
    (:func:`dosewise.trial.state.cache.records_cache`). One read-only unit of work checks the
    session and answers (:func:`~dosewise.api.auth.acting`): a read that finds the answer
    cached costs one query (the database's change counters, which the session check and the
    cache share), the day's zone and the serialisation already done."""
    with acting(rt, caller) as (user, uow):
        lang = answer_language(caller.header_language, user.locale)
        as_of = today(uow)
        key = ("api.arm_state", arm_id, as_of, lang, confined_site(uow.actor))
        return records_cache(uow.session).get(
            uow.session,
            key,
            lambda: ArmStateOut(**_state_of(uow, arm_id, lang, as_of)).model_dump_json().encode(),
        )


@router.get(
    "/{arm_id}/state",
    response_model=ArmStateOut,
    summary="The arm's dose-finding state now: counts, pending, RDS, admissibility, next step",
    responses=responses(401, 403, 404, 422),
)
async def state(
    arm_id: str = ArmIdPath,
    caller: Caller = Depends(require_in_handler("arm.read")),
    rt: Runtime = Depends(runtime),
) -> Response:
    # The session check and the (usually cached) answer share one transaction: on the event
    # loop when both are in memory (one query), else in one thread-pool call.
    body = await loop_first(rt.db, _state_json, rt, caller, arm_id)
    return Response(body, media_type="application/json")


@router.get(
    "/{arm_id}/decisions",
    response_model=list[dict[str, Any]],
    summary="The decision history: each cohort's dose decision, the closure, the BOP2 looks",
    responses=responses(401, 403, 404, 422),
)
def decisions(
    arm_id: str = ArmIdPath,
    user: CurrentUser = Depends(require("arm.read")),
    rt: Runtime = Depends(runtime),
    lang: str = Depends(reason_lang),
) -> list[dict[str, Any]]:
    return list(_state(user, rt, arm_id, lang)["history"])


@router.post(
    "/{arm_id}/phase1-closure",
    response_model=ClosureOut,
    status_code=status.HTTP_201_CREATED,
    summary="Close phase 1: the design's OBD becomes the RP2D; e-signed (re-enter password)",
    responses=responses(401, 403, 404, 409, 422, 423),
)
def close_phase1(
    body: ClosePhase1In,
    arm_id: str = ArmIdPath,
    user: CurrentUser = Depends(require("phase1.close")),
    rt: Runtime = Depends(runtime),
) -> ClosureOut:
    signing = Signing(rt.passwords, rt.settings, body.password, "approval")
    settings = phases.Phase2Settings(
        p0=body.p0,
        p1=body.p1,
        alpha=body.alpha,
        monitor_toxicity=body.monitor_toxicity,
        phi_t0=body.phi_t0,
        phi_t1=body.phi_t1,
    )
    with user.uow(rt) as uow:
        closure = phases.close_phase1(
            uow, signing, arm_id, expected_arm_version=body.expected_arm_version, phase2=settings
        )
        return closure_out(uow, closure, uow.get(Arm, arm_id))


@router.get(
    "/{arm_id}/phase2",
    response_model=dict[str, Any],
    summary="Phase 2: the BOP2 design, the evaluable counts and the looks so far",
    responses=responses(401, 403, 404, 422),
)
def phase2(
    arm_id: str = ArmIdPath,
    user: CurrentUser = Depends(require("arm.read")),
    rt: Runtime = Depends(runtime),
) -> dict[str, Any]:
    data = _state(user, rt, arm_id)
    return {"arm_id": arm_id, "phase": data["phase"], **(data["phase2"] or {})}


@router.post(
    "/{arm_id}/phase2/looks",
    response_model=Bop2LookOut,
    status_code=status.HTTP_201_CREATED,
    summary="Run a BOP2 look on the evaluable participants at the RP2D (statistician)",
    responses=responses(401, 403, 404, 409, 422),
)
def look(
    body: LookIn,
    arm_id: str = ArmIdPath,
    user: CurrentUser = Depends(require("phase2.look")),
    rt: Runtime = Depends(runtime),
) -> Bop2LookOut:
    with user.uow(rt) as uow:
        return look_out(
            phases.phase2_look(uow, arm_id, expected_arm_version=body.expected_arm_version)
        )
