"""What the API and CLI show of participants: lists (site-scoped) and one participant's record.

Reads run in a read-only unit of work; site staff and site monitors see their own site only
(``participant.read``), sponsor roles every site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from dosewise.errors import InvalidInput
from dosewise.store.base import Base
from dosewise.store.tables import (
    AdverseEvent,
    Arm,
    BestResponse,
    Consent,
    DataQuery,
    DltAdjudication,
    DoseAssignment,
    Enrollment,
    ESignature,
    Infusion,
    Lymphodepletion,
    Participant,
    Product,
    ProtocolDeviation,
    ResponseAssessment,
    Screening,
)
from dosewise.trial import signed
from dosewise.trial.access import Forbidden, authorize, visible_sites
from dosewise.trial.refusals import refusal
from dosewise.trial.services import queries
from dosewise.trial.services._common import (
    arm_protocol,
    as_json,
    enrollment_of,
    participant,
    today,
)
from dosewise.trial.state import participant_outcome, screening_result
from dosewise.trial.uow import UnitOfWork

#: What the participant list can be sorted by.
SORTS = ("registered", "study_id", "registered_on", "status", "site_id", "arm_id", "phase")


@dataclass(frozen=True)
class ParticipantSearch:
    """Which participants to list and in what order: a study ID fragment (any case), the
    site, arm, status and phase (1 or 2), with or without unresolved data queries; sorted by
    one of :data:`SORTS` (``registered``: registration order), one page of ``limit`` from
    ``offset`` (no limit: all)."""

    text: str | None = None
    site_id: str | None = None
    arm_id: str | None = None
    status: str | None = None
    phase: int | None = None
    open_queries: bool | None = None
    sort: str = "registered"
    descending: bool = False
    limit: int | None = None
    offset: int = 0


def list_participants(
    uow: UnitOfWork,
    *,
    site_id: str | None = None,
    arm_id: str | None = None,
    status: str | None = None,
) -> list[Participant]:
    """Participants the actor may see, optionally filtered, in registration order."""
    stmt = _search(uow, ParticipantSearch(site_id=site_id, arm_id=arm_id, status=status))
    return list(uow.session.scalars(stmt.with_only_columns(Participant).order_by(Participant.id)))


def search_participants(
    uow: UnitOfWork, search: ParticipantSearch
) -> tuple[list[dict[str, Any]], int]:
    """One page of the participants the actor may see (each summary with its phase and its
    unresolved data queries when the actor reads queries), and how many match in all."""
    if search.sort not in SORTS:
        raise refusal(InvalidInput, "sort", search.sort, "one_of", choices=SORTS)
    if search.limit is not None and not 1 <= search.limit <= 1000:
        raise refusal(InvalidInput, "limit", search.limit, "limit_range")
    if search.offset < 0:
        raise refusal(InvalidInput, "offset", search.offset, "offset_range")
    stmt = _search(uow, search)
    total = int(
        uow.session.scalar(stmt.with_only_columns(func.count(Participant.id)).order_by(None)) or 0
    )
    column = {
        "registered": Participant.id,
        "study_id": Participant.study_id,
        "registered_on": Participant.registered_on,
        "status": Participant.status,
        "site_id": Participant.site_id,
        "arm_id": Participant.arm_id,
        "phase": Enrollment.phase,
    }[search.sort]
    key = column.desc() if search.descending else column.asc()
    tie = Participant.id.desc() if search.descending else Participant.id.asc()
    page = stmt.order_by(key.nulls_last(), tie).offset(search.offset)
    if search.limit is not None:
        page = page.limit(search.limit)
    rows = uow.session.execute(page).all()
    counts = queries.unresolved_by_participant(uow)
    reads_queries = _may(uow, "query.read")
    return [
        {
            **summary(p),
            "phase": phase,
            "open_queries": counts.get(p.study_id, 0) if reads_queries else None,
        }
        for p, phase in rows
    ], total


def _may(uow: UnitOfWork, action: str) -> bool:
    try:
        authorize(uow.actor, action)
    except Forbidden:
        return False
    return True


def _search(uow: UnitOfWork, search: ParticipantSearch) -> Any:
    if search.site_id is not None:
        authorize(uow.actor, "participant.read", search.site_id)
    sites = visible_sites(uow.actor, "participant.read")
    stmt = select(Participant, Enrollment.phase).outerjoin(
        Enrollment, Enrollment.participant_id == Participant.id
    )
    if sites is not None:
        stmt = stmt.where(Participant.site_id.in_(sites))
    if search.site_id is not None:
        stmt = stmt.where(Participant.site_id == search.site_id)
    if search.arm_id is not None:
        stmt = stmt.where(Participant.arm_id == search.arm_id)
    if search.status is not None:
        stmt = stmt.where(Participant.status == search.status)
    if search.phase is not None:
        if search.phase not in (1, 2):
            raise refusal(InvalidInput, "phase", search.phase, "phase_range")
        stmt = stmt.where(Enrollment.phase == search.phase)
    text = (search.text or "").strip()
    if text:
        pattern = (
            "%" + text.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(func.upper(Participant.study_id).like(pattern, escape="\\"))
    if search.open_queries is not None:
        authorize(uow.actor, "query.read")
        unresolved = (
            select(DataQuery.id)
            .where(
                DataQuery.participant_id == Participant.id,
                DataQuery.status.in_(queries.UNRESOLVED),
            )
            .exists()
        )
        stmt = stmt.where(unresolved if search.open_queries else ~unresolved)
    return stmt


def summary(p: Participant) -> dict[str, Any]:
    return {
        "study_id": p.study_id,
        "site_id": p.site_id,
        "arm_id": p.arm_id,
        "status": p.status,
        "year_of_birth": p.year_of_birth,
        "registered_on": p.registered_on.isoformat(),
        "off_study_on": None if p.off_study_on is None else p.off_study_on.isoformat(),
        "off_study_reason": p.off_study_reason,
        "version": p.version,
    }


def _rows(uow: UnitOfWork, model: type[Base], participant_id: int) -> list[dict[str, Any]]:
    (pk,) = model.__table__.primary_key
    rows = uow.session.scalars(
        select(model).where(model.participant_id == participant_id).order_by(pk)  # type: ignore[attr-defined]
    )
    return [_plain(r) for r in rows]


def _plain(row: Base) -> dict[str, Any]:
    data = as_json(row.column_values())
    data.pop("participant_id", None)
    return dict(data)


def signature_of(uow: UnitOfWork, signature_id: int | None) -> dict[str, Any] | None:
    """The §11.50 manifestation of a signature, and whether it still binds: its own hashes and
    the signed record's current content (``valid``; ``problems`` says what broke)."""
    if signature_id is None:
        return None
    sig = uow.session.get(ESignature, signature_id)
    if sig is None:
        return None
    return signed.status(uow.session, sig)


