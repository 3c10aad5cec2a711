"""The app: ``create_app(settings)`` composes the REST API (``/api/v1``) and the web pages (``/``)
on the shared HTTP layer.

This module sits above both siblings (:mod:`dosewise.api`, :mod:`dosewise.web`), which never
import each other; ``dosewise serve`` and the tests build the app here. Every request passes
:mod:`dosewise.http.middleware` (bodies over ``max_body_bytes`` → 413 before they are read;
security headers on every response).

The app refuses to start (lifespan startup fails) on a database that is not migrated to the
code's revision, naming the command to run (``dosewise db upgrade``).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from dosewise import __version__
from dosewise.api import mount_api
from dosewise.api.app import openapi_options
from dosewise.http.auth import Runtime
from dosewise.http.middleware import BodyLimit, SecurityHeaders
from dosewise.settings import Settings, get_settings
from dosewise.store import migrate
from dosewise.store.session import Database, open_database
from dosewise.trial.access import Passwords
from dosewise.trial.uow import Clock, utcnow
from dosewise.web import mount_web


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = utcnow,
    db: Database | None = None,
    extra_routers: Iterable[APIRouter] = (),
    freeze_at_start: bool = False,
) -> FastAPI:
    """The app for ``settings`` (default: from the environment): API, pages, middleware.

    ``freeze_at_start`` (``dosewise serve``): once started, move everything alive to the garbage
    collector's permanent generation (:func:`gc.freeze`). The modules, the protocol, the ORM
    mappings are never freed, yet a full collection walked them all: about 100 ms, in which the
    server answers nobody, a few times a minute under load (the p99 of the API bench). After
    the freeze a full collection walks only what was made since."""
    settings = settings or get_settings()
    owns_db = db is None
    database = db if db is not None else open_database(settings)
    rt = Runtime(settings=settings, db=database, clock=clock, passwords=Passwords(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        migrate.ensure_migrated(database.engine)
        if freeze_at_start:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if owns_db:
                database.dispose()

    app = FastAPI(version=__version__, lifespan=lifespan, **openapi_options())
    app.state.runtime = rt  # read by dosewise.http.auth.runtime
    mount_api(app, extra_routers)
    mount_web(app)  # the web pages at / and their static files (dosewise.web)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: a 413 carries the headers too
    return app


def serve_app() -> FastAPI:
    """The app of one ``dosewise serve --workers N`` process (settings from the environment)."""
    return create_app(freeze_at_start=True)


__all__ = ["create_app", "serve_app"]
