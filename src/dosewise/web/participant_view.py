"""Everything the participant page shows, read through the services: the participant's record
(:func:`dosewise.trial.services.reads.participant_record`), the arm's next step, the DLT rule's
current evaluation, the visit timeline (``clinical.schedule``) and the consent rules by age band.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dosewise.clinical.ctcae import TERMS
from dosewise.clinical.schedule import VisitStatus
from dosewise.errors import DosewiseError
from dosewise.protocol import Protocol
from dosewise.store.tables import Participant
from dosewise.trial.confidential import redact_for
from dosewise.trial.services import dlt as dlt_service
from dosewise.trial.services import queries, reads
from dosewise.trial.state import NextStep, VisitRecords, arm_state, participant_visits
from dosewise.trial.uow import UnitOfWork
from dosewise.web import protocol_view as pv
from dosewise.web import records, stepper
from dosewise.web.protocol_texts import ProtocolTexts
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
    "query",
)


@dataclass
class Permissions:
    """What the signed-in user may do for this participant (from the permission matrix)."""

    write: bool
    assign: bool
    confirm: bool
    release: bool
    adjudicate: bool
    read_queries: bool = False
    raise_query: bool = False
    answer_query: bool = False

    @classmethod
    def of(cls, user: WebUser, site_id: str) -> Permissions:
        return cls(
            write=user.can("participant.write", site_id),
            assign=user.can("dose.assign", site_id),
            confirm=user.can("dose.confirm", site_id),
            release=user.can("product.release", site_id),
            adjudicate=user.can("dlt.adjudicate", site_id),
            read_queries=user.can("query.read", site_id),
            raise_query=user.can("query.raise", site_id),
            answer_query=user.can("query.answer", site_id),
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
    #: The participant's data queries (newest first) and the unresolved ones per record type.
    queries: list[dict[str, Any]] = field(default_factory=list)
    unresolved_by_type: Counter[str] = field(default_factory=Counter)
    username: str = ""
    role: str = ""

    def may_resolve(self, query: dict[str, Any]) -> bool:
        """Whether the signed-in user may close or re-open ``query`` (raiser or data manager;
        the service decides again)."""
        return self.can.raise_query and (
            query["raised_by"] == self.username or self.role == "data_manager"
        )

    def unresolved(self, *record_types: str) -> int:
        return sum(self.unresolved_by_type[t] for t in record_types)

    def record_choices(self) -> list[tuple[str, str]]:
        """Every record of the participant a query can name: ``type:id`` and a description."""
        r = self.record
        out = [("participants:", f"participants · {r['study_id']}")]
        lists = (
            ("consents", r["consents"], "consent_on"),
            ("screenings", r["screenings"], "screened_on"),
            ("enrollments", [r["enrollment"]] if r.get("enrollment") else [], "enrolled_on"),
            ("dose_assignments", r["dose_assignments"], "dose_level"),
            ("products", r["products"], "lot"),
            ("lymphodepletions", r["lymphodepletions"], "start_on"),
            ("infusions", [r["infusion"]] if r.get("infusion") else [], "infused_on"),
            ("adverse_events", r["adverse_events"], "term"),
            ("dlt_adjudications", r["dlt_adjudications"], "adjudicated_at"),
            ("response_assessments", r["response_assessments"], "assessed_on"),
            ("best_responses", [r["best_response"]] if r.get("best_response") else [], "bor"),
        )
        for kind, rows, label in lists:
            for row in rows:
                out.append((f"{kind}:{row['id']}", f"{kind} #{row['id']} · {row.get(label, '')}"))
        return out

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
    """The visit timeline from infusion (study day 0), as the read model derives it."""
    infusion = record.get("infusion")
    if infusion is None:
        return ()
    lds = record["lymphodepletions"]
    records = VisitRecords(
        date.fromisoformat(lds[-1]["start_on"]) if lds else None,
        tuple(
            (date.fromisoformat(a["assessed_on"]), a.get("timepoint"))
            for a in record["response_assessments"]
        ),
    )
    return participant_visits(protocol, date.fromisoformat(infusion["infused_on"]), on, records)


def build(page: Page, uow: UnitOfWork, study_id: str) -> ParticipantView:
    """Read everything the participant page needs in one read-only unit of work."""
    record = reads.participant_record(uow, study_id)
    protocol = pv.loaded_protocol(page.rt.settings).protocol
    user = page.signed_in
    on = today(uow, record["site_id"])  # the participant's site's calendar
    view = ParticipantView(record, protocol, Permissions.of(user, record["site_id"]), on)
    view.criteria = {c.id: c.text for c in protocol.screening_criteria.criteria}
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
    view.username, view.role = user.username, user.role
    if view.can.read_queries:
        view.queries = queries.list_queries(uow, queries.QueryFilter(study_id=study_id))
        view.unresolved_by_type = Counter(
            q["record_type"] for q in view.queries if q["status"] in queries.UNRESOLVED
        )
    return view


_FINDING = re.compile(r"^([a-z][a-z0-9_]*) = (true|false)$")


def criterion_rows(criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored checklist for people: each criterion's result in words (an exclusion that is
    correctly absent is "not present", good; only a real failure is bad), and each yes/no
    finding of the evidence as its name in words with yes or no."""
    rows = []
    for c in criteria:
        status, kind = c.get("status"), c.get("kind")
        if status == "not_assessed":
            result, tone = "not_assessed", "wait"
        elif status == "not_applicable":
            result, tone = "not_applicable", "neutral"
        elif kind == "exclusion":
            result, tone = ("present", "bad") if status == "met" else ("not_present", "good")
        else:
            result, tone = ("met", "good") if status == "met" else ("not_met", "bad")
        evidence = []
        for item in c.get("evidence") or []:
            found = _FINDING.match(str(item))
            if found:
                name = found.group(1).replace("_", " ")
                evidence.append(
                    {"text": name[:1].upper() + name[1:], "yes": found.group(2) == "true"}
                )
            else:  # e.g. "flow_cytometry on bone_marrow: 94% positive" in words
                evidence.append({"text": str(item).replace("_", " "), "yes": None})
        rows.append({**c, "result": result, "tone": tone, "words": evidence})
    return rows


