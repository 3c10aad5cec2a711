"""What the API and CLI show of participants: lists (site-scoped) and one participant's record.

Reads run in a read-only unit of work; site staff and site monitors see their own site only
(``participant.read``), sponsor roles every site.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dosewise.store.base import Base
from dosewise.store.tables import (
    AdverseEvent,
    Arm,
    BestResponse,
    Consent,
    DltAdjudication,
    DoseAssignment,
    ESignature,
    Infusion,
    Lymphodepletion,
    Participant,
    Product,
    ResponseAssessment,
    Screening,
)
from dosewise.trial import signed
from dosewise.trial.access import authorize, visible_sites
from dosewise.trial.services._common import (
    arm_protocol,
    as_json,
    enrollment_of,
    participant,
    today,
)
from dosewise.trial.state import participant_outcome, screening_result
from dosewise.trial.uow import UnitOfWork


def list_participants(
    uow: UnitOfWork,
    *,
    site_id: str | None = None,
    arm_id: str | None = None,
    status: str | None = None,
) -> list[Participant]:
    """Participants the actor may see, optionally filtered, in registration order."""
    if site_id is not None:
        authorize(uow.actor, "participant.read", site_id)
    sites = visible_sites(uow.actor, "participant.read")
    stmt = select(Participant).order_by(Participant.id)
    if sites is not None:
        stmt = stmt.where(Participant.site_id.in_(sites))
    if site_id is not None:
        stmt = stmt.where(Participant.site_id == site_id)
    if arm_id is not None:
        stmt = stmt.where(Participant.arm_id == arm_id)
    if status is not None:
        stmt = stmt.where(Participant.status == status)
    return list(uow.session.scalars(stmt))


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
        "enrollment": None if enrollment is None else _plain(enrollment),
        "consents": _rows(uow, Consent, p.id),
        "screenings": screenings,
        "dose_assignments": assignments,
        "products": products,
        "lymphodepletions": _rows(uow, Lymphodepletion, p.id),
        "infusion": next(iter(_rows(uow, Infusion, p.id)), None),
        "adverse_events": _rows(uow, AdverseEvent, p.id),
        "dlt_adjudications": _rows(uow, DltAdjudication, p.id),
        "response_assessments": _rows(uow, ResponseAssessment, p.id),
        "best_response": next(iter(_rows(uow, BestResponse, p.id)), None),
        "outcome": outcome,
        "needs_readjudication": bool(outcome and outcome["needs_readjudication"]),
    }
