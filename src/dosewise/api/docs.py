"""The API documentation page (``/api/v1/docs``), served wholly from installed packages.

Sites may run offline, so nothing is loaded from a CDN: Swagger UI's script and style come from
the ``fastapi-offline`` package's copy (Swagger UI 5, which reads OpenAPI 3.1), mounted at
``/api/v1/docs/assets``, and the page starts it with a script file of this package
(``static/docs-init.js``) rather than an inline script, so the page keeps the service's
Content-Security-Policy.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/assets"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{base}{assets}/swagger-ui.css">
<link rel="icon" href="{base}{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{base}{assets}/swagger-ui-bundle.js"></script>
<script src="{base}/init.js"></script>
</body>
</html>
"""


def swagger_assets_dir() -> str:
    """The folder of Swagger UI's files as the ``fastapi-offline`` package installs them."""
    return str(resources.files("fastapi_offline").joinpath("static"))


def install_docs(app: FastAPI, base: str, openapi_url: str, title: str) -> None:
    """Serve the docs page at ``base`` (e.g. ``/api/v1/docs``) and its files beneath it."""
    page = _PAGE.format(
        title=escape(title), base=base, assets=ASSETS, openapi=escape(openapi_url, quote=True)
    )
    init_js = str(resources.files("dosewise.api").joinpath("static", "docs-init.js"))

    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    async def init() -> FileResponse:
        return FileResponse(init_js, media_type="text/javascript")

    app.add_api_route(base, docs, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{base}/init.js", init, methods=["GET"], include_in_schema=False)
    app.mount(f"{base}{ASSETS}", StaticFiles(directory=swagger_assets_dir()), name="docs-assets")
