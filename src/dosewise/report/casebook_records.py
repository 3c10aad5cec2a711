"""The casebook's sections, one function per kind of record, from the participant's record
(``reads.participant_record``: its clinical verdicts are the read model's) and the trail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dosewise.report.casebook_trail import Entry, Trail, entry
from dosewise.report.casebook_words import Words
from dosewise.report.names import ReportNames


def toxicity_text(words: Words, status: str | None) -> str:
    texts = {
        "dlt": words.tr("DLT"),
        "no_dlt": words.tr("no DLT"),
        "pending": words.tr("pending: the DLT window is open"),
        "not_evaluable": words.tr("not evaluable"),
    }
    return texts.get(status or "", status or "—")


def participant_entry(words: Words, trail: Trail, r: Mapping[str, Any]) -> Entry:
    row = {**r, "id": trail.participant_id}
    return entry(
        words,
        trail,
        "participants",
        row,
        words.tr("Participant %(study_id)s", study_id=r["study_id"]),
        ("registered_on", "year_of_birth", "status", "arm_id"),
    )


def consent_entries(words: Words, trail: Trail, r: Mapping[str, Any], protocol: Any) -> list[Entry]:
    out = []
    for c in r["consents"]:
        e = entry(
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


def screening_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = []
    for s in r["screenings"]:
        e = entry(
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


def enrolment_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    enrolment = r.get("enrollment")
    if not enrolment:
        return []
    return [
        entry(
            words,
            trail,
            "enrollments",
            enrolment,
            words.tr("Enrolment of %(date)s", date=enrolment["enrolled_on"]),
            ("enrolled_on", "arm_id", "phase", "sequence", "site_id"),
        )
    ]


def dose_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    return [
        entry(
            words,
            trail,
            "dose_assignments",
            a,
            words.tr("Cohort %(cohort)s: %(level)s", cohort=a["cohort"], level=a["dose_level"]),
            ("cohort", "dose_level", "status", "assigned_at", "confirmed_at"),
        )
        for a in r["dose_assignments"]
    ]


def product_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = []
    for p in r["products"]:
        e = entry(
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


def lymphodepletion_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = []
    for ld in r["lymphodepletions"]:
        e = entry(
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


def infusion_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    inf = r.get("infusion")
    if not inf:
        return []
    e = entry(
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


def adverse_event_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    names = ReportNames(words.lang)
    out = []
    for ae in r["adverse_events"]:
        e = entry(
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


def dlt_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = []
    for a in r["dlt_adjudications"]:
        e = entry(
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
        out[-1].rows.append(
            (words.tr("DLT status"), toxicity_text(words, o.get("toxicity_status")))
        )
    return out


def response_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    out = [
        entry(
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
        e = entry(
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


def deviation_entries(words: Words, trail: Trail, r: Mapping[str, Any]) -> list[Entry]:
    return [
        entry(
            words,
            trail,
            "protocol_deviations",
            d,
            words.tr("Deviation of %(date)s", date=d["occurred_on"]),
            ("category", "occurred_on", "description", "reason", "related_table"),
        )
        for d in r["deviations"]
    ]


def query_entries(words: Words, trail: Trail, found: list[dict[str, Any]]) -> list[Entry]:
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


def off_study_entries(words: Words, r: Mapping[str, Any]) -> list[Entry]:
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
