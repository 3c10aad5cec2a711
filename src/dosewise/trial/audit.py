"""The audit trail: append-only, hash-chained, written in the same transaction as the change.

Each record says who (user, role), what (entity, operation, before and after values), when (UTC),
where (site) and why (the reason, required for any change to data after its first entry —
EU GMP Annex 11 §9, 21 CFR 11.10(e), ICH E6(R3) §4). Records carry a contiguous sequence number
and ``hash = SHA-256(canonical JSON of the record, including the previous record's hash)``; the
single ``audit_head`` row holds the last sequence number and hash and is locked while appending,
so concurrent transactions append one after the other. :func:`verify_chain` recomputes every
hash: an edited record, a deleted record (a gap and a broken link) and a removed tail (the head
no longer matches) are all detected.

Row changes are captured by the unit of work (``dosewise.trial.uow``); this module turns them
into records, appends them, verifies the chain and exports it.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, and_, false, func, insert, or_, select, update
from sqlalchemy.orm import Session

from dosewise.csvsafe import safe_row
from dosewise.errors import DosewiseError, InvalidInput
from dosewise.store.base import Base
from dosewise.store.tables import GENESIS_HASH, AuditHead, AuditRecord, User

if TYPE_CHECKING:
    from dosewise.trial.uow import UnitOfWork

Operation = Literal["insert", "update", "delete", "event"]
ExportFormat = Literal["csv", "json"]

#: The fields a record's hash covers, in the order they are exported.
HASHED_FIELDS = (
    "seq",
    "txn",
    "recorded_at",
    "user_id",
    "username",
    "role",
    "site_id",
    "action",
    "entity",
    "entity_id",
    "operation",
    "before",
    "after",
    "reason",
    "context",
    "prev_hash",
)
EXPORT_COLUMNS = (*HASHED_FIELDS, "hash")
#: Columns whose change never needs a reason (bookkeeping, not entered data).
ALWAYS_WORKFLOW = frozenset({"version", "updated_at"})
REDACTED = "[redacted]"
#: Most problems a verification lists (it still counts them all).
MAX_PROBLEMS = 100


class ReasonRequired(DosewiseError):
    """A change to data after its first entry, or a deletion, came without a reason."""

    code = "reason_required"


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, or the system itself (migrations, the first start, the CLI)."""

    user_id: int | None
    username: str
    role: str | None = None
    site_id: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, username=name)

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, username=user.username, role=user.role, site_id=user.site_id)


@dataclass(frozen=True)
class Entry:
    """An audit record waiting for its sequence number, time and hash."""

    action: str
    entity: str
    entity_id: str | None
    operation: Operation
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    reason: str | None = None
    site_id: str | None = None
    #: Columns changed after their first entry (those make a reason required).
    corrected: tuple[str, ...] = ()

    @property
    def needs_reason(self) -> bool:
        return self.operation == "delete" or bool(self.corrected)


