"""The reports page: every report the signed-in user may download, and the downloads themselves.

The list and the files come from :mod:`dosewise.report.downloads`, the same service as
``/api/v1/reports``, so the page offers exactly what the API would give the same user and a
trial-data export is audit-logged (``report.export.<kind>``, ``via: web``) like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Response

from dosewise.http.downloads import download_response
from dosewise.report import downloads
from dosewise.web.i18n import N_
from dosewise.web.render import Page, WebRoute, signed_in_page

router = APIRouter(route_class=WebRoute, include_in_schema=False)

#: Each report's name and what it holds, in the interface language.
TITLES: dict[str, str] = {
    "design": N_("Protocol design report"),
    "dsmb": N_("DSMB safety report"),
    "ctgov": N_("ClinicalTrials.gov results section"),
    "sdtm": N_("CDISC SDTM datasets"),
    "odm": N_("CDISC ODM XML (clinical data and audit trail)"),
}
DESCRIPTIONS: dict[str, str] = {
    "design": N_(
        "The protocol's statistical design: decision rules, tables and operating "
        "characteristics from %(trials)s simulated trials per scenario. It holds no trial data."
    ),
    "dsmb": N_(
        "Participant flow, exposure, DLTs, adverse events, CRS and ICANS, deaths and the dose "
        "decisions of each arm, for the Data Safety Monitoring Board."
    ),
    "ctgov": N_(
        "Participant flow, baseline characteristics, outcome measures and adverse events in "
        "the structure of the ClinicalTrials.gov results section (English)."
    ),
    "sdtm": N_(
        "The SDTM domains as SAS transport (XPT) and CSV files with a variable listing, in one "
        "ZIP file (English)."
    ),
    "odm": N_("The clinical data and the audit trail as one CDISC ODM 1.3.2 XML file (English)."),
}
#: Report languages by their own names (like the language switch, never translated).
LANGUAGE_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}


@dataclass(frozen=True)
class Link:
    """One download link of the page: a report in one format and language."""

    href: str
    format: str
    lang: str
    #: The language's own name, when the report comes in more than one ("" otherwise).
    language: str


def links(info: downloads.ReportInfo, first_lang: str) -> list[Link]:
    """Every format × language of a report; the page's language first."""
    langs = sorted(info.languages, key=lambda lang: lang != first_lang)
    out = []
    for fmt in info.formats:
        for lang in langs:
            several = len(langs) > 1
            query = {"format": fmt, **({"lang": lang} if several else {})}
            href = f"/reports/{info.kind}/download?{urlencode(query)}"
            out.append(Link(href, fmt, lang, LANGUAGE_NAMES[lang] if several else ""))
    return out


def report_lang(locale: str) -> str:
    """The report language that goes with an interface locale (``zh_CN`` → ``zh``)."""
    return "zh" if locale.startswith("zh") else "en"


@router.get("/reports")
def reports_page(page: Page = Depends(signed_in_page)) -> Response:
    """The reports the user may download, each in its formats and languages."""
    lang = report_lang(page.locale)
    reports = downloads.available_reports(page.signed_in.actor)
    return page.render(
        "reports/reports.html",
        reports=reports,
        links={info.kind: links(info, lang) for info in reports},
        titles=TITLES,
        descriptions=DESCRIPTIONS,
        language_names=LANGUAGE_NAMES,
        report_lang=lang,
        design_trials=downloads.DESIGN_TRIALS,
    )


@router.get("/reports/{kind}/download")
def download(kind: str, page: Page = Depends(signed_in_page)) -> Response:
    """The file (``?format=``, ``?lang=``, and ``?as_of=`` for trial-data exports)."""
    params = page.request.query_params
    info = downloads.find_report(kind)
    default_lang = report_lang(page.locale)
    lang = params.get("lang") or (default_lang if default_lang in info.languages else None)
    if not info.trial_data:
        file = downloads.design_download(page.rt.settings, fmt=params.get("format"), lang=lang)
    else:
        file = downloads.export_download(
            page.rt.db,
            page.signed_in.actor,
            kind,
            fmt=params.get("format"),
            lang=lang,
            as_of=params.get("as_of"),
            via="web",
            now=page.rt.clock(),
        )
    try:
        return download_response(file)
    except BaseException:
        file.close()
        raise
