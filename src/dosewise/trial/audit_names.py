"""The audit trail for people: the ids inside records named (``created_by: 2`` is ``coord1``,
``participant_id: 5`` is ``S01-0005``), the person a sign-in is about, and every row that belongs
to one participant (to filter the trail by study ID).

The trail itself stays as written (ids, hashed); names are looked up when it is shown, so a
renamed record still shows what was stored, next to the name it has now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise.errors import InvalidInput
from dosewise.store.tables import DataQuery, DataQueryMessage, Participant, User
from dosewise.trial.audit import AuditQuery
from dosewise.trial.services.queries import RECORD_TYPES

#: Keys whose values are user ids: ``created_by``, ``recorded_by``, ``user_id`` ...
USER_KEYS_SUFFIX = "_by"
USER_KEYS = frozenset({"user_id"})
PARTICIPANT_KEYS = frozenset({"participant_id"})


def _is_user_key(key: str) -> bool:
    return key.endswith(USER_KEYS_SUFFIX) or key in USER_KEYS


def participant_rows(session: Session, study_id: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every row that belongs to the participant ``study_id``, as (table, ids) pairs: the
    participant, each clinical record, its data queries and their threads."""
    pid = session.scalar(select(Participant.id).where(Participant.study_id == study_id))
    if pid is None:
        raise InvalidInput("study_id", study_id, "no such participant")
    out: list[tuple[str, tuple[str, ...]]] = [("participants", (str(pid),))]
    for name, model in RECORD_TYPES.items():
        if model is Participant:
            continue
        column = model.participant_id  # type: ignore[attr-defined]
        ids = session.scalars(select(model.id).where(column == pid))  # type: ignore[attr-defined]
        out.append((name, tuple(str(i) for i in ids)))
    query_ids = list(session.scalars(select(DataQuery.id).where(DataQuery.participant_id == pid)))
    out.append(("data_queries", tuple(str(i) for i in query_ids)))
    messages = session.scalars(
        select(DataQueryMessage.id).where(DataQueryMessage.query_id.in_(query_ids))
    )
    out.append(("data_query_messages", tuple(str(i) for i in messages)))
    return tuple(out)


def audit_filter(
    session: Session,
    *,
    sites: frozenset[str] | None,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    username: str | None = None,
    study_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> AuditQuery:
    """The trail's filters as people give them: a user (their sign-ins included), a study ID
    (every row of that participant), a range of UTC days (both ends included)."""
    if date_from is not None and date_to is not None and date_to < date_from:
        raise InvalidInput("date_to", date_to.isoformat(), f"is before date_from ({date_from})")
    subject = None
    if username is not None:
        found = session.scalar(select(User.id).where(User.username == username.strip().lower()))
        subject = None if found is None else str(found)
    return AuditQuery(
        sites=sites,
        entity=entity,
        entity_id=entity_id,
        action=action,
        username=username,
        subject_id=subject,
        records=None if study_id is None else participant_rows(session, study_id.strip()),
        since=None if date_from is None else f"{date_from.isoformat()}T00:00:00",
        until=None if date_to is None else f"{(date_to + timedelta(days=1)).isoformat()}T00:00:00",
    )


def _ints(values: Iterable[Any]) -> set[int]:
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


@dataclass(frozen=True)
class Names:
    """Usernames and study IDs of the ids a page of records holds."""

    users: Mapping[int, str]
    studies: Mapping[int, str]

    def of(self, key: str, value: Any) -> str | None:
        """The name of ``value`` stored under ``key`` (None: not an id this knows)."""
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        if _is_user_key(key):
            return self.users.get(value)
        if key in PARTICIPANT_KEYS:
            return self.studies.get(value)
        return None


def lookups(session: Session, rows: list[dict[str, Any]]) -> Names:
    """Look up, in two queries, the names of every id that ``rows`` hold."""
    user_ids: set[int] = set()
    participant_ids: set[int] = set()
    for row in rows:
        for values in (row.get("before"), row.get("after")):
            if isinstance(values, Mapping):
                user_ids |= _ints(v for k, v in values.items() if _is_user_key(k))
                participant_ids |= _ints(v for k, v in values.items() if k in PARTICIPANT_KEYS)
        entity_id = str(row.get("entity_id") or "")
        if entity_id.isdigit():
            if row.get("entity") == "users":
                user_ids.add(int(entity_id))
            elif row.get("entity") == "participants":
                participant_ids.add(int(entity_id))
    return Names(
        _lookup(session, User.id, User.username, user_ids),
        _lookup(session, Participant.id, Participant.study_id, participant_ids),
    )


def name_records(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (``audit.as_dict``) each with ``names`` (key → the name of the id it holds now,
    the new value's for a change) and ``subject`` (the person a sign-in or account event is
    about, else None)."""
    found = lookups(session, rows)
    out = []
    for row in rows:
        names: dict[str, str] = {}
        for values in (row.get("before"), row.get("after")):
            if isinstance(values, Mapping):
                for key, value in values.items():
                    name = found.of(key, value)
                    if name is not None:
                        names[key] = name
        entity_id = str(row.get("entity_id") or "")
        if row.get("entity") == "participants" and entity_id.isdigit():
            names.setdefault("entity_id", found.studies.get(int(entity_id), entity_id))
        out.append({**row, "names": names, "subject": _subject(row, found.users)})
    return out


def _subject(row: Mapping[str, Any], users: Mapping[int, str]) -> str | None:
    """Whom an account event is about: the user of ``entity_id``, or the name typed at a
    failed sign-in of an unknown user."""
    if row.get("entity") != "users":
        return None
    entity_id = str(row.get("entity_id") or "")
    if entity_id.isdigit() and int(entity_id) in users:
        return users[int(entity_id)]
    after = row.get("after")
    if isinstance(after, Mapping) and isinstance(after.get("username"), str):
        return str(after["username"])
    return None


def _lookup(session: Session, key: Any, value: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {k: v for k, v in session.execute(select(key, value).where(key.in_(sorted(ids))))}
