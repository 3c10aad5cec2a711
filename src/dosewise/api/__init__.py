"""The REST API (FastAPI) over the trial services: its routers under ``/api/v1``, mounted on the
app by :func:`mount_api` (the app is composed in :mod:`dosewise.server`).

Importing this package does no I/O. It never imports :mod:`dosewise.web` (a sibling over the
shared :mod:`dosewise.http` layer).
"""

from __future__ import annotations

from dosewise.api.app import API_PREFIX, mount_api

__all__ = ["API_PREFIX", "mount_api"]
