"""Data queries: a monitor, data manager or the statistician asks about one field of one of a
participant's records; the participant's site answers; the raiser (or a data manager) closes or
re-opens the query (issue 17).

The thread's rules are pure (:func:`next_status`, :func:`age_bucket`, :func:`age_counts`); the
acts below check the permission at the participant's site, apply them and write one audited
act each (``query.raise``, ``query.answer``, ``query.close``, ``query.reopen``).

Statuses: ``open`` (waiting for the site), ``answered`` (waiting for the raiser), ``closed``.
A query is *unresolved* while it is open or answered: that is what lists and counts show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import JSON, func, select
from sqlalchemy.orm import Session

from dosewise.errors import InvalidInput
from dosewise.store.base import Base
from dosewise.store.tables import (
    AdverseEvent,
    BestResponse,
    Consent,
    DataQuery,
    DataQueryMessage,
    DltAdjudication,
    DoseAssignment,
    Enrollment,
    Infusion,
    Lymphodepletion,
    Participant,
    Product,
    ResponseAssessment,
    Screening,
    User,
)
from dosewise.trial.access import Forbidden, Role, authorize, visible_sites
from dosewise.trial.refusals import refusal
from dosewise.trial.services._common import WrongState, participant, today, user_id
from dosewise.trial.uow import NotFound, UnitOfWork

STATUSES = ("open", "answered", "closed")
UNRESOLVED = ("open", "answered")
#: What a step of the thread does: answer, close, reopen.
KINDS = ("answer", "close", "reopen")
#: Age of an unresolved query, in days since it was raised: under 7, 7 to 30, over 30.
AGE_BUCKETS = ("lt7", "7to30", "gt30")
MAX_TEXT = 2000

#: The records a query can be about: table name → model (the participant's own row included).
RECORD_TYPES: dict[str, type[Base]] = {
    m.__tablename__: m
    for m in (
        Participant,
        Consent,
        Screening,
        Enrollment,
        DoseAssignment,
        Product,
        Lymphodepletion,
        Infusion,
        AdverseEvent,
        DltAdjudication,
        ResponseAssessment,
        BestResponse,
    )
}
#: Columns that are keys or bookkeeping, not data a site entered.
_NOT_FIELDS = frozenset({"id", "participant_id", "version"})
_KEY = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


# --------------------------------------------------------------------------- pure rules


def next_status(status: str, kind: str) -> str:
    """The status after a step of the thread; :class:`WrongState` when the step does not fit.

    The site answers an open query (or adds to its answer); the raiser closes an open or
    answered query, or re-opens an answered or closed one (the answer did not settle it).
    """
    allowed = {
        "answer": {"open": "answered", "answered": "answered"},
        "close": {"open": "closed", "answered": "closed"},
        "reopen": {"answered": "open", "closed": "open"},
    }
    if kind not in allowed:
        raise refusal(InvalidInput, "kind", kind, "one_of", choices=KINDS, choice_of="kind")
    if status not in allowed[kind]:
        raise refusal(WrongState, "status", status, "query_state", status=status, kind=kind)
    return allowed[kind][status]


def age_bucket(raised_on: date, on: date) -> str:
    """Which age band a query raised on ``raised_on`` is in on ``on``."""
    days = (on - raised_on).days
    if days < 7:
        return "lt7"
    return "7to30" if days <= 30 else "gt30"


def age_counts(raised: Iterable[date], on: date) -> dict[str, int]:
    """How many queries of each age band (every band present, zero if none)."""
    counts = dict.fromkeys(AGE_BUCKETS, 0)
    for day in raised:
        counts[age_bucket(day, on)] += 1
    return counts


def field_names(record_type: str) -> tuple[str, ...]:
    """The fields of a record type a query can name (JSON columns take ``column.key`` too)."""
    model = _model(record_type)
    return tuple(c.key for c in model.__table__.columns if c.key not in _NOT_FIELDS)


def check_field(record_type: str, field: str) -> str:
    """``field`` if it names a field of ``record_type``: a column, or ``column.key`` of a JSON
    column (the certificate's ``volume_ml`` is ``certificate.volume_ml``)."""
    model = _model(record_type)
    name = field.strip()
    head = name.split(".", 1)[0]
    columns = model.__table__.columns
    if not _KEY.match(name) or head in _NOT_FIELDS or head not in columns:
        raise refusal(
            InvalidInput,
            "field",
            field,
            "not_a_field",
            record=record_type,
            choices=field_names(record_type),
        )
    if "." in name and not isinstance(columns[head].type, JSON):
        raise refusal(InvalidInput, "field", field, "no_parts", head=head)
    return name


def _model(record_type: str) -> type[Base]:
    if record_type not in RECORD_TYPES:
        raise refusal(
            InvalidInput, "record_type", record_type, "one_of", choices=list(RECORD_TYPES)
        )
    return RECORD_TYPES[record_type]


def _text(field: str, value: str | None, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise refusal(InvalidInput, field, value, "required")
        return None
    if len(text) > MAX_TEXT or "\x00" in text:
        raise refusal(InvalidInput, field, text[:40], "text_too_long", max=MAX_TEXT)
    return text


# --------------------------------------------------------------------------- acts


def raise_query(
    uow: UnitOfWork,
    study_id: str,
    *,
    record_type: str,
    record_id: int | None,
    field: str,
    question: str,
) -> DataQuery:
    """Ask the participant's site about one field of one record; committed."""
    p = participant(uow, study_id, "query.raise")
    name = check_field(record_type, field)
    text = _text("question", question, required=True)
    model = RECORD_TYPES[record_type]
    if model is Participant:
        if record_id not in (None, p.id):
            raise refusal(InvalidInput, "record_id", record_id, "participant_no_record")
        record_id = p.id
    else:
        if record_id is None:
            raise refusal(InvalidInput, "record_id", None, "record_required", record=record_type)
        row = uow.session.get(model, record_id)
        if row is None or getattr(row, "participant_id", None) != p.id:
            raise refusal(
                NotFound,
                "record_id",
                record_id,
                "no_such_query_record",
                study_id=study_id,
                record=record_type,
                record_id=record_id,
            )
    now = uow.now()
    uow.act("query.raise", site_id=p.site_id)
    query = uow.add(
        DataQuery(
            participant_id=p.id,
            site_id=p.site_id,
            record_type=record_type,
            record_id=record_id,
            field=name,
            question=text,
            status="open",
            raised_at=now,
            raised_by=user_id(uow),
            updated_at=now,
        )
    )
    uow.commit()
    return query


def answer_query(uow: UnitOfWork, query_id: int, text: str) -> DataQuery:
    """The site answers (or adds to its answer); the query waits for the raiser. Committed."""
    query = _query(uow, query_id, "query.answer")
    return _step(uow, query, "answer", _text("text", text, required=True))


def close_query(uow: UnitOfWork, query_id: int, text: str | None = None) -> DataQuery:
    """The raiser (or a data manager) closes the query, with an optional note. Committed."""
    query = _query(uow, query_id, "query.raise")
    _may_resolve(uow, query)
    return _step(uow, query, "close", _text("text", text, required=False))


def reopen_query(uow: UnitOfWork, query_id: int, text: str) -> DataQuery:
    """The raiser (or a data manager) re-opens the query, saying why. Committed."""
    query = _query(uow, query_id, "query.raise")
    _may_resolve(uow, query)
    return _step(uow, query, "reopen", _text("text", text, required=True))


def _query(uow: UnitOfWork, query_id: int, action: str) -> DataQuery:
    query = uow.session.get(DataQuery, query_id)
    if query is None:
        raise refusal(NotFound, "query_id", query_id, "no_such_query")
    authorize(uow.actor, action, query.site_id)
    return query


def _may_resolve(uow: UnitOfWork, query: DataQuery) -> None:
    if uow.actor.role != Role.DATA_MANAGER and uow.actor.user_id != query.raised_by:
        raise refusal(
            Forbidden,
            "query_id",
            query.id,
            "query_closer",
        )


def _step(uow: UnitOfWork, query: DataQuery, kind: str, text: str | None) -> DataQuery:
    status = next_status(query.status, kind)
    now = uow.now()
    uow.act(f"query.{kind}", site_id=query.site_id)
    uow.add(
        DataQueryMessage(
            query_id=query.id, kind=kind, text=text, posted_at=now, posted_by=user_id(uow)
        )
    )
    query.status = status
    query.updated_at = now
    query.closed_at = now if status == "closed" else None
    query.closed_by = user_id(uow) if status == "closed" else None
    uow.commit()
    return query


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class QueryFilter:
    """Which queries to list: by participant, site, record and status (``unresolved``: open or
    answered)."""

    study_id: str | None = None
    site_id: str | None = None
    record_type: str | None = None
    record_id: int | None = None
    status: str | None = None


def list_queries(uow: UnitOfWork, flt: QueryFilter = QueryFilter()) -> list[dict[str, Any]]:
    """The queries the actor may read, newest first, each with its thread."""
    stmt = _visible(uow, flt).order_by(DataQuery.raised_at.desc(), DataQuery.id.desc())
    rows = list(uow.session.scalars(stmt))
    return describe(uow.session, rows, today(uow))


def read_query(uow: UnitOfWork, query_id: int) -> dict[str, Any]:
    """One query and its thread."""
    query = _query(uow, query_id, "query.read")
    return describe(uow.session, [query], today(uow))[0]


def summary(uow: UnitOfWork, flt: QueryFilter = QueryFilter()) -> dict[str, Any]:
    """Unresolved queries the actor may read: how many, by status and by age band."""
    unresolved = QueryFilter(
        flt.study_id, flt.site_id, flt.record_type, flt.record_id, "unresolved"
    )
    rows = uow.session.execute(
        _visible(uow, unresolved).with_only_columns(DataQuery.status, DataQuery.raised_at)
    ).all()
    on = today(uow)
    return {
        "unresolved": len(rows),
        "open": sum(1 for s, _ in rows if s == "open"),
        "answered": sum(1 for s, _ in rows if s == "answered"),
        "by_age": age_counts((r.date() for _, r in rows), on),
    }


def unresolved_by_participant(uow: UnitOfWork) -> dict[str, int]:
    """How many unresolved queries each participant (by study ID) the actor may read has; those
    without any are left out, and a role that reads no queries gets none."""
    if not _can_read(uow):
        return {}
    sites = visible_sites(uow.actor, "query.read")
    stmt = (
        select(Participant.study_id, func.count())
        .select_from(DataQuery)
        .join(Participant, Participant.id == DataQuery.participant_id)
        .where(DataQuery.status.in_(UNRESOLVED))
        .group_by(Participant.study_id)
    )
    if sites is not None:
        stmt = stmt.where(DataQuery.site_id.in_(sites))
    return {str(sid): int(n) for sid, n in uow.session.execute(stmt).all()}


def _can_read(uow: UnitOfWork) -> bool:
    try:
        authorize(uow.actor, "query.read")
    except Forbidden:
        return False
    return True


def _visible(uow: UnitOfWork, flt: QueryFilter) -> Any:
    sites = visible_sites(uow.actor, "query.read")
    stmt = select(DataQuery)
    if flt.study_id is not None:
        p = participant(uow, flt.study_id, "query.read")
        stmt = stmt.where(DataQuery.participant_id == p.id)
    if flt.site_id is not None:
        authorize(uow.actor, "query.read", flt.site_id)
        stmt = stmt.where(DataQuery.site_id == flt.site_id)
    if sites is not None:
        stmt = stmt.where(DataQuery.site_id.in_(sites))
    if flt.record_type is not None:
        _model(flt.record_type)
        stmt = stmt.where(DataQuery.record_type == flt.record_type)
    if flt.record_id is not None:
        stmt = stmt.where(DataQuery.record_id == flt.record_id)
    if flt.status == "unresolved":
        stmt = stmt.where(DataQuery.status.in_(UNRESOLVED))
    elif flt.status is not None:
        if flt.status not in STATUSES:
            raise refusal(
                InvalidInput,
                "status",
                flt.status,
                "one_of",
                choices=(*STATUSES, "unresolved"),
                choice_of="status",
            )
        stmt = stmt.where(DataQuery.status == flt.status)
    return stmt


def describe(session: Session, rows: list[DataQuery], on: date) -> list[dict[str, Any]]:
    """Queries as plain data with names, not ids: who raised, answered, closed; the thread."""
    if not rows:
        return []
    ids = [q.id for q in rows]
    messages = list(
        session.scalars(
            select(DataQueryMessage)
            .where(DataQueryMessage.query_id.in_(ids))
            .order_by(DataQueryMessage.id)
        )
    )
    people = _usernames(session, {q.raised_by for q in rows} | {m.posted_by for m in messages})
    studies: dict[int, str] = {
        pid: sid
        for pid, sid in session.execute(
            select(Participant.id, Participant.study_id).where(
                Participant.id.in_({q.participant_id for q in rows})
            )
        )
    }
    thread: dict[int, list[dict[str, Any]]] = {q.id: [] for q in rows}
    for m in messages:
        thread[m.query_id].append(
            {
                "kind": m.kind,
                "text": m.text,
                "posted_at": m.posted_at,
                "posted_by": people.get(m.posted_by, str(m.posted_by)),
            }
        )
    return [
        {
            "id": q.id,
            "study_id": studies.get(q.participant_id, ""),
            "site_id": q.site_id,
            "record_type": q.record_type,
            "record_id": q.record_id,
            "field": q.field,
            "question": q.question,
            "status": q.status,
            "raised_at": q.raised_at,
            "raised_by": people.get(q.raised_by, str(q.raised_by)),
            "updated_at": q.updated_at,
            "closed_at": q.closed_at,
            "age_days": (on - q.raised_at.date()).days,
            "age": age_bucket(q.raised_at.date(), on),
            "messages": thread[q.id],
        }
        for q in rows
    ]


def _usernames(session: Session, ids: Iterable[int]) -> Mapping[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    stmt = select(User.id, User.username).where(User.id.in_(wanted))
    return {uid: name for uid, name in session.execute(stmt)}
