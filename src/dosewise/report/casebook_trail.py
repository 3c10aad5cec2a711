"""The casebook's records as printed: each record's fields, who entered it, its e-signature and
its change history, read from the participant's rows of the audit trail (old → new, who, when,
why; a rule's working left out)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dosewise.report.casebook_words import Words
from dosewise.trial import audit, audit_names
from dosewise.trial.uow import UnitOfWork

#: Audit keys that are bookkeeping or a rule's working (the dose decision's state, the BOR's
#: basis, the DLT rule's evaluation, the product's dose plan, the screening's criteria), not
#: data a person entered: the changes they lead to (status, BOR, verdict) are shown.
_BOOKKEEPING = frozenset(
    {
        "version",
        "updated_at",
        "signature_id",
        "state",
        "basis",
        "evaluation",
        "feasibility",
        "decision",
        "criteria",
        "derived_at",
    }
)
#: Most audit records one casebook reads (a participant has a few hundred at most).
_MAX_AUDIT = 100_000


@dataclass(frozen=True)
class Change:
    """One field's change: old → new, who, when (local time) and why."""

    field: str
    old: str
    new: str
    by: str
    at: str
    reason: str


@dataclass(frozen=True)
class Signature:
    """An e-signature as printed (21 CFR 11.50): who, what it means, when, and whether it binds."""

    name: str
    username: str
    meaning: str
    at: str
    valid: bool


@dataclass
class Entry:
    """One record: its fields in words, who entered it, its signature, its changes, and an
    optional table (criteria, signers, grade course, thread)."""

    anchor: str
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    entered: str = ""
    signature: Signature | None = None
    changes: list[Change] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    #: Per table row: True good, False a real failure, None neither (criteria results).
    tones: list[bool | None] = field(default_factory=list)


class Trail:
    """The participant's audit rows by (table, id), with the names of the ids they hold."""

    def __init__(self, uow: UnitOfWork, study_id: str, words: Words) -> None:
        records = audit_names.participant_rows(uow.session, study_id)
        #: The participant's row id (its audit records are about ``participants/<id>``).
        self.participant_id = records[0][1][0]
        rows = audit.query(uow.session, audit.AuditQuery(records=records, limit=_MAX_AUDIT))
        named = audit_names.name_records(uow.session, [audit.as_dict(r) for r in rows])
        self.words = words
        self.by_record: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in named:
            self.by_record[(str(row["entity"]), str(row["entity_id"]))].append(row)

    def entered(self, table: str, row_id: Any) -> str:
        for row in self.by_record.get((table, str(row_id)), ()):
            if row["operation"] == "insert":
                return self.words.tr(
                    "Entered by %(user)s at %(time)s",
                    user=row["username"],
                    time=self.words.moment(row["recorded_at"]),
                )
        return ""

    def changes(self, table: str, row_id: Any) -> list[Change]:
        out = []
        for row in self.by_record.get((table, str(row_id)), ()):
            if row["operation"] != "update":
                continue
            before, after = row.get("before") or {}, row.get("after") or {}
            names = row.get("names") or {}
            for key in after:
                if key in _BOOKKEEPING:
                    continue
                for path, old, new in diff_leaves(key, before.get(key), after.get(key)):
                    out.append(
                        Change(
                            field=self.words.field(path),
                            old=self._shown(path, old, None),
                            new=self._shown(path, new, names.get(key)),
                            by=str(row["username"]),
                            at=self.words.moment(row["recorded_at"]),
                            reason=row.get("reason") or "",
                        )
                    )
        return out

    def _shown(self, path: str, value: Any, name: str | None) -> str:
        if name is not None:
            return name
        last = path.split(".")[-1]
        if last.endswith("_at") and isinstance(value, str):
            return self.words.moment(value)
        return self.words.value(last, value)


def diff_leaves(path: str, old: Any, new: Any) -> Iterator[tuple[str, Any, Any]]:
    """The leaves that differ between two stored values (nested mappings compared key by key)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in dict.fromkeys([*old, *new]):
            yield from diff_leaves(f"{path}.{key}", old.get(key), new.get(key))
    elif old != new:
        yield path, old, new


def signature_of(sig: Mapping[str, Any] | None, words: Words) -> Signature | None:
    if not sig:
        return None
    return Signature(
        name=str(sig["printed_name"]),
        username=str(sig["username"]),
        meaning=words.meaning(str(sig["meaning"])),
        at=words.moment(sig["signed_at"]),
        valid=bool(sig.get("valid", True)),
    )


def entry(
    words: Words,
    trail: Trail,
    table: str,
    row: Mapping[str, Any],
    title: str,
    keys: tuple[str, ...],
) -> Entry:
    shown = [(words.field(k), words.value(k, row.get(k))) for k in keys if k in row]
    return Entry(
        anchor=f"{table}-{row['id']}",
        title=title,
        rows=shown,
        entered=trail.entered(table, row["id"]),
        signature=signature_of(row.get("signature"), words),
        changes=trail.changes(table, row["id"]),
    )
