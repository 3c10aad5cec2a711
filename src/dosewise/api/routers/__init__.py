"""The API's routers. Every module in this package that defines ``router`` is mounted under
``/api/v1`` by :func:`dosewise.api.app.mount_api` — adding a clinical router is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

#: Mounted first, in this order; any other module follows in name order. The two routes every
#: site polls (the arm state, the dose assignment) come first: a request is matched against the
#: routes in order, and each route passed costs (about a tenth of a millisecond per request).
CORE = ("arms", "dosing", "health", "auth", "users", "sites", "audit")


def load_routers() -> list[APIRouter]:
    """The ``router`` of every module in this package."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    ordered = [n for n in CORE if n in names] + sorted(n for n in names if n not in CORE)
    routers = []
    for name in ordered:
        module = importlib.import_module(f"{__name__}.{name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers
