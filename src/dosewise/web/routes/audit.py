"""The audit trail page (administrators, data managers, investigators and monitors within their
scope): the history newest first, filtered by study ID, user, act, date range, site or record,
with ids shown as the names they stand for; and the hash chain's verification status."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dosewise.errors import InvalidInput
from dosewise.store.tables import AuditRecord
from dosewise.trial import audit, audit_names, confidential
from dosewise.trial.access import visible_sites
from dosewise.web.render import Form, FormErrors, Page, WebRoute, page_for

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE_SIZE = 50
FILTERS = (
    "study_id",
    "username",
    "action",
    "date_from",
    "date_to",
    "site_id",
    "entity",
    "entity_id",
)


@dataclass(frozen=True)
class Change:
    """One field of a record: before and after (None when absent), ids shown as names."""

    name: str
    before: str | None
    after: str | None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _named(key: str, value: Any, names: audit_names.Names | None) -> str:
    name = names.of(key, value) if names is not None else None
    return name if name is not None else _show(value)


def changes(record: dict[str, Any], names: audit_names.Names | None = None) -> list[Change]:
    """The fields a record entered, changed or removed (unchanged fields are left out); user
    and participant ids as the usernames and study IDs they stand for."""
    before = record.get("before") or {}
    after = record.get("after") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [Change("value", _show(before), _show(after))]
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        out.append(
            Change(
                key,
                _named(key, old, names) if key in before else None,
                _named(key, new, names) if key in after else None,
            )
        )
    return out


def _int(value: str | None, field: str) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(field, value, "must be a whole number") from None
    if not 0 <= number < 2**31:
        raise InvalidInput(field, value, "must be a whole number >= 0")
    return number


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, value, "must be a date (YYYY-MM-DD)") from None


@router.get("/audit")
def audit_page(page: Page = Depends(page_for("audit.read"))) -> Response:
    """The trail newest first, PAGE_SIZE records a page (``before_seq`` for older ones)."""
    user = page.signed_in
    params = page.request.query_params
    chosen = {name: (params.get(name) or "").strip() or None for name in FILTERS}
    site = chosen["site_id"]
    if site is not None:
        user.authorize("audit.read", site)
        sites: frozenset[str] | None = frozenset({site})
    else:
        sites = visible_sites(user.actor, "audit.read")
    chain = None
    error = None
    with page.uow(readonly=True) as uow:
        try:
            before_seq = _int(params.get("before_seq"), "before_seq")
            query = audit_names.audit_filter(
                uow.session,
                sites=sites,
                entity=chosen["entity"],
                entity_id=chosen["entity_id"],
                action=chosen["action"],
                username=chosen["username"],
                study_id=chosen["study_id"],
                date_from=_day(chosen["date_from"], "date_from"),
                date_to=_day(chosen["date_to"], "date_to"),
            )
            query = dataclasses.replace(
                query, newest_first=True, before_seq=before_seq, limit=PAGE_SIZE
            )
            shown = confidential.audit_filter(uow.session, uow.actor)  # other sites' participants
            rows = [
                shown(d) if shown else d
                for d in map(audit.as_dict, audit.query(uow.session, query))
            ]
            total = audit.count(uow.session, query)
        except InvalidInput as exc:
            rows, total, error = [], 0, exc
        names = audit_names.lookups(uow.session, rows)
        named = audit_names.name_records(uow.session, rows)
        actions = list(uow.session.scalars(select(AuditRecord.action).distinct()))
        if user.can("audit.verify"):
            chain = audit.verify_chain(uow.session)
    records = [{**row, "changes": changes(row, names)} for row in named]
    older = rows[-1]["seq"] if len(rows) == PAGE_SIZE else None
    next_query = {k: v for k, v in chosen.items() if v}
    return page.render(
        "audit/audit.html",
        records=records,
        chain=chain,
        chosen=chosen,
        chosen_form=Form({k: [v] for k, v in chosen.items() if v}),
        older=older,
        next_query=next_query,
        first_page=before_seq is None if error is None else True,
        total=total,
        actions=sorted(actions),
        errors=FormErrors.of(error, FILTERS) if error is not None else FormErrors(),
        scope=sorted(sites) if sites is not None else None,
    )
