"""Consent: record who signed which form; the protocol's age bands say what is required."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import ConsentOut
from dosewise.api.routers._trial_schemas import ConsentIn, StudyIdPath, VoidIn
from dosewise.store.tables import Consent
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
            correction_reason=body.correction_reason,
        )
        return consent_out(c, study_id)


def consent_out(c: Consent, study_id: str) -> ConsentOut:
    status_ = "voided" if c.voided_at is not None else "complete" if c.valid else "incomplete"
    return ConsentOut(
        id=c.id,
        study_id=study_id,
        consent_on=c.consent_on,
        age_years=c.age_years,
        band=c.band,
        consent_version=c.consent_version,
        valid=c.valid,
        missing=list(c.missing),
        status=status_,
        void_reason=c.void_reason,
    )


@router.post(
    "/{study_id}/consents/{consent_id}/void",
    response_model=ConsentOut,
    summary="Void an incomplete consent (with the reason); a complete one cannot be voided",
    responses=responses(401, 403, 404, 409, 422),
)
def void_consent(
    body: VoidIn,
    consent_id: int = Path(ge=1, le=2**31 - 1),
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> ConsentOut:
    with user.uow(rt) as uow:
        c = acts.void_consent(uow, study_id, consent_id, reason=body.reason)
        return consent_out(c, study_id)
