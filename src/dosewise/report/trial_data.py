"""The trial's records as tidy tables (pandas frames on demand): the one loader every data report
reads.

:func:`load_trial_data` reads the store once and returns :class:`TrialData` — one frame per kind
of fact (participants, exposure, adverse events, DLT adjudications, response assessments, audit
records) plus the read model's state of each arm (:func:`dosewise.trial.state.trial_state`).
Every derived column (status, the dose a participant is analysed at, DLT status, best overall
response, worst AE grade) is the read model's, never re-derived here. The DSMB report, the
ClinicalTrials.gov results and the SDTM/ODM exports all count from these frames, so a number is
computed one way everywhere.

Columns are documented on :class:`TrialData`. Dates are ``datetime.date`` (``None`` when
missing); doses are 1-based design indices with their level names. Each table is read as rows and
becomes a pandas frame when first read as one (:mod:`dosewise.report.trial_rows`): a report that
counts from :meth:`TrialData.rows` (the DSMB report) does not import pandas.

**Data cut-off.** ``as_of`` is a data cut-off: the frames *and* the arm states show the trial as
it stood at the end of that day, read from the records cut by :mod:`dosewise.report.cutoff`
(its module doc gives the date each kind of row is cut on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from dosewise.protocol import Protocol
from dosewise.report.cutoff import cut_view, end_of_day
from dosewise.report.trial_columns import (
    AE_COLUMNS,
    ARM_COLUMNS,
    AUDIT_COLUMNS,
    DEVIATION_COLUMNS,
    DLT_COLUMNS,
    LYMPHODEPLETION_COLUMNS,
    PARTICIPANT_COLUMNS,
    RESPONSE_COLUMNS,
    SCREENING_COLUMNS,
    SITE_COLUMNS,
)
from dosewise.report.trial_rows import Row, Rows, Table, present
from dosewise.store.tables import (
    AdverseEvent,
    Arm,
    AuditRecord,
    Consent,
    DoseAssignment,
    Enrollment,
    Infusion,
    Lymphodepletion,
    Participant,
    Phase1Closure,
    Product,
    ProtocolDeviation,
    ResponseAssessment,
    Screening,
    Site,
)
from dosewise.trial.audit import iso_utc
from dosewise.trial.state import ArmState, TrialState, arm_protocol, death_date, trial_state

if TYPE_CHECKING:
    import pandas as pd

#: The tables of :class:`TrialData`, by field name.
TableName = Literal[
    "sites",
    "arms",
    "participants",
    "adverse_events",
    "dlts",
    "responses",
    "audit",
    "screenings",
    "lymphodepletions",
    "deviations",
]


#: A participant is enrolled once this date is recorded, and treated (the safety population)
#: once this one is: the one rule for both the frames and the rows below.
ENROLLED_BY = "enrolled_on"
TREATED_BY = "infused_on"


@dataclass(frozen=True, kw_only=True)
class TrialData:
    """Everything a data report needs, read once.

    - ``participants``: one row per registered participant — ``participant_id, study_id,
      site_id, arm_id, status, sex, age_years, weight_kg, screened_on, eligible, consent_on,
      enrolled_on, phase, cohort, assigned_dose, assigned_level, planned_level, product_level,
      fallback, lot, infused_on, cells_per_kg, actual_dose, actual_level, dlt, dlt_evaluable, bor,
      responder, death_on, off_study_on, off_study_reason, last_on, product_rejected``
      (``product_rejected``: a product was made and rejected at release and none released —
      a product failure; added for the ClinicalTrials.gov flow, issue 18).
    - ``adverse_events``: one row per event — ``ae_id, participant_id, study_id, arm_id, term,
      soc, category, scale, grade, onset_on, resolved_on, duration_days, study_day, serious,
      attribution, outcome, is_dlt, actual_dose, actual_level``.
    - ``dlts``: final adjudications — ``participant_id, study_id, arm_id, is_dlt, evaluable,
      adverse_event_id, rule_id, rationale, adjudicated_on``.
    - ``responses``: assessments — ``participant_id, study_id, arm_id, assessed_on, study_day,
      timepoint, response, mrd_negative``.
    - ``audit``: the audit trail in sequence order (``seq, recorded_at, username, role, action,
      entity, entity_id, operation, before, after, reason, txn, hash``).
    - ``screenings``: every screening (a participant may be screened more than once) —
      ``screening_id, participant_id, study_id, arm_id, screened_on, eligible, failed_criteria``
      (a tuple of criterion ids).
    - ``lymphodepletions``: the lymphodepleting regimens given — ``participant_id, study_id,
      regimen, agents`` (a tuple of ``{agent, dose, unit, days}`` dicts, days relative to the
      infusion) ``, start_on, end_on``.
    """

    nct_id: str
    as_of: date
    protocol: Protocol
    # Each table is given as rows (the loader) or a frame, and read as a frame (built once).
    sites: Table = Table(SITE_COLUMNS)
    arms: Table = Table(ARM_COLUMNS)
    participants: Table = Table(PARTICIPANT_COLUMNS)
    adverse_events: Table = Table(AE_COLUMNS)
    dlts: Table = Table(DLT_COLUMNS)
    responses: Table = Table(RESPONSE_COLUMNS)
    audit: Table = Table(AUDIT_COLUMNS)
    states: Mapping[str, ArmState]
    # Added for the SDTM trial-design and exposure domains (issue 18); defaults keep every
    # existing constructor valid.
    screenings: Table = Table(SCREENING_COLUMNS, empty=True)
    lymphodepletions: Table = Table(LYMPHODEPLETION_COLUMNS, empty=True)
    #: Recorded protocol deviations (``protocol_deviations``), oldest first.
    deviations: Table = Table(DEVIATION_COLUMNS, empty=True)
    state: TrialState | None = None

    def rows(self, table: TableName) -> Rows:
        """A table's rows (plain Python values), without building its frame or importing pandas."""
        field: Table = vars(TrialData)[table]
        return field.rows(self)

    @property
    def enrolled(self) -> pd.DataFrame:
        """Participants enrolled in an arm (:data:`ENROLLED_BY`)."""
        return self._participants_with(ENROLLED_BY)

    @property
    def treated(self) -> pd.DataFrame:
        """Participants who received the CAR-T infusion, the safety population
        (:data:`TREATED_BY`)."""
        return self._participants_with(TREATED_BY)

    @property
    def enrolled_rows(self) -> list[Row]:
        """:attr:`enrolled` as rows."""
        return [r for r in self.rows("participants") if present(r[ENROLLED_BY])]

    @property
    def treated_rows(self) -> list[Row]:
        """:attr:`treated` as rows."""
        return [r for r in self.rows("participants") if present(r[TREATED_BY])]

    def _participants_with(self, column: str) -> pd.DataFrame:
        p = self.participants
        return p[p[column].map(present).astype(bool)]

    def dose_names(self, arm_id: str) -> list[str]:
        """The arm's design doses by name, 1-based order (``DL-1``, ``DL1``, ``DL2``)."""
        return [str(d["level"]) for d in self.states[arm_id].dose_levels]

    def dose_cells(self) -> dict[str, float]:
        """Level name → cells/kg."""
        out: dict[str, float] = {}
        for state in self.states.values():
            for d in state.dose_levels:
                out[str(d["level"])] = float(d["cells_per_kg"])
        return out


