"""DLT adjudication: the protocol's DLT definition applied to the events, then the investigator."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import DltOut
from dosewise.api.routers._trial_schemas import DltIn, StudyIdPath
from dosewise.api.routers._trial_views import dlt_out
from dosewise.trial.esign import Signing
from dosewise.trial.services import dlt

router = APIRouter(prefix="/participants", tags=["DLT"])


@router.post(
    "/{study_id}/dlt-adjudications",
    response_model=DltOut,
    status_code=status.HTTP_201_CREATED,
    summary="Adjudicate the participant's DLT status (the rule's result unless you depart)",
    responses=responses(401, 403, 404, 409, 422, 423),
)
def adjudicate(
    body: DltIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("dlt.adjudicate")),
    rt: Runtime = Depends(runtime),
) -> DltOut:
    signing = None
    if body.password is not None:
        signing = Signing(rt.passwords, rt.settings, body.password, "approval")
    with user.uow(rt) as uow:
        row = dlt.adjudicate_dlt(
            uow,
            study_id,
            is_dlt=body.is_dlt,
            evaluable=body.evaluable,
            rationale=body.rationale,
            signing=signing,
            final=body.final,
            not_evaluable_reason=body.not_evaluable_reason,
        )
        return dlt_out(uow, row, study_id)
