"""Dose assignment by the arm's design, and its confirmation (statistician or investigator,
e-signed). A refused assignment says why: the design says wait (and until when), or it ended."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

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
from dosewise.api.routers._trial_outputs import DoseAssignmentOut
from dosewise.api.routers._trial_schemas import AssignIn, SignatureSpec, StudyIdPath
from dosewise.api.routers._trial_views import assignment_out
from dosewise.http.language import answer_language
from dosewise.http.loop_first import loop_first
from dosewise.trial.esign import Signing
from dosewise.trial.services import dosing

router = APIRouter(prefix="/participants", tags=["dosing"])


@router.post(
    "/{study_id}/dose-assignment",
    response_model=DoseAssignmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Assign the dose the arm's design gives the next patient now",
    description=(
        "Claims the arm and computes its state inside the same transaction, so two sites "
        "assigning at the same moment are served in turn. 409 `must_wait` while the design "
        "says the next patient must wait (the message says until when), 409 `design_stopped` "
        "when dose finding has ended, 409 `conflict` if `expected_arm_version` is stale."
    ),
    responses=responses(401, 403, 404, 409, 422),
)
async def assign(
    body: AssignIn,
    study_id: str = StudyIdPath,
    caller: Caller = Depends(require_in_handler("dose.assign")),
    rt: Runtime = Depends(runtime),
) -> DoseAssignmentOut:
    # A refusal already decided (the design says wait) is answered on the event loop, its
    # audit record written in a thread first; anything more runs in one thread-pool call.
    return await loop_first(rt.db, _assign, body, study_id, caller, rt)


def _assign(body: AssignIn, study_id: str, caller: Caller, rt: Runtime) -> DoseAssignmentOut:
    """The session check and the early refusal share one read-only transaction; the
    assignment itself then runs in its own."""
    with acting(rt, caller) as (user, uow):
        lang = answer_language(caller.header_language, user.locale)
        dosing.check_assignable(uow, study_id, expected_arm_version=body.expected_arm_version)
    with user.uow(rt) as uow:
        a = dosing.assign_dose(uow, study_id, expected_arm_version=body.expected_arm_version)
        return assignment_out(uow, a, study_id, lang)


@router.post(
    "/{study_id}/dose-assignment/confirm",
    response_model=DoseAssignmentOut,
    summary="Confirm the proposed dose with your e-signature (statistician or investigator)",
    responses=responses(401, 403, 404, 409, 422, 423),
)
def confirm(
    body: SignatureSpec,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("dose.confirm")),
    rt: Runtime = Depends(runtime),
    lang: str = Depends(reason_lang),
) -> DoseAssignmentOut:
    signing = Signing(rt.passwords, rt.settings, body.password, body.meaning)
    with user.uow(rt) as uow:
        a = dosing.confirm_dose(uow, signing, study_id)
        return assignment_out(uow, a, study_id, lang)
