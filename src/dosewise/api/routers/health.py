"""``GET /api/v1/health``: is the service up, and is its database migrated?

Anyone may ask (load balancers, monitoring), so the answer names the database's kind, never its
location or credentials.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from dosewise import __version__
from dosewise.api.auth import Runtime, runtime
from dosewise.api.errors import responses
from dosewise.api.schemas import Health
from dosewise.store import migrate

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    summary="Service and database status (no login needed)",
    responses={503: {"model": Health, "description": "Database not migrated"}, **responses(503)},
)
def health(rt: Runtime = Depends(runtime)) -> JSONResponse:
    state = migrate.status(rt.db.engine)
    body = Health(
        status="ok" if state.up_to_date else "not_migrated",
        version=__version__,
        database=rt.db.engine.dialect.name,  # the kind only: the location is not for anyone
        revision=state.current,
        head=state.head,
        up_to_date=state.up_to_date,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if state.up_to_date else 503)
