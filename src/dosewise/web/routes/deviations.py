"""The trial's protocol deviations (each with its reason and the investigator's signature)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from dosewise.trial.services import deviations
from dosewise.web.render import Page, WebRoute, page_for

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/deviations")
def deviation_list(page: Page = Depends(page_for("participant.read"))) -> Response:
    with page.uow(readonly=True) as uow:
        rows = [
            {
                "id": d.id,
                "study_id": sid,
                "category": d.category,
                "description": d.description,
                "occurred_on": d.occurred_on,
                "reason": d.reason,
                "signed": d.signature_id is not None,
            }
            for d, sid in deviations.list_deviations(uow)
        ]
    return page.render("deviations/list.html", rows=rows)