def records(frame: pd.DataFrame) -> list[Any]:
    """The frame's rows as objects with one attribute per column (plain Python values)."""
    return [SimpleNamespace(**{str(k): v for k, v in r.items()}) for r in frame.to_dict("records")]


def load_trial_data(session: Session, *, as_of: date) -> TrialData:
    """The trial's records as tidy frames and arm states, at the end of the day ``as_of``.

    Everything is read from the records cut at ``as_of`` (see the module doc), the audit trail
    from ``session`` up to the end of that day (UTC).
    """
    with cut_view(session, as_of) as view:
        return _load(view, session, as_of)


def _load(session: Session, store: Session, as_of: date) -> TrialData:
    """Frames and states from the cut records in ``session``; audit records from ``store``."""
    arms = list(session.scalars(select(Arm).order_by(Arm.id)))
    if arms:
        protocol = arm_protocol(session, arms[0])
    else:
        from dosewise.protocol import default_protocol

        protocol = default_protocol()
    ts = trial_state(session, as_of=as_of, arm_ids=protocol.arm_ids)
    states = dict(ts.arms)
    arm_order = [a.id for a in protocol.arms]
    arms.sort(key=lambda a: arm_order.index(a.id) if a.id in arm_order else len(arm_order))
    sites = tuple(
        {"site_id": s.id, "name": s.name, "city": s.city, "country": s.country}
        for s in session.scalars(select(Site).order_by(Site.id))
    )
    closures = {c.arm_id: c for c in session.scalars(select(Phase1Closure))}
    arm_rows = tuple(
        {
            "arm_id": a.id,
            "label": a.label,
            "phase": a.phase,
            "obd_level": closures[a.id].obd_level if a.id in closures else None,
            "rp2d_level": closures[a.id].rp2d_level if a.id in closures else None,
        }
        for a in arms
    )
    participants = _participants(session, ts)
    arm_of = {r["participant_id"]: r["arm_id"] for r in participants}
    sid_of = {r["participant_id"]: r["study_id"] for r in participants}
    dlts = _dlts(ts, arm_of, sid_of)
    dlt_events = {int(i) for r in dlts for i in r["dlt_event_ids"]}
    dlt_events |= {int(r["adverse_event_id"]) for r in dlts if r["adverse_event_id"] is not None}
    adverse_events = _adverse_events(session, participants, dlt_events)
    responses = tuple(
        {
            "participant_id": r.participant_id,
            "study_id": sid_of.get(r.participant_id),
            "arm_id": arm_of.get(r.participant_id),
            "assessed_on": r.assessed_on,
            "study_day": r.study_day,
            "timepoint": r.timepoint,
            "response": r.response,
            "mrd_negative": r.mrd_negative,
        }
        for r in session.scalars(
            select(ResponseAssessment).order_by(
                ResponseAssessment.participant_id, ResponseAssessment.assessed_on
            )
        )
    )
    # The trail is the longest table: read as plain rows (no ORM objects), the same values.
    audit_table = AuditRecord.__table__
    audit_rows = tuple(
        dict(r)
        for r in store.execute(
            select(*(audit_table.c[c] for c in AUDIT_COLUMNS))
            .where(AuditRecord.recorded_at < iso_utc(end_of_day(as_of)))
            .order_by(AuditRecord.seq)
        ).mappings()
    )
    return TrialData(
        nct_id=protocol.registry.nct_id,
        as_of=as_of,
        protocol=protocol,
        sites=sites,
        arms=arm_rows,
        participants=participants,
        adverse_events=adverse_events,
        dlts=dlts,
        responses=responses,
        audit=audit_rows,
        states=states,
        screenings=_screenings(session, sid_of),
        lymphodepletions=_lymphodepletions(session, sid_of),
        deviations=_deviations(session, sid_of),
        state=ts,
    )


