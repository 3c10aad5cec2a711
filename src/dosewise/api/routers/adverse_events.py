"""Adverse events: CTCAE v5.0 grades; CRS and ICANS graded from ASTCT components by the rule."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import AdverseEventOut
from dosewise.api.routers._trial_schemas import (
    MAX_INT,
    AdverseEventIn,
    AdverseEventUpdate,
    StudyIdPath,
)
from dosewise.api.routers._trial_views import ae_out
from dosewise.trial.services import adverse_events

router = APIRouter(prefix="/participants", tags=["adverse events"])


@router.post(
    "/{study_id}/adverse-events",
    response_model=AdverseEventOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record an adverse event (for CRS/ICANS give the ASTCT components, not the grade)",
    responses=responses(401, 403, 404, 409, 422),
)
def record(
    body: AdverseEventIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> AdverseEventOut:
    with user.uow(rt) as uow:
        row = adverse_events.record_adverse_event(
            uow,
            study_id,
            term=body.term,
            onset_on=body.onset_on,
            grade=body.grade,
            crs=None if body.crs is None else body.crs.model_dump(),
            icans=None if body.icans is None else body.icans.model_dump(exclude_none=True),
            resolved_on=body.resolved_on,
            course=[c.model_dump(mode="json") for c in body.course],
            serious=body.serious,
            attribution=body.attribution,
            soc=body.soc,
            verbatim=body.verbatim,
            baseline_present=body.baseline_present,
            due_to_disease=body.due_to_disease,
            meddra_code=body.meddra_code,
            outcome=body.outcome,
            notes=body.notes,
        )
        return ae_out(row, study_id)


@router.patch(
    "/{study_id}/adverse-events/{event_id}",
    response_model=AdverseEventOut,
    summary="Correct or complete an event (reason and the version you saw required)",
    responses=responses(401, 403, 404, 409, 422),
)
def update(
    body: AdverseEventUpdate,
    study_id: str = StudyIdPath,
    event_id: int = Path(ge=1, le=MAX_INT),
    user: CurrentUser = Depends(require("participant.write")),
    rt: Runtime = Depends(runtime),
) -> AdverseEventOut:
    with user.uow(rt) as uow:
        row = adverse_events.update_adverse_event(
            uow,
            study_id,
            event_id,
            version=body.version,
            reason=body.reason,
            resolved_on=body.resolved_on,
            course=None
            if body.course is None
            else [c.model_dump(mode="json") for c in body.course],
            serious=body.serious,
            attribution=body.attribution,
            outcome=body.outcome,
            notes=body.notes,
        )
        return ae_out(row, study_id)
