"""Deep audit verification: replay the audit trail and compare every audited table with it.

The hash chain (:func:`dosewise.trial.audit.verify_chain`) proves the trail itself was not
edited; it says nothing about the tables. Every insert, update and delete made through the unit
of work is in the trail with its values (an insert with the whole row, an update with each
changed column), so replaying the trail in sequence rebuilds what every row should hold now.
:func:`verify_deep` compares that with the database and names each difference — a row changed,
inserted or deleted outside the service — by table, id and column, with the audited value and
the current one.

Not compared: redacted columns (password hashes are never in the trail) and the bookkeeping
counters ``version`` / ``updated_at`` (``UnitOfWork.claim_arm`` raises ``arms.version`` with a
plain UPDATE; no data rests on them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from dosewise.store.base import Base
from dosewise.store.tables import MODELS, AuditRecord
from dosewise.trial import audit
from dosewise.trial.audit import ChainReport

DriftKind = Literal["changed", "not_in_trail", "deleted_outside"]
#: Columns never compared (bookkeeping, see the module doc).
BOOKKEEPING = audit.ALWAYS_WORKFLOW


@dataclass(frozen=True)
class Drift:
    """One difference between the trail's replay and the table."""

    table: str
    id: str
    kind: DriftKind
    column: str | None = None
    audited: Any = None
    current: Any = None

    @property
    def detail(self) -> str:
        if self.kind == "not_in_trail":
            return "row is not in the audit trail (inserted outside the service)"
        if self.kind == "deleted_outside":
            return "row is in the audit trail but not in the table (deleted outside the service)"
        return (
            f"{self.column}: audited {_show(self.audited)}, now {_show(self.current)} "
            "(changed outside the service)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "id": self.id,
            "kind": self.kind,
            "column": self.column,
            "audited": self.audited,
            "current": self.current,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class DeepReport:
    """The chain check plus the table comparison."""

    chain: ChainReport
    tables: tuple[str, ...]
    rows: int
    drifts: tuple[Drift, ...]

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.drifts

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.chain.to_dict(),
            "ok": self.ok,
            "deep": {
                "ok": not self.drifts,
                "tables": list(self.tables),
                "rows_compared": self.rows,
                "drift_count": len(self.drifts),
                "drifts": [d.to_dict() for d in self.drifts[: audit.MAX_PROBLEMS]],
            },
        }


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def audited_models() -> tuple[type[Base], ...]:
    """The tables whose every change goes through the audit trail."""
    return tuple(m for m in MODELS if m.__audited__)


def _trail(session: Session, tables: set[str]) -> Iterator[tuple[str, str, str, Any, Any]]:
    stmt = (
        select(
            AuditRecord.entity,
            AuditRecord.entity_id,
            AuditRecord.operation,
            AuditRecord.after,
            AuditRecord.before,
        )
        .where(AuditRecord.operation != "event", AuditRecord.entity.in_(tables))
        .order_by(AuditRecord.seq)
        .execution_options(yield_per=2000)
    )
    for entity, entity_id, operation, after, before in session.execute(stmt):
        yield (
            entity,
            entity_id or "",
            operation,
            None if after is None else json.loads(after),
            None if before is None else json.loads(before),
        )


def replay(session: Session) -> dict[str, dict[str, dict[str, Any]]]:
    """Every audited table as the trail says it is now: table → row id → column → value."""
    tables = {m.__tablename__ for m in audited_models()}
    state: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in tables}
    for entity, entity_id, operation, after, _before in _trail(session, tables):
        rows = state[entity]
        if operation == "insert":
            rows[entity_id] = dict(after or {})
        elif operation == "update":
            rows.setdefault(entity_id, {}).update(after or {})
        elif operation == "delete":
            rows.pop(entity_id, None)
    return state


def _row_id(model: type[Base], row: Base) -> str:
    identity = inspect(model).primary_key_from_instance(row)
    return "/".join(str(k) for k in identity)


def verify_deep(session: Session) -> DeepReport:
    """Check the chain, replay the trail and compare every audited table with it."""
    chain = audit.verify_chain(session)
    expected = replay(session)
    drifts: list[Drift] = []
    compared = 0
    for model in audited_models():
        table = model.__tablename__
        skip = model.__audit_redact__ | BOOKKEEPING
        columns = [c.key for c in model.__table__.columns if c.key not in skip]
        pk = list(model.__table__.primary_key)
        trail_rows = expected[table]
        seen: set[str] = set()
        for row in session.scalars(select(model).order_by(*pk)):
            compared += 1
            row_id = _row_id(model, row)
            seen.add(row_id)
            audited_row = trail_rows.get(row_id)
            if audited_row is None:
                drifts.append(Drift(table, row_id, "not_in_trail"))
                continue
            for column in columns:
                current = audit.jsonable(getattr(row, column))
                audited = audited_row.get(column)
                if current != audited:
                    drifts.append(Drift(table, row_id, "changed", column, audited, current))
        drifts += [
            Drift(table, row_id, "deleted_outside") for row_id in sorted(set(trail_rows) - seen)
        ]
    return DeepReport(
        chain=chain,
        tables=tuple(m.__tablename__ for m in audited_models()),
        rows=compared,
        drifts=tuple(drifts),
    )