# --------------------------------------------------------------------------- canonical JSON


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: UTC ISO times, ISO dates, lists, string keys."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput("value", value, "must be a finite number to be recorded")
        return value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=canonical_json) if isinstance(value, set | frozenset) else items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    to_dict = getattr(value, "model_dump", None) or getattr(value, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    raise InvalidInput("value", type(value).__name__, "cannot be recorded as JSON")


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8, no NaN (what hashes are taken of)."""
    return json.dumps(
        jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def iso_utc(moment: datetime) -> str:
    """``2026-11-26T09:30:00.000000Z``: fixed width, so text order is time order."""
    if moment.tzinfo is None:
        raise InvalidInput("time", moment.isoformat(), "must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a record's hashed fields (``prev_hash`` included)."""
    return sha256_hex(canonical_json({name: fields[name] for name in HASHED_FIELDS}))


def _text(doc: Mapping[str, Any] | None) -> str | None:
    return None if doc is None else canonical_json(doc)


# --------------------------------------------------------------------------- appending


def new_txn() -> str:
    """An identifier shared by every record of one transaction."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Batch:
    """One transaction's entries with who made them, when, and where from."""

    actor: Actor
    entries: Sequence[Entry]
    now: datetime
    txn: str
    context: Mapping[str, Any] | None = None


#: The statements of :func:`append_batches`, built once on the tables (SQLAlchemy Core: no ORM
#: unit of work, no ORM bulk-insert path).
_HEAD_TABLE = Base.metadata.tables[AuditHead.__tablename__]
_HEAD = (
    select(_HEAD_TABLE.c.last_seq, _HEAD_TABLE.c.last_hash)
    .where(_HEAD_TABLE.c.id == 1)
    .with_for_update()
)
_INSERT = insert(Base.metadata.tables[AuditRecord.__tablename__])
_MOVE_HEAD = update(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1)


def append(
    session: Session,
    actor: Actor,
    entries: Sequence[Entry],
    *,
    now: datetime,
    txn: str,
    context: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Append ``entries`` to the chain inside the session's transaction; the stored rows."""
    return append_batches(session.connection(), [Batch(actor, entries, now, txn, context)])


def append_batches(connection: Connection, batches: Sequence[Batch]) -> list[dict[str, Any]]:
    """Append the entries of several transactions' batches, in order, inside the connection's
    transaction (one head read, one insert, one head update); the stored rows.

    Locks the head row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers already
    hold the database lock), so the sequence stays contiguous under concurrent writers. Each
    batch keeps its own actor, time, transaction id and context: grouped events
    (:class:`dosewise.trial.group_commit.GroupCommit`) are recorded exactly as if each had been
    committed alone.
    """
    if not any(b.entries for b in batches):
        return []
    head = connection.execute(_HEAD).one_or_none()
    if head is None:
        raise RuntimeError("audit_head is missing: the database was not migrated")
    seq, prev = int(head.last_seq), str(head.last_hash)
    rows: list[dict[str, Any]] = []
    for batch in batches:
        actor = batch.actor
        stamp = iso_utc(batch.now)
        context_text = canonical_json(batch.context) if batch.context else None
        for entry in batch.entries:
            seq += 1
            row: dict[str, Any] = {
                "seq": seq,
                "txn": batch.txn,
                "recorded_at": stamp,
                "user_id": actor.user_id,
                "username": actor.username,
                "role": actor.role,
                "site_id": entry.site_id if entry.site_id is not None else actor.site_id,
                "action": entry.action,
                "entity": entry.entity,
                "entity_id": entry.entity_id,
                "operation": entry.operation,
                "before": _text(entry.before),
                "after": _text(entry.after),
                "reason": entry.reason or None,
                "context": context_text,
                "prev_hash": prev,
            }
            row["hash"] = prev = record_hash(row)
            rows.append(row)
    connection.execute(_INSERT, rows)
    connection.execute(_MOVE_HEAD.values(last_seq=seq, last_hash=prev))
    return rows


def check_reasons(entries: Iterable[Entry]) -> None:
    """Raise :class:`ReasonRequired` for the first entry that needs a reason and has none."""
    for entry in entries:
        if entry.needs_reason and not (entry.reason and entry.reason.strip()):
            what = (
                "deleting it"
                if entry.operation == "delete"
                else f"changing {', '.join(entry.corrected)} after first entry"
            )
            raise ReasonRequired(
                "reason", entry.reason, f"required for {entry.entity} {entry.entity_id}: {what}"
            )


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class ChainProblem:
    """One place where the chain does not hold."""

    seq: int | None
    kind: Literal["gap", "link", "hash", "head", "order"]
    detail: str


@dataclass(frozen=True)
class ChainReport:
    """The result of recomputing the chain."""

    ok: bool
    records: int
    last_seq: int
    last_hash: str
    problems: tuple[ChainProblem, ...] = ()
    problem_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "problem_count": self.problem_count,
            "problems": [dataclasses.asdict(p) for p in self.problems],
        }


def check_chain(rows: Iterable[Mapping[str, Any]], head: tuple[int, str] | None) -> ChainReport:
    """Recompute a chain from its records (in ``seq`` order) and compare with the head row.

    Pure: works on database rows and on an exported JSON file alike.
    """
    problems: list[ChainProblem] = []
    count = 0
    expected_seq, prev = 1, GENESIS_HASH
    last_seq, last_hash = 0, GENESIS_HASH

    def note(problem: ChainProblem) -> None:
        nonlocal count
        count += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(problem)

    records = 0
    for row in rows:
        records += 1
        seq = int(row["seq"])
        if seq < expected_seq:
            note(ChainProblem(seq, "order", f"seq {seq} appears after seq {expected_seq - 1}"))
        elif seq > expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
            note(ChainProblem(seq, "gap", f"record(s) {missing} missing (deleted?)"))
        if row["prev_hash"] != prev:
            note(ChainProblem(seq, "link", "prev_hash does not match the previous record's hash"))
        if record_hash(row) != row["hash"]:
            note(ChainProblem(seq, "hash", "contents changed after recording (hash mismatch)"))
        expected_seq, prev = seq + 1, str(row["hash"])
        last_seq, last_hash = seq, str(row["hash"])
    if head is not None and (head[0], head[1]) != (last_seq, last_hash):
        note(
            ChainProblem(
                head[0],
                "head",
                f"the head says seq {head[0]} but the last record is seq {last_seq} "
                "(records removed from the end, or the head altered)",
            )
        )
    return ChainReport(count == 0, records, last_seq, last_hash, tuple(problems), count)


def _row_dicts(session: Session, batch: int) -> Iterator[dict[str, Any]]:
    stmt = select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=batch)
    for record in session.execute(stmt).scalars():
        yield record.column_values()