# --------------------------------------------------------------------------- issue 18 tables


def _deviations(session: Session, sid_of: Mapping[int, Any]) -> Rows:
    """Every recorded protocol deviation (reason and whether it is signed)."""
    return tuple(
        {
            "deviation_id": d.id,
            "participant_id": d.participant_id,
            "study_id": sid_of.get(d.participant_id),
            "category": d.category,
            "description": d.description,
            "related_table": d.related_table,
            "related_id": d.related_id,
            "occurred_on": d.occurred_on,
            "reason": d.reason,
            "signed": d.signature_id is not None,
        }
        for d in session.scalars(select(ProtocolDeviation).order_by(ProtocolDeviation.id))
    )


def _screenings(session: Session, sid_of: Mapping[int, Any]) -> Rows:
    """Every stored screening with the ids of the criteria it failed."""
    return tuple(
        {
            "screening_id": s.id,
            "participant_id": s.participant_id,
            "study_id": sid_of.get(s.participant_id),
            "arm_id": s.arm_id,
            "screened_on": s.screened_on,
            "eligible": bool(s.eligible),
            "failed_criteria": tuple(str(c) for c in (s.failed_criteria or [])),
        }
        for s in session.scalars(_select_read(Screening).order_by(Screening.id))
    )


def _lymphodepletions(session: Session, sid_of: Mapping[int, Any]) -> Rows:
    """Every recorded lymphodepleting regimen, agents as given."""
    return tuple(
        {
            "participant_id": lymph.participant_id,
            "study_id": sid_of.get(lymph.participant_id),
            "regimen": lymph.regimen,
            "agents": tuple(dict(a) for a in (lymph.agents or []) if isinstance(a, dict)),
            "start_on": lymph.start_on,
            "end_on": lymph.end_on,
        }
        for lymph in session.scalars(select(Lymphodepletion).order_by(Lymphodepletion.id))
    )


