"""The web application: server-rendered pages (Jinja2, htmx) in Simplified Chinese and English.

Every page calls the trial services (``dosewise.trial``) or the pure rules through them; no page
holds a rule. :func:`mount_web` adds the pages and their static files to the app that
:func:`dosewise.server.create_app` builds, so ``dosewise serve`` serves the API under
``/api/v1`` and the pages at ``/``. Importing this package does no I/O; it never imports
:mod:`dosewise.api` (a sibling over the shared :mod:`dosewise.http` layer).
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_PATH = "/static"


def mount_web(app: FastAPI) -> None:
    """Add the web pages and ``/static`` to ``app``."""
    from dosewise.web.routes import routers

    for router in routers():
        app.include_router(router)
    static_dir = resources.files("dosewise.web").joinpath("static")
    app.mount(STATIC_PATH, StaticFiles(directory=str(static_dir)), name="static")


__all__ = ["STATIC_PATH", "mount_web"]