def verify_chain(session: Session, batch: int = 1000) -> ChainReport:
    """Recompute every hash of the stored trail and check it against the head row."""
    head = session.execute(
        select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one_or_none()
    head_pair = (int(head.last_seq), str(head.last_hash)) if head is not None else (-1, "missing")
    return check_chain(_row_dicts(session, batch), head_pair)


# --------------------------------------------------------------------------- reading and export


@dataclass(frozen=True)
class AuditQuery:
    """Filters for reading the trail; ``sites=None`` means every site (and site-less records).

    ``records`` narrows to given rows: (entity, entity ids) pairs, e.g. every row of one
    participant. ``since``/``until`` bound ``recorded_at`` (ISO UTC text, ``until`` exclusive).
    Pages run oldest first from ``after_seq``, or newest first below ``before_seq``.
    """

    sites: frozenset[str] | None = None
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    username: str | None = None
    after_seq: int = 0
    limit: int = 100
    records: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    since: str | None = None
    until: str | None = None
    newest_first: bool = False
    before_seq: int | None = None
    #: With ``username``: that user's id, so that the user's sign-ins (recorded before anyone
    #: was signed in, about the ``users`` row) match too.
    subject_id: str | None = None


def _matching(q: AuditQuery) -> Any:
    stmt = select(AuditRecord)
    if q.sites is not None:
        stmt = stmt.where(AuditRecord.site_id.in_(sorted(q.sites)))
    for column, value in (
        (AuditRecord.entity, q.entity),
        (AuditRecord.entity_id, q.entity_id),
        (AuditRecord.action, q.action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if q.username is not None:
        by_user = AuditRecord.username == q.username
        if q.subject_id is not None:
            about = and_(
                AuditRecord.user_id.is_(None),
                AuditRecord.entity == "users",
                AuditRecord.entity_id == q.subject_id,
            )
            by_user = or_(by_user, about)
        stmt = stmt.where(by_user)
    if q.records is not None:
        stmt = stmt.where(
            or_(
                false(),
                *(
                    and_(AuditRecord.entity == entity, AuditRecord.entity_id.in_(ids))
                    for entity, ids in q.records
                    if ids
                ),
            )
        )
    if q.since is not None:
        stmt = stmt.where(AuditRecord.recorded_at >= q.since)
    if q.until is not None:
        stmt = stmt.where(AuditRecord.recorded_at < q.until)
    return stmt


def query(session: Session, q: AuditQuery) -> list[AuditRecord]:
    """Records matching ``q``: in sequence order from ``after_seq``, or newest first."""
    stmt = _matching(q)
    if q.newest_first:
        if q.before_seq is not None:
            stmt = stmt.where(AuditRecord.seq < q.before_seq)
        stmt = stmt.order_by(AuditRecord.seq.desc())
    else:
        stmt = stmt.where(AuditRecord.seq > q.after_seq).order_by(AuditRecord.seq)
    return list(session.execute(stmt.limit(q.limit)).scalars())


def count(session: Session, q: AuditQuery) -> int:
    """How many records match ``q``'s filters (whatever the page)."""
    stmt = _matching(q).with_only_columns(func.count(AuditRecord.seq))
    return int(session.scalar(stmt) or 0)


def as_dict(record: AuditRecord) -> dict[str, Any]:
    """A record for people and APIs: before/after/context parsed back into JSON values."""
    out = record.column_values()
    for name in ("before", "after", "context"):
        out[name] = json.loads(out[name]) if out[name] is not None else None
    return out


@dataclass(frozen=True)
class ExportSummary:
    format: ExportFormat
    records: int
    through_seq: int
    chain: ChainReport
    scope: list[str] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "records": self.records,
            "through_seq": self.through_seq,
            "chain_ok": self.chain.ok,
            "last_hash": self.chain.last_hash,
            "scope": self.scope,
        }


def export(
    uow: UnitOfWork,
    fmt: ExportFormat,
    stream: IO[str],
    *,
    sites: frozenset[str] | None = None,
    shown: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
) -> ExportSummary:
    """Write the trail (or one scope of it) as CSV or JSON, then log the export and commit.

    The export is itself an audit record (``audit.export``), appended after the records it
    wrote, so every copy of the trail that leaves the system is accounted for. ``shown`` is the
    filter each record goes through on its way out (``confidential.audit_filter``: other sites'
    participants are taken out for a user of one site).
    """
    if fmt not in ("csv", "json"):
        raise InvalidInput("format", fmt, "must be csv or json")
    session = uow.session
    chain = verify_chain(session)
    q = AuditQuery(sites=sites, limit=1_000_000_000)
    rows = query(session, q)
    if fmt == "csv":
        writer = csv.DictWriter(stream, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for record in rows:
            values = record.column_values()
            if shown is not None:
                visible = shown(as_dict(record))
                for name in ("before", "after", "context", "reason"):
                    value = visible[name]
                    text = isinstance(value, str) or value is None
                    values[name] = value if text else canonical_json(value)
            writer.writerow(safe_row(values))  # no formulas in spreadsheets
    else:
        document = {
            "exported_at": iso_utc(uow.now()),
            "exported_by": uow.actor.username,
            "scope": sorted(sites) if sites is not None else "all",
            "chain": chain.to_dict(),
            "records": [shown(as_dict(r)) if shown else as_dict(r) for r in rows],
        }
        json.dump(document, stream, ensure_ascii=False, indent=1)
        stream.write("\n")
    through = rows[-1].seq if rows else 0
    summary = ExportSummary(fmt, len(rows), through, chain, sorted(sites) if sites else None)
    uow.event("audit.export", "audit_records", None, after=summary.to_dict())
    uow.commit()
    return summary


def records_from_export(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored form of the records of a JSON export, so :func:`check_chain` can verify it."""
    out = []
    for record in document["records"]:
        row = dict(record)
        for name in ("before", "after", "context"):
            row[name] = None if row[name] is None else canonical_json(row[name])
        out.append(row)
    return out
