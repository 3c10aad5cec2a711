"""Lymphodepletion and the infusion (study day 0; the dose given is computed from the volume)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import InfusionOut, LymphodepletionOut
from dosewise.api.routers._trial_schemas import InfusionIn, LymphodepletionIn, StudyIdPath
from dosewise.trial.esign import Signing
from dosewise.trial.services import deviations, products

router = APIRouter(prefix="/participants", tags=["infusion"])


@router.post(
    "/{study_id}/lymphodepletion",
    response_model=LymphodepletionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record the lymphodepleting regimen",
    responses=responses(401, 403, 404, 409, 422),
)
def lymphodepletion(
    body: LymphodepletionIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> LymphodepletionOut:
    with user.uow(rt) as uow:
        row = products.record_lymphodepletion(
            uow,
            study_id,
            regimen=body.regimen,
            agents=[a.model_dump() for a in body.agents],
            start_on=body.start_on,
            end_on=body.end_on,
            correction_reason=body.correction_reason,
        )
        return LymphodepletionOut(
            id=row.id,
            study_id=study_id,
            regimen=row.regimen,
            agents=list(row.agents),
            start_on=row.start_on,
            end_on=row.end_on,
        )


@router.post(
    "/{study_id}/infusion",
    response_model=InfusionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record the infusion; the level actually given is what the design analyses",
    responses=responses(401, 403, 404, 409, 422, 423),
)
def infusion(
    body: InfusionIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> InfusionOut:
    deviation = None
    if body.deviation is not None:
        signing = Signing(rt.passwords, rt.settings, body.deviation.password, "responsibility")
        deviation = deviations.DeviationIn(body.deviation.reason, signing)
    with user.uow(rt) as uow:
        row = products.record_infusion(
            uow,
            study_id,
            infused_on=body.infused_on,
            infused_volume_ml=body.infused_volume_ml,
            weight_kg=body.weight_kg,
            deviation=deviation,
            correction_reason=body.correction_reason,
        )
        found = deviations.list_deviations(uow, study_id)
        deviation_id = next(
            (d.id for d, _sid in found if (d.related_table, d.related_id) == ("infusions", row.id)),
            None,
        )
        return InfusionOut(
            study_id=study_id,
            infused_on=row.infused_on,
            infused_volume_ml=row.infused_volume_ml,
            infused_cells=row.infused_cells,
            cells_per_kg=row.cells_per_kg,
            actual_level=row.actual_level,
            actual_dose_index=row.actual_dose_index,
            deviation_id=deviation_id,
        )
