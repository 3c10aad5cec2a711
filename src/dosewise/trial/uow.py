"""The unit of work: one transaction per clinical act, and the only thing that commits.

::

    with UnitOfWork(db, actor, clock=clock) as uow:
        uow.act("participant.register", site_id=site_id)
        uow.add(Participant(...))
        uow.commit()

Every row inserted, updated or deleted through ``uow.session`` becomes an audit record of the
current act (captured after each flush, appended at commit, inside the same transaction). A
change to a value after its first entry needs the act's ``reason``; so does a deletion. Events
that change no row (a login, an export) are recorded with :meth:`UnitOfWork.event`. Leaving the
``with`` block without :meth:`UnitOfWork.commit` rolls everything back — the changes and their
audit records alike.

Concurrency: on SQLite a writing unit of work starts with ``BEGIN IMMEDIATE``, so writers
queue for the whole database and every act sees the one before it. PostgreSQL runs READ
COMMITTED transactions side by side, so an act that must happen once (confirm a dose, release a
product, enrol, ...) first locks the row it is about: :meth:`UnitOfWork.lock` (``SELECT ... FOR
NO KEY UPDATE``, a no-op on SQLite, which already holds the write lock) holds that row until
commit, and every check made after it sees what the previous holder committed. The rule is one
lock order: the participant (or site) first, then the arm. :meth:`UnitOfWork.claim_arm` locks
the arm row and raises its ``version``, so two sites acting on one arm at the same moment are
serialised, and a caller that says which version it saw gets :class:`ConcurrencyConflict` if the
arm changed since.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Engine, event, inspect, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dosewise.errors import DosewiseError, InvalidInput
from dosewise.store.base import Base
from dosewise.store.session import COMMITTING, WRITE_OPTION, Database, GuardedSession
from dosewise.store.tables import Arm
from dosewise.trial import audit, memory_only
from dosewise.trial.audit import Actor, Entry
from dosewise.trial.group_commit import GroupCommit
from dosewise.trial.refusals import refusal

Clock = Callable[[], datetime]
#: ``Session.info`` key of the unit of work a session belongs to.
_UOW_KEY = "dosewise_uow"
log = logging.getLogger("dosewise.trial")
M = TypeVar("M", bound=Base)


def utcnow() -> datetime:
    """The service clock: now, in UTC."""
    return datetime.now(UTC)


class NotFound(DosewiseError):
    """The record asked for does not exist (or is outside what the user may see)."""

    http_status = 404
    code = "not_found"


class ConcurrencyConflict(DosewiseError):
    """Someone else changed the same record first; reload and try again."""

    http_status = 409
    code = "conflict"


class DuplicateRecord(DosewiseError):
    """A record with the same unique key already exists."""

    http_status = 409
    code = "duplicate"


class DatabaseBusy(DosewiseError):
    """The database stayed locked by other writers for longer than the busy timeout."""

    http_status = 503
    code = "busy"


class AuditError(RuntimeError):
    """A programming error: changes without a named act, or writes in a read-only unit."""


@dataclass(frozen=True)
class Act:
    """The clinical act the current changes belong to."""

    action: str
    reason: str | None = None
    site_id: str | None = None


class UnitOfWork:
    """One database transaction for one act, with its audit records; see the module doc."""

    def __init__(
        self,
        db: Database,
        actor: Actor,
        *,
        clock: Clock = utcnow,
        readonly: bool = False,
        context: Mapping[str, Any] | None = None,
        statements: bool = False,
    ) -> None:
        self.db = db
        self.actor = actor
        self.clock = clock
        self.readonly = readonly
        #: Read-only and short: on PostgreSQL each statement runs alone, read-only enforced by
        #: the server (``Database.statement_sessions``); otherwise an ordinary unit of work.
        self.statements = statements and readonly
        self.context = dict(context or {})
        self._session: Session | None = None
        self._act: Act | None = None
        self._entries: list[Entry] = []
        self._inserted: set[tuple[str, str | None]] = set()
        self._failure_hooks: list[Callable[[UnitOfWork], None]] = []
        self._failure_events: list[Entry] = []
        self._done = False
        self.txn = audit.new_txn()
        self.committed_records: list[dict[str, Any]] = []
        self._writer = False

    def _release_writer(self) -> None:
        """Let the next writer of this process in (see ``Database.writers``)."""
        if self._writer:
            self._writer = False
            self.db.writers.release()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a unit of work is entered once")
        if not self.readonly:
            memory_only.need("a write")  # tried on the event loop: writes wait, so not there
        options: dict[str, Any] = {WRITE_OPTION: not self.readonly}
        if self.statements and self.db.statement_sessions is not None:
            session = self.db.statement_sessions()
        else:
            session = self.db.sessions()
            if self.readonly and self.db.engine.dialect.name == "postgresql":
                options["postgresql_readonly"] = True
        if not self.readonly and self.db.is_sqlite:
            try:
                _queue_as_writer(self.db)
            except DatabaseBusy:
                session.close()
                raise
            self._writer = True
        try:
            session.connection(execution_options=options)
        except OperationalError as exc:
            session.close()
            self._release_writer()
            raise _translate(exc) from None
        session.info[_UOW_KEY] = self  # its flushes become audit entries (_capture_flush)
        self._session = session
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        if session is None:
            return
        try:
            # A read-only unit is just closed, even when it ends with an exception (a refusal):
            # the pool's reset ends its transaction, and the loaded rows stay readable (a
            # rollback would expire them).
            if not self._done and not self.readonly:
                session.rollback()
        finally:
            session.close()
            session.info.pop(_UOW_KEY, None)
            self._release_writer()
        hooks, self._failure_hooks = self._failure_hooks, []
        events, self._failure_events = self._failure_events, []
        if exc_type is None or isinstance(exc, memory_only.NeedsWork) or not (events or hooks):
            return  # (a request tried in memory is run again in full: that run records them)
        batch = audit.Batch(self.actor, tuple(events), self.now(), self.txn, self.context)

        def record() -> None:
            self._record_failure(batch, hooks)

        async def record_on_loop() -> None:
            try:
                await event_group(self.db).submit_async(batch)
            except Exception:  # never hide the error that ended the act
                log.exception("the failure events of %s could not be recorded", self.txn)

        # Tried on the event loop (dosewise.trial.memory_only): its caller makes the writes.
        if not memory_only.defer(record, None if hooks else record_on_loop):
            record()

    def _record_failure(
        self, batch: audit.Batch, hooks: list[Callable[[UnitOfWork], None]]
    ) -> None:
        """Write what must outlive the failed act: its events (group-committed), its hooks."""
        if batch.entries:
            try:
                event_group(self.db).submit(batch)
            except Exception:  # never hide the error that ended the act
                log.exception("the failure events of %s could not be recorded", self.txn)
        for hook in hooks:
            try:
                with UnitOfWork(self.db, self.actor, clock=self.clock, context=self.context) as u:
                    hook(u)
                    u.commit()
            except Exception:  # never hide the error that ended the act
                log.exception("a failure hook of %s could not be recorded", self.txn)

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._session

    def now(self) -> datetime:
        return self.clock()

    # ------------------------------------------------------------------ acts and audit

    def act(self, action: str, *, reason: str | None = None, site_id: str | None = None) -> None:
        """Name the act that the following changes belong to (and give the reason for it)."""
        if self._act is not None:
            self.flush()
        self._act = Act(action, reason.strip() if reason else None, site_id)

    def event(
        self,
        action: str,
        entity: str,
        entity_id: object | None = None,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        reason: str | None = None,
        site_id: str | None = None,
    ) -> None:
        """Record something that happened without changing a row (login, export, refusal)."""
        self._entries.append(
            self._event_entry(action, entity, entity_id, before, after, reason, site_id)
        )

    def _event_entry(
        self,
        action: str,
        entity: str,
        entity_id: object | None,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        reason: str | None,
        site_id: str | None,
    ) -> Entry:
        """An event's audit entry; the reason and site default to the current act's."""
        return Entry(
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            operation="event",
            before=before,
            after=after,
            reason=reason or (self._act.reason if self._act else None),
            site_id=site_id if site_id is not None else (self._act.site_id if self._act else None),
        )

    def on_failure(self, hook: Callable[[UnitOfWork], None]) -> None:
        """Run ``hook`` in a fresh unit of work if this one ends with an exception.

        For facts that must outlive the rollback: a failed password re-entry still counts
        towards lock-out even though the act it was meant to sign is abandoned.
        """
        self._failure_hooks.append(hook)

    def event_on_failure(
        self,
        action: str,
        entity: str,
        entity_id: object | None = None,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        reason: str | None = None,
        site_id: str | None = None,
    ) -> None:
        """Record an event (as :meth:`event`) only if this unit of work ends with an exception:
        a refusal's own audit record, which must outlive the rollback of the act refused.

        Written after the rollback, durably, before the exception leaves the ``with`` block;
        events of concurrent units of work share one transaction and one disk flush
        (:class:`~dosewise.trial.group_commit.GroupCommit`), so twenty sites refused at once
        do not queue for twenty flushes."""
        self._failure_events.append(
            self._event_entry(action, entity, entity_id, before, after, reason, site_id)
        )

    @property
    def pending_entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    def _after_flush(self, session: Session, _context: Any) -> None:
        changes: list[tuple[Base, str]] = [(o, "insert") for o in session.new if _audited(o)]
        changes += [(o, "update") for o in session.dirty if _audited(o)]
        changes += [(o, "delete") for o in session.deleted if _audited(o)]
        for obj, operation in changes:
            entry = _describe(obj, operation, self._act, self._inserted)
            if entry is not None:
                self._entries.append(entry)

    # ------------------------------------------------------------------ data access

    def add(self, obj: M) -> M:
        """Add a new row to the session (it is flushed, and audited, with the act)."""
        self.session.add(obj)
        return obj

    def flush(self) -> None:
        try:
            self.session.flush()
        except (IntegrityError, StaleDataError, OperationalError) as exc:
            raise _translate(exc) from None

    def get(self, model: type[M], key: object, *, for_update: bool = False) -> M:
        """The row with primary key ``key``, or :class:`NotFound` naming the model."""
        (pk,) = model.__table__.primary_key
        stmt = select(model).where(pk == key)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        found = self.session.execute(stmt).scalar_one_or_none()
        if found is None:
            raise refusal(NotFound, model.__tablename__, key, "no_such_record")
        return found

    def lock(self, model: type[M], key: object | None = None, *, where: Any = None) -> M:
        """The row of ``model`` with primary key ``key`` (or matching ``where``), locked until
        this unit of work ends, freshly read; :class:`NotFound` if there is none.

        Use it before checking whether a once-only act has already happened: a concurrent act
        on the same row waits here for the first to commit and then sees its result, so exactly
        one of them passes the check. PostgreSQL takes ``FOR NO KEY UPDATE`` (it does not block
        inserts of rows that merely reference the locked one); SQLite needs nothing more than
        the ``BEGIN IMMEDIATE`` a writing unit of work already holds.
        """
        if self.readonly:
            raise AuditError("a read-only unit of work cannot lock rows")
        if (key is None) == (where is None):
            raise TypeError("lock() takes either a primary key or a where clause")
        if where is None:
            (pk,) = model.__table__.primary_key
            where = pk == key
        stmt = (
            select(model)
            .where(where)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        found = self.session.execute(stmt).scalar_one_or_none()
        if found is None:
            raise refusal(NotFound, model.__tablename__, key, "no_such_record")
        return found

    def claim_arm(self, arm_id: str, expected_version: int | None = None) -> Arm:
        """Lock the arm for this transaction and raise its version; the arm, refreshed.

        ``expected_version`` is the version the caller based its request on (from the arm
        state it was shown); if the arm has moved on since, :class:`ConcurrencyConflict` says
        so and nothing is written. Without it the claim still serialises concurrent acts on
        the arm: the second waits for the first to commit and then sees its result.
        """
        arm = self.lock(Arm, arm_id)
        current = arm.version
        if expected_version is not None and expected_version != current:
            raise ConcurrencyConflict(
                "version",
                expected_version,
                f"arm {arm_id} is now at version {current}: someone else acted on it first; "
                "reload the arm state and try again",
            )
        result = self.session.execute(
            update(Arm)
            .where(Arm.id == arm_id, Arm.version == current)
            .values(version=current + 1, updated_at=self.now())
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise ConcurrencyConflict(
                "version", current, f"arm {arm_id} changed while claiming it; try again"
            )
        self.session.refresh(arm)
        return arm

    # ------------------------------------------------------------------ ending

    def commit(self) -> list[dict[str, Any]]:
        """Flush, append the audit records, commit; the audit rows written."""
        if self._done:
            raise RuntimeError("this unit of work has already ended")
        self.flush()
        entries = list(self._entries)
        if self.readonly and entries:
            raise AuditError("a read-only unit of work cannot write rows or record events")
        audit.check_reasons(entries)
        session = self.session
        try:
            rows: list[dict[str, Any]] = []
            if entries:
                rows = audit.append(
                    session,
                    self.actor,
                    entries,
                    now=self.now(),
                    txn=self.txn,
                    context=self.context,
                )
            session.info[COMMITTING] = True
            try:
                session.commit()
            finally:
                session.info.pop(COMMITTING, None)
        except (IntegrityError, StaleDataError, OperationalError) as exc:
            raise _translate(exc) from None
        self._done = True
        self._entries.clear()
        self.committed_records = rows
        return rows

    def rollback(self) -> None:
        """Abandon every change of this unit of work (and its audit records)."""
        self.session.rollback()
        self._entries.clear()
        self._done = True


@event.listens_for(GuardedSession, "after_flush")
def _capture_flush(session: Session, context: Any) -> None:
    """Every flush of a unit of work's session becomes audit entries of its current act. One
    listener for the class: registering one on each session cost more than a cached read."""
    uow: UnitOfWork | None = session.info.get(_UOW_KEY)
    if uow is not None:
        uow._after_flush(session, context)


# ---------------------------------------------------------------------- grouped failure events


#: One group per engine (per database of this process).
_groups: weakref.WeakKeyDictionary[Engine, GroupCommit[audit.Batch]] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def event_group(db: Database) -> GroupCommit[audit.Batch]:
    """The group that writes ``db``'s failure events in this process (its counters say how
    many commits they took)."""
    with _groups_lock:
        group = _groups.get(db.engine)
        if group is None:
            group = _groups[db.engine] = GroupCommit(lambda batch: _write_events(db, batch))
        return group


def _queue_as_writer(db: Database) -> None:
    """On SQLite, wait for this process's writer lock (``Database.writers``) before SQLite's own,
    as long as SQLite would wait; :class:`DatabaseBusy` after that."""
    if not db.writers.acquire(timeout=db.busy_timeout_s):
        raise DatabaseBusy("database", None, "busy with other writers; try again")


def _write_events(db: Database, batches: Sequence[audit.Batch]) -> None:
    """Append every unit of work's events (each with its actor, time and transaction id) in one
    writing transaction, committed once.

    On a bare connection rather than a unit of work: the events change no row, so there is
    nothing for a session to track or capture, and the batch's fixed cost (half of a refusal's
    server time under load) is what sets how many refusals a second one process can audit."""
    sqlite = db.is_sqlite
    if sqlite:
        _queue_as_writer(db)
    try:
        with db.engine.begin() as connection:  # BEGIN IMMEDIATE on SQLite (store.session)
            audit.append_batches(connection, batches)
    except OperationalError as exc:
        raise _translate(exc) from None
    finally:
        if sqlite:
            db.writers.release()


# ---------------------------------------------------------------------- change capture


def _audited(obj: object) -> bool:
    return isinstance(obj, Base) and type(obj).__audited__


def _value(obj: Base, key: str, redact: frozenset[str]) -> Any:
    return audit.REDACTED if key in redact else audit.jsonable(getattr(obj, key))


def _describe(
    obj: Base, operation: str, act: Act | None, inserted: set[tuple[str, str | None]]
) -> Entry | None:
    """An audit entry for one flushed row change (None for an update that changed nothing).

    Rows inserted earlier in the same unit of work are still being first entered: changing
    them needs no reason.
    """
    model = type(obj)
    if act is None:
        raise AuditError(
            f"{model.__tablename__} changed with no act named: call uow.act(...) first"
        )
    state = inspect(obj)
    identity = state.mapper.primary_key_from_instance(obj)
    entity_id = "/".join(str(k) for k in identity) if identity else None
    redact = model.__audit_redact__
    keys = [c.key for c in model.__table__.columns]
    site = act.site_id or getattr(obj, "site_id", None)
    fresh = (model.__tablename__, entity_id) in inserted
    if operation == "insert":
        inserted.add((model.__tablename__, entity_id))
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    corrected: list[str] = []
    if operation == "insert":
        after = {k: _value(obj, k, redact) for k in keys}
    elif operation == "delete":
        before = {k: _value(obj, k, redact) for k in keys}
    else:
        workflow = model.__audit_workflow__ | audit.ALWAYS_WORKFLOW
        before, after = {}, {}
        for key in keys:
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            added, deleted = list(history.added or ()), list(history.deleted or ())
            new = added[0] if added else None
            # An empty ``deleted`` means the old value was never loaded: assume it was entered.
            known = bool(deleted)
            old = deleted[0] if known else None
            if known and old == new:
                continue
            before[key] = audit.REDACTED if key in redact else audit.jsonable(old)
            after[key] = _value(obj, key, redact)
            if key not in workflow and not fresh and (old is not None or not known):
                corrected.append(key)
        if not after:
            return None
    return Entry(
        action=act.action,
        entity=model.__tablename__,
        entity_id=entity_id,
        operation=operation,  # type: ignore[arg-type]
        before=before,
        after=after,
        reason=act.reason,
        site_id=site,
        corrected=tuple(corrected),
    )


def _translate(exc: Exception) -> DosewiseError:
    """A database failure as the error a person can act on."""
    if isinstance(exc, StaleDataError):
        return ConcurrencyConflict(
            "version", None, "the record was changed by someone else first; reload and try again"
        )
    if isinstance(exc, IntegrityError):
        detail = _first_line(exc)
        orig = getattr(exc, "orig", None)
        pgcode = getattr(orig, "sqlstate", None)
        if pgcode == "23503" or "FOREIGN KEY" in detail:
            return InvalidInput("reference", detail, "points at a record that does not exist")
        constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
        return DuplicateRecord(_unique_field(constraint, detail), None, "already exists")
    if isinstance(exc, OperationalError | DBAPIError):
        detail = _first_line(exc)
        pgcode = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if pgcode in {"40001", "40P01"}:
            return ConcurrencyConflict("transaction", pgcode, "concurrent update; try again")
        if "locked" in detail or "busy" in detail:
            return DatabaseBusy("database", detail, "busy with other writers; try again")
        raise exc
    raise exc


def _unique_field(constraint: str | None, detail: str) -> str:
    """``uq_users_username`` (PostgreSQL) or ``users.username`` (SQLite) → ``username``."""
    if constraint:
        for table in Base.metadata.tables:
            prefix = f"uq_{table}_"
            if constraint.startswith(prefix):
                return constraint[len(prefix) :]
        return constraint
    if "UNIQUE constraint failed:" in detail:
        return detail.split(":", 1)[1].split(",")[0].strip().split(".")[-1]
    return "record"


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)) or type(exc).__name__
    return text.strip().splitlines()[0][:200]
