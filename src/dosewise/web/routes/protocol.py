"""The protocol page: the embedded protocol with its assumptions marked, the design's decision
tables, a small simulation of the design, and the design report."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse

from dosewise.errors import DosewiseError
from dosewise.web import protocol_view as pv
from dosewise.web.render import Form, FormErrors, Page, WebRoute, posted, signed_in_page

router = APIRouter(prefix="/protocol", route_class=WebRoute, include_in_schema=False)
SIM_FIELDS = ("scenario", "arm", "trials", "seed", "tite")


def _defaults(page: Page) -> Form:
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    names = pv.scenario_names(protocol)
    scenario = next((n for n in names if "dl1-best" in n), names[0] if names else "")
    return Form(
        {
            "scenario": [scenario],
            "arm": [protocol.arms[0].id],
            "trials": [str(pv.DEFAULT_SIM_TRIALS)],
            "seed": [str(pv.DEFAULT_SEED)],
        }
    )


def _protocol_page(page: Page, *, status_code: int = 200, **context: object) -> Response:
    loaded = pv.loaded_protocol(page.rt.settings)
    protocol = loaded.protocol
    context.setdefault("form", _defaults(page))
    return page.render(
        "protocol/protocol.html",
        status_code=status_code,
        p=protocol,
        source=loaded.source,
        text=loaded.text,
        tags=pv.Tags(protocol),
        groups=pv.table_groups(protocol),
        scenario_choices=[(name, name) for name in pv.scenario_names(protocol)],
        arm_choices=[(arm.id, arm.in_lang("label", page.locale)) for arm in protocol.arms],
        max_trials=pv.MAX_SIM_TRIALS,
        report_trials=pv.REPORT_TRIALS,
        **context,
    )


@router.get("")
def protocol_page(page: Page = Depends(signed_in_page)) -> Response:
    return _protocol_page(page)


@router.post("/simulate")
def simulate(posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    """Run the simulation; htmx gets the result fragment, a plain form post the whole page."""
    page, form = posted_form
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    fragment = bool(page.request.headers.get("hx-request"))
    try:
        req = pv.simulation_request(
            protocol,
            form.get("scenario"),
            form.get("arm"),
            form.get("trials"),
            form.get("seed"),
            form.flag("tite"),
        )
        summary = pv.run_simulation(protocol, req)
    except DosewiseError as exc:
        errors = FormErrors.of(exc, SIM_FIELDS)
        if fragment:
            return page.render("protocol/_simulation.html", errors=errors, result=None)
        return _protocol_page(page, status_code=422, form=form, errors=errors)
    result = summary.to_dict()
    labels = pv.dose_labels(protocol)
    if fragment:
        return page.render("protocol/_simulation.html", result=result, labels=labels, req=req)
    return _protocol_page(page, form=form, result=result, labels=labels, req=req)


@router.get("/report")
def design_report(page: Page = Depends(signed_in_page)) -> Response:
    """The protocol design report (the same document as ``dosewise report design``)."""
    return HTMLResponse(pv.design_report(page.rt.settings, page.locale))