#: JSON documents no table shows (the rule inputs and results behind a row: a dose decision's
#: arm-state snapshot alone is ~13 kB a row). Not loaded, so not decoded; reading one is an
#: error (raiseload), not a silent second query.
_UNREAD: dict[Any, tuple[Any, ...]] = {
    Screening: (Screening.criteria,),
    Consent: (Consent.record, Consent.missing),
    DoseAssignment: (DoseAssignment.state, DoseAssignment.decision),
    Product: (Product.certificate, Product.feasibility),
}


def _select_read(model: Any) -> Any:
    """``select(model)`` without the documents in :data:`_UNREAD`."""
    return select(model).options(*(defer(c, raiseload=True) for c in _UNREAD.get(model, ())))


def _by_participant(session: Session, model: Any, order: Any) -> dict[int, Any]:
    """The last row of ``model`` per participant in ``order`` (without the documents the
    frames do not show: see :data:`_UNREAD`)."""
    out: dict[int, Any] = {}
    for row in session.scalars(_select_read(model).order_by(order)):
        out[row.participant_id] = row
    return out


def _participants(session: Session, ts: TrialState) -> Rows:
    screenings = _by_participant(session, Screening, Screening.id)
    consents = _by_participant(session, Consent, Consent.id)
    enrollments = _by_participant(session, Enrollment, Enrollment.id)
    assignments = {
        pid: a
        for pid, a in _by_participant(session, DoseAssignment, DoseAssignment.id).items()
        if a.status in ("confirmed", "proposed")
    }
    products = {
        pid: p
        for pid, p in _by_participant(session, Product, Product.id).items()
        if p.status == "released"
    }
    infusions = _by_participant(session, Infusion, Infusion.id)
    rejected = {
        pid
        for pid, p in _by_participant(session, Product, Product.id).items()
        if p.status == "rejected"
    }
    outcome_of = ts.outcomes
    last_days: dict[int, date] = {}
    for model, column in (
        (AdverseEvent, AdverseEvent.onset_on),
        (AdverseEvent, AdverseEvent.resolved_on),
        (ResponseAssessment, ResponseAssessment.assessed_on),
    ):
        for pid, day in session.execute(select(model.participant_id, column)):
            if day is not None and (pid not in last_days or day > last_days[pid]):
                last_days[pid] = day
    rows = []
    for p in session.scalars(select(Participant).order_by(Participant.id)):
        scr, con, enr = screenings.get(p.id), consents.get(p.id), enrollments.get(p.id)
        asg, prod, inf = assignments.get(p.id), products.get(p.id), infusions.get(p.id)
        outcome = outcome_of.get(p.id)
        record = (scr.record if scr else None) or {}
        infused_on = inf.infused_on if inf else None
        dead = death_date(p)
        candidates = [
            d
            for d in (infused_on, last_days.get(p.id), dead, p.off_study_on, p.registered_on)
            if d is not None
        ]
        tox = outcome.toxicity_status if outcome is not None else None
        dose = outcome.dose if outcome is not None else None
        rows.append(
            {
                "participant_id": p.id,
                "study_id": p.study_id,
                "site_id": p.site_id,
                "arm_id": enr.arm_id if enr else (p.arm_id or (scr.arm_id if scr else None)),
                "status": ts.statuses.get(p.id, p.status),
                "sex": record.get("sex"),
                "age_years": scr.age_years if scr and scr.age_years is not None else None,
                "weight_kg": inf.weight_kg if inf else (prod.weight_kg if prod else None),
                "screened_on": scr.screened_on if scr else None,
                "eligible": scr.eligible if scr else None,
                "consent_on": con.consent_on if con else None,
                "enrolled_on": enr.enrolled_on if enr else None,
                "phase": enr.phase if enr else None,
                "cohort": asg.cohort if asg else None,
                "assigned_dose": asg.dose_index if asg else None,
                "assigned_level": asg.dose_level if asg else None,
                "planned_level": prod.planned_level if prod else None,
                "product_level": (prod.assigned_level or prod.planned_level) if prod else None,
                "fallback": bool(prod.fallback) if prod else False,
                "lot": prod.lot if prod else None,
                "infused_on": infused_on,
                "cells_per_kg": inf.cells_per_kg if inf else None,
                "actual_dose": dose.dose if dose is not None else None,
                "actual_level": dose.level if dose is not None and inf else None,
                "dlt": outcome.toxicity if outcome is not None else None,
                "dlt_evaluable": (
                    True
                    if tox in ("dlt", "no_dlt")
                    else False
                    if outcome is not None and outcome.adjudication is not None
                    else None
                ),
                "bor": outcome.reported_bor if outcome is not None else None,
                "responder": outcome.reported_responder if outcome is not None else None,
                "death_on": dead,
                "off_study_on": p.off_study_on,
                "off_study_reason": p.off_study_reason,
                "last_on": max(candidates) if candidates else None,
                "product_rejected": p.id in rejected and prod is None,
                "dose_basis": dose.basis if dose is not None else None,
                "dose_in_window": dose.in_window if dose is not None else None,
                "dlt_status": tox,
                "worst_ae_grade": outcome.worst_grade() if outcome is not None else None,
            }
        )
    return tuple(rows)


