"""The audit trail page (administrators, investigators and monitors within their scope):
filterable history in sequence order, and the hash chain's verification status."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dosewise.errors import InvalidInput
from dosewise.store.tables import AuditHead
from dosewise.trial import audit, confidential
from dosewise.trial.access import visible_sites
from dosewise.web.render import Page, WebRoute, page_for

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE_SIZE = 100
FILTERS = ("site_id", "entity", "entity_id", "action", "username")


@dataclass(frozen=True)
class Change:
    """One field of a record: before and after (None when absent)."""

    name: str
    before: str | None
    after: str | None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes(record: dict[str, Any]) -> list[Change]:
    """The fields a record entered, changed or removed (unchanged fields are left out)."""
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
                _show(old) if key in before else None,
                _show(new) if key in after else None,
            )
        )
    return out


def _int(value: str | None, field: str) -> int:
    if not value:
        return 0
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(field, value, "must be a whole number") from None
    if not 0 <= number < 2**31:
        raise InvalidInput(field, value, "must be a whole number >= 0")
    return number


@router.get("/audit")
def audit_page(page: Page = Depends(page_for("audit.read"))) -> Response:
    user = page.signed_in
    params = page.request.query_params
    chosen = {name: (params.get(name) or "").strip() or None for name in FILTERS}
    after_seq = _int(params.get("after_seq"), "after_seq")
    latest = "after_seq" not in params and not any(chosen.values())
    site = chosen["site_id"]
    if site is not None:
        user.authorize("audit.read", site)
        sites: frozenset[str] | None = frozenset({site})
    else:
        sites = visible_sites(user.actor, "audit.read")
    query = audit.AuditQuery(
        sites=sites,
        entity=chosen["entity"],
        entity_id=chosen["entity_id"],
        action=chosen["action"],
        username=chosen["username"],
        after_seq=after_seq,
        limit=PAGE_SIZE,
    )
    chain = None
    with page.uow(readonly=True) as uow:
        if latest:  # unfiltered, the page opens on the newest records
            head = uow.session.scalar(select(AuditHead.last_seq).where(AuditHead.id == 1)) or 0
            query = dataclasses.replace(query, after_seq=max(0, int(head) - PAGE_SIZE))
        shown = confidential.audit_filter(uow.session, uow.actor)  # other sites' participants
        rows = [
            shown(d) if shown else d for d in map(audit.as_dict, audit.query(uow.session, query))
        ]
        if user.can("audit.verify"):
            chain = audit.verify_chain(uow.session)
    records = [{**row, "changes": changes(row)} for row in rows]
    next_after = rows[-1]["seq"] if len(rows) == PAGE_SIZE else None
    next_query = {k: v for k, v in chosen.items() if v}
    return page.render(
        "audit/audit.html",
        records=records,
        chain=chain,
        chosen=chosen,
        next_after=next_after,
        next_query=next_query,
        scope=sorted(sites) if sites is not None else None,
        latest=latest and query.after_seq > 0,
    )
