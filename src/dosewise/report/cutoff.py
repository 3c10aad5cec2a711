"""The trial's records as they stood at the end of a day: the data cut-off of every report.

``as_of`` is a data cut-off: the report frames (:mod:`dosewise.report.trial_data`) *and* the arm
states show the trial as it stood at the end of that day (UTC), by clinical dates. The records
are first copied, cut, into a private in-memory database (:func:`cut_view`), and the frames and
the read model (:func:`~dosewise.trial.state.trial_state`) both read that copy, so the
dose-finding state counts exactly the participants and outcomes the frames show (``arm_state``
itself does not cut records: its ``as_of`` is the calendar day its windows and read-outs are
judged on). A cut-off before the first record gives an empty trial; one on or after the last
record changes nothing.
The date each kind of row is cut on:

- participants: ``registered_on``; screenings ``screened_on``; consents ``consent_on`` (a
  withdrawal after the day is not yet one); enrollments ``enrolled_on``; products
  ``released_on``; lymphodepletions ``start_on`` (an ``end_on`` after the day is
  blanked); infusions ``infused_on``; response assessments ``assessed_on``;
- adverse events: ``onset_on``; an event resolved after the day is ongoing (``resolved_on``,
  ``duration_days`` and ``outcome`` None: the recorded outcome describes the resolution, and
  the writers render an ongoing event from ``resolved_on`` None). Grade, seriousness and
  attribution are as recorded (later corrections are corrections of the truth);
- leaving the study: ``off_study_on`` (``death_on`` and ``off_study_reason`` with it);
- rows with only a moment of entry, cut at the end of the day in UTC: dose assignments
  ``assigned_at``, DLT adjudications ``adjudicated_at`` (``adjudicated_on`` is its UTC date),
  best responses ``derived_at`` (a best response derived or re-derived after the day is
  absent), phase 1 closures ``closed_at``, BOP2 looks ``looked_at``, audit records
  ``recorded_at``;
- ``bor``/``responder`` without a derived best response (at a cut-off or not): the read model's
  best overall response by the protocol's rule on the assessments so far once it is final
  (after the month-3 assessment, progression, death or censoring: ``trial.state.bor``), else
  None — a participant still in follow-up has no best response yet, rather than a provisional
  ``NE``;
- workflow states with no date of their own (an arm's ``phase``; a dose assignment's, product's
  and DLT adjudication's ``status``) are read back from the audit trail: the ``before`` value of
  the first change after the day, else the stored value. So an adjudication superseded later
  is the final one at the cut-off, and an arm closed later is still in phase 1;
- ``participants.status`` is not cut: every report reads the status the read model re-derives
  from the cut steps through the one transition table (:mod:`dosewise.trial.state.status`), the
  table the services move participants with. ``arm_id`` before enrollment is the screened arm;
- derived columns (``last_on``, ``study_day``, ``duration_days``, ``is_dlt``, ``dlt``,
  ``actual_dose`` ...) are computed from the cut records as for the whole trial.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Insert,
    Table,
    Text,
    bindparam,
    cast,
    create_engine,
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from dosewise.store.base import Base
from dosewise.store.tables import (
    AdverseEvent,
    Arm,
    AuditRecord,
    BestResponse,
    Bop2Look,
    Consent,
    DltAdjudication,
    DoseAssignment,
    Enrollment,
    Infusion,
    Lymphodepletion,
    Participant,
    Phase1Closure,
    Product,
    ProtocolDeviation,
    ProtocolVersion,
    ResponseAssessment,
    Screening,
    Site,
)
from dosewise.trial.audit import iso_utc


def latest_record_day(session: Session) -> date | None:
    """The day of the last record a report reads: the default cut-off, which hides nothing.

    Every date and entry moment the cut-off is made on (see the module doc), resolutions,
    withdrawals, leaving the study and the audit trail; None for a store with no record at all.
    """
    columns = [
        *(Base.metadata.tables[t].c[c] for t, c in {**_CUT_DAY, **_CUT_MOMENT}.items()),
        AdverseEvent.resolved_on,
        Consent.withdrawn_on,
        Participant.off_study_on,
    ]
    found: list[date] = []
    for column in columns:
        value = session.scalar(select(func.max(column)))
        if value is not None:
            found.append(value.date() if isinstance(value, datetime) else value)
    audited = session.scalar(select(func.max(AuditRecord.recorded_at)))
    if audited:
        found.append(date.fromisoformat(audited[:10]))
    return max(found, default=None)


def latest_clinical_day(session: Session) -> date | None:
    """The default data cut-off: the day of the last clinical record or entry.

    Like :func:`latest_record_day` but without the audit trail, whose newest rows are often
    the report exports themselves (an export today would otherwise move the next default
    cut-off to today). Clinical dates, the entry moments of clinical rows (dose assignments,
    DLT adjudications, best responses, closures, BOP2 looks), resolutions, withdrawals and
    leaving the study all count, so nothing entered about the trial is cut. None without any.
    """
    columns = [
        *(Base.metadata.tables[t].c[c] for t, c in {**_CUT_DAY, **_CUT_MOMENT}.items()),
        AdverseEvent.resolved_on,
        Consent.withdrawn_on,
        Participant.off_study_on,
    ]
    found: list[date] = []
    for column in columns:
        value = session.scalar(select(func.max(column)))
        if value is not None:
            found.append(value.date() if isinstance(value, datetime) else value)
    return max(found, default=None)


def end_of_day(day: date) -> datetime:
    """The first moment after ``day`` (UTC): rows entered before it belong to the day."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


