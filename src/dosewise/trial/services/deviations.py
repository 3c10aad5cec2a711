"""Protocol deviations: recorded with a reason and an investigator's e-signature, listed for
the site, the monitor and the DSMB, and exported to SDTM DV.

A deviation is a record of its own (``protocol_deviations``): what happened (a category from
:data:`CATEGORIES` and a description), the record it concerns (an infusion ...), the day it
happened, why, and who signed. An act the protocol forbids (an infusion outside every dose
level's window) is refused unless the request carries the deviation; then the act and its
deviation are written in one unit of work, so neither exists without the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from dosewise.errors import InvalidInput
from dosewise.store.tables import Participant, ProtocolDeviation
from dosewise.trial.access import authorize, visible_sites
from dosewise.trial.refusals import refusal
from dosewise.trial.services._common import Signing, participant, sign, user_id
from dosewise.trial.services.timeline import check_date
from dosewise.trial.signed import deviation_content
from dosewise.trial.uow import UnitOfWork

#: Deviation categories (SDTM DV ``DVCAT``-like): the one the service raises itself first.
CATEGORIES = (
    "dose_outside_windows",
    "eligibility",
    "consent",
    "visit_window",
    "procedure",
    "other",
)


@dataclass(frozen=True)
class DeviationIn:
    """The deviation a request records alongside a refused act: why, and the signature."""

    reason: str
    signing: Signing


def add_deviation(
    uow: UnitOfWork,
    p: Participant,
    *,
    category: str,
    description: str,
    occurred_on: date,
    deviation: DeviationIn,
    related: tuple[str, int] | None = None,
) -> ProtocolDeviation:
    """Write and sign a deviation inside the caller's act (the caller commits)."""
    authorize(uow.actor, "deviation.record", p.site_id)
    if category not in CATEGORIES:
        raise refusal(InvalidInput, "category", category, "one_of", choices=CATEGORIES)
    reason = deviation.reason.strip()
    if not reason:
        raise refusal(InvalidInput, "deviation.reason", deviation.reason, "deviation_reason")
    if not description.strip():
        raise refusal(InvalidInput, "description", description, "required")
    row = uow.add(
        ProtocolDeviation(
            participant_id=p.id,
            category=category,
            description=description.strip(),
            related_table=None if related is None else related[0],
            related_id=None if related is None else related[1],
            occurred_on=occurred_on,
            reason=reason,
            recorded_at=uow.now(),
            recorded_by=user_id(uow),
        )
    )
    uow.flush()
    content = deviation_content(row, p.study_id)
    row.signature_id = sign(uow, deviation.signing, "protocol_deviations", row.id, content).id
    return row


def record_deviation(
    uow: UnitOfWork,
    study_id: str,
    *,
    category: str,
    description: str,
    occurred_on: date,
    deviation: DeviationIn,
) -> ProtocolDeviation:
    """Record a deviation the site found (not tied to a refused act)."""
    p = participant(uow, study_id, "deviation.record")
    check_date(uow, p, "occurred_on", occurred_on, after=("birth", "registration"))
    uow.act("deviation.record", reason=deviation.reason, site_id=p.site_id)
    row = add_deviation(
        uow,
        p,
        category=category,
        description=description,
        occurred_on=occurred_on,
        deviation=deviation,
    )
    uow.commit()
    return row


def list_deviations(
    uow: UnitOfWork, study_id: str | None = None
) -> list[tuple[ProtocolDeviation, str]]:
    """Deviations with the participant's study ID, oldest first (the actor's sites only)."""
    stmt = (
        select(ProtocolDeviation, Participant.study_id)
        .join(Participant, Participant.id == ProtocolDeviation.participant_id)
        .order_by(ProtocolDeviation.id)
    )
    if study_id is not None:
        p = participant(uow, study_id, "participant.read")
        stmt = stmt.where(ProtocolDeviation.participant_id == p.id)
    sites = visible_sites(uow.actor, "participant.read")
    if sites is not None:
        stmt = stmt.where(Participant.site_id.in_(sorted(sites)))
    return [(row, sid) for row, sid in uow.session.execute(stmt)]