def _dlts(ts: TrialState, arm_of: Mapping[int, Any], sid_of: Mapping[int, Any]) -> Rows:
    """The final DLT adjudications, as the read model keeps them (adjudication order)."""
    found = [o for o in ts.outcomes.values() if o.adjudication is not None]
    found.sort(key=lambda o: o.adjudication.id if o.adjudication is not None else 0)
    rows = []
    for o in found:
        a = o.adjudication
        assert a is not None
        rows.append(
            {
                "participant_id": o.participant_id,
                "study_id": sid_of.get(o.participant_id),
                "arm_id": arm_of.get(o.participant_id),
                "is_dlt": a.is_dlt,
                "evaluable": a.evaluable,
                "adverse_event_id": a.adverse_event_id,
                "dlt_event_ids": a.dlt_event_ids,
                "rule_id": a.rule_id,
                "rationale": a.rationale,
                "adjudicated_on": a.adjudicated_on,
            }
        )
    return tuple(rows)


def _adverse_events(session: Session, participants: Rows, dlt_events: set[int]) -> Rows:
    people = {r["participant_id"]: r for r in participants}
    rows = []
    for e in session.scalars(select(AdverseEvent).order_by(AdverseEvent.id)):
        person = people[e.participant_id]
        event = (e.components or {}).get("event") or {}
        infused_on = person["infused_on"]
        study_day = e.study_day
        if study_day is None and infused_on is not None:
            study_day = (e.onset_on - infused_on).days
        rows.append(
            {
                "ae_id": e.id,
                "participant_id": e.participant_id,
                "study_id": person["study_id"],
                "arm_id": person["arm_id"],
                "site_id": person["site_id"],
                "term": e.term,
                "soc": event.get("soc") or _SOC_BY_CATEGORY.get(e.category, "Other"),
                "category": e.category,
                "scale": e.scale,
                "grade": int(e.grade),
                "onset_on": e.onset_on,
                "resolved_on": e.resolved_on,
                "duration_days": (
                    (e.resolved_on - e.onset_on).days + 1 if e.resolved_on is not None else None
                ),
                "study_day": study_day,
                "serious": bool(e.serious),
                "attribution": e.attribution,
                "outcome": e.outcome,
                "is_dlt": e.id in dlt_events,
                "actual_dose": person["actual_dose"],
                "actual_level": person["actual_level"],
            }
        )
    return tuple(rows)


#: System organ class when the event record does not name one (MedDRA SOC names).
_SOC_BY_CATEGORY = {
    "crs": "Immune system disorders",
    "icans": "Nervous system disorders",
    "gvhd": "Immune system disorders",
    "haematological": "Blood and lymphatic system disorders",
    "death": "General disorders and administration site conditions",
}
