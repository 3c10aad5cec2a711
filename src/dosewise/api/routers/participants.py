"""Participants: register (the service issues a pseudonymous study ID), list, read, off study."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import ParticipantOut, ParticipantRecordOut
from dosewise.api.routers._trial_schemas import OffStudyIn, RegisterIn, StudyIdPath
from dosewise.api.routers._trial_views import participant_out
from dosewise.api.schemas import NO_NUL
from dosewise.trial.services import participants as acts
from dosewise.trial.services import reads

router = APIRouter(prefix="/participants", tags=["participants"])


@router.post(
    "",
    response_model=ParticipantOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a participant at a site (pseudonymous study ID, no names)",
    responses=responses(401, 403, 409, 422),
)
def register(
    body: RegisterIn,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> ParticipantOut:
    with user.uow(rt) as uow:
        p = acts.register_participant(
            uow, body.site_id, year_of_birth=body.year_of_birth, registered_on=body.registered_on
        )
        return participant_out(p)


@router.get(
    "",
    response_model=list[ParticipantOut],
    summary="Participants you may see (site staff and site monitors: their site)",
    responses=responses(401, 403, 422),
)
def list_participants(
    site_id: str | None = Query(
        default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$", examples=["S01"]
    ),
    arm_id: str | None = Query(
        default=None, min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$"
    ),
    participant_status: str | None = Query(
        default=None, alias="status", min_length=1, max_length=24, pattern=NO_NUL
    ),
    user: CurrentUser = Depends(require("participant.read")),
    rt: Runtime = Depends(runtime),
) -> list[ParticipantOut]:
    with user.uow(rt, readonly=True) as uow:
        rows = reads.list_participants(
            uow, site_id=site_id, arm_id=arm_id, status=participant_status
        )
        return [participant_out(p) for p in rows]


@router.get(
    "/{study_id}",
    response_model=ParticipantRecordOut,
    summary="Everything recorded about one participant",
    responses=responses(401, 403, 404, 422),
)
def read_participant(
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.read")),
    rt: Runtime = Depends(runtime),
) -> ParticipantRecordOut:
    with user.uow(rt, readonly=True) as uow:
        return ParticipantRecordOut(**reads.participant_record(uow, study_id))


@router.post(
    "/{study_id}/off-study",
    response_model=ParticipantOut,
    summary="Record that the participant left the study (death, withdrawal ...)",
    responses=responses(401, 403, 404, 409, 422),
)
def off_study(
    body: OffStudyIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> ParticipantOut:
    with user.uow(rt) as uow:
        p = acts.take_off_study(
            uow,
            study_id,
            off_study_on=body.off_study_on,
            reason_code=body.reason_code,
            reason=body.reason,
        )
        return participant_out(p)
