"""Reports as files to download: what a user may take, and the file itself, for the API and web.

``GET /api/v1/reports...`` and the web page ``/reports`` are thin shells over this module, so
both list the same reports to the same people and hand out the same files:

- :func:`available_reports` — the protocol design report (anyone signed in: it holds no trial
  data) and each trial-data export of :data:`~dosewise.report.exports.EXPORT_KINDS` the user's
  role may take over every site (:func:`~dosewise.report.exports.authorize_export`);
- :func:`export_download` — checks the request, then writes the export into a fresh temporary
  folder through :func:`~dosewise.report.exports.run_export` (which reads, writes and audit-logs
  it) and returns the file; the SDTM folder becomes one ZIP. The caller sends the file and then
  calls :meth:`Download.close`, which removes the folder;
- :func:`design_download` — the design report of the protocol the service runs, simulated with
  :data:`DESIGN_TRIALS` trials per scenario at the default seed (as on the protocol page), kept
  in memory per protocol, language and format for the day: building the HTML takes seconds and
  the PDF tens of seconds, so only the first request of a day waits. ``dosewise report design``
  writes the full-size report (10,000 trials, any seed).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dosewise.errors import InvalidParameter
from dosewise.report.exports import EXPORT_KINDS, ExportKind, authorize_export, run_export
from dosewise.report.exports import parse_as_of as _parse_as_of
from dosewise.report.i18n import LANGS, check_lang
from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.trial.access import Forbidden
from dosewise.trial.audit import Actor
from dosewise.trial.uow import NotFound

if TYPE_CHECKING:
    from dosewise.report.design_report import DesignReport

#: Simulated trials per scenario in a downloaded design report (the protocol page's number).
DESIGN_TRIALS = 1_000
#: The media type of each format (text types get ``charset=utf-8`` from the web server).
MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "html": "text/html",
    "json": "application/json",
    "xml": "application/xml",
    "zip": "application/zip",
}
#: The format of a folder export: its files in one ZIP.
FOLDER_FORMAT = "zip"


@dataclass(frozen=True)
class ReportInfo:
    """One report a user may download: its formats (first: the default) and languages."""

    kind: str
    title: str
    formats: tuple[str, ...]
    languages: tuple[str, ...]
    #: Whether it is read from the trial's records (then a data cut-off ``as_of`` applies).
    trial_data: bool

    def check_format(self, fmt: str | None) -> str:
        """``fmt`` (default: the first format) if this report comes in it; else a clear error."""
        if fmt is None or fmt == "":
            return self.formats[0]
        if fmt not in self.formats:
            raise InvalidParameter(
                "format", fmt, f"the {self.kind} report comes as {' or '.join(self.formats)}"
            )
        return fmt

    def check_lang(self, lang: str | None) -> str:
        """``lang`` (default: English) if the report is written in it; else a clear error."""
        chosen = check_lang(lang or "en")
        if chosen not in self.languages:
            raise InvalidParameter(
                "lang", lang, f"the {self.kind} report is written in {' or '.join(self.languages)}"
            )
        return chosen


DESIGN = ReportInfo("design", "Protocol design report", ("pdf", "html"), LANGS, trial_data=False)


def export_info(spec: ExportKind) -> ReportInfo:
    """What a trial-data export offers for download (a folder export comes as a ZIP)."""
    formats = tuple(s.lstrip(".") for s in spec.suffixes) or (FOLDER_FORMAT,)
    languages = LANGS if spec.translated else ("en",)
    return ReportInfo(spec.name, spec.title, formats, languages, trial_data=True)


#: Every report in listing order: the design report, then the trial-data exports.
REPORTS: dict[str, ReportInfo] = {
    DESIGN.kind: DESIGN,
    **{name: export_info(spec) for name, spec in EXPORT_KINDS.items()},
}


def find_report(kind: str) -> ReportInfo:
    """The report called ``kind``; :class:`NotFound` (404) names the reports there are."""
    try:
        return REPORTS[kind]
    except KeyError:
        raise NotFound("kind", kind, f"no such report; there are {', '.join(REPORTS)}") from None


def may_take(actor: Actor, kind: str) -> bool:
    """Whether ``actor`` may download ``kind`` (the design report: everyone signed in)."""
    if find_report(kind) is DESIGN:
        return True
    try:
        authorize_export(actor, kind)
    except Forbidden:
        return False
    return True


def available_reports(actor: Actor) -> list[ReportInfo]:
    """The reports ``actor`` may download, in listing order."""
    return [info for kind, info in REPORTS.items() if may_take(actor, kind)]


def parse_as_of(value: str | date | None, *, now: datetime | None = None) -> date | None:
    """A data cut-off from ``YYYY-MM-DD`` (None or empty: the last clinical record's day); not after
    today (``now``: the service's clock)."""
    return _parse_as_of(value or None, now=now)


@dataclass
class Download:
    """A report file ready to send: from a temporary folder (``path``) or memory (``content``).

    :meth:`close` removes the temporary folder once the file has been sent.
    """

    filename: str
    media_type: str
    path: Path | None = None
    content: bytes | None = None
    #: What the export wrote (the audit record's detail); empty for the design report.
    detail: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None

    def read(self) -> bytes:
        """The file's bytes (for callers that do not stream)."""
        if self.content is not None:
            return self.content
        assert self.path is not None
        return self.path.read_bytes()

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _zip_folder(folder: Path, out: Path, top: str) -> Path:
    """Every file of ``folder`` into the ZIP ``out``, under the folder name ``top``."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return out


def export_download(
    db: Database,
    actor: Actor,
    kind: str,
    *,
    fmt: str | None = None,
    lang: str | None = None,
    as_of: str | date | None = None,
    via: str,
    now: datetime | None = None,
) -> Download:
    """Check, write and audit-log the trial-data export ``kind``; the file to send.

    Checks, in order: the report exists (404), the user may take it (403), then format, language
    and cut-off (422, naming the field). The export is logged as ``report.export.<kind>`` with
    ``via`` (``api`` or ``web``).
    """
    info = find_report(kind)
    if not info.trial_data:
        raise InvalidParameter("kind", kind, "is not read from the trial's records")
    spec = authorize_export(actor, kind)
    chosen = info.check_format(fmt)
    language = info.check_lang(lang)
    cutoff = parse_as_of(as_of, now=now)
    folder = Path(tempfile.mkdtemp(prefix=f"dosewise-{kind}-"))
    try:
        if spec.folder:
            out = folder / kind
            out.mkdir()
        else:
            out = folder / f"{kind}.{chosen}"

        def name(day: str) -> str:
            """The file the user receives (``dosewise-dsmb-2026-01-05-en.pdf``)."""
            return f"dosewise-{kind}-{day}" + (f"-{language}" if spec.translated else "")

        detail = run_export(
            db,
            actor,
            kind,
            out,
            lang=language,
            as_of=cutoff,
            via=via,
            document=lambda day: f"{name(day)}.{chosen}",
        )
        stem = name(detail["as_of"])
        if spec.folder:
            out = _zip_folder(out, folder / f"{stem}.zip", stem)
        return Download(
            filename=f"{stem}.{chosen}",
            media_type=MEDIA_TYPES[chosen],
            path=out,
            detail=detail,
            folder=folder,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- the design report

_design_lock = threading.Lock()


@lru_cache(maxsize=2)
def _design_report(protocol_path: str, cache_dir: str, day: date) -> DesignReport:
    from dosewise.report.design_report import DEFAULT_SEED, build_design_report
    from dosewise.report.oc_cache import OcCache
    from dosewise.trial.bootstrap import protocol_for

    settings = Settings(protocol_path=protocol_path, cache_dir=cache_dir)
    loaded = protocol_for(settings)
    return build_design_report(
        loaded.protocol,
        source=None if loaded.source.startswith("embedded:") else loaded.source,
        trials=DESIGN_TRIALS,
        seed=DEFAULT_SEED,
        command=f"dosewise report design --trials {DESIGN_TRIALS} --seed {DEFAULT_SEED}",
        today=day,
        cache=OcCache.from_settings(settings),
    )


@lru_cache(maxsize=4)
def _design_html(protocol_path: str, cache_dir: str, lang: str, day: date) -> str:
    from dosewise.report.design_report import design_report_html

    return design_report_html(_design_report(protocol_path, cache_dir, day), lang)


@lru_cache(maxsize=4)
def _design_bytes(protocol_path: str, cache_dir: str, fmt: str, lang: str, day: date) -> bytes:
    from dosewise.report.render import html_to_pdf

    html = _design_html(protocol_path, cache_dir, lang, day)
    return html_to_pdf(html) if fmt == "pdf" else html.encode("utf-8")


def design_download(
    settings: Settings, *, fmt: str | None = None, lang: str | None = None
) -> Download:
    """The design report of the service's protocol (see the module docstring for the cache)."""
    chosen = DESIGN.check_format(fmt)
    language = DESIGN.check_lang(lang)
    day = date.today()
    with _design_lock:  # one computation at a time; later requests find it cached
        where = (settings.protocol_path, settings.cache_dir)
        content = _design_bytes(*where, chosen, language, day)
        nct = _design_report(*where, day).protocol.registry.nct_id
    return Download(
        filename=f"dosewise-design-{nct}-{language}.{chosen}",
        media_type=MEDIA_TYPES[chosen],
        content=content,
    )
