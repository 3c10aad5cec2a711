"""The REST API's part of the app: its routers under ``/api/v1``, its error shape and its docs
page (:func:`mount_api`), and what its OpenAPI document says about itself (:func:`openapi_options`).

The app is composed in :mod:`dosewise.server` (``create_app``), above the API and the web pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI

from dosewise.api import errors
from dosewise.api.docs import install_docs
from dosewise.api.errors import ERROR_RESPONSES
from dosewise.api.routers import load_routers

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"
DOCS_URL = f"{API_PREFIX}/docs"
TITLE = "dosewise trial service"

DESCRIPTION = """
The dosewise trial service: every clinical act of a BOIN12 / TITE-BOIN12 phase I/II trial as one
audited transaction, under role- and site-based access control.

* Log in with `POST /api/v1/auth/login`, then send `Authorization: Bearer <access_token>`.
* Every error is `{"error": {"code": ..., "field": ..., "message": ...}}` with a 4xx status.
* Doses are 1-based; times are UTC.
"""


def openapi_options() -> dict[str, Any]:
    """The ``FastAPI(...)`` arguments that describe the API (title, error responses, where the
    OpenAPI document is); the docs page is served from the package, not from a CDN."""
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "responses": ERROR_RESPONSES,
        "openapi_url": OPENAPI_URL,
        "docs_url": None,
        "redoc_url": None,
    }


def mount_api(app: FastAPI, extra_routers: Iterable[APIRouter] = ()) -> None:
    """Add the error handlers (one JSON shape for every error), every router under
    ``/api/v1`` (and ``extra_routers``, for tests) and the docs page at ``/api/v1/docs``."""
    errors.install(app)
    for router in [*load_routers(), *extra_routers]:
        app.include_router(router, prefix=API_PREFIX)
    install_docs(app, DOCS_URL, OPENAPI_URL, TITLE)
