"""The protocol page: the embedded protocol with its assumptions marked, the design's decision
tables, a small simulation of the design, and the design report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse

from dosewise.errors import DosewiseError
from dosewise.trial.uow import NotFound
from dosewise.web import custom_sim as cs
from dosewise.web import protocol_view as pv
from dosewise.web.render import (
    Form,
    FormErrors,
    Page,
    WebRoute,
    error_words,
    page_for,
    posted,
    signed_in_page,
)

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


def _arm_choices(page: Page) -> list[tuple[str, str]]:
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    return [(arm.id, arm.in_lang("label", page.locale)) for arm in protocol.arms]


def _custom_defaults(page: Page) -> Form:
    """The custom scenario form's first values: the protocol's first arm, rates to edit."""
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    n = len(protocol.dose_levels.design_levels)
    values: dict[str, list[str]] = {
        "scenario_arm": [protocol.arms[0].id],
        "correlation": ["independent"],
        "scenario_trials": [str(cs.DEFAULT_TRIALS)],
        "scenario_seed": [str(pv.DEFAULT_SEED)],
    }
    for j in range(1, n + 1):
        values[f"p_tox_{j}"] = [f"{0.05 + 0.15 * j:g}"]
        values[f"p_eff_{j}"] = [f"{0.2 + 0.2 * j:g}"]
    return Form(values)


def _custom_context(page: Page, **context: Any) -> dict[str, Any]:
    """What the custom scenario section needs (form, choices, errors, the run)."""
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    tr = page.tr
    names = {
        "independent": tr("None (independent)"),
        "gumbel": tr("Gumbel (FGM) correlation"),
        "normal": tr("Normal (latent) correlation"),
        "odds_ratio": tr("Odds ratio"),
    }
    context.setdefault("custom_form", _custom_defaults(page))
    context.setdefault("custom_errors", FormErrors())
    return {
        "design_levels": [lv.name for lv in protocol.dose_levels.design_levels],
        "arm_choices": _arm_choices(page),
        "correlation_choices": [(c, names[c]) for c in cs.CORRELATIONS],
        "custom_max_trials": cs.MAX_TRIALS,
        "labels": pv.dose_labels(protocol),
        **context,
    }


def _protocol_page(page: Page, *, status_code: int = 200, **context: object) -> Response:
    loaded = pv.loaded_protocol(page.rt.settings)
    protocol = loaded.protocol
    context.setdefault("form", _defaults(page))
    context.setdefault("arm_choices", _arm_choices(page))
    if page.signed_in.can("scenario.simulate"):
        context = {**_custom_context(page), **context}
    return page.render(
        "protocol/protocol.html",
        status_code=status_code,
        p=protocol,
        source=loaded.source,
        text=loaded.text,
        tags=pv.Tags(protocol),
        groups=pv.table_groups(protocol),
        scenario_choices=[(name, name) for name in pv.scenario_names(protocol)],
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


@router.post("/simulate-custom")
def simulate_custom(
    posted_form: tuple[Page, Form] = Depends(posted("scenario.simulate")),
) -> Response:
    """Simulate the user's own scenario: htmx gets the section with a progress bar that polls
    the background run; a plain form post runs it in the request and gets the whole page."""
    page, form = posted_form
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    fragment = bool(page.request.headers.get("hx-request"))
    n = len(protocol.dose_levels.design_levels)
    req, problems = cs.check_request(protocol, cs.form_getter(form.get), form.flag("scenario_tite"))
    errors = FormErrors()
    for problem in problems:
        errors.add(problem, cs.fields(n), cs.INPUT_NAMES)
    context: dict[str, Any] = {"custom_form": form, "custom_errors": errors}
    status = 422 if problems else 200
    if req is not None:
        command = cs.cli_command(protocol, req)
        context["custom_command"] = command
        if fragment:
            try:
                context["job"] = cs.start(protocol, req, int(page.signed_in.actor.user_id or 0))
            except DosewiseError as exc:
                errors.add(exc, cs.fields(n), cs.INPUT_NAMES)
                status = int(getattr(exc, "http_status", 422))
        else:
            context["custom_result"] = cs.run(protocol, req)
    if fragment:  # htmx swaps only 2xx answers: the errors come back with the form, as 200
        return page.render("protocol/_custom.html", **_custom_context(page, **context))
    return _protocol_page(page, status_code=status, **context)


def _job(page: Page, job_id: str) -> cs.Job:
    job = cs.job_for(job_id, int(page.signed_in.actor.user_id or 0))
    if job is None:
        raise NotFound("job", job_id, "no such simulation of yours (they are kept 30 minutes)")
    return job


@router.get("/simulate-custom/{job_id}")
def custom_progress(job_id: str, page: Page = Depends(page_for("scenario.simulate"))) -> Response:
    """The run's progress bar (polled by htmx), then its result."""
    job = _job(page, job_id)
    return page.render(
        "protocol/_custom_job.html",
        job=job,
        job_error=error_words(job.error, page.locale) if job.error else None,
        custom_command=job.command,
        **_custom_context(page),
    )


@router.get("/simulate-custom/{job_id}/json")
def custom_json(job_id: str, page: Page = Depends(page_for("scenario.simulate"))) -> Response:
    """The run's JSON, exactly as ``dosewise simulate --json`` prints it, as a download."""
    job = _job(page, job_id)
    if job.result is None:
        raise NotFound("job", job_id, "the simulation has not finished")
    name = f"simulate-{job.request.arm}-seed{job.request.seed}.json"
    return Response(
        cs.as_json(job.result),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/report")
def design_report(page: Page = Depends(signed_in_page)) -> Response:
    """The protocol design report (the same document as ``dosewise report design``)."""
    return HTMLResponse(pv.design_report(page.rt.settings, page.locale))
