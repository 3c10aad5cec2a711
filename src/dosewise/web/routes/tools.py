"""Calculators anyone signed in may use, and the live fragments forms embed (htmx):
the dose calculator (``clinical.dosing``) and the ASTCT CRS and ICANS grades (``clinical.astct``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from dosewise.errors import DosewiseError
from dosewise.web import clinical_forms as cf
from dosewise.web import labels
from dosewise.web import protocol_view as pv
from dosewise.web.render import Form, FormErrors, Page, WebRoute, posted, signed_in_page

router = APIRouter(prefix="/tools", route_class=WebRoute, include_in_schema=False)


@router.get("")
def tools(page: Page = Depends(signed_in_page)) -> Response:
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    return page.render(
        "tools/tools.html",
        level_choices=[(name, name) for name in protocol.dose_levels.names],
        start_level=protocol.dose_levels.start.name,
    )


@router.post("/dose")
def dose(posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    """The live dose plan: each level's window and feasibility, the level given, the volume."""
    page, form = posted_form
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    try:
        plan = cf.dose_plan(form, pv.clinical_levels(protocol), form.text("planned_level"))
    except DosewiseError as exc:
        return page.render("tools/_dose.html", plan=None, errors=FormErrors.of(exc, cf.DOSE_FIELDS))
    return page.render("tools/_dose.html", plan=plan)


@router.post("/crs")
def crs(posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    """The live ASTCT CRS grade and the component that set it."""
    page, form = posted_form
    try:
        grade = cf.crs_grade(form)
    except DosewiseError as exc:
        return page.render(
            "tools/_grade.html", grade=None, errors=FormErrors.of(exc, cf.CRS_FIELDS)
        )
    return page.render("tools/_grade.html", grade=grade, names=labels.CRS_COMPONENTS)


@router.post("/icans")
def icans(posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    """The live ASTCT ICANS grade and the component that set it."""
    page, form = posted_form
    try:
        grade = cf.icans_grade(form)
    except DosewiseError as exc:
        return page.render(
            "tools/_grade.html", grade=None, errors=FormErrors.of(exc, cf.ICANS_FIELDS)
        )
    return page.render("tools/_grade.html", grade=grade, names=labels.ICANS_COMPONENTS)
