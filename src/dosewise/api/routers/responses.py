"""Response assessments and the best overall response (BOR, day 0 to day 97)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from sqlalchemy import select

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses as error_responses
from dosewise.api.routers._trial_outputs import BestResponseOut, ResponseOut
from dosewise.api.routers._trial_schemas import ResponseIn, StudyIdPath
from dosewise.api.routers._trial_views import bor_out, response_out
from dosewise.store.tables import BestResponse
from dosewise.trial.services import responses

router = APIRouter(prefix="/participants", tags=["responses"])


@router.post(
    "/{study_id}/response-assessments",
    response_model=ResponseOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record a response assessment; the BOR is re-derived in the same transaction",
    responses=error_responses(401, 403, 404, 409, 422),
)
def record(
    body: ResponseIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> ResponseOut:
    with user.uow(rt) as uow:
        row = responses.record_response(
            uow,
            study_id,
            assessed_on=body.assessed_on,
            marrow=None if body.marrow is None else body.marrow.model_dump(exclude_none=True),
            category=body.category,
            extramedullary=body.extramedullary,
            mrd=None if body.mrd is None else body.mrd.model_dump(),
            timepoint=body.timepoint,
            notes=body.notes,
        )
        best = uow.session.scalar(
            select(BestResponse).where(BestResponse.participant_id == row.participant_id)
        )
        return response_out(row, best, study_id)


@router.post(
    "/{study_id}/best-response",
    response_model=BestResponseOut,
    summary="Re-derive the best overall response as of today (e.g. once its window closed)",
    responses=error_responses(401, 403, 404, 409, 422),
)
def derive(
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> BestResponseOut:
    with user.uow(rt) as uow:
        out = bor_out(responses.derive_best_response(uow, study_id), study_id)
        assert out is not None
        return out
