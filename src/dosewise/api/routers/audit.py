"""The audit trail: read (site-scoped for site roles), verify the chain, export (logged)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.schemas import NO_NUL, AuditPage, AuditRecordOut, ChainReportOut
from dosewise.trial import audit, audit_names, confidential
from dosewise.trial.access import visible_sites
from dosewise.trial.audit_names import audit_filter

router = APIRouter(prefix="/audit", tags=["audit"])
MAX_INT = 2**31 - 1


def _filter(example: str) -> Any:
    """A fresh optional text filter (FastAPI parameters must not share one ``Query``)."""
    return Query(default=None, min_length=1, max_length=64, pattern=NO_NUL, examples=[example])


def _site_filter() -> Any:
    return Query(
        default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$", examples=["S01"]
    )


def _sites(user: CurrentUser, action: str, site_id: str | None) -> frozenset[str] | None:
    """The sites the request covers: the asked one (if allowed) or all the user may see."""
    if site_id is not None:
        user.authorize(action, site_id)
        return frozenset({site_id})
    return visible_sites(user.actor, action)


@router.get(
    "",
    response_model=AuditPage,
    summary="Audit records, oldest first or newest first (site staff and site monitors see "
    "their site)",
    responses=responses(401, 403, 422),
)
def read_audit(
    site_id: str | None = _site_filter(),
    entity: str | None = _filter("users"),
    entity_id: str | None = _filter("7"),
    action: str | None = _filter("user.update"),
    username: str | None = _filter("admin"),
    study_id: str | None = Query(
        default=None,
        min_length=3,
        max_length=32,
        pattern=r"^[A-Za-z0-9-]+$",
        description="Every record of one participant: the participant, its clinical records, "
        "its data queries",
        examples=["S01-0001"],
    ),
    date_from: date | None = Query(default=None, description="Recorded on or after (UTC day)"),
    date_to: date | None = Query(default=None, description="Recorded on or before (UTC day)"),
    order: Literal["asc", "desc"] = Query(
        default="asc", description="asc: oldest first from after_seq; desc: newest first"
    ),
    after_seq: int = Query(default=0, ge=0, le=MAX_INT),
    before_seq: int | None = Query(
        default=None, ge=1, le=MAX_INT, description="With order=desc: records below this seq"
    ),
    limit: int = Query(default=100, ge=1, le=1000),
    user: CurrentUser = Depends(require("audit.read")),
    rt: Runtime = Depends(runtime),
) -> AuditPage:
    with user.uow(rt, readonly=True) as uow:
        q = audit_filter(
            uow.session,
            sites=_sites(user, "audit.read", site_id),
            entity=entity,
            entity_id=entity_id,
            action=action,
            username=username,
            study_id=study_id,
            date_from=date_from,
            date_to=date_to,
        )
        q = replace(
            q,
            newest_first=order == "desc",
            after_seq=after_seq,
            before_seq=before_seq,
            limit=limit,
        )
        found = audit.query(uow.session, q)
        shown = confidential.audit_filter(uow.session, uow.actor)
        named = audit_names.name_records(
            uow.session, [shown(d) if shown else d for d in map(audit.as_dict, found)]
        )
        total = audit.count(uow.session, q)
    rows = [AuditRecordOut(**r) for r in named]
    full = len(rows) == limit
    return AuditPage(
        records=rows,
        next_after_seq=rows[-1].seq if full and order == "asc" else None,
        next_before_seq=rows[-1].seq if full and order == "desc" else None,
        total=total,
    )


@router.get(
    "/verify",
    response_model=ChainReportOut,
    summary="Recompute the hash chain: detects edited, deleted and removed records",
    responses=responses(401, 403),
)
def verify(
    user: CurrentUser = Depends(require("audit.verify")), rt: Runtime = Depends(runtime)
) -> ChainReportOut:
    with user.uow(rt, readonly=True) as uow:
        report = audit.verify_chain(uow.session)
    return ChainReportOut(**report.to_dict())


@router.get(
    "/export",
    summary="Download the trail as CSV or JSON (the export itself is audited)",
    responses={
        200: {
            "description": "The trail",
            "content": {"text/csv": {}, "application/json": {}},
        },
        **responses(401, 403, 422),
    },
)
def export(
    format: Literal["csv", "json"] = Query(default="csv"),
    site_id: str | None = _site_filter(),
    user: CurrentUser = Depends(require("audit.export")),
    rt: Runtime = Depends(runtime),
) -> Response:
    sites = _sites(user, "audit.export", site_id)
    buffer = io.StringIO()
    with user.uow(rt) as uow:
        shown = confidential.audit_filter(uow.session, uow.actor)
        summary = audit.export(uow, format, buffer, sites=sites, shown=shown)
    media = "text/csv" if format == "csv" else "application/json"
    name = f"dosewise-audit-{summary.through_seq}.{format}"
    return Response(
        buffer.getvalue(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
