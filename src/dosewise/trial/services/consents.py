"""Consent: who signs which form by age band, one record per consent version, corrections
and voiding an incomplete consent.

Consent records are checked with the full data the site enters (a birth date gives the exact
age), then stored without identifiers: names are dropped and the birth date becomes the age in
completed years. Re-consent on a new consent version is allowed (the protocol's amendments); a
second record of the same version only as an explicit, audited correction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from dosewise.errors import InvalidInput
from dosewise.protocol import parse_consent
from dosewise.store.tables import Arm, Consent
from dosewise.trial.refusals import refusal
from dosewise.trial.services._common import WrongState, as_json, participant, protocol_of, user_id
from dosewise.trial.services.timeline import check_date
from dosewise.trial.state import next_status
from dosewise.trial.uow import NotFound, UnitOfWork

#: Keys of a consent or screening record that identify a person and are never stored.
IDENTIFYING_KEYS = ("subject_id", "date_of_birth", "name")


def deidentified(record: Mapping[str, Any], age: int | None) -> dict[str, Any]:
    """``record`` without identifiers: names dropped, the birth date replaced by the age."""
    out = {k: v for k, v in record.items() if k not in IDENTIFYING_KEYS}
    if "date_of_birth" in record and age is not None and "age_years" not in out:
        out["age_years"] = age
    if isinstance(record.get("signatures"), list):
        out["signatures"] = [
            {k: v for k, v in s.items() if k != "name"} if isinstance(s, Mapping) else s
            for s in record["signatures"]
        ]
    if isinstance(record.get("consent"), Mapping):
        out["consent"] = deidentified(record["consent"], None)
    return as_json(out)


def record_consent(
    uow: UnitOfWork,
    study_id: str,
    record: Mapping[str, Any],
    *,
    consent_version: str,
    correction_reason: str | None = None,
) -> Consent:
    """Record the consent and check it against the protocol's age bands (who signs what).

    One consent per consent version: a second record of a version the participant already has
    is refused (409) unless it is an explicit correction of that record (``correction_reason``,
    audited as ``consent.correct``); re-consent on a new version is allowed at any point before
    the participant leaves the study. A consent missing a required signature is stored as
    incomplete (``valid`` false, ``missing`` says what) and does not count as consent.
    """
    p = participant(uow, study_id, "participant.write")
    if p.off_study_on is not None:
        raise refusal(WrongState, "study_id", study_id, "off_study")
    version = consent_version.strip()
    if not version:
        raise refusal(InvalidInput, "consent_version", consent_version, "required")
    same = _consent_of_version(uow, p.id, version)
    correcting = correction_reason is not None
    if correcting and not (correction_reason or "").strip():
        raise refusal(
            InvalidInput, "correction_reason", correction_reason, "required_for_correction"
        )
    if same is not None and not correcting:
        state = "complete" if same.valid else "incomplete"
        raise refusal(
            WrongState,
            "consent_version",
            version,
            "consent_exists",
            study_id=study_id,
            version=version,
            state=state,
            date=same.consent_on.isoformat(),
            void="" if same.valid else ", void it",
        )
    if same is None and correcting:
        raise refusal(
            InvalidInput,
            "correction_reason",
            correction_reason,
            "no_consent_to_correct",
            version=version,
        )
    rules = _protocol_for_site(uow)
    rec = parse_consent(record)
    check_date(uow, p, "consent_date", rec.consent_date, after=("birth",))
    check = rules.check_consent(rec)
    if check.age_years is None:
        raise refusal(InvalidInput, "age_years", None, "age_or_birth")
    values = {
        "consent_on": rec.consent_date,
        "age_years": check.age_years,
        "band": check.band_label or "none",
        "record": deidentified(record, rec.age_at_consent),
        "valid": check.complete,
        "missing": [str(m) for m in check.missing] + list(check.problems),
    }
    if same is not None:
        uow.act("consent.correct", reason=(correction_reason or "").strip(), site_id=p.site_id)
        for key, value in values.items():
            setattr(same, key, value)
        consent = same
    else:
        uow.act("consent.record", site_id=p.site_id)
        consent = uow.add(
            Consent(
                participant_id=p.id,
                consent_version=version,
                created_at=uow.now(),
                created_by=user_id(uow),
                **values,
            )
        )
    if check.complete and p.status in ("registered", "screen_failed", "consented"):
        p.status = next_status(p.status, "consent")
    if p.year_of_birth is None and rec.date_of_birth is not None:
        p.year_of_birth = rec.date_of_birth.year
    uow.commit()
    return consent


def void_consent(uow: UnitOfWork, study_id: str, consent_id: int, *, reason: str) -> Consent:
    """Set an incomplete consent aside with the reason (a complete one is withdrawn instead)."""
    p = participant(uow, study_id, "participant.write")
    row = uow.session.get(Consent, consent_id)
    if row is None or row.participant_id != p.id:
        raise refusal(NotFound, "consent_id", consent_id, "no_such_consent", study_id=study_id)
    if not reason.strip():
        raise refusal(InvalidInput, "reason", reason, "void_reason")
    if row.voided_at is not None:
        raise refusal(WrongState, "consent_id", consent_id, "already_voided")
    if row.valid:
        raise refusal(WrongState, "consent_id", consent_id, "consent_complete")
    uow.act("consent.void", reason=reason.strip(), site_id=p.site_id)
    row.voided_at = uow.now()
    row.void_reason = reason.strip()
    uow.commit()
    return row


def _consent_of_version(uow: UnitOfWork, participant_id: int, version: str) -> Consent | None:
    """The participant's consent record of ``version`` that is not voided."""
    return uow.session.scalar(
        select(Consent)
        .where(
            Consent.participant_id == participant_id,
            Consent.consent_version == version,
            Consent.voided_at.is_(None),
        )
        .order_by(Consent.id.desc())
        .limit(1)
    )


def latest_consent(uow: UnitOfWork, participant_id: int) -> Consent | None:
    """The participant's most recent consent record that is not voided."""
    return uow.session.scalar(
        select(Consent)
        .where(Consent.participant_id == participant_id, Consent.voided_at.is_(None))
        .order_by(Consent.id.desc())
        .limit(1)
    )


def _protocol_for_site(uow: UnitOfWork) -> Any:
    """The protocol of the arms (all arms share the protocol version loaded at setup)."""
    version_id = uow.session.scalar(select(Arm.protocol_version_id).limit(1))
    if version_id is None:
        raise refusal(NotFound, "arms", None, "no_arms")
    return protocol_of(uow.session, version_id)
