"""A casebook as a document: read, render, and audit-log it as ``report.export.casebook``.

The web page, the API and ``dosewise report casebook`` all call :func:`export_casebook`, so a
casebook is read, drawn and logged one way everywhere: the participant is found under the
participant page's rule (``participant.read`` at its site: another site's participant is 404,
like an unused ID), the document is drawn in English or Chinese as PDF or HTML, and the audit
record names the document the user receives (``dosewise-casebook-S01-0001-zh.pdf``), the
participant and the site, so a site's monitor sees the export in that site's trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from dosewise.errors import InvalidParameter
from dosewise.report.casebook import Casebook, build_casebook, casebook_html
from dosewise.report.i18n import LANGS, check_lang
from dosewise.store.session import Database
from dosewise.trial.audit import Actor
from dosewise.trial.uow import Clock, UnitOfWork, utcnow

#: The formats a casebook comes in (the first is the default).
FORMATS: tuple[str, ...] = ("pdf", "html")
MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html"}


@dataclass(frozen=True)
class CasebookFile:
    """The document and what the audit trail says about it."""

    filename: str
    media_type: str
    content: bytes
    study_id: str
    site_id: str
    format: str
    lang: str


def check_format(fmt: str | None) -> str:
    """``fmt`` (default: PDF) if a casebook comes in it; else a clear error naming ``format``."""
    if not fmt:
        return FORMATS[0]
    if fmt not in FORMATS:
        raise InvalidParameter("format", fmt, f"the casebook comes as {' or '.join(FORMATS)}")
    return fmt


def _reader(actor: Actor) -> Actor:
    """Who reads the records: the user; a system actor (the CLI on the server, which can read
    the database file anyway) reads as a data manager would, every site and every query."""
    if actor.user_id is None and actor.role is None:
        return Actor(user_id=None, username=actor.username, role="data_manager")
    return actor


def document_name(study_id: str, fmt: str, lang: str) -> str:
    """The file a user receives: ``dosewise-casebook-S01-0001-en.pdf``."""
    return f"dosewise-casebook-{study_id}-{lang}.{fmt}"


def export_casebook(
    db: Database,
    actor: Actor,
    study_id: str,
    *,
    fmt: str | None = None,
    lang: str | None = None,
    via: str,
    out: str | None = None,
    clock: Clock = utcnow,
) -> CasebookFile:
    """Read, draw and audit-log the casebook of ``study_id``.

    Checks first (format, language: 422), then reads under the participant page's rule (403 for
    a role that reads no participants, 404 for another site's or an unknown study ID). ``out``
    is the path the CLI writes to, recorded instead of the download's file name; ``clock`` the
    service's (the moment printed as "generated at" and logged).
    """
    chosen = check_format(fmt)
    language = check_lang(lang or "en")
    with UnitOfWork(db, _reader(actor), readonly=True, clock=clock) as uow:
        book = build_casebook(uow, study_id, language)
    content = render(book, chosen)
    name = document_name(study_id, chosen, language)
    detail = {
        "out": out or name,
        "study_id": study_id,
        "format": chosen,
        "lang": language,
        "bytes": len(content),
    }
    context = {"via": via, "command": "report casebook"}
    with UnitOfWork(db, actor, context=context, clock=clock) as uow:
        uow.event(
            "report.export.casebook", "report", "casebook", after=detail, site_id=book.site_id
        )
        uow.commit()
    return CasebookFile(
        name, MEDIA_TYPES[chosen], content, study_id, book.site_id, chosen, language
    )


def render(book: Casebook, fmt: str) -> bytes:
    """The casebook's bytes as PDF or HTML."""
    html = casebook_html(book)
    if fmt == "pdf":
        from dosewise.report.render import html_to_pdf

        return html_to_pdf(html)
    return html.encode("utf-8")


__all__ = ["FORMATS", "LANGS", "CasebookFile", "check_format", "document_name", "export_casebook"]
