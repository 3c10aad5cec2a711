"""Participants: register (the service issues a pseudonymous study ID), list, read, off study."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Response, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import ParticipantOut, ParticipantRecordOut
from dosewise.api.routers._trial_schemas import OffStudyIn, RegisterIn, StudyIdPath
from dosewise.api.routers._trial_views import participant_out
from dosewise.api.schemas import NO_NUL
from dosewise.http.downloads import casebook_response
from dosewise.report.casebook_export import FORMATS as CASEBOOK_FORMATS
from dosewise.report.casebook_export import MEDIA_TYPES as CASEBOOK_MEDIA
from dosewise.report.casebook_export import export_casebook
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
    summary="Participants you may see (site staff and site monitors: their site); search, "
    "filters, sorting and paging (X-Total-Count: how many match)",
    responses=responses(401, 403, 422),
)
def list_participants(
    response: Response,
    site_id: str | None = Query(
        default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$", examples=["S01"]
    ),
    arm_id: str | None = Query(
        default=None, min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$"
    ),
    participant_status: str | None = Query(
        default=None, alias="status", min_length=1, max_length=24, pattern=NO_NUL
    ),
    q: str | None = Query(
        default=None,
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9-]+$",
        description="Part of the study ID, any case",
        examples=["S01-00"],
    ),
    phase: Literal[1, 2] | None = Query(default=None, description="Enrolled in phase 1 or 2"),
    open_queries: bool | None = Query(
        default=None, description="true: with unresolved data queries; false: without"
    ),
    sort: Literal[
        "registered", "study_id", "registered_on", "status", "site_id", "arm_id", "phase"
    ] = Query(default="registered", description="registered: registration order"),
    order: Literal["asc", "desc"] = Query(default="asc"),
    limit: int | None = Query(default=None, ge=1, le=1000, description="Default: all"),
    offset: int = Query(default=0, ge=0, le=2**31 - 1),
    user: CurrentUser = Depends(require("participant.read")),
    rt: Runtime = Depends(runtime),
) -> list[ParticipantOut]:
    search = reads.ParticipantSearch(
        text=q,
        site_id=site_id,
        arm_id=arm_id,
        status=participant_status,
        phase=phase,
        open_queries=open_queries,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    with user.uow(rt, readonly=True) as uow:
        rows, total = reads.search_participants(uow, search)
    response.headers["X-Total-Count"] = str(total)
    return [ParticipantOut(**row) for row in rows]


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


@router.get(
    "/{study_id}/casebook",
    response_class=Response,
    summary="The participant's casebook: every record, its e-signatures and per-field change "
    "history, as PDF or HTML in English or Chinese (audit-logged)",
    description="The same reading rule as `GET /participants/{study_id}` (another site's "
    "participant is 404). Each download is logged as `report.export.casebook`, naming the "
    "document (`dosewise-casebook-<study_id>-<lang>.<format>`).",
    responses={
        200: {
            "description": "The file, as an attachment (Content-Disposition names it)",
            "content": {CASEBOOK_MEDIA[f]: {} for f in CASEBOOK_FORMATS},
        },
        **responses(401, 403, 404, 422),
    },
)
def casebook(
    study_id: str = StudyIdPath,
    format: Literal["pdf", "html"] = Query(default="pdf", description="pdf (default) or html"),
    lang: Literal["en", "zh"] = Query(default="en", description="en (default) or zh"),
    user: CurrentUser = Depends(require("participant.read")),
    rt: Runtime = Depends(runtime),
) -> Response:
    file = export_casebook(
        rt.db, user.actor, study_id, fmt=format, lang=lang, via="api", clock=rt.clock
    )
    return casebook_response(file)


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