def participant_record(uow: UnitOfWork, study_id: str) -> dict[str, Any]:
    """Everything recorded about one participant (no identifiers are stored to show)."""
    p = participant(uow, study_id, "participant.read")
    enrollment = enrollment_of(uow.session, p.id)
    assignments = _rows(uow, DoseAssignment, p.id)
    for a in assignments:
        a.pop("state", None)
        a["signature"] = signature_of(uow, a.get("signature_id"))
    products = _rows(uow, Product, p.id)
    for prod in products:
        prod["signature"] = signature_of(uow, prod.get("signature_id"))
    unresolved = None
    if _may(uow, "query.read"):
        unresolved = queries.unresolved_by_participant(uow).get(p.study_id, 0)
    infusion = next(iter(_rows(uow, Infusion, p.id)), None)
    events = _rows(uow, AdverseEvent, p.id)
    for event in events:
        # An event before the infusion is kept and labelled pre-treatment (issue 14 item 5).
        event["pre_treatment"] = infusion is None or event["onset_on"] < infusion["infused_on"]
    deviations = _rows(uow, ProtocolDeviation, p.id)
    for dev in deviations:
        dev["signature"] = signature_of(uow, dev.get("signature_id"))
    screenings = _rows(uow, Screening, p.id)
    for s in screenings:
        s["result"], missing = screening_result(s.get("eligible"), s.get("criteria") or [])
        s["missing_criteria"] = list(missing)
    outcome = None
    if enrollment is not None:
        arm = uow.session.get(Arm, enrollment.arm_id)
        assert arm is not None
        protocol = arm_protocol(uow.session, arm)
        outcome = participant_outcome(uow.session, enrollment, protocol, today(uow)).to_dict()
    return {
        **summary(p),
        "phase": None if enrollment is None else enrollment.phase,
        "open_queries": unresolved,
        "enrollment": None if enrollment is None else _plain(enrollment),
        "consents": _rows(uow, Consent, p.id),
        "screenings": screenings,
        "dose_assignments": assignments,
        "products": products,
        "lymphodepletions": _rows(uow, Lymphodepletion, p.id),
        "infusion": infusion,
        "adverse_events": events,
        "dlt_adjudications": _rows(uow, DltAdjudication, p.id),
        "response_assessments": _rows(uow, ResponseAssessment, p.id),
        "best_response": next(iter(_rows(uow, BestResponse, p.id)), None),
        "deviations": deviations,
        "outcome": outcome,
        "needs_readjudication": bool(outcome and outcome["needs_readjudication"]),
    }
