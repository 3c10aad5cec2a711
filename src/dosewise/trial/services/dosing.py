"""Assign a dose from the arm's design state, and confirm the decision with an e-signature.

The assignment claims the arm first (``SELECT ... FOR UPDATE`` on PostgreSQL, a write lock on
SQLite), then computes :func:`dosewise.trial.state.arm_state` inside the same transaction:
two sites assigning at the same moment are served one after the other, and the second sees the
first's patient. A client that says which arm version it saw (``expected_arm_version``) is
refused with 409 if the arm moved on in between. While the design says the next patient must
wait, the assignment is refused (409 ``must_wait``) with the date the last window closes, and
the refusal is itself audited. While a signed record of the arm (a confirmed assignment, a
product release, a DLT adjudication) no longer matches its signature, no dose is assigned (409
``signature_broken``): the design would decide on data nobody signed. While a participant of
the arm needs DLT re-adjudication (a final adjudication reopened by a new possible DLT), no dose
is assigned either (409 ``needs_readjudication``, naming the participant), whatever the design
would say.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NoReturn

from dosewise.errors import DosewiseError
from dosewise.store.tables import Arm, DoseAssignment, Enrollment, Participant
from dosewise.trial import signed
from dosewise.trial.confidential import redact_for
from dosewise.trial.refusals import refusal
from dosewise.trial.services._common import (
    DesignStopped,
    MustWait,
    Signing,
    WrongState,
    arm_protocol,
    as_json,
    current_assignment,
    participant,
    require_enrollment,
    rule_version,
    sign,
    today,
    user_id,
)
from dosewise.trial.state import ArmState, arm_state, next_status
from dosewise.trial.state.cache import records_cache
from dosewise.trial.uow import ConcurrencyConflict, UnitOfWork


class NeedsReadjudication(WrongState):
    """A participant of the arm needs DLT re-adjudication before the next dose assignment."""

    code = "needs_readjudication"


def check_assignable(
    uow: UnitOfWork, study_id: str, *, expected_arm_version: int | None = None
) -> None:
    """Refuse early, without locking the arm, what :func:`assign_dose` would refuse.

    Run in a read-only unit of work before the assignment: a refusal (the design says wait,
    or dose finding has ended) then costs no write lock but its own short audited event, so
    the many sites asking while a cohort's outcomes are pending do not queue behind each other.
    The verdict is kept (:func:`~dosewise.trial.state.cache.records_cache`) for this actor,
    participant and day until any record changes, so asking again costs one query and the
    audited event. Whatever this lets through, :func:`assign_dose` decides again under the
    arm's lock.
    """
    verdict = records_cache(uow.session).get(
        uow.session,
        ("dose.assignable", study_id, uow.actor, today(uow)),
        lambda: _assignability(uow, study_id),
    )
    if verdict.early is not None:
        raise verdict.early.thawed()
    if expected_arm_version is not None and expected_arm_version != verdict.arm_version:
        raise refusal(
            ConcurrencyConflict,
            "version",
            expected_arm_version,
            "arm_version",
            arm=verdict.arm_id,
            version=verdict.arm_version,
        )
    if verdict.refused is not None and verdict.site_id is not None:
        _audit_refusal(uow, verdict.refused, verdict.site_id)
    if verdict.error is not None:
        raise verdict.error.thawed()


@dataclass(frozen=True)
class _Frozen:
    """A refusal kept in the cache: its class and fields, raised anew (a fresh exception
    object, with its own traceback) by each request that meets it."""

    cls: type[DosewiseError]
    args: tuple[Any, ...]
    fields: dict[str, Any]

    @classmethod
    def of(cls, error: DosewiseError) -> _Frozen:
        return cls(type(error), error.args, dict(vars(error)))

    def thawed(self) -> DosewiseError:
        error = self.cls.__new__(self.cls)
        error.args = self.args
        vars(error).update(self.fields)
        return error


@dataclass(frozen=True)
class _Verdict:
    """What :func:`check_assignable` finds for one actor, participant and day."""

    #: Why the participant cannot be assigned at all (unknown, another site's, has a dose, ...).
    early: _Frozen | None = None
    arm_id: str | None = None
    arm_version: int | None = None
    #: The design's (or the signatures') refusal, and the refusal event to audit with it.
    error: _Frozen | None = None
    refused: dict[str, Any] | None = None
    #: The participant's site (where the refusal is recorded).
    site_id: str | None = None


def _assignability(uow: UnitOfWork, study_id: str) -> _Verdict:
    try:
        p, enrollment = _assignable(uow, study_id)
    except DosewiseError as early:
        return _Verdict(early=_Frozen.of(early))
    arm = uow.get(Arm, enrollment.arm_id)
    found = _Verdict(arm_id=arm.id, arm_version=arm.version)
    try:
        signed.refuse_if_broken(uow.session, arm.id)
        state = arm_state(uow.session, arm.id, as_of=today(uow))
        if state.needs_readjudication or state.next.action != "assign" or state.next.dose is None:
            refused, error = _refusal(uow, study_id, p.site_id, state)
            return replace(found, error=_Frozen.of(error), refused=refused, site_id=p.site_id)
    except DosewiseError as error:
        return replace(found, error=_Frozen.of(error))
    return found


def _assignable(uow: UnitOfWork, study_id: str) -> tuple[Participant, Enrollment]:
    p = participant(uow, study_id, "dose.assign")
    enrollment = require_enrollment(uow.session, p)
    if current_assignment(uow.session, p.id) is not None:
        raise refusal(WrongState, "study_id", study_id, "has_assignment")
    if p.off_study_on is not None:
        raise refusal(WrongState, "study_id", study_id, "off_study")
    return p, enrollment


def assign_dose(
    uow: UnitOfWork, study_id: str, *, expected_arm_version: int | None = None
) -> DoseAssignment:
    """Give the participant the dose the arm's design gives the next patient now."""
    p, enrollment = _assignable(uow, study_id)
    arm = uow.claim_arm(enrollment.arm_id, expected_arm_version)
    signed.refuse_if_broken(uow.session, arm.id)
    protocol = arm_protocol(uow.session, arm)
    state = arm_state(uow.session, arm.id, as_of=today(uow), protocol=protocol)
    step = state.next
    if state.needs_readjudication or step.action != "assign" or step.dose is None:
        _refuse(uow, study_id, p.site_id, state)
    if step.phase != enrollment.phase:
        raise refusal(
            WrongState,
            "study_id",
            study_id,
            "phase_mismatch",
            phase=enrollment.phase,
            arm_phase=arm.phase,
        )
    assert step.dose is not None and step.level is not None
    uow.act("dose.assign", site_id=p.site_id)
    decision: dict[str, Any] = dict(step.decision or {})
    decision.setdefault("reason", step.reason)
    decision["step_reason"] = step.reason
    decision["step_reason_code"] = step.reason_code or None
    decision["step_reason_params"] = step.reason_params
    decision["new_decision"] = step.new_decision
    assignment = uow.add(
        DoseAssignment(
            participant_id=p.id,
            arm_id=arm.id,
            phase=enrollment.phase,
            cohort=step.cohort or 0,
            dose_index=step.dose,
            dose_level=step.level,
            state=as_json(state.snapshot()),
            decision=as_json(decision),
            rule_version=rule_version(protocol, arm.id),
            protocol_version_id=arm.protocol_version_id,
            status="proposed",
            arm_version=arm.version,
            assigned_at=uow.now(),
            assigned_by=user_id(uow),
        )
    )
    p.status = next_status(p.status, "assign_dose")
    uow.commit()
    return assignment


