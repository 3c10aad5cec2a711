"""Trial-data exports as one service: read the records, write the document, audit-log the export.

The CLI (``dosewise report dsmb|ctgov|sdtm|odm``), the API (``/api/v1/reports/...``) and the web
pages all call :func:`run_export`, so an export is read, written and logged one way everywhere:

1. the records are read in a read-only unit of work as of the cut-off day (default: the last
   record's day), through :func:`dosewise.report.trial_data.load_trial_data`;
2. the writer turns :class:`TrialData` into files at ``out`` and says what it wrote;
3. a second unit of work appends ``report.export.<kind>`` to the audit trail with that detail.

If the writer fails nothing is logged (there was no export); the read is never half-written.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dosewise.errors import InvalidParameter
from dosewise.report.cutoff import latest_clinical_day
from dosewise.report.i18n import check_lang
from dosewise.report.trial_data import TrialData, load_trial_data
from dosewise.store.session import Database
from dosewise.trial.access import Forbidden, authorize, reaches_every_site
from dosewise.trial.audit import Actor
from dosewise.trial.refusals import refusal
from dosewise.trial.uow import UnitOfWork

#: A writer: the trial's records, the output path (a file, or an existing folder for folder
#: exports) and the language in; a JSON-able detail of what was written out (``format`` at
#: least). Standards-bound exports (ClinicalTrials.gov, CDISC) ignore the language: English.
Writer = Callable[[TrialData, Path, str], dict[str, Any]]


@dataclass(frozen=True)
class ExportKind:
    """One trial-data export: its writer, the file endings it writes, and who may take it."""

    name: str
    title: str
    #: ``module:function`` of the :data:`Writer` (imported when used: some pull in WeasyPrint).
    writer: str
    #: File endings it writes (``.pdf``, ``.html``, ``.json``, ``.xml``); empty: a folder.
    suffixes: tuple[str, ...]
    #: Every action the reader must hold with scope over *all* sites (an export holds every
    #: site's participants, so a site-scoped role cannot take it).
    actions: tuple[str, ...]
    #: Whether ``lang`` (en/zh) changes the document.
    translated: bool = False

    @property
    def folder(self) -> bool:
        return not self.suffixes

    def load_writer(self) -> Writer:
        module, _, function = self.writer.partition(":")
        found: Writer = getattr(importlib.import_module(module), function)
        return found

    def check_out(self, out: Path) -> str:
        """The format ``out`` asks for (its ending, or ``folder``); a clear error otherwise."""
        if self.folder:
            if not out.is_dir():
                raise InvalidParameter("out", str(out), "must be an existing folder")
            return "folder"
        suffix = out.suffix.lower()
        if suffix not in self.suffixes:
            raise InvalidParameter("out", str(out), f"must end in {' or '.join(self.suffixes)}")
        return suffix.lstrip(".")


#: The trial-data exports. The design report is not here: it needs no trial data.
EXPORT_KINDS: Mapping[str, ExportKind] = {
    "dsmb": ExportKind(
        "dsmb",
        "DSMB safety report",
        "dosewise.report.dsmb:export_dsmb",
        (".pdf", ".html"),
        ("report.read",),
        translated=True,
    ),
    "ctgov": ExportKind(
        "ctgov",
        "ClinicalTrials.gov results section",
        "dosewise.report.ctgov:export_ctgov",
        (".json", ".html"),
        ("report.read",),
    ),
    "sdtm": ExportKind(
        "sdtm",
        "CDISC SDTM datasets",
        "dosewise.report.sdtm:export_sdtm",
        (),
        ("report.read", "participant.read"),
    ),
    "odm": ExportKind(
        "odm",
        "CDISC ODM XML (clinical data and audit trail)",
        "dosewise.report.odm:export_odm",
        (".xml",),
        ("participant.read", "audit.export"),
    ),
}


def export_kind(kind: str) -> ExportKind:
    """The export called ``kind``; a clear error names the ones that exist."""
    try:
        return EXPORT_KINDS[kind]
    except KeyError:
        raise InvalidParameter("kind", kind, f"must be one of {', '.join(EXPORT_KINDS)}") from None


def authorize_export(actor: Actor, kind: str) -> ExportKind:
    """The export if ``actor`` may take it: every action it needs, over every site.

    System actors (the CLI on the server, migrations) are not role-checked: whoever can run the
    command can already read the database file.
    """
    spec = export_kind(kind)
    if actor.user_id is None and actor.role is None:
        return spec
    for action in spec.actions:
        authorize(actor, action)  # 403 naming the action when the role may not at all
        if not reaches_every_site(actor, action):
            raise refusal(
                Forbidden,
                "kind",
                kind,
                "report_every_site",
                report=kind,
                username=actor.username,
                site=actor.site_id,
            )
    return spec


#: The earliest data cut-off accepted (anything earlier is a typing error, not a trial).
FIRST_AS_OF = date(1900, 1, 1)
#: The cut-off may be "today" wherever a site is: today in the earliest time zone (UTC+14).
LATEST_ZONE = timezone(timedelta(hours=14))


def latest_today(now: datetime | None = None) -> date:
    """Today's date where it is latest on Earth (UTC+14), from ``now`` (default: the clock)."""
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LATEST_ZONE).date()


