"""Consent: record who signed which form; the protocol's age bands say what is required."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import ConsentOut
from dosewise.api.routers._trial_schemas import ConsentIn, StudyIdPath
from dosewise.trial.services import participants as acts

router = APIRouter(prefix="/participants", tags=["consent"])


@router.post(
    "/{study_id}/consents",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record the consent (checked against the age band; names are never stored)",
    responses=responses(401, 403, 404, 409, 422),
)
def record_consent(
    body: ConsentIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> ConsentOut:
    with user.uow(rt) as uow:
        c = acts.record_consent(
            uow,
            study_id,
            body.record.model_dump(mode="json", exclude_none=True),
            consent_version=body.consent_version,
        )
        return ConsentOut(
            id=c.id,
            study_id=study_id,
            consent_on=c.consent_on,
            age_years=c.age_years,
            band=c.band,
            consent_version=c.consent_version,
            valid=c.valid,
            missing=list(c.missing),
        )
