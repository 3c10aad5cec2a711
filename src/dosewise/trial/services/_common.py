"""What every clinical act shares: finding records, the arm's protocol, dates, signing, errors.

A service function receives a :class:`~dosewise.trial.uow.UnitOfWork`, checks the actor's
permission at the record's site, validates its input through the pure rules, names its act,
writes, and commits. Nothing here holds a clinical or statistical rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise import __version__
from dosewise.clinical import dosing
from dosewise.errors import DosewiseError, InvalidInput
from dosewise.protocol.model import Protocol
from dosewise.store.tables import (
    DoseAssignment,
    Enrollment,
    ESignature,
    Infusion,
    Participant,
    Product,
    User,
)
from dosewise.trial import esign
from dosewise.trial.access import visible_sites
from dosewise.trial.audit import canonical_json, jsonable, sha256_hex
from dosewise.trial.calendar import local_today
from dosewise.trial.esign import Signing as Signing
from dosewise.trial.refusals import refusal
from dosewise.trial.state.arm import decision_seed as decision_seed
from dosewise.trial.state.sources import arm_protocol as arm_protocol
from dosewise.trial.state.sources import death_date as death_date
from dosewise.trial.state.sources import protocol_of as protocol_of
from dosewise.trial.uow import NotFound, UnitOfWork


class WrongState(DosewiseError):
    """The act does not fit where the participant or arm is in the trial (e.g. infusion before
    release); the message says what has to happen first."""

    http_status = 409
    code = "wrong_state"


class LimitReached(DosewiseError):
    """Enrolment would pass a protocol limit (an arm's phase 1 maximum, its phase 2 size or the
    trial's total); the message names the limit and its value."""

    http_status = 409
    code = "limit_reached"


class MustWait(DosewiseError):
    """The design says the next patient must wait (outcomes pending); the message says until
    when."""

    http_status = 409
    code = "must_wait"


class DesignStopped(DosewiseError):
    """The arm's design has ended dose finding (select the OBD and close phase 1) or stopped."""

    http_status = 409
    code = "design_stopped"


#: Why a participant leaves the study (``off_study_reason`` starts with one of these).
#: ``sct`` and ``new_therapy`` are the protocol's BOR censoring events
#: (``evaluation.bor.censoring_events``): the response is final from that day.
OFF_STUDY_REASONS = (
    "death",
    "withdrawal",
    "lost_to_follow_up",
    "investigator_decision",
    "other",
    "sct",
    "new_therapy",
)


# --------------------------------------------------------------------------- the protocol


def clinical_levels(protocol: Protocol) -> tuple[dosing.DoseLevel, ...]:
    """The protocol's dose ladder as the dosing rule's levels (design order)."""
    return protocol.dose_levels.clinical_levels()


def level_name(protocol: Protocol, index: int) -> str:
    return protocol.dose_levels.by_index(index).name


def level_index(protocol: Protocol, name: str) -> int:
    return protocol.dose_levels.by_name(name).design_index.value


def rule_version(protocol: Protocol, arm_id: str) -> str:
    """Which rule decided: the dosewise version and a hash of the arm's design parameters."""
    params = protocol.design_params(arm_id).to_dict()
    digest = sha256_hex(canonical_json({"method": protocol.design.method, **params}))[:12]
    return f"dosewise {__version__} {digest}"[:64]


# --------------------------------------------------------------------------- finding records


def participant(uow: UnitOfWork, study_id: str, action: str) -> Participant:
    """The participant with ``study_id``, if the actor may do ``action`` at its site.

    A role that may not do ``action`` anywhere gets 403 whether or not the ID exists; another
    site's participant is "no such participant", exactly like an unused ID, so that site staff
    cannot count or probe other sites' participants by their study IDs.

    In a writing unit of work the participant's row is locked until commit
    (:meth:`UnitOfWork.lock`): every act on a participant passes here first, so two requests
    for the same once-only act (confirm, release, lymphodepletion, infusion, enrol, adjudicate)
    run one after the other, and the second finds the first's record and is refused (409).
    Call it before loading anything else of the participant, so no check reads a stale copy.
    """
    sites = visible_sites(uow.actor, action)  # Forbidden for the role, before any lookup
    where = Participant.study_id == study_id
    found: Participant | None
    if uow.readonly:
        found = uow.session.scalar(select(Participant).where(where))
    else:
        try:
            found = uow.lock(Participant, where=where)
        except NotFound:
            found = None
    if found is None or (sites is not None and found.site_id not in sites):
        raise refusal(NotFound, "study_id", study_id, "no_such_participant")
    return found


def enrollment_of(session: Session, participant_id: int) -> Enrollment | None:
    return session.scalar(select(Enrollment).where(Enrollment.participant_id == participant_id))


def require_enrollment(session: Session, p: Participant) -> Enrollment:
    found = enrollment_of(session, p.id)
    if found is None:
        raise refusal(WrongState, "study_id", p.study_id, "not_enrolled")
    return found


def current_assignment(session: Session, participant_id: int) -> DoseAssignment | None:
    """The participant's dose assignment in force (proposed or confirmed)."""
    return session.scalar(
        select(DoseAssignment)
        .where(
            DoseAssignment.participant_id == participant_id,
            DoseAssignment.status.in_(("proposed", "confirmed")),
        )
        .order_by(DoseAssignment.id.desc())
        .limit(1)
    )


def released_product(session: Session, participant_id: int) -> Product | None:
    return session.scalar(
        select(Product)
        .where(Product.participant_id == participant_id, Product.status == "released")
        .order_by(Product.id.desc())
        .limit(1)
    )


def infusion_of(session: Session, participant_id: int) -> Infusion | None:
    return session.scalar(select(Infusion).where(Infusion.participant_id == participant_id))


def user_id(uow: UnitOfWork) -> int:
    """The acting person's user id (clinical acts are always done by a person)."""
    if uow.actor.user_id is None:
        raise refusal(WrongState, "user", uow.actor.username, "logged_in_user")
    return uow.actor.user_id


def acting_user(uow: UnitOfWork) -> User:
    if uow.actor.user_id is None:
        raise refusal(WrongState, "user", uow.actor.username, "person_signs")
    return uow.get(User, uow.actor.user_id)


def sign(
    uow: UnitOfWork, signing: Signing, entity: str, entity_id: object, content: Mapping[str, Any]
) -> ESignature:
    """Sign ``content`` as the acting user inside the current act."""
    return esign.sign(
        uow,
        signing.passwords,
        signing.settings,
        acting_user(uow),
        signing.password,
        meaning=signing.meaning,
        entity=entity,
        entity_id=entity_id,
        content=content,
    )


# --------------------------------------------------------------------------- values


def today(uow: UnitOfWork, site_id: str | None = None) -> date:
    """Today at the site (or in the trial's zone): see :mod:`dosewise.trial.calendar`."""
    return local_today(uow, site_id)


def not_future(field: str, value: date, uow: UnitOfWork, site_id: str | None = None) -> date:
    """``value`` unless it is after today at the site (the trial's zone when no site is given)."""
    now = today(uow, site_id)
    if value > now:
        raise refusal(InvalidInput, field, value.isoformat(), "in_future", today=now.isoformat())
    return value


def not_before(field: str, value: date, other: date | None, what: str) -> None:
    if other is not None and value < other:
        raise refusal(
            InvalidInput, field, value.isoformat(), "before_what", what=what, date=other.isoformat()
        )


def study_day(on: date, infused_on: date | None) -> int | None:
    """Study day of ``on``: day 0 is the infusion day."""
    return None if infused_on is None else (on - infused_on).days


def as_json(value: Any) -> Any:
    """A value as plain JSON types, exactly as it is stored in a JSON column."""
    return jsonable(value)