def finding_rows(protocol: Protocol) -> list[tuple[str, list[str]]]:
    """Each yes/no finding the criteria read, with the criteria that read it."""
    from dosewise.protocol.checks import FindingCheck

    criteria = protocol.screening_criteria
    rows: dict[str, list[str]] = {name: [] for name in criteria.findings}
    for crit in criteria.criteria:
        for check in crit.checks:
            if isinstance(check, FindingCheck) and crit.id not in rows[check.name]:
                rows[check.name].append(crit.id)
    return list(rows.items())


def not_evaluable_reasons(protocol: Protocol) -> dict[str, str]:
    """The protocol's not-evaluable reasons, code → label (the web catalog translates them)."""
    from dosewise.web.labels import NOT_EVALUABLE_REASONS

    if protocol.evaluation is None:
        return {}
    return {
        c.code: NOT_EVALUABLE_REASONS.get(c.code, c.label)
        for c in protocol.evaluation.dlt_adjudication.not_evaluable_reasons
    }


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
    texts = ProtocolTexts(view.protocol, page.locale)
    infused = view.record.get("infusion") is not None
    extra = {"ae", "visits"} if infused else set()
    if view.dlt is not None:
        extra.add("dlt")
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
        fixes=records.correction_forms(view.record),
        level_choices=[(n, n) for n in view.protocol.dose_levels.names],
        arm_choices=[(a.id, a.in_lang("label", page.locale)) for a in view.protocol.arms],
        eligible_choices=[(a, texts.arm(a)) for a in dict.fromkeys(view.eligible_arms)],
        findings=finding_rows(view.protocol),
        not_evaluable_reasons=not_evaluable_reasons(view.protocol),
        ctcae_terms=[t.name for t in TERMS if t.kind not in ("crs", "icans")],
        visit_choices=[
            (v.name, v.in_lang("label", page.locale)) for v in view.protocol.visits if v.day > 0
        ],
        extramedullary_choices=[(e, e) for e in records.EXTRAMEDULLARY],
        category_choices=[(c, c) for c in records.RESPONSE_CATEGORIES],
        steps=stepper.steps(view.record),
        checklist=criterion_rows(view.latest_screening["criteria"])
        if view.latest_screening
        else [],
        rescreen=(
            records.screening_form(view.latest_screening["record"], view.latest_screening["arm_id"])
            if view.latest_screening
            else None
        ),
        next_step=stepper.next_step(view.record),
        folds=stepper.folded(
            view.record, bool(view.visits), active, frozenset(extra), bool(view.queries)
        ),
        query_fields=sorted({f for t in queries.RECORD_TYPES for f in queries.field_names(t)}),
        **context,
    )
