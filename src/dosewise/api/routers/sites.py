"""``GET /api/v1/sites``: the trial's sites (from the protocol)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.schemas import SiteOut
from dosewise.store.tables import Site

router = APIRouter(prefix="/sites", tags=["sites"])


@router.get("", response_model=list[SiteOut], summary="The trial's sites", responses=responses(401))
def list_sites(
    user: CurrentUser = Depends(require("site.read")), rt: Runtime = Depends(runtime)
) -> list[SiteOut]:
    with user.uow(rt, readonly=True) as uow:
        return [SiteOut.of(s) for s in uow.session.scalars(select(Site).order_by(Site.id))]
