"""Reports and exports as downloads: the list a user may take, the design report, and every
trial-data export (DSMB, ClinicalTrials.gov, SDTM as a ZIP, ODM) under the same access rules as
the records they hold. The work is :mod:`dosewise.report.downloads`; exports are audit-logged as
``report.export.<kind>`` with ``via: api``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dosewise.api.auth import CurrentUser, Runtime, current_user, runtime
from dosewise.api.errors import responses
from dosewise.http.downloads import download_response
from dosewise.report import downloads
from dosewise.report.downloads import MEDIA_TYPES, ReportInfo

router = APIRouter(prefix="/reports", tags=["reports"])
BASE = "/api/v1/reports"


class ReportFormatOut(BaseModel):
    """One format a report comes in, and the link that downloads it."""

    format: str = Field(description="pdf, html, json, xml or zip", examples=["pdf"])
    media_type: str = Field(examples=["application/pdf"])
    href: str = Field(examples=["/api/v1/reports/dsmb?format=pdf"])


class ReportOut(BaseModel):
    """A report the current user may download."""

    kind: str = Field(examples=["dsmb"])
    title: str = Field(examples=["DSMB safety report"])
    formats: list[ReportFormatOut] = Field(description="The first is the default")
    languages: list[str] = Field(description="Values of ?lang= (en: English, zh: Chinese)")
    trial_data: bool = Field(
        description="Read from the trial's records: ?as_of=YYYY-MM-DD sets the data cut-off "
        "(default: the last record's day), and each download is audit-logged"
    )
    href: str = Field(description="Download in the default format and language")


class ReportList(BaseModel):
    reports: list[ReportOut]


def _href(kind: str, **params: str) -> str:
    return f"{BASE}/{kind}" + (f"?{urlencode(params)}" if params else "")


def report_out(info: ReportInfo) -> ReportOut:
    return ReportOut(
        kind=info.kind,
        title=info.title,
        formats=[
            ReportFormatOut(format=f, media_type=MEDIA_TYPES[f], href=_href(info.kind, format=f))
            for f in info.formats
        ],
        languages=list(info.languages),
        trial_data=info.trial_data,
        href=_href(info.kind),
    )


def file_responses(*formats: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a download in one of ``formats``, for the OpenAPI document."""
    return {
        200: {
            "description": "The file, as an attachment (Content-Disposition names it)",
            "content": {MEDIA_TYPES[f]: {} for f in formats},
        }
    }


FormatQuery = Query(
    default=None,
    max_length=16,
    description="pdf or html (DSMB, design), json or html (ClinicalTrials.gov), xml (ODM), "
    "zip (SDTM); default: the report's first format",
    examples=["pdf"],
)
LangQuery = Query(
    default=None,
    max_length=16,
    description="en or zh for the DSMB and design reports; the standards-bound exports are in "
    "English only (default: en)",
    examples=["zh"],
)


@router.get(
    "",
    response_model=ReportList,
    summary="The reports the current user may download, with their formats and links",
    responses=responses(401),
)
def list_reports(user: CurrentUser = Depends(current_user)) -> ReportList:
    return ReportList(reports=[report_out(i) for i in downloads.available_reports(user.actor)])


@router.get(
    "/design",
    response_class=Response,
    summary="The protocol's design report (1,000 simulated trials per scenario; cached)",
    description="The statistical design section of the protocol the service runs, with its "
    "operating characteristics simulated at 1,000 trials per scenario and the default seed. "
    "It holds no trial data, so every signed-in user may take it, and it is not audit-logged. "
    "The first request of a day per format and language computes it (seconds for HTML, tens of "
    "seconds for PDF); later ones are served from memory. `dosewise report design` writes the "
    "full-size report.",
    responses={**file_responses(*downloads.DESIGN.formats), **responses(401, 422)},
)
def design_report(
    format: str | None = FormatQuery,
    lang: str | None = LangQuery,
    user: CurrentUser = Depends(current_user),
    rt: Runtime = Depends(runtime),
) -> Response:
    return download_response(downloads.design_download(rt.settings, fmt=format, lang=lang))


@router.get(
    "/{kind}",
    response_class=Response,
    summary="A trial-data export as a file: dsmb, ctgov, sdtm (a ZIP) or odm (audit-logged)",
    description="Reads the trial's records as of `as_of`, writes the export and logs "
    "`report.export.<kind>` in the audit trail. An export holds every site's records, so the "
    "role needs each of the export's permissions over all sites: site-scoped users get 403.",
    responses={**file_responses(*MEDIA_TYPES), **responses(401, 403, 404, 422)},
)
def export_report(
    kind: str = Path(max_length=16, description="dsmb, ctgov, sdtm or odm", examples=["dsmb"]),
    format: str | None = FormatQuery,
    lang: str | None = LangQuery,
    as_of: str | None = Query(
        default=None,
        max_length=10,
        description="Data cut-off YYYY-MM-DD, not after today (default: the last record's day)",
        examples=["2026-06-30"],
    ),
    user: CurrentUser = Depends(current_user),
    rt: Runtime = Depends(runtime),
) -> Response:
    download = downloads.export_download(
        rt.db, user.actor, kind, fmt=format, lang=lang, as_of=as_of, via="api", now=rt.clock()
    )
    try:
        return download_response(download)
    except BaseException:
        download.close()
        raise
