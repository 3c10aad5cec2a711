"""The worklist page: the landing page after sign-in for everyone who reads participants
(site staff: their site, with "mine"; all-site roles: every site, with a site filter). The items
come from :mod:`dosewise.trial.services.worklist`; each links to where it is done."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from dosewise.trial.services import worklist as service
from dosewise.web import worklist_view
from dosewise.web.render import Page, WebRoute, page_for

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/worklist")
def worklist_page(page: Page = Depends(page_for("participant.read"))) -> Response:
    """The worklist with the filters of the query string (site, kind, overdue, mine)."""
    params = page.request.query_params
    kind = params.get("kind") or None
    site = params.get("site") or None
    flt = service.WorklistFilter(
        site_id=site,
        kind=kind if kind in service.KINDS else None,
        overdue=True if params.get("overdue") == "1" else None,
        mine=params.get("mine") == "1",
    )
    with page.uow(readonly=True) as uow:
        everything = service.worklist(uow, service.WorklistFilter(site_id=site))
    shown = service.narrow(everything, flt)
    return page.render(
        "worklist/worklist.html",
        wl=shown,
        counts=everything.counts,
        rows=worklist_view.rows(shown.items, page.locale, page.fmt.date),
        kinds=worklist_view.KIND_LABELS,
        flt=flt,
        every_site=len(everything.sites) > 1,
        sites=everything.sites,
    )
