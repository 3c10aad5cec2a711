"""The application factory: ``create_app(settings)`` → a FastAPI app under ``/api/v1``.

Every request passes :mod:`dosewise.api.middleware` (bodies over ``max_body_bytes`` → 413
before they are read; security headers on every response).

The app refuses to start (lifespan startup fails) on a database that is not migrated to the
code's revision, naming the command to run (``dosewise db upgrade``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from dosewise import __version__
from dosewise.api import errors
from dosewise.api.auth import Runtime
from dosewise.api.docs import install_docs
from dosewise.api.errors import ERROR_RESPONSES
from dosewise.api.middleware import BodyLimit, SecurityHeaders
from dosewise.api.routers import load_routers
from dosewise.settings import Settings, get_settings
from dosewise.store import migrate
from dosewise.store.session import Database, open_database
from dosewise.trial.access import Passwords
from dosewise.trial.uow import Clock, utcnow
from dosewise.web import mount_web

API_PREFIX = "/api/v1"

DESCRIPTION = """
The dosewise trial service: every clinical act of a BOIN12 / TITE-BOIN12 phase I/II trial as one
audited transaction, under role- and site-based access control.

* Log in with `POST /api/v1/auth/login`, then send `Authorization: Bearer <access_token>`.
* Every error is `{"error": {"code": ..., "field": ..., "message": ...}}` with a 4xx status.
* Doses are 1-based; times are UTC.
"""


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = utcnow,
    db: Database | None = None,
    extra_routers: Iterable[APIRouter] = (),
) -> FastAPI:
    """The API app for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    owns_db = db is None
    database = db if db is not None else open_database(settings)
    rt = Runtime(settings=settings, db=database, clock=clock, passwords=Passwords(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        migrate.ensure_migrated(database.engine)
        try:
            yield
        finally:
            if owns_db:
                database.dispose()

    app = FastAPI(
        title="dosewise trial service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from the package below, not from a CDN
        redoc_url=None,
    )
    app.state.runtime = rt
    errors.install(app)
    for router in [*load_routers(), *extra_routers]:
        app.include_router(router, prefix=API_PREFIX)
    install_docs(app, f"{API_PREFIX}/docs", f"{API_PREFIX}/openapi.json", app.title)
    mount_web(app)  # the web pages at / and their static files (dosewise.web)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: a 413 carries the headers too
    return app