#: Tables the frames and :func:`arm_state` read, parents first (copied into the cut view).
_VIEW_MODELS: tuple[type[Base], ...] = (
    Site,
    ProtocolVersion,
    Arm,
    Participant,
    Screening,
    Consent,
    Enrollment,
    DoseAssignment,
    Product,
    Lymphodepletion,
    Infusion,
    ProtocolDeviation,
    AdverseEvent,
    DltAdjudication,
    ResponseAssessment,
    BestResponse,
    Phase1Closure,
    Bop2Look,
)
#: The clinical date a row is cut on (kept when on or before the day).
_CUT_DAY = {
    "participants": "registered_on",
    "screenings": "screened_on",
    "consents": "consent_on",
    "enrollments": "enrolled_on",
    "products": "released_on",
    "lymphodepletions": "start_on",
    "infusions": "infused_on",
    "protocol_deviations": "occurred_on",
    "adverse_events": "onset_on",
    "response_assessments": "assessed_on",
}
#: Rows with only a moment of entry (kept when entered before the end of the day, UTC).
_CUT_MOMENT = {
    "dose_assignments": "assigned_at",
    "dlt_adjudications": "adjudicated_at",
    "best_responses": "derived_at",
    "phase1_closures": "closed_at",
    "bop2_looks": "looked_at",
}
#: Workflow columns with no date of their own: their value then is read from the audit trail.
_WORKFLOW = {
    "arms": ("phase",),
    "dose_assignments": ("status",),
    "products": ("status",),
    "dlt_adjudications": ("status",),
}


@contextmanager
def cut_view(session: Session, as_of: date) -> Iterator[Session]:
    """A private in-memory copy of the records the reports read, as they stood at ``as_of``.

    Nothing is written to the trial's database; the copy is dropped on leaving the block.
    """
    rows = _cut_rows(session, as_of, json_text=True)
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        tables = [Base.metadata.tables[m.__tablename__] for m in _VIEW_MODELS]
        Base.metadata.create_all(engine, tables=tables)
        with engine.begin() as conn:
            for table in tables:
                if rows[table.name]:
                    conn.execute(_insert_raw(table), rows[table.name])
        with Session(engine) as view:
            yield view
    finally:
        engine.dispose()


