"""The trial overview (three arms side by side), each arm's dose-finding page, and the DSMB's
read-only view. Every number comes from the read model (:mod:`dosewise.trial.state`): the arm
states, and the participants by worst AE grade per category (each counted once)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dosewise.errors import DosewiseError
from dosewise.report import downloads
from dosewise.store.tables import DltAdjudication, Participant, User
from dosewise.trial import signed
from dosewise.trial.access import Forbidden, reaches_every_site, visible_sites
from dosewise.trial.confidential import redact_for
from dosewise.trial.esign import Signing
from dosewise.trial.refusals import refusal
from dosewise.trial.services import phases, queries
from dosewise.trial.state import arm_state, category_tally
from dosewise.web import arm_stats
from dosewise.web import protocol_view as pv
from dosewise.web import trial_view as tv
from dosewise.web.render import Form, FormErrors, Page, WebRoute, page_for, posted, redirect
from dosewise.web.routes.reports import links as report_links
from dosewise.web.routes.reports import report_lang

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _order(page: Page) -> list[str]:
    return list(pv.loaded_protocol(page.rt.settings).protocol.arm_ids)


@router.get("/trial")
def overview(page: Page = Depends(page_for("arm.read"))) -> Response:
    with page.uow(readonly=True) as uow:
        states = tv.all_states(uow, _order(page))
        sites, targets, total_target = tv.enrollment_by_site(uow.session)
        query_counts = queries.summary(uow) if page.signed_in.can("query.read") else None
    return page.render(
        "trial/overview.html",
        query_counts=query_counts,
        states=states,
        current={s.arm_id: tv.current_dose(s) for s in states},
        sites=sites,
        targets=targets,
        total_target=total_target,
        arm_totals={s.arm_id: sum(row.by_arm.get(s.arm_id, 0) for row in sites) for s in states},
    )


def _arm_page(
    page: Page,
    arm_id: str,
    *,
    form: Form | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    with page.uow(readonly=True) as uow:
        state = redact_for(uow.actor, arm_state(uow.session, arm_id, as_of=tv.today(uow)))
        history = tv.history(uow.session, state)
        broken = signed.broken_in_arm(uow.session, arm_id)
        stats = arm_stats.stat_views(uow.session, state, page.locale, page.tr)
    return page.render(
        "trial/arm.html",
        stats=stats,
        state=state,
        broken_signatures=broken,
        current=tv.current_dose(state),
        history=history,
        grid=tv.decision_grid(state),
        figure=tv.figure(state, page.locale, page.tr),
        figure_font_missing=tv.chart_font_missing(page.locale),
        form=form or Form(),
        errors=errors or FormErrors(),
        status_code=status_code,
    )


@router.get("/trial/arms/{arm_id}")
def arm_page(arm_id: str, page: Page = Depends(page_for("arm.read"))) -> Response:
    return _arm_page(page, arm_id)


@router.post("/trial/arms/{arm_id}/close")
def close_phase1(
    arm_id: str, posted_form: tuple[Page, Form] = Depends(posted("phase1.close"))
) -> Response:
    """Close phase 1 with the design's OBD as RP2D (e-signed by the closer)."""
    page, form = posted_form
    version = form.text("arm_version")
    signing = Signing(page.rt.passwords, page.rt.settings, form.get("close_password"), "approval")
    try:
        with page.uow() as uow:
            phases.close_phase1(
                uow,
                signing,
                arm_id,
                expected_arm_version=int(version) if version and version.isdigit() else None,
            )
    except DosewiseError as exc:
        errors = FormErrors.of(exc, ("close_password",), {"password": "close_password"})
        return _arm_page(
            page,
            arm_id,
            form=form,
            errors=errors,
            status_code=int(getattr(exc, "http_status", 422)),
        )
    return redirect(f"/trial/arms/{arm_id}?closed=1")


@router.post("/trial/arms/{arm_id}/look")
def bop2_look(
    arm_id: str, posted_form: tuple[Page, Form] = Depends(posted("phase2.look"))
) -> Response:
    """Run the phase 2 (BOP2) interim look the design calls for."""
    page, form = posted_form
    version = form.text("arm_version")
    try:
        with page.uow() as uow:
            phases.phase2_look(
                uow,
                arm_id,
                expected_arm_version=int(version) if version and version.isdigit() else None,
            )
    except DosewiseError as exc:
        errors = FormErrors.of(exc, ())
        return _arm_page(
            page,
            arm_id,
            form=form,
            errors=errors,
            status_code=int(getattr(exc, "http_status", 422)),
        )
    return redirect(f"/trial/arms/{arm_id}?looked=1")


@router.get("/dsmb")
def dsmb(page: Page = Depends(page_for("report.read"))) -> Response:
    """Per-arm safety tables, the DLT list with adjudications, and the decisions (read-only).

    Every site's participants are on it: a user of one site gets 403 (issue 15)."""
    user = page.signed_in
    if not reaches_every_site(user.actor, "report.read"):
        raise refusal(Forbidden, "site_id", user.actor.site_id, "dsmb_every_site")
    sites: frozenset[str] | None = (
        visible_sites(user.actor, "participant.read")
        if user.can("participant.read")
        else frozenset()
    )
    with page.uow(readonly=True) as uow:
        states = tv.all_states(uow, _order(page))
        histories = {s.arm_id: tv.history(uow.session, s) for s in states}
        names = {u.id: u.full_name for u in uow.session.scalars(select(User))}
        dlts = uow.session.execute(
            select(DltAdjudication, Participant)
            .join(Participant, Participant.id == DltAdjudication.participant_id)
            .order_by(DltAdjudication.adjudicated_at)
        ).all()
        safety = {s.arm_id: category_tally(s.patients) for s in states}
        adjudications = [
            {
                "study_id": p.study_id,
                "site_id": p.site_id,
                "arm_id": p.arm_id,
                "is_dlt": adj.is_dlt,
                "evaluable": adj.evaluable,
                "rule_id": adj.rule_id,
                # The column holds the DLT definition's version; the rules are the DLT events'.
                "version": adj.rule_id,
                "rules": dlt_rules(adj.evaluation),
                "rationale": adj.rationale,
                "status": adj.status,
                "by": names.get(adj.adjudicated_by),
                "at": adj.adjudicated_at,
                "linkable": sites is None or p.site_id in sites,
            }
            for adj, p in dlts
        ]
    report = downloads.REPORTS["dsmb"]
    return page.render(
        "trial/dsmb.html",
        states=states,
        histories=histories,
        safety=safety,
        ae_days=pv.loaded_protocol(page.rt.settings).protocol.windows.ae_days,
        adjudications=adjudications,
        report_links=(
            report_links(report, report_lang(page.locale))
            if downloads.may_take(user.actor, report.kind)
            else []
        ),
    )


def dlt_rules(evaluation: Mapping[str, Any] | None) -> list[str]:
    """The DLT rules an adjudication's DLT events met (in order, once each; none for an
    adjudication without DLT events or an older record without its evaluation)."""
    events = (evaluation or {}).get("events")
    found: list[str] = []
    for event in events if isinstance(events, list) else []:
        if isinstance(event, Mapping) and event.get("status") == "dlt":
            found += [str(r) for r in event.get("rules") or () if str(r) not in found]
    return found
