"""Where the read model's inputs come from: the protocol an arm runs under, a participant's death.

Kept here (not in :mod:`dosewise.trial.services`) so that the read model depends on nothing of
the services; the services re-export what they use.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise.protocol.loader import parse_stored_protocol
from dosewise.protocol.model import Protocol
from dosewise.store.tables import Arm, Participant, ProtocolVersion
from dosewise.trial.uow import NotFound

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
    """The protocol ``arm`` runs under."""
    return protocol_of(session, arm.protocol_version_id)


def death_date(p: Participant) -> date | None:
    """The day the participant died: leaving the study with reason code ``death``."""
    reason = (p.off_study_reason or "").split(":", 1)[0]
    return p.off_study_on if reason == "death" else None
