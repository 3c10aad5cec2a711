"""Register, consent, screen and enroll a participant, and take them off study.

Participants are pseudonymous: the service issues the study ID (``S01-0007``: site and a
running number), and no name, initials or birth date is stored. Consent and screening records
are checked with the full data the site enters (a birth date gives the exact age), then stored
without identifiers: names are dropped and the birth date becomes the age in completed years.

Order of acts, as the registry asks (consent "before any screening procedure"): register →
consent → screen for an arm (eligible / screen failure) → enroll into that arm.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select

from dosewise.errors import InvalidInput
from dosewise.protocol import parse_screening
from dosewise.store.tables import (
    Arm,
    Enrollment,
    Participant,
    ProtocolVersion,
    Screening,
    Site,
)
from dosewise.trial.access import authorize
from dosewise.trial.refusals import as_reason, refusal
from dosewise.trial.services._common import (
    OFF_STUDY_REASONS,
    LimitReached,
    WrongState,
    arm_protocol,
    as_json,
    enrollment_of,
    not_before,
    participant,
    protocol_of,
    today,
    user_id,
)
from dosewise.trial.services.consents import IDENTIFYING_KEYS as IDENTIFYING_KEYS
from dosewise.trial.services.consents import deidentified, latest_consent
from dosewise.trial.services.consents import record_consent as record_consent
from dosewise.trial.services.consents import void_consent as void_consent
from dosewise.trial.services.timeline import check_date, not_in_future
from dosewise.trial.state import ArmState, arm_state, next_status, screening_event
from dosewise.trial.uow import NotFound, UnitOfWork

#: Timeline points a screening or an enrolment date may not precede (consent comes "before
#: any screening procedure").
SCREENING_AFTER = ("birth", "registration", "consent")
ENROLLMENT_AFTER = ("birth", "registration", "consent", "screening")


def register_participant(
    uow: UnitOfWork,
    site_id: str,
    *,
    year_of_birth: int | None = None,
    registered_on: date | None = None,
) -> Participant:
    """Register a participant at a site; the service issues the pseudonymous study ID."""
    authorize(uow.actor, "participant.write", site_id)
    # The site's row is the counter's lock: registrations at one site take their numbers one
    # after the other (PostgreSQL would otherwise hand two of them the same study ID).
    try:
        site = uow.lock(Site, site_id)
    except NotFound:
        raise refusal(InvalidInput, "site_id", site_id, "no_such_site") from None
    if not site.active:
        raise refusal(InvalidInput, "site_id", site_id, "no_such_site")
    on = not_in_future(uow, site_id, "registered_on", registered_on or today(uow, site_id))
    if year_of_birth is not None and not (1900 <= year_of_birth <= on.year):
        raise refusal(InvalidInput, "year_of_birth", year_of_birth, "year_range", year=on.year)
    count = uow.session.scalar(
        select(func.count()).select_from(Participant).where(Participant.site_id == site_id)
    )
    uow.act("participant.register", site_id=site_id)
    p = uow.add(
        Participant(
            study_id=f"{site_id}-{int(count or 0) + 1:04d}",
            site_id=site_id,
            status="registered",
            year_of_birth=year_of_birth,
            registered_on=on,
            created_at=uow.now(),
            created_by=user_id(uow),
        )
    )
    uow.commit()
    return p


def screen(uow: UnitOfWork, study_id: str, arm_id: str, record: Mapping[str, Any]) -> Screening:
    """Apply every eligibility criterion of the protocol for ``arm_id`` to the record.

    Without a ``consent`` section, the participant's recorded consent is used, so the consent
    criterion is judged on what was actually recorded.
    """
    p = participant(uow, study_id, "participant.write")
    if enrollment_of(uow.session, p.id) is not None:
        raise refusal(WrongState, "study_id", study_id, "enrolled_screen_first")
    arm = uow.session.get(Arm, arm_id)
    if arm is None:
        raise refusal(InvalidInput, "arm_id", arm_id, "no_such_arm")
    protocol = arm_protocol(uow.session, arm)
    data = dict(record)
    if "consent" not in data:
        consent = latest_consent(uow, p.id)
        if consent is not None:
            data["consent"] = {**consent.record, "age_years": consent.age_years}
            data["consent"].pop("date_of_birth", None)
    rec = parse_screening(data)
    check_date(uow, p, "screening_date", rec.screening_date, after=SCREENING_AFTER)
    result = protocol.screen(rec, arm_id)
    eligible = result.overall == "eligible"
    uow.act("participant.screen", site_id=p.site_id)
    screening = uow.add(
        Screening(
            participant_id=p.id,
            arm_id=arm_id,
            screened_on=rec.screening_date,
            age_years=rec.age,
            weight_kg=None,
            record=deidentified(data, rec.age),
            criteria=as_json([c.model_dump(mode="json") for c in result.criteria]),
            eligible=eligible,
            failed_criteria=list(result.failed)
            + [f"not assessed: {c}" for c in result.not_assessed],
            protocol_version_id=arm.protocol_version_id,
            created_at=uow.now(),
            created_by=user_id(uow),
        )
    )
    event = screening_event(eligible, screening.criteria or [])
    if event is not None:
        p.status = next_status(p.status, event)
    uow.commit()
    return screening


def enroll(
    uow: UnitOfWork,
    study_id: str,
    arm_id: str,
    *,
    enrolled_on: date | None = None,
    expected_arm_version: int | None = None,
) -> Enrollment:
    """Enroll an eligible, consented participant into the arm they were screened for.

    Claims the arm (serialising with every other act on it); phase 2 takes at most the arm's
    ``phase2_expansion`` participants.
    """
    p = participant(uow, study_id, "participant.write")
    if enrollment_of(uow.session, p.id) is not None:
        raise refusal(WrongState, "study_id", study_id, "already_enrolled")
    screening = uow.session.scalar(
        select(Screening)
        .where(Screening.participant_id == p.id, Screening.arm_id == arm_id)
        .order_by(Screening.id.desc())
        .limit(1)
    )
    if screening is None or not screening.eligible:
        raise refusal(WrongState, "arm_id", arm_id, "no_eligible_screening", study_id=study_id)
    consent = latest_consent(uow, p.id)
    if consent is None or not consent.valid or consent.withdrawn_on is not None:
        raise refusal(WrongState, "study_id", study_id, "no_valid_consent")
    if p.off_study_on is not None:
        raise refusal(WrongState, "study_id", study_id, "off_study")
    on = check_date(
        uow, p, "enrolled_on", enrolled_on or today(uow, p.site_id), after=ENROLLMENT_AFTER
    )
    not_before("enrolled_on", on, screening.screened_on, "the screening")
    arm = uow.session.get(Arm, arm_id)
    if arm is None:
        raise refusal(InvalidInput, "arm_id", arm_id, "no_such_arm")
    # Lock order: the protocol version's row (one per trial: the trial-wide count), then the
    # arm's. Concurrent enrolments into any arm run one after the other, so no limit is passed.
    uow.lock(ProtocolVersion, arm.protocol_version_id)
    arm = uow.claim_arm(arm_id, expected_arm_version)
    phase, state = _enrolment_phase(uow, arm, on)
    check_limits(uow, arm, phase, state)
    sequence = uow.session.scalar(
        select(func.coalesce(func.max(Enrollment.sequence), 0)).where(Enrollment.arm_id == arm_id)
    )
    uow.act("participant.enroll", site_id=p.site_id)
    enrollment = uow.add(
        Enrollment(
            participant_id=p.id,
            arm_id=arm_id,
            site_id=p.site_id,
            phase=phase,
            sequence=int(sequence or 0) + 1,
            enrolled_on=on,
            arm_version=arm.version,
            created_at=uow.now(),
            created_by=user_id(uow),
        )
    )
    p.arm_id = arm_id
    p.status = next_status(p.status, "enroll")
    uow.commit()
    return enrollment


def _enrolment_phase(uow: UnitOfWork, arm: Arm, on: date) -> tuple[int, ArmState | None]:
    """The phase an enrolment into ``arm`` joins (and the arm's state on ``on``, when it was
    needed to tell), or 409 when the arm takes nobody now."""
    if arm.phase == "phase1":
        state = arm_state(uow.session, arm.id, as_of=on)
        step = state.next
        if step.action in ("select_obd", "stop"):
            raise refusal(WrongState, "arm_id", arm.id, "dose_finding_ended", step=as_reason(step))
        return 1, state
    if arm.phase == "phase2":
        return 2, None
    raise refusal(WrongState, "arm_id", arm.id, "arm_closed")


def _enrolled(uow: UnitOfWork, *where: Any) -> int:
    stmt = select(func.count()).select_from(Enrollment)
    for clause in where:
        stmt = stmt.where(clause)
    return int(uow.session.scalar(stmt) or 0)


def check_limits(uow: UnitOfWork, arm: Arm, phase: int, state: ArmState | None = None) -> None:
    """Refuse (409 ``limit_reached``) an enrolment past the arm's phase 1 maximum, its phase 2
    size or the trial's total enrolment (``design.total_enrollment`` of the protocol).
    Participants the trial replaces (the read model's ``replaced``: not evaluable or safety
    only in phase 1, given the fallback level in phase 2 under ``evaluation.phase2_fallback``)
    are not counted: a replacement is enrolled for each.

    Arm states are computed only when the plain count of enrolments reaches a limit (only then
    can a replaced participant change the answer), and ``state`` (the arm's, already computed
    by the caller) is reused. The caller holds the arm's and the protocol version's row locks,
    so the counts cannot change before it commits.
    """
    states: dict[str, ArmState] = {} if state is None else {arm.id: state}

    def replaced_in(arm_id: str) -> dict[int, int]:
        if arm_id not in states:
            states[arm_id] = arm_state(uow.session, arm_id, as_of=today(uow))
        return states[arm_id].replaced_by_phase

    if phase == 1:
        limit, what = arm.phase1_max_n, "phase 1 maximum"
    else:
        limit, what = arm.phase2_expansion, "phase 2 size"
    taken = _enrolled(uow, Enrollment.arm_id == arm.id, Enrollment.phase == phase)
    if taken >= limit:
        taken -= replaced_in(arm.id).get(phase, 0)
    if taken >= limit:
        raise refusal(
            LimitReached, "arm_id", arm.id, "arm_limit", limit_name=what, taken=taken, limit=limit
        )
    total = protocol_of(uow.session, arm.protocol_version_id).design.total_enrollment
    everyone = _enrolled(uow)
    if everyone >= total:
        arm_ids = list(uow.session.scalars(select(Arm.id)))
        everyone -= sum(sum(replaced_in(a).values()) for a in arm_ids)
    if everyone >= total:
        raise refusal(LimitReached, "arm_id", arm.id, "trial_limit", taken=everyone, limit=total)


def take_off_study(
    uow: UnitOfWork, study_id: str, *, off_study_on: date, reason_code: str, reason: str
) -> Participant:
    """Record that a participant left the study (death, withdrawal ...), when and why."""
    p = participant(uow, study_id, "participant.write")
    if p.off_study_on is not None:
        raise refusal(WrongState, "study_id", study_id, "off_study_since", date=str(p.off_study_on))
    if reason_code not in OFF_STUDY_REASONS:
        raise refusal(InvalidInput, "reason_code", reason_code, "one_of", choices=OFF_STUDY_REASONS)
    check_date(uow, p, "off_study_on", off_study_on, after=("birth", "registration"))
    if p.arm_id is not None:
        uow.claim_arm(p.arm_id)
    uow.act("participant.off_study", site_id=p.site_id, reason=reason)
    p.off_study_on = off_study_on
    p.off_study_reason = f"{reason_code}: {reason.strip()}"
    p.status = next_status(p.status, "leave")
    uow.commit()
    return p