def _workflow_then(session: Session, end: datetime) -> dict[tuple[str, str], dict[str, Any]]:
    """Workflow values at ``end``: the ``before`` of each column's first audited change after."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for entity, entity_id, before in session.execute(
        select(AuditRecord.entity, AuditRecord.entity_id, AuditRecord.before)
        .where(
            AuditRecord.entity.in_(list(_WORKFLOW)),
            AuditRecord.operation == "update",
            AuditRecord.recorded_at >= iso_utc(end),
        )
        .order_by(AuditRecord.seq)
    ):
        old = json.loads(before) if before else {}
        slot = out.setdefault((entity, str(entity_id)), {})
        for column in _WORKFLOW[entity]:
            if column in old:
                slot.setdefault(column, old[column])
    return out


def _json_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, JSON)]


def _select_raw(table: Table) -> Any:
    """All of ``table``'s rows with its JSON columns as their stored text (not decoded: the cut
    never reads a document, and the view keeps the same text)."""
    raw = {c.name for c in _json_columns(table)}
    return select(
        *(cast(c, Text).label(c.name) if c.name in raw else c for c in table.columns)
    ).order_by(*table.primary_key.columns)


def _insert_raw(table: Table) -> Insert:
    """An insert into the view that takes the JSON columns as the text :func:`_select_raw`
    read (bound as text, so it is not encoded a second time)."""
    return table.insert().values(
        {c.name: bindparam(c.name + _RAW, type_=Text()) for c in _json_columns(table)}
    )


#: The suffix of a JSON column's text in a row read by :func:`_select_raw` for the insert.
_RAW = "__text"


def _cut_rows(
    session: Session, as_of: date, *, json_text: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as of the end of ``as_of`` (see the module doc for the rules).

    With ``json_text`` the JSON columns are not decoded: each holds its stored text under
    ``<column>__text``, for :func:`_insert_raw` (see :func:`_select_raw`)."""
    end = end_of_day(as_of)
    then = _workflow_then(session, end)
    out: dict[str, list[dict[str, Any]]] = {}
    present: set[int] = set()
    for model in _VIEW_MODELS:
        table = Base.metadata.tables[model.__tablename__]
        (key,) = table.primary_key.columns
        day, moment = _CUT_DAY.get(table.name), _CUT_MOMENT.get(table.name)
        raw = [c.name for c in _json_columns(table)] if json_text else []
        query = _select_raw(table) if json_text else select(table).order_by(key)
        kept = []
        for found in session.execute(query).mappings():
            row = dict(found)
            for name in raw:
                row[name + _RAW] = row.pop(name)
            pid: int | None = row.get("participant_id")
            if pid is not None and pid not in present:
                continue
            late = (day is not None and row[day] > as_of) or (
                moment is not None and row[moment] >= end
            )
            old = then.get((table.name, str(row[key.name])), {})
            if late:
                continue
            row.update(old)
            kept.append(row)
            if table.name == "participants":
                present.add(row["id"])
        out[table.name] = kept
    _mask(out, as_of)
    return out


def _mask(rows: Mapping[str, list[dict[str, Any]]], as_of: date) -> None:
    """Blank what happened after ``as_of`` in the rows kept (the status is re-derived later)."""
    for c in rows["consents"]:
        if c["withdrawn_on"] is not None and c["withdrawn_on"] > as_of:
            c["withdrawn_on"] = None
    for e in rows["adverse_events"]:
        if e["resolved_on"] is not None and e["resolved_on"] > as_of:
            e["resolved_on"] = e["outcome"] = None
    for lymph in rows["lymphodepletions"]:
        if lymph["end_on"] is not None and lymph["end_on"] > as_of:
            lymph["end_on"] = None
    enrolled = {r["participant_id"] for r in rows["enrollments"]}
    for p in rows["participants"]:
        if p["off_study_on"] is not None and p["off_study_on"] > as_of:
            p["off_study_on"] = p["off_study_reason"] = None
        if p["id"] not in enrolled:
            p["arm_id"] = None
