"""The casebook: one participant's every record, as a printable PDF (issue 17 item 4).

:func:`build_casebook` reads, in one read-only unit of work, what the participant page shows —
the record (:func:`dosewise.trial.services.reads.participant_record`, whose clinical facts such
as the dose received, the DLT status and the best overall response are the read model's), the
e-signatures bound to it, the data queries and their threads — and the participant's rows of
the audit trail (:func:`dosewise.trial.audit_names.participant_rows`), from which each record
gets who entered it and, per field, every change (old → new, who, when, why). Moments are shown
in the site's local time with the UTC offset. :func:`casebook_html` lays it out in English or
Chinese; the access rule is the participant page's (``participant.read`` at the participant's
site; another site's participant is "no such participant").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from dosewise import __version__
from dosewise.report.casebook_words import Words
from dosewise.report.names import ReportNames
from dosewise.report.render import render_html
from dosewise.store.tables import Arm, Site
from dosewise.trial import audit, audit_names
from dosewise.trial.access import Forbidden, authorize
from dosewise.trial.calendar import site_zone
from dosewise.trial.services import queries, reads
from dosewise.trial.state import arm_protocol
from dosewise.trial.uow import UnitOfWork

#: Audit keys that are bookkeeping or a rule's working (the dose decision's state, the BOR's
#: basis, the DLT rule's evaluation, the product's dose plan, the screening's criteria), not
#: data a person entered: the changes they lead to (status, BOR, verdict) are shown.
_BOOKKEEPING = frozenset(
    {
        "version",
        "updated_at",
        "signature_id",
        "state",
        "basis",
        "evaluation",
        "feasibility",
        "decision",
        "criteria",
        "derived_at",
    }
)
#: Most audit records one casebook reads (a participant has a few hundred at most).
_MAX_AUDIT = 100_000


@dataclass(frozen=True)
class Change:
    """One field's change: old → new, who, when (local time) and why."""

    field: str
    old: str
    new: str
    by: str
    at: str
    reason: str


@dataclass(frozen=True)
class Signature:
    """An e-signature as printed (21 CFR 11.50): who, what it means, when, and whether it binds."""

    name: str
    username: str
    meaning: str
    at: str
    valid: bool


@dataclass
class Entry:
    """One record: its fields in words, who entered it, its signature, its changes, and an
    optional table (criteria, signers, grade course, thread)."""

    anchor: str
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    entered: str = ""
    signature: Signature | None = None
    changes: list[Change] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    #: Per table row: True good, False a real failure, None neither (criteria results).
    tones: list[bool | None] = field(default_factory=list)


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


class _Trail:
    """The participant's audit rows by (table, id), with the names of the ids they hold."""

    def __init__(self, uow: UnitOfWork, study_id: str, words: Words) -> None:
        records = audit_names.participant_rows(uow.session, study_id)
        #: The participant's row id (its audit records are about ``participants/<id>``).
        self.participant_id = records[0][1][0]
        rows = audit.query(uow.session, audit.AuditQuery(records=records, limit=_MAX_AUDIT))
        named = audit_names.name_records(uow.session, [audit.as_dict(r) for r in rows])
        self.words = words
        self.by_record: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in named:
            self.by_record[(str(row["entity"]), str(row["entity_id"]))].append(row)

    def entered(self, table: str, row_id: Any) -> str:
        for row in self.by_record.get((table, str(row_id)), ()):
            if row["operation"] == "insert":
                return self.words.tr(
                    "Entered by %(user)s at %(time)s",
                    user=row["username"],
                    time=self.words.moment(row["recorded_at"]),
                )
        return ""

    def changes(self, table: str, row_id: Any) -> list[Change]:
        out = []
        for row in self.by_record.get((table, str(row_id)), ()):
            if row["operation"] != "update":
                continue
            before, after = row.get("before") or {}, row.get("after") or {}
            names = row.get("names") or {}
            for key in after:
                if key in _BOOKKEEPING:
                    continue
                for path, old, new in _diff(key, before.get(key), after.get(key)):
                    out.append(
                        Change(
                            field=self.words.field(path),
                            old=self._shown(path, old, None),
                            new=self._shown(path, new, names.get(key)),
                            by=str(row["username"]),
                            at=self.words.moment(row["recorded_at"]),
                            reason=row.get("reason") or "",
                        )
                    )
        return out

    def _shown(self, path: str, value: Any, name: str | None) -> str:
        if name is not None:
            return name
        last = path.split(".")[-1]
        if last.endswith("_at") and isinstance(value, str):
            return self.words.moment(value)
        return self.words.value(last, value)


