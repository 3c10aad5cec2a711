"""Everything the participant page shows, read through the services: the participant's record
(:func:`dosewise.trial.services.reads.participant_record`), the arm's next step, the DLT rule's
current evaluation, the visit timeline (``clinical.schedule``) and the consent rules by age band.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dosewise.clinical.ctcae import TERMS
from dosewise.clinical.schedule import VisitStatus, visit_status
from dosewise.errors import DosewiseError
from dosewise.protocol import Protocol
from dosewise.store.tables import Participant
from dosewise.trial.confidential import redact_for
from dosewise.trial.services import dlt as dlt_service
from dosewise.trial.services import reads
from dosewise.trial.state import NextStep, arm_state, visit_schedule
from dosewise.trial.uow import UnitOfWork
from dosewise.web import protocol_view as pv
from dosewise.web import records
from dosewise.web.render import Form, FormErrors, Page
from dosewise.web.session import WebUser
from dosewise.web.trial_view import today

#: The page's forms; a failed submission re-renders the page with that form filled in.
SECTIONS = (
    "consent",
    "screening",
    "enroll",
    "assign",
    "confirm",
    "release",
    "lymphodepletion",
    "infusion",
    "ae",
    "ae_update",
    "dlt",
    "response",
    "off_study",
)


@dataclass
class Permissions:
    """What the signed-in user may do for this participant (from the permission matrix)."""

    write: bool
    assign: bool
    confirm: bool
    release: bool
    adjudicate: bool

    @classmethod
    def of(cls, user: WebUser, site_id: str) -> Permissions:
        return cls(
            write=user.can("participant.write", site_id),
            assign=user.can("dose.assign", site_id),
            confirm=user.can("dose.confirm", site_id),
            release=user.can("product.release", site_id),
            adjudicate=user.can("dlt.adjudicate", site_id),
        )


@dataclass
class ParticipantView:
    record: dict[str, Any]
    protocol: Protocol
    can: Permissions
    today: date
    next_step: NextStep | None = None
    arm_version: int | None = None
    dlt: dict[str, Any] | None = None
    visits: tuple[tuple[VisitStatus, str], ...] = ()
    criteria: dict[str, str] = field(default_factory=dict)

    @property
    def latest_consent(self) -> dict[str, Any] | None:
        consents = self.record["consents"]
        return consents[-1] if consents else None

    @property
    def latest_screening(self) -> dict[str, Any] | None:
        screenings = self.record["screenings"]
        return screenings[-1] if screenings else None

    @property
    def assignment(self) -> dict[str, Any] | None:
        current = [
            a for a in self.record["dose_assignments"] if a["status"] in ("proposed", "confirmed")
        ]
        return current[-1] if current else None

    @property
    def product(self) -> dict[str, Any] | None:
        products = self.record["products"]
        return products[-1] if products else None

    @property
    def released(self) -> bool:
        return any(p["status"] == "released" for p in self.record["products"])

    @property
    def eligible_arms(self) -> list[str]:
        return [s["arm_id"] for s in self.record["screenings"] if s["eligible"]]


def _visits(
    record: dict[str, Any], on: date, protocol: Protocol
) -> tuple[tuple[VisitStatus, str], ...]:
    """The visit timeline from infusion (study day 0) and each visit's status to show.

    dosewise records lymphodepletion, the infusion and response assessments, so those visits
    are done or overdue by the records; for the other visits only the window is known, and a
    past window shows as passed rather than overdue.
    """
    infusion = record.get("infusion")
    if infusion is None:
        return ()
    infused_on = date.fromisoformat(infusion["infused_on"])
    done: dict[str, date] = {"infusion": infused_on}
    for ld in record["lymphodepletions"]:
        done["lymphodepletion"] = date.fromisoformat(ld["start_on"])
    schedule = visit_schedule(protocol)
    response_visits = [v for v in schedule if "response" in v.assessments]
    for assessment in record["response_assessments"]:
        assessed = date.fromisoformat(assessment["assessed_on"])
        if assessed > on:
            continue
        day = (assessed - infused_on).days
        for visit in response_visits:
            if (
                assessment.get("timepoint") == visit.name
                or visit.first_day <= day <= visit.last_day
            ):
                done.setdefault(visit.name, assessed)
    try:
        statuses = visit_status(infused_on, max(on, infused_on), done, schedule)
    except DosewiseError:
        first = {"infusion": infused_on}
        statuses = visit_status(infused_on, max(on, infused_on), first, schedule)
    recorded = {"lymphodepletion", "infusion", *(v.name for v in response_visits)}
    return tuple(
        (vs, "passed" if vs.status == "overdue" and vs.visit.name not in recorded else vs.status)
        for vs in statuses
    )


def build(page: Page, uow: UnitOfWork, study_id: str) -> ParticipantView:
    """Read everything the participant page needs in one read-only unit of work."""
    record = reads.participant_record(uow, study_id)
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    user = page.signed_in
    on = today(uow)
    view = ParticipantView(record, protocol, Permissions.of(user, record["site_id"]), on)
    view.criteria = {c.id: c.text for c in protocol.eligibility.criteria}
    arm_id = record.get("arm_id")
    if arm_id and record.get("enrollment"):
        state = redact_for(uow.actor, arm_state(uow.session, arm_id, as_of=on))
        view.next_step, view.arm_version = state.next, state.version
    if record.get("infusion") is not None and view.can.adjudicate:
        participant = uow.session.get(Participant, _participant_id(uow, study_id))
        if participant is not None:
            try:
                view.dlt = dlt_service.evaluate(uow, participant, protocol).to_dict()
            except DosewiseError:
                view.dlt = None
    view.visits = _visits(record, on, protocol)
    return view


def finding_rows(protocol: Protocol) -> list[tuple[str, list[str]]]:
    """Each yes/no finding the criteria read, with the criteria that read it."""
    from dosewise.protocol.checks import FindingCheck

    rows: dict[str, list[str]] = {name: [] for name in protocol.eligibility.findings}
    for crit in protocol.eligibility.criteria:
        for check in crit.checks:
            if isinstance(check, FindingCheck) and crit.id not in rows[check.name]:
                rows[check.name].append(crit.id)
    return list(rows.items())


def _participant_id(uow: UnitOfWork, study_id: str) -> int | None:
    from sqlalchemy import select

    return uow.session.scalar(select(Participant.id).where(Participant.study_id == study_id))


def render(
    page: Page,
    study_id: str,
    *,
    active: str | None = None,
    form: Form | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
    **context: Any,
) -> Any:
    """The participant page; ``active`` names the form that ``form`` and ``errors`` belong to."""
    with page.uow(readonly=True) as uow:
        view = build(page, uow, study_id)
    return page.render(
        "participants/participant.html",
        status_code=status_code,
        v=view,
        p=view.record,
        active=active,
        form=form or Form(),
        errors=errors or FormErrors(),
        blank=Form(),
        no_errors=FormErrors(),
        level_choices=[(n, n) for n in view.protocol.dose_levels.names],
        arm_choices=[(a.id, f"{a.id} · {a.label}") for a in view.protocol.arms],
        eligible_choices=[(a, a) for a in dict.fromkeys(view.eligible_arms)],
        findings=finding_rows(view.protocol),
        ctcae_terms=[t.name for t in TERMS if t.kind not in ("crs", "icans")],
        visit_choices=[(v.name, v.label) for v in view.protocol.visits if v.day > 0],
        extramedullary_choices=[(e, e) for e in records.EXTRAMEDULLARY],
        category_choices=[(c, c) for c in records.RESPONSE_CATEGORIES],
        **context,
    )
