"""What every clinical act shares: finding records, the arm's protocol, dates, signing, errors.

A service function receives a :class:`~dosewise.trial.uow.UnitOfWork`, checks the actor's
permission at the record's site, validates its input through the pure rules, names its act,
writes, and commits. Nothing here holds a clinical or statistical rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise import __version__
from dosewise.clinical import dosing
from dosewise.errors import DosewiseError, InvalidInput
from dosewise.protocol.loader import parse_stored_protocol
from dosewise.protocol.model import Protocol
from dosewise.settings import Settings
from dosewise.store.tables import (
    Arm,
    DoseAssignment,
    Enrollment,
    ESignature,
    Infusion,
    Participant,
    Product,
    ProtocolVersion,
    User,
)
from dosewise.trial import esign
from dosewise.trial.access import Passwords, authorize
from dosewise.trial.audit import canonical_json, jsonable, sha256_hex
from dosewise.trial.calendar import local_today
from dosewise.trial.uow import NotFound, UnitOfWork


class WrongState(DosewiseError):
    """The act does not fit where the participant or arm is in the trial (e.g. infusion before
    release); the message says what has to happen first."""

    http_status = 409
    code = "wrong_state"


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
OFF_STUDY_REASONS = ("death", "withdrawal", "lost_to_follow_up", "investigator_decision", "other")


@dataclass(frozen=True)
class Signing:
    """What an act needs to make an e-signature: the hasher, the settings, the re-entered
    password and the meaning (Part 11 §11.50)."""

    passwords: Passwords
    settings: Settings
    password: str
    meaning: str = "approval"


# --------------------------------------------------------------------------- the protocol

_PROTOCOLS: dict[str, Protocol] = {}


def protocol_of(session: Session, protocol_version_id: int) -> Protocol:
    """The protocol text an arm runs under, parsed once per process (it is immutable)."""
    sha = session.scalar(
        select(ProtocolVersion.sha256).where(ProtocolVersion.id == protocol_version_id)
    )
    if sha is None:
        raise NotFound("protocol_versions", protocol_version_id, "no such protocol version")
    if sha not in _PROTOCOLS:
        version = session.get(ProtocolVersion, protocol_version_id)
        assert version is not None
        _PROTOCOLS[sha] = parse_stored_protocol(version.text, version.source)
    return _PROTOCOLS[sha]


def arm_protocol(session: Session, arm: Arm) -> Protocol:
    return protocol_of(session, arm.protocol_version_id)


def clinical_levels(protocol: Protocol) -> tuple[dosing.DoseLevel, ...]:
    """The protocol's dose ladder as the dosing rule's levels (design order)."""
    ladder = protocol.dose_levels
    return tuple(
        dosing.DoseLevel(lv.name, lv.cells_per_kg, lv.tolerance, lv.role)
        for lv in sorted(ladder.levels, key=lambda lv: lv.design_index.value)
    )


def level_name(protocol: Protocol, index: int) -> str:
    return protocol.dose_levels.by_index(index).name


def level_index(protocol: Protocol, name: str) -> int:
    return protocol.dose_levels.by_name(name).design_index.value


def rule_version(protocol: Protocol, arm_id: str) -> str:
    """Which rule decided: the dosewise version and a hash of the arm's design parameters."""
    params = protocol.design_params(arm_id).to_dict()
    digest = sha256_hex(canonical_json({"method": protocol.design.method, **params}))[:12]
    return f"dosewise {__version__} {digest}"[:64]


def decision_seed(nct_id: str, arm_id: str, cohort: int) -> int:
    """The seed of the random tie-break for the decision that opens ``cohort`` of an arm.

    The protocol breaks ties at random without a seed; the service derives one per decision
    from the trial, the arm and the cohort number, so every view (and ``dosewise decide
    --seed``) reproduces the same decision, and the seed is recorded with it.
    """
    digest = hashlib.sha256(f"{nct_id}:{arm_id}:{cohort}".encode()).hexdigest()
    return int(digest[:8], 16)


# --------------------------------------------------------------------------- finding records


def participant(uow: UnitOfWork, study_id: str, action: str) -> Participant:
    """The participant with ``study_id``, if the actor may do ``action`` at its site."""
    found = uow.session.scalar(select(Participant).where(Participant.study_id == study_id))
    if found is None:
        raise NotFound("study_id", study_id, "no such participant")
    authorize(uow.actor, action, found.site_id)
    return found


def enrollment_of(session: Session, participant_id: int) -> Enrollment | None:
    return session.scalar(select(Enrollment).where(Enrollment.participant_id == participant_id))


def require_enrollment(session: Session, p: Participant) -> Enrollment:
    found = enrollment_of(session, p.id)
    if found is None:
        raise WrongState("study_id", p.study_id, "is not enrolled in an arm yet")
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
        raise WrongState("user", uow.actor.username, "clinical acts are done by a logged-in user")
    return uow.actor.user_id


def acting_user(uow: UnitOfWork) -> User:
    if uow.actor.user_id is None:
        raise WrongState("user", uow.actor.username, "only a person can sign")
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
        raise InvalidInput(field, value.isoformat(), f"is in the future (today is {now})")
    return value


def not_before(field: str, value: date, other: date | None, what: str) -> None:
    if other is not None and value < other:
        raise InvalidInput(field, value.isoformat(), f"is before {what} ({other.isoformat()})")


def study_day(on: date, infused_on: date | None) -> int | None:
    """Study day of ``on``: day 0 is the infusion day."""
    return None if infused_on is None else (on - infused_on).days


def as_json(value: Any) -> Any:
    """A value as plain JSON types, exactly as it is stored in a JSON column."""
    return jsonable(value)


def death_date(p: Participant) -> date | None:
    reason = (p.off_study_reason or "").split(":", 1)[0]
    return p.off_study_on if reason == "death" else None
