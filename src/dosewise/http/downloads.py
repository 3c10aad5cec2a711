"""A report or export (:class:`~dosewise.report.downloads.Download`) as an HTTP attachment, the
same for ``/api/v1/reports/...`` and the reports page."""

from __future__ import annotations

from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from dosewise.report.casebook_export import CasebookFile
from dosewise.report.downloads import Download


def download_response(download: Download) -> Response:
    """The file as an attachment; a temporary file is streamed, then its folder removed."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if download.path is not None:
        return FileResponse(
            download.path,
            media_type=download.media_type,
            filename=download.filename,
            headers=headers,
            background=BackgroundTask(download.close),
        )
    headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return Response(download.read(), media_type=download.media_type, headers=headers)


def casebook_response(file: CasebookFile) -> Response:
    """A casebook as an attachment named by the file the audit trail records."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="{file.filename}"',
        "Cache-Control": "no-store",
    }
    return Response(file.content, media_type=file.media_type, headers=headers)
