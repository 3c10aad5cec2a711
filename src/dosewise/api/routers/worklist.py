"""The worklist (issue 17 item 2): what each site has to do next, with due dates in the site's
calendar and overdue flags (:mod:`dosewise.trial.services.worklist`, the one derivation)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.trial.services import worklist as service

router = APIRouter(prefix="/worklist", tags=["worklist"])

Kind = Literal[
    "readjudication",
    "dlt_adjudication",
    "signature",
    "dose_decision",
    "visit",
    "bor_assessment",
    "query",
]
assert set(Kind.__args__) == set(service.KINDS)  # type: ignore[attr-defined]


class WorkItemOut(BaseModel):
    kind: Kind
    site_id: str
    study_id: str
    arm_id: str | None
    due_on: str = Field(description="Due date (ISO) in the site's calendar")
    overdue: bool = Field(description="The due date is before today at the site")
    days_overdue: int
    action: str = Field(description="The permission that acts on the item")
    section: str = Field(description="The participant page's section where it is done")
    anchor: str = Field(description="The participant page's element for it")
    mine: bool = Field(description="Your role may act on it at that site")
    detail: dict[str, Any] = Field(
        description="Per kind: the visit and its window, the query and its age, the dose level…"
    )


class CountsOut(BaseModel):
    total: int
    overdue: int
    mine: int
    by_kind: dict[str, int]


class WorklistOut(BaseModel):
    as_of: str = Field(description="Today in the trial's calendar")
    sites: list[str] = Field(description="The sites you may see")
    counts: CountsOut
    items: list[WorkItemOut]


@router.get(
    "",
    response_model=WorklistOut,
    summary="What is due or overdue at the sites you may see (site staff: their site)",
    responses=responses(401, 403, 422),
)
def get_worklist(
    site_id: str | None = Query(
        default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$"
    ),
    kind: Kind | None = Query(default=None),
    overdue: bool | None = Query(default=None, description="true: only overdue; false: only not"),
    mine: bool = Query(default=False, description="Only the items your role may act on"),
    user: CurrentUser = Depends(require("participant.read")),
    rt: Runtime = Depends(runtime),
) -> WorklistOut:
    flt = service.WorklistFilter(site_id=site_id, kind=kind, overdue=overdue, mine=mine)
    with user.uow(rt, readonly=True) as uow:
        return WorklistOut.model_validate(service.worklist(uow, flt).to_dict())
