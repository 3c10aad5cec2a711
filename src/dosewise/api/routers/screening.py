"""Screening: every eligibility criterion of the protocol for one arm, with its evidence."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import ScreeningOut
from dosewise.api.routers._trial_schemas import ScreeningIn, StudyIdPath
from dosewise.trial.services import participants as acts
from dosewise.trial.state import screening_result

router = APIRouter(prefix="/participants", tags=["screening"])


@router.post(
    "/{study_id}/screenings",
    response_model=ScreeningOut,
    status_code=status.HTTP_201_CREATED,
    summary="Screen for an arm: eligible, screen failure (failed criteria) or incomplete",
    responses=responses(401, 403, 404, 409, 422),
)
def screen(
    body: ScreeningIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> ScreeningOut:
    with user.uow(rt) as uow:
        s = acts.screen(uow, study_id, body.arm_id, body.record)
        status_, missing = screening_result(s.eligible, s.criteria or [])
        return ScreeningOut(
            id=s.id,
            study_id=study_id,
            arm_id=s.arm_id,
            screened_on=s.screened_on,
            eligible=s.eligible,
            status=status_,
            failed_criteria=list(s.failed_criteria),
            missing_criteria=list(missing),
            criteria=list(s.criteria),
        )
