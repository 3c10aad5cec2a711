"""Enrollment into an arm (claims the arm: concurrent enrollments are served in turn)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import EnrollmentOut
from dosewise.api.routers._trial_schemas import EnrollIn, StudyIdPath
from dosewise.trial.services import participants as acts

router = APIRouter(prefix="/participants", tags=["enrollment"])


@router.post(
    "/{study_id}/enrollment",
    response_model=EnrollmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Enroll an eligible, consented participant into the arm they were screened for",
    responses=responses(401, 403, 404, 409, 422),
)
def enroll(
    body: EnrollIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> EnrollmentOut:
    with user.uow(rt) as uow:
        e = acts.enroll(
            uow,
            study_id,
            body.arm_id,
            enrolled_on=body.enrolled_on,
            expected_arm_version=body.expected_arm_version,
        )
        return EnrollmentOut(
            study_id=study_id,
            arm_id=e.arm_id,
            site_id=e.site_id,
            phase=e.phase,
            sequence=e.sequence,
            enrolled_on=e.enrolled_on,
            arm_version=e.arm_version,
        )
