"""The REST API (FastAPI) over the trial services: ``create_app(settings)``.

Importing this package does no I/O; the app opens its database when it is created.
"""

from __future__ import annotations

from dosewise.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
