"""Protocol deviations: the trial's list, a participant's, and recording one (e-signed)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import DeviationOut
from dosewise.api.routers._trial_schemas import DeviationIn, StudyIdPath
from dosewise.store.tables import ProtocolDeviation
from dosewise.trial.esign import Signing
from dosewise.trial.services import deviations

router = APIRouter(tags=["deviations"])


def deviation_out(row: ProtocolDeviation, study_id: str) -> DeviationOut:
    return DeviationOut(
        id=row.id,
        study_id=study_id,
        category=row.category,
        description=row.description,
        related_table=row.related_table,
        related_id=row.related_id,
        occurred_on=row.occurred_on,
        reason=row.reason,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        signature_id=row.signature_id,
    )


@router.get(
    "/deviations",
    response_model=list[DeviationOut],
    summary="Protocol deviations of the participants you may read",
    responses=responses(401, 403),
)
def list_all(
    user: CurrentUser = Depends(require("participant.read")),
    rt: Runtime = Depends(runtime),
) -> list[DeviationOut]:
    with user.uow(rt, readonly=True) as uow:
        return [deviation_out(row, sid) for row, sid in deviations.list_deviations(uow)]


@router.get(
    "/participants/{study_id}/deviations",
    response_model=list[DeviationOut],
    summary="A participant's protocol deviations",
    responses=responses(401, 403, 404),
)
def list_for_participant(
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.read")),
    rt: Runtime = Depends(runtime),
) -> list[DeviationOut]:
    with user.uow(rt, readonly=True) as uow:
        rows = deviations.list_deviations(uow, study_id)
        return [deviation_out(row, sid) for row, sid in rows]


@router.post(
    "/participants/{study_id}/deviations",
    response_model=DeviationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record a protocol deviation (the investigator's e-signature)",
    responses=responses(401, 403, 404, 422, 423),
)
def record(
    body: DeviationIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("deviation.record")),
    rt: Runtime = Depends(runtime),
) -> DeviationOut:
    signing = Signing(rt.passwords, rt.settings, body.password, "responsibility")
    with user.uow(rt) as uow:
        row = deviations.record_deviation(
            uow,
            study_id,
            category=body.category,
            description=body.description,
            occurred_on=body.occurred_on,
            deviation=deviations.DeviationIn(body.reason, signing),
        )
        return deviation_out(row, study_id)
