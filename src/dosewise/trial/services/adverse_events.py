"""Record adverse events: CTCAE v5.0 grades, and CRS / ICANS graded from their ASTCT components.

For CRS and ICANS the site enters the components (fever, hypotension and vasopressors, oxygen;
ICE or CAPD score, consciousness, seizures, motor findings, oedema) and the grade is computed by
the ASTCT 2019 rule (``clinical.grade_crs`` / ``grade_icans``); a grade typed in that disagrees
is refused. Every event is validated as a ``clinical.AdverseEvent`` (term, SOC, scale, dates,
course) and kept whole in ``components.event``, so the DLT rule later reads exactly what was
recorded. A correction (resolution date, course, attribution ...) needs a reason and the
version the client saw.

An event recorded or corrected inside the DLT window that the protocol's DLT rule classifies as
DLT or possible DLT reopens a final "no DLT" / "not evaluable" adjudication (the read model,
``dosewise.trial.state.adjudication``, derives it); the reopening is audited
(``dlt.reopened``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from dosewise.clinical import (
    AdverseEvent as ClinicalEvent,
)
from dosewise.clinical import (
    CrsAssessment,
    IcansAssessment,
    find_term,
    grade_crs,
    grade_icans,
)
from dosewise.errors import InvalidInput
from dosewise.store.tables import AdverseEvent, Arm, Consent, DltAdjudication, Participant
from dosewise.trial.refusals import refusal
from dosewise.trial.services._common import (
    arm_protocol,
    as_json,
    death_date,
    infusion_of,
    not_before,
    participant,
    require_enrollment,
    study_day,
    today,
    user_id,
)
from dosewise.trial.services.timeline import check_date
from dosewise.trial.state import Adjudication, clinical_events, reopening
from dosewise.trial.uow import ConcurrencyConflict, NotFound, UnitOfWork

#: Adverse events are collected from the informed consent on (ICH E6); an event before the
#: infusion is kept and labelled pre-treatment (negative study day).
AE_AFTER = ("birth", "consent")

__all__ = ["clinical_events", "events_of", "record_adverse_event", "update_adverse_event"]


def _age_now(uow: UnitOfWork, participant_id: int) -> int | None:
    """Completed years today, from the age at consent (no birth date is stored)."""
    consent = uow.session.scalar(
        select(Consent)
        .where(Consent.participant_id == participant_id)
        .order_by(Consent.id.desc())
        .limit(1)
    )
    if consent is None:
        return None
    return consent.age_years + int((today(uow) - consent.consent_on).days / 365.25)


def _grade(
    term: str,
    grade: int | None,
    crs: Mapping[str, Any] | None,
    icans: Mapping[str, Any] | None,
    age: int | None,
) -> tuple[int, dict[str, Any] | None, dict[str, Any] | None]:
    """The grade (computed by ASTCT for CRS/ICANS), the components and the grading result."""
    known = find_term(term)
    kind = known.kind if known is not None else None
    if kind == "crs" or crs is not None:
        if crs is None:
            raise refusal(InvalidInput, "crs", None, "give_components", syndrome="CRS", part="crs")
        if kind != "crs":
            raise refusal(
                InvalidInput, "crs", "...", "components_not_syndrome", term=term, syndrome="CRS"
            )
        result = grade_crs(CrsAssessment.from_mapping(crs))
        components = dict(crs)
    elif kind == "icans" or icans is not None:
        if icans is None:
            raise refusal(
                InvalidInput, "icans", None, "give_components", syndrome="ICANS", part="icans"
            )
        if kind != "icans":
            raise refusal(
                InvalidInput, "icans", "...", "components_not_syndrome", term=term, syndrome="ICANS"
            )
        components = dict(icans)
        if components.get("age_years") is None and age is not None:
            components["age_years"] = age
        result = grade_icans(IcansAssessment.from_mapping(components))
    else:
        if grade is None:
            raise refusal(InvalidInput, "grade", None, "grade_required")
        return grade, None, None
    if result.grade == 0:
        raise refusal(
            InvalidInput,
            "crs" if kind == "crs" else "icans",
            "...",
            "astct_grade_zero",
            syndrome=result.syndrome,
            notes="; ".join(result.notes) or "nothing to grade",
        )
    if grade is not None and grade != result.grade:
        raise refusal(
            InvalidInput,
            "grade",
            grade,
            "astct_grade_differs",
            grade=result.grade,
            determined_by=result.determined_by,
        )
    return result.grade, components, result.to_dict()


def _event(
    term: str,
    grade: int,
    onset_on: date,
    resolved_on: date | None,
    course: Sequence[Mapping[str, Any]],
    details: Mapping[str, Any],
) -> ClinicalEvent:
    data: dict[str, Any] = {
        "term": term,
        "grade": grade,
        "onset": onset_on.isoformat(),
        "resolved": None if resolved_on is None else resolved_on.isoformat(),
        "course": [dict(c) for c in course],
        **{k: v for k, v in details.items() if v is not None},
    }
    return ClinicalEvent.from_mapping(as_json(data))


def record_adverse_event(
    uow: UnitOfWork,
    study_id: str,
    *,
    term: str,
    onset_on: date,
    grade: int | None = None,
    crs: Mapping[str, Any] | None = None,
    icans: Mapping[str, Any] | None = None,
    resolved_on: date | None = None,
    course: Sequence[Mapping[str, Any]] = (),
    serious: bool = False,
    attribution: str = "possible",
    soc: str | None = None,
    verbatim: str | None = None,
    baseline_present: bool = False,
    due_to_disease: bool = False,
    meddra_code: str | None = None,
    outcome: str | None = None,
    notes: str | None = None,
) -> AdverseEvent:
    """Record one adverse event of an enrolled participant."""
    p = participant(uow, study_id, "participant.write")
    enrollment = require_enrollment(uow.session, p)
    check_date(uow, p, "onset_on", onset_on, after=AE_AFTER)
    if resolved_on is not None:
        check_date(uow, p, "resolved_on", resolved_on, after=AE_AFTER)
        not_before("resolved_on", resolved_on, onset_on, "the onset")
    final_grade, components, astct = _grade(term, grade, crs, icans, _age_now(uow, p.id))
    details = {
        "serious": serious,
        "attribution": attribution,
        "soc": soc,
        "verbatim": verbatim,
        "baseline_present": baseline_present,
        "due_to_disease": due_to_disease,
    }
    event = _event(term, final_grade, onset_on, resolved_on, course, details)
    infusion = infusion_of(uow.session, p.id)
    uow.act("ae.record", site_id=p.site_id)
    row = uow.add(
        AdverseEvent(
            participant_id=p.id,
            term=event.term,
            meddra_code=meddra_code,
            category=str(event.kind),
            scale=str(event.scale),
            grade=event.grade,
            components=as_json({"event": event.to_dict(), "astct": components, "grading": astct}),
            onset_on=onset_on,
            resolved_on=resolved_on,
            study_day=study_day(onset_on, infusion.infused_on if infusion else None),
            serious=serious,
            attribution=attribution,
            outcome=outcome,
            notes=notes,
            recorded_at=uow.now(),
            recorded_by=user_id(uow),
        )
    )
    uow.flush()
    _audit_reopening(uow, p, enrollment.arm_id, row)
    uow.commit()
    return row


def update_adverse_event(
    uow: UnitOfWork,
    study_id: str,
    event_id: int,
    *,
    version: int,
    reason: str,
    resolved_on: date | None = None,
    course: Sequence[Mapping[str, Any]] | None = None,
    serious: bool | None = None,
    attribution: str | None = None,
    outcome: str | None = None,
    notes: str | None = None,
) -> AdverseEvent:
    """Correct or complete an event (resolution, course ...); the reason is audited."""
    p = participant(uow, study_id, "participant.write")
    row = uow.session.get(AdverseEvent, event_id)
    if row is None or row.participant_id != p.id:
        raise refusal(NotFound, "event_id", event_id, "no_such_event", study_id=study_id)
    if row.version != version:
        raise refusal(ConcurrencyConflict, "version", version, "event_version", version=row.version)
    stored = dict((row.components or {}).get("event") or {})
    if resolved_on is not None:
        check_date(uow, p, "resolved_on", resolved_on, after=AE_AFTER)
        not_before("resolved_on", resolved_on, row.onset_on, "the onset")
        stored["resolved"] = resolved_on.isoformat()
    if course is not None:
        stored["course"] = [dict(c) for c in course]
    if serious is not None:
        stored["serious"] = serious
    if attribution is not None:
        stored["attribution"] = attribution
    event = ClinicalEvent.from_mapping(as_json(stored))
    uow.act("ae.update", reason=reason, site_id=p.site_id)
    row.components = as_json({**(row.components or {}), "event": event.to_dict()})
    row.resolved_on = event.resolved
    row.serious = event.serious
    row.attribution = event.attribution
    if outcome is not None:
        row.outcome = outcome
    if notes is not None:
        row.notes = notes
    uow.flush()
    enrollment = require_enrollment(uow.session, p)
    _audit_reopening(uow, p, enrollment.arm_id, row)
    uow.commit()
    return row


def events_of(uow: UnitOfWork, participant_id: int) -> list[AdverseEvent]:
    return list(
        uow.session.scalars(
            select(AdverseEvent)
            .where(AdverseEvent.participant_id == participant_id)
            .order_by(AdverseEvent.onset_on, AdverseEvent.id)
        )
    )


def _audit_reopening(uow: UnitOfWork, p: Participant, arm_id: str, row: AdverseEvent) -> None:
    """Audit that ``row`` reopened the participant's final DLT adjudication (if it did)."""
    final = uow.session.scalar(
        select(DltAdjudication).where(
            DltAdjudication.participant_id == p.id, DltAdjudication.status == "final"
        )
    )
    infusion = infusion_of(uow.session, p.id)
    if final is None or infusion is None:
        return
    arm = uow.session.get(Arm, arm_id)
    assert arm is not None
    reopened = reopening(
        Adjudication.of(final),
        events_of(uow, p.id),
        infusion.infused_on,
        arm_protocol(uow.session, arm),
        today(uow),
        death_date=death_date(p),
        off_study_date=p.off_study_on,
    )
    if reopened is not None and row.id in reopened.event_ids:
        uow.event(
            "dlt.reopened",
            "dlt_adjudications",
            final.id,
            after={"study_id": p.study_id, "adverse_event_id": row.id, **reopened.to_dict()},
            site_id=p.site_id,
        )
