"""The site icon: ``/favicon.ico`` (which browsers ask for on every site) answers with the SVG
icon of ``web/static``, so no page logs a 404 in the browser's console."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Response

router = APIRouter(include_in_schema=False)
ICON = resources.files("dosewise.web").joinpath("static", "favicon.svg")


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(
        ICON.read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