def parse_as_of(value: str | date | None, *, now: datetime | None = None) -> date | None:
    """A cut-off day from ``YYYY-MM-DD`` (None: the last clinical record's day).

    A cut-off after today (in any site's zone) or before 1900 is refused, naming ``as_of``: a
    report cannot describe data that do not exist yet, and such a date is a typing error.
    """
    if value is None:
        return None
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidParameter("as_of", value, "must be a date YYYY-MM-DD") from None
    today = latest_today(now)
    if day > today:
        raise InvalidParameter("as_of", day.isoformat(), f"must not be after today ({today})")
    if day < FIRST_AS_OF:
        raise InvalidParameter("as_of", day.isoformat(), f"must not be before {FIRST_AS_OF}")
    return day


def read_trial_data(db: Database, actor: Actor, as_of: date | None = None) -> TrialData:
    """The trial's records at the data cut-off ``as_of``, read-only.

    The cut-off is a clinical date (see :mod:`dosewise.report.cutoff`): the frames and the
    arms' states hold what had happened by the end of that day, so a DSMB or registry report
    can be run on data frozen at a date. Default: the day of the last clinical record or entry
    (:func:`~dosewise.report.cutoff.latest_clinical_day`: not the audit trail, so an export
    does not move the next default to today), so nothing clinical is left out (today when
    there is none). A cut-off before the first record gives an
    empty trial.
    """
    with UnitOfWork(db, actor, readonly=True) as uow:
        day = as_of or latest_clinical_day(uow.session) or date.today()
        return load_trial_data(uow.session, as_of=day)


def run_export(
    db: Database,
    actor: Actor,
    kind: str,
    out: Path,
    *,
    lang: str = "en",
    as_of: date | None = None,
    via: str = "cli",
    document: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Read, write ``kind`` to ``out`` and audit-log it; returns what was written.

    ``document`` names what the user receives, from the cut-off day (a download's file name):
    the trail then records that name, not the server's temporary path.
    """
    spec = authorize_export(actor, kind)
    spec.check_out(out)
    check_lang(lang)
    write = spec.load_writer()
    data = read_trial_data(db, actor, as_of)
    detail = write(data, out, lang if spec.translated else "en")
    as_of_text = data.as_of.isoformat()
    named = str(out) if document is None else document(as_of_text)
    summary = {"out": named, "as_of": as_of_text, **detail}
    with UnitOfWork(db, actor, context={"via": via, "command": f"report {kind}"}) as uow:
        uow.event(f"report.export.{kind}", "report", kind, after=summary)
        uow.commit()
    return {"report": kind, **summary}
