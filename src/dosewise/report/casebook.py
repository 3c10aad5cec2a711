"""The casebook: one participant's every record, as a printable PDF (issue 17 item 4).

:func:`build_casebook` reads, in one read-only unit of work, what the participant page shows —
the record (:func:`dosewise.trial.services.reads.participant_record`, whose clinical facts such
as the dose received, the DLT status and the best overall response are the read model's), the
e-signatures bound to it, the data queries and their threads — and the participant's rows of
the audit trail (:func:`dosewise.trial.audit_names.participant_rows`), from which each record
gets who entered it and, per field, every change (old → new, who, when, why). Moments are shown
in the site's local time with the UTC offset. :func:`casebook_html` lays it out in English or
Chinese; the access rule is the participant page's (``participant.read`` at the participant's
site; another site's participant is "no such participant"). Each record's fields, signature and
changes are :mod:`.casebook_trail`'s, the sections :mod:`.casebook_records`', the words in either
language :mod:`.casebook_words`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dosewise import __version__
from dosewise.report import casebook_records as rec
from dosewise.report.casebook_trail import Entry, Trail
from dosewise.report.casebook_words import Words
from dosewise.report.render import render_html
from dosewise.store.tables import Arm, Site
from dosewise.trial.access import Forbidden, authorize
from dosewise.trial.calendar import site_zone
from dosewise.trial.services import queries, reads
from dosewise.trial.state import arm_protocol
from dosewise.trial.uow import UnitOfWork


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    entries: list[Entry]


@dataclass(frozen=True)
class Casebook:
    """Everything the casebook prints, already in its language."""

    study_id: str
    site_id: str
    lang: str
    header: list[tuple[str, str]]
    summary: list[tuple[str, str]]
    sections: list[Section]
    generated_at: str
    generated_by: str
    zone: str
    nct_id: str
    queries_shown: bool = True


def build_casebook(uow: UnitOfWork, study_id: str, lang: str) -> Casebook:
    """The casebook of ``study_id`` for the actor of ``uow`` (404 for another site's)."""
    record = reads.participant_record(uow, study_id)
    session = uow.session
    arm = session.get(Arm, record["arm_id"]) if record.get("arm_id") else None
    if arm is None:
        arm = session.scalars(select(Arm).order_by(Arm.id)).first()
    if arm is None:
        from dosewise.protocol import default_protocol

        protocol = default_protocol()
    else:
        protocol = arm_protocol(session, arm)
    zone = site_zone(session, record["site_id"])
    words = Words(lang, protocol, zone)
    tr = words.tr
    trail = Trail(uow, study_id, words)
    site = session.get(Site, record["site_id"])
    site_name = record["site_id"]
    if site is not None:
        for known in protocol.registry.sites:
            if known.name == site.name:
                site_name = f"{record['site_id']} · {known.in_lang('name', lang)}"
    sections = [
        Section(
            "participant",
            tr("Registration and status"),
            [rec.participant_entry(words, trail, record)],
        ),
        Section(
            "consents", tr("Informed consent"), rec.consent_entries(words, trail, record, protocol)
        ),
        Section(
            "screenings",
            tr("Screening and eligibility"),
            rec.screening_entries(words, trail, record),
        ),
        Section("enrolment", tr("Enrolment"), rec.enrolment_entries(words, trail, record)),
        Section("doses", tr("Dose assignment"), rec.dose_entries(words, trail, record)),
        Section("products", tr("Product release"), rec.product_entries(words, trail, record)),
        Section(
            "lymphodepletion",
            tr("Lymphodepletion"),
            rec.lymphodepletion_entries(words, trail, record),
        ),
        Section(
            "infusion", tr("Infusion and dose received"), rec.infusion_entries(words, trail, record)
        ),
        Section(
            "adverse_events", tr("Adverse events"), rec.adverse_event_entries(words, trail, record)
        ),
        Section("dlt", tr("DLT adjudication"), rec.dlt_entries(words, trail, record)),
        Section(
            "responses",
            tr("Response assessments and BOR"),
            rec.response_entries(words, trail, record),
        ),
        Section(
            "deviations", tr("Protocol deviations"), rec.deviation_entries(words, trail, record)
        ),
    ]
    shown_queries = _may(uow, "query.read")
    if shown_queries:
        found = queries.list_queries(uow, queries.QueryFilter(study_id=study_id))
        sections.append(
            Section("queries", tr("Data queries"), rec.query_entries(words, trail, found))
        )
    sections.append(Section("off_study", tr("Off study"), rec.off_study_entries(words, record)))
    return Casebook(
        study_id=study_id,
        site_id=record["site_id"],
        lang=lang,
        header=[
            (tr("Study ID"), study_id),
            (tr("Site"), site_name),
            (tr("Arm"), words.arm(record.get("arm_id"))),
            (tr("Status"), words.code(record["status"])),
            (tr("Phase"), words.value("phase", record.get("phase"))),
        ],
        summary=_summary(words, record),
        sections=sections,
        generated_at=words.moment(uow.now()),
        generated_by=uow.actor.username,
        zone=str(zone),
        nct_id=protocol.registry.nct_id,
        queries_shown=shown_queries,
    )


def _may(uow: UnitOfWork, action: str) -> bool:
    try:
        authorize(uow.actor, action)
    except Forbidden:
        return False
    return True


def _summary(words: Words, record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The read model's verdicts on the participant (never re-derived here)."""
    o = record.get("outcome")
    if not o:
        return []
    tr = words.tr
    worst = o.get("worst_grades") or {}
    return [
        (tr("Dose the analysis counts"), o.get("analysed_level") or "—"),
        (tr("Dose within the protocol's windows"), words.yes_no(o.get("dose_in_window"))),
        (tr("DLT status"), rec.toxicity_text(words, o.get("toxicity_status"))),
        (tr("Best overall response (BOR)"), o.get("bor") or "—"),
        (tr("BOR final"), words.yes_no(o.get("bor_final"))),
        (tr("Responder"), words.yes_no(o.get("responder"))),
        (tr("Worst AE grade"), words.value("grade", worst.get("any"))),
    ]


# --------------------------------------------------------------------------- rendering


def casebook_html(book: Casebook) -> str:
    """The casebook as one self-contained HTML document."""
    from dosewise.report.i18n import Translator

    tr = Translator(book.lang)
    return render_html(
        "casebook.html.j2",
        {
            "b": book,
            "running_head": f"{book.nct_id} — {tr('Casebook')} — {book.study_id}",
            "version": __version__,
        },
        book.lang,
    )