def _diff(path: str, old: Any, new: Any) -> Iterator[tuple[str, Any, Any]]:
    """The leaves that differ between two stored values (nested mappings compared key by key)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in dict.fromkeys([*old, *new]):
            yield from _diff(f"{path}.{key}", old.get(key), new.get(key))
    elif old != new:
        yield path, old, new


def _signature(sig: Mapping[str, Any] | None, words: Words) -> Signature | None:
    if not sig:
        return None
    return Signature(
        name=str(sig["printed_name"]),
        username=str(sig["username"]),
        meaning=words.meaning(str(sig["meaning"])),
        at=words.moment(sig["signed_at"]),
        valid=bool(sig.get("valid", True)),
    )


def _entry(
    words: Words,
    trail: _Trail,
    table: str,
    row: Mapping[str, Any],
    title: str,
    keys: tuple[str, ...],
) -> Entry:
    shown = [(words.field(k), words.value(k, row.get(k))) for k in keys if k in row]
    return Entry(
        anchor=f"{table}-{row['id']}",
        title=title,
        rows=shown,
        entered=trail.entered(table, row["id"]),
        signature=_signature(row.get("signature"), words),
        changes=trail.changes(table, row["id"]),
    )


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
    trail = _Trail(uow, study_id, words)
    site = session.get(Site, record["site_id"])
    site_name = record["site_id"]
    if site is not None:
        for known in protocol.registry.sites:
            if known.name == site.name:
                site_name = f"{record['site_id']} · {known.in_lang('name', lang)}"
    sections = [
        Section("participant", tr("Registration and status"), [_participant(words, trail, record)]),
        Section("consents", tr("Informed consent"), _consents(words, trail, record, protocol)),
        Section("screenings", tr("Screening and eligibility"), _screenings(words, trail, record)),
        Section("enrolment", tr("Enrolment"), _enrolment(words, trail, record)),
        Section("doses", tr("Dose assignment"), _doses(words, trail, record)),
        Section("products", tr("Product release"), _products(words, trail, record)),
        Section("lymphodepletion", tr("Lymphodepletion"), _lymphodepletion(words, trail, record)),
        Section("infusion", tr("Infusion and dose received"), _infusion(words, trail, record)),
        Section("adverse_events", tr("Adverse events"), _adverse_events(words, trail, record)),
        Section("dlt", tr("DLT adjudication"), _dlts(words, trail, record)),
        Section("responses", tr("Response assessments and BOR"), _responses(words, trail, record)),
        Section("deviations", tr("Protocol deviations"), _deviations(words, trail, record)),
    ]
    shown_queries = _may(uow, "query.read")
    if shown_queries:
        found = queries.list_queries(uow, queries.QueryFilter(study_id=study_id))
        sections.append(Section("queries", tr("Data queries"), _queries(words, trail, found)))
    sections.append(Section("off_study", tr("Off study"), _off_study(words, record)))
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
        (tr("DLT status"), _toxicity(words, o.get("toxicity_status"))),
        (tr("Best overall response (BOR)"), o.get("bor") or "—"),
        (tr("BOR final"), words.yes_no(o.get("bor_final"))),
        (tr("Responder"), words.yes_no(o.get("responder"))),
        (tr("Worst AE grade"), words.value("grade", worst.get("any"))),
    ]


def _toxicity(words: Words, status: str | None) -> str:
    texts = {
        "dlt": words.tr("DLT"),
        "no_dlt": words.tr("no DLT"),
        "pending": words.tr("pending: the DLT window is open"),
        "not_evaluable": words.tr("not evaluable"),
    }
    return texts.get(status or "", status or "—")


def _participant(words: Words, trail: _Trail, r: Mapping[str, Any]) -> Entry:
    row = {**r, "id": trail.participant_id}
    return _entry(
        words,
        trail,
        "participants",
        row,
        words.tr("Participant %(study_id)s", study_id=r["study_id"]),
        ("registered_on", "year_of_birth", "status", "arm_id"),
    )


def _consents(words: Words, trail: _Trail, r: Mapping[str, Any], protocol: Any) -> list[Entry]:
    out = []
    for c in r["consents"]:
        e = _entry(
            words,
            trail,
            "consents",
            c,
            words.tr("Consent of %(date)s", date=c["consent_on"]),
            ("consent_on", "age_years", "band", "consent_version", "valid", "withdrawn_on"),
        )
        if c.get("missing"):
            e.rows.append((words.field("missing"), words.joiner.join(map(str, c["missing"]))))
        if c.get("voided_at"):
            e.rows.append((words.field("voided_at"), words.moment(c["voided_at"])))
            e.rows.append((words.field("void_reason"), c.get("void_reason") or "—"))
        e.table_head = [words.tr("Form"), words.tr("Signed by"), words.tr("Signed on")]
        for s in (c.get("record") or {}).get("signatures") or []:
            e.table.append(
                [
                    protocol.consent.form_name(str(s.get("form")), words.lang),
                    protocol.consent.signer_name(str(s.get("signer")), words.lang),
                    str(s.get("signed_on") or "—"),
                ]
            )
        out.append(e)
    return out


def _screenings(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = []
    for s in r["screenings"]:
        e = _entry(
            words,
            trail,
            "screenings",
            s,
            words.tr("Screening of %(date)s", date=s["screened_on"]),
            ("screened_on", "arm_id", "age_years", "weight_kg", "eligible"),
        )
        e.table_head = [words.tr("Criterion"), words.tr("Result"), words.tr("Evidence")]
        for c in s.get("criteria") or []:
            code, good = words.result(c)
            e.table.append(
                [
                    f"{c.get('id')} {words.criterion(str(c.get('id')), str(c.get('text') or ''))}",
                    words.result_text(code),
                    words.semicolon.join(words.evidence(c)),
                ]
            )
            e.tones.append(good)
        out.append(e)
    return out


def _enrolment(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    enrolment = r.get("enrollment")
    if not enrolment:
        return []
    return [
        _entry(
            words,
            trail,
            "enrollments",
            enrolment,
            words.tr("Enrolment of %(date)s", date=enrolment["enrolled_on"]),
            ("enrolled_on", "arm_id", "phase", "sequence", "site_id"),
        )
    ]


def _doses(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    return [
        _entry(
            words,
            trail,
            "dose_assignments",
            a,
            words.tr("Cohort %(cohort)s: %(level)s", cohort=a["cohort"], level=a["dose_level"]),
            ("cohort", "dose_level", "status", "assigned_at", "confirmed_at"),
        )
        for a in r["dose_assignments"]
    ]


def _products(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = []
    for p in r["products"]:
        e = _entry(
            words,
            trail,
            "products",
            p,
            words.tr("Product lot %(lot)s", lot=p["lot"]),
            ("lot", "status", "released_on", "weight_kg", "planned_level", "assigned_level"),
        )
        e.rows.append((words.field("fallback"), words.yes_no(p.get("fallback"))))
        for key, value in (p.get("certificate") or {}).items():
            e.rows.append((words.field(key), words.value(key, value)))
        out.append(e)
    return out


def _lymphodepletion(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = []
    for ld in r["lymphodepletions"]:
        e = _entry(
            words,
            trail,
            "lymphodepletions",
            ld,
            words.tr("Lymphodepletion from %(date)s", date=ld["start_on"]),
            ("regimen", "start_on", "end_on"),
        )
        agents = [words.agent(a) for a in ld.get("agents") or [] if isinstance(a, Mapping)]
        e.rows.append((words.field("agents"), words.semicolon.join(agents) or "—"))
        out.append(e)
    return out


def _infusion(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    inf = r.get("infusion")
    if not inf:
        return []
    e = _entry(
        words,
        trail,
        "infusions",
        inf,
        words.tr("Infusion of %(date)s", date=inf["infused_on"]),
        (
            "infused_on",
            "weight_kg",
            "infused_volume_ml",
            "infused_cells",
            "cells_per_kg",
            "actual_level",
        ),
    )
    o = r.get("outcome") or {}
    e.rows.append((words.tr("Dose the analysis counts"), o.get("analysed_level") or "—"))
    e.rows.append(
        (words.tr("Dose within the protocol's windows"), words.yes_no(o.get("dose_in_window")))
    )
    return [e]


def _adverse_events(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    names = ReportNames(words.lang)
    out = []
    for ae in r["adverse_events"]:
        e = _entry(
            words,
            trail,
            "adverse_events",
            ae,
            words.tr(
                "%(term)s, grade %(grade)s, onset %(date)s",
                term=str(names.term(ae["term"]).striptags()),
                grade=ae["grade"],
                date=ae["onset_on"],
            ),
            (
                "category",
                "scale",
                "grade",
                "onset_on",
                "resolved_on",
                "study_day",
                "serious",
                "attribution",
                "outcome",
                "notes",
            ),
        )
        e.rows.insert(0, (words.field("term"), str(names.term(ae["term"]).striptags())))
        if ae.get("pre_treatment"):
            e.rows.append((words.tr("Timing"), words.tr("before the infusion (pre-treatment)")))
        course = ((ae.get("components") or {}).get("event") or {}).get("course") or []
        if course:
            e.table_head = [words.tr("Grade course: date"), words.field("grade")]
            e.table = [[str(p.get("date")), str(p.get("grade"))] for p in course]
        out.append(e)
    return out


def _dlts(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = []
    for a in r["dlt_adjudications"]:
        e = _entry(
            words,
            trail,
            "dlt_adjudications",
            a,
            words.tr("Adjudication at %(time)s", time=words.moment(a["adjudicated_at"])),
            ("is_dlt", "evaluable", "status", "rationale"),
        )
        if a.get("rule_id"):
            e.rows.append((words.field("rule_id"), str(a["rule_id"])))
        out.append(e)
    o = r.get("outcome")
    if o and out:
        out[-1].rows.append((words.tr("DLT status"), _toxicity(words, o.get("toxicity_status"))))
    return out


def _responses(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = [
        _entry(
            words,
            trail,
            "response_assessments",
            a,
            words.tr("Assessment of %(date)s", date=a["assessed_on"]),
            ("assessed_on", "study_day", "timepoint", "response", "mrd_negative", "notes"),
        )
        for a in r["response_assessments"]
    ]
    best = r.get("best_response")
    o = r.get("outcome") or {}
    if best:
        e = _entry(
            words,
            trail,
            "best_responses",
            best,
            words.tr("Best overall response (BOR)"),
            ("bor", "responder"),
        )
        e.rows.append((words.tr("BOR final"), words.yes_no(o.get("bor_final"))))
        out.append(e)
    return out


def _deviations(words: Words, trail: _Trail, r: Mapping[str, Any]) -> list[Entry]:
    return [
        _entry(
            words,
            trail,
            "protocol_deviations",
            d,
            words.tr("Deviation of %(date)s", date=d["occurred_on"]),
            ("category", "occurred_on", "description", "reason", "related_table"),
        )
        for d in r["deviations"]
    ]


def _queries(words: Words, trail: _Trail, found: list[dict[str, Any]]) -> list[Entry]:
    out = []
    for q in reversed(found):  # oldest first, like the other records
        e = Entry(
            anchor=f"data_queries-{q['id']}",
            title=words.tr(
                "Query %(id)s on %(record)s · %(field)s",
                id=q["id"],
                record=words.record(str(q["record_type"]), q["record_id"]),
                field=words.field(str(q["field"])),
            ),
            rows=[
                (words.field("status"), words.code(q["status"])),
                (words.tr("Question"), str(q["question"])),
            ],
            entered=words.tr(
                "Raised by %(user)s at %(time)s",
                user=q["raised_by"],
                time=words.moment(q["raised_at"]),
            ),
        )
        e.table_head = [words.tr("Step"), words.tr("Text"), words.tr("By"), words.tr("At")]
        for m in q["messages"]:
            e.table.append(
                [
                    words.code(m["kind"]),
                    str(m.get("text") or "—"),
                    str(m["posted_by"]),
                    words.moment(m["posted_at"]),
                ]
            )
        out.append(e)
    return out


def _off_study(words: Words, r: Mapping[str, Any]) -> list[Entry]:
    if not r.get("off_study_on"):
        return []
    return [
        Entry(
            anchor="off-study",
            title=words.tr("Off study on %(date)s", date=r["off_study_on"]),
            rows=[
                (words.field("off_study_on"), str(r["off_study_on"])),
                (words.field("off_study_reason"), str(r.get("off_study_reason") or "—")),
            ],
        )
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