def _refuse(uow: UnitOfWork, study_id: str, site_id: str, state: ArmState) -> NoReturn:
    """Raise why no dose can be given now, and audit the refusal (in its own transaction)."""
    refused, error = _refusal(uow, study_id, site_id, state)
    _audit_refusal(uow, refused, site_id)
    raise error


def _audit_refusal(uow: UnitOfWork, refused: dict[str, Any], site_id: str) -> None:
    """Record the refusal if the unit of work ends with it (it does: the caller raises)."""
    uow.event_on_failure(
        "dose.assign_refused", "arms", refused["arm_id"], after=refused, site_id=site_id
    )


def _refusal(
    uow: UnitOfWork, study_id: str, site_id: str, state: ArmState
) -> tuple[dict[str, Any], DosewiseError]:
    """Why no dose can be given now: the refusal event's content (what the audit trail keeps,
    unredacted) and the error the actor is shown (naming only what the actor may see)."""
    step = state.next
    reopened = [p.study_id for p in state.needs_readjudication]
    reason = f"DLT re-adjudication needed first: {', '.join(reopened)}" if reopened else step.reason
    refused = {
        "study_id": study_id,
        "arm_id": state.arm_id,
        "action": "needs_readjudication" if reopened else step.action,
        "reason": reason,
        "needs_readjudication": reopened,
        "reason_code": step.reason_code or None,
        "reason_params": step.reason_params,
        "wait_until": None if step.wait_until is None else step.wait_until.isoformat(),
        "arm_version": state.version,
    }

    shown = redact_for(uow.actor, state)  # the refusal may name only the actor's own site
    if reopened:
        own = shown.needs_readjudication
        others = len(reopened) - len(own)
        names = [p.study_id for p in own]
        first = own[0].reopened if own else None
        why: Any = first.as_reason() if first is not None else "reopened"
        code = "needs_readjudication"
        if others:
            code = "needs_readjudication_others" if names else "needs_readjudication_elsewhere"
        return refused, refusal(
            NeedsReadjudication,
            "study_id",
            own[0].study_id if own else None,
            code,
            names=names,
            others=others,
            why=why,
        )
    told = shown.next  # the reason may name other sites' patients
    if step.action == "wait":
        until = step.wait_until.isoformat() if step.wait_until else None
        return refused, MustWait(
            "wait_until",
            until,
            told.reason,
            reason_code=told.reason_code,
            reason_params=told.reason_params,
        )
    return refused, DesignStopped(
        "arm_id",
        state.arm_id,
        told.reason,
        reason_code=told.reason_code,
        reason_params=told.reason_params,
    )


def confirmation_content(a: DoseAssignment, study_id: str) -> dict[str, Any]:
    """What a dose confirmation signs (the one definition: :mod:`dosewise.trial.signed`)."""
    return signed.dose_assignment_content(a, study_id)


def confirm_dose(uow: UnitOfWork, signing: Signing, study_id: str) -> DoseAssignment:
    """Confirm the participant's proposed dose (statistician or investigator, e-signed)."""
    p = participant(uow, study_id, "dose.confirm")
    a = current_assignment(uow.session, p.id)
    if a is None:
        raise refusal(WrongState, "study_id", study_id, "no_assignment_to_confirm")
    if a.status != "proposed":
        raise refusal(WrongState, "study_id", study_id, "assignment_already", status=a.status)
    uow.act("dose.confirm", site_id=p.site_id)
    signature = sign(uow, signing, "dose_assignments", a.id, confirmation_content(a, study_id))
    a.status = "confirmed"
    a.confirmed_at = uow.now()
    a.confirmed_by = user_id(uow)
    a.signature_id = signature.id
    uow.commit()
    return a
