"""The web pages' routers, one module per area; :func:`routers` lists them in mounting order."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

#: Mounted first, in this order; any other module follows in name order.
FIRST = ("account",)


def routers() -> list[APIRouter]:
    """The ``router`` of every module in this package."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    ordered = [n for n in FIRST if n in names] + sorted(n for n in names if n not in FIRST)
    found = []
    for name in ordered:
        router = getattr(importlib.import_module(f"{__name__}.{name}"), "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
