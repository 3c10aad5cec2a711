"""The casebook's words: field labels, coded values and eligibility evidence in English or
Chinese (the report catalog), and moments in the site's local time with the UTC offset.

A code or field this module does not know is printed as it is, so an old or new record never
breaks the casebook; the Chinese test lists any English left outside names and units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dosewise.protocol import Protocol, evidence_words
from dosewise.report.i18n import N_, Translator
from dosewise.report.render import fmt_g, sci
from dosewise.trial.calendar import local_moment

#: Column and nested-key labels, one table for every record (a key means the same everywhere).
FIELDS: dict[str, str] = {
    "study_id": N_("Study ID"),
    "site_id": N_("Site"),
    "arm_id": N_("Arm"),
    "status": N_("Status"),
    "year_of_birth": N_("Year of birth"),
    "registered_on": N_("Registered on"),
    "off_study_on": N_("Off study on"),
    "off_study_reason": N_("Reason for leaving the study"),
    "consent_on": N_("Consent date"),
    "age_years": N_("Age (years)"),
    "band": N_("Age band"),
    "consent_version": N_("Consent version"),
    "valid": N_("Complete"),
    "missing": N_("Missing signatures"),
    "withdrawn_on": N_("Withdrawn on"),
    "voided_at": N_("Set aside on"),
    "void_reason": N_("Reason for setting aside"),
    "screened_on": N_("Screening date"),
    "weight_kg": N_("Weight (kg)"),
    "eligible": N_("Eligible"),
    "failed_criteria": N_("Failed criteria"),
    "enrolled_on": N_("Enrolment date"),
    "phase": N_("Phase"),
    "sequence": N_("Order in the arm"),
    "cohort": N_("Cohort"),
    "dose_level": N_("Dose level"),
    "dose_index": N_("Design dose"),
    "assigned_at": N_("Assigned at"),
    "confirmed_at": N_("Confirmed at"),
    "lot": N_("Lot"),
    "planned_level": N_("Planned level"),
    "assigned_level": N_("Level the product can deliver"),
    "fallback": N_("Fallback dose"),
    "released_on": N_("Release date"),
    "tnc": N_("Total nucleated cells"),
    "viability": N_("Viability"),
    "cd3": N_("CD3+ fraction"),
    "car": N_("CAR+ fraction"),
    "volume_ml": N_("Product volume (mL)"),
    "regimen": N_("Regimen"),
    "agents": N_("Agents"),
    "start_on": N_("Start date"),
    "end_on": N_("End date"),
    "infused_on": N_("Infusion date (study day 0)"),
    "infused_volume_ml": N_("Infused volume (mL)"),
    "infused_cells": N_("Infused CAR+ cells"),
    "cells_per_kg": N_("CAR+ cells/kg"),
    "actual_level": N_("Dose level given"),
    "term": N_("Term"),
    "category": N_("Category"),
    "scale": N_("Grading scale"),
    "grade": N_("Grade"),
    "onset_on": N_("Onset"),
    "resolved_on": N_("Resolved on"),
    "study_day": N_("Study day"),
    "serious": N_("Serious"),
    "attribution": N_("Attribution"),
    "outcome": N_("Outcome"),
    "notes": N_("Notes"),
    "course": N_("Grade course"),
    "components": N_("Grading inputs"),
    "is_dlt": N_("Dose-limiting toxicity (DLT)"),
    "evaluable": N_("DLT-evaluable"),
    "rule_id": N_("DLT definition version"),
    "rationale": N_("Rationale"),
    "adjudicated_at": N_("Adjudicated at"),
    "adverse_event_id": N_("Adverse event"),
    "assessed_on": N_("Assessment date"),
    "timepoint": N_("Visit"),
    "response": N_("Response"),
    "mrd_negative": N_("MRD negative"),
    "bor": N_("Best overall response (BOR)"),
    "responder": N_("Responder"),
    "description": N_("Description"),
    "occurred_on": N_("Date it happened"),
    "reason": N_("Reason"),
    "related_table": N_("Record concerned"),
    "related_id": N_("Record number"),
    "record": N_("Entered values"),
    "criteria": N_("Criteria"),
    "signature_id": N_("E-signature"),
    "assigned_by": N_("Assigned by"),
    "confirmed_by": N_("Confirmed by"),
    "released_by": N_("Released by"),
    "recorded_by": N_("Recorded by"),
    "adjudicated_by": N_("Adjudicated by"),
    "created_by": N_("Entered by"),
    "closed_by": N_("Closed by"),
    "closed_at": N_("Closed at"),
    "released_at": N_("Released at"),
    "recorded_at": N_("Recorded at"),
}

#: Coded values in words (statuses, categories, attributions, signers, meanings ...).
VALUES: dict[str, str] = {
    "registered": N_("registered"),
    "consented": N_("consented"),
    "eligible": N_("eligible"),
    "screen_failed": N_("screen failed"),
    "enrolled": N_("enrolled"),
    "dose_assigned": N_("dose assigned"),
    "treated": N_("treated"),
    "off_study": N_("off study"),
    "proposed": N_("proposed"),
    "confirmed": N_("confirmed"),
    "rejected": N_("rejected"),
    "superseded": N_("superseded"),
    "released": N_("released"),
    "final": N_("final"),
    "crs": N_("cytokine release syndrome (CRS)"),
    "icans": N_("neurotoxicity (ICANS)"),
    "gvhd": N_("graft-versus-host disease (GVHD)"),
    "haematological": N_("haematological"),
    "non_haematological": N_("non-haematological"),
    "death": N_("death"),
    "unrelated": N_("unrelated"),
    "unlikely": N_("unlikely"),
    "possible": N_("possible"),
    "probable": N_("probable"),
    "definite": N_("definite"),
    "recovered": N_("recovered"),
    "recovering": N_("recovering"),
    "not_recovered": N_("not recovered"),
    "fatal": N_("fatal"),
    "open": N_("open"),
    "answered": N_("answered"),
    "closed": N_("closed"),
    "answer": N_("answer"),
    "close": N_("closed"),
    "reopen": N_("re-opened"),
    "authorship": N_("authorship"),
    "review": N_("review"),
    "approval": N_("approval"),
    "responsibility": N_("responsibility"),
    "dose_outside_windows": N_("dose outside the protocol's windows"),
    "other": N_("other"),
}

#: The records a data query can name, by table (``services.queries.RECORD_TYPES``).
RECORDS: dict[str, str] = {
    "participants": N_("Participant record"),
    "consents": N_("Informed consent"),
    "screenings": N_("Screening"),
    "enrollments": N_("Enrolment"),
    "dose_assignments": N_("Dose assignment"),
    "products": N_("Product release"),
    "lymphodepletions": N_("Lymphodepletion"),
    "infusions": N_("Infusion"),
    "adverse_events": N_("Adverse event"),
    "dlt_adjudications": N_("DLT adjudication"),
    "response_assessments": N_("Response assessment"),
    "best_responses": N_("Best overall response (BOR)"),
}

#: What each e-signature meaning commits the signer to (``trial.esign.MEANING_TEXT``).
STATEMENTS: dict[str, str] = {
    "authorship": N_("I am the author of this record"),
    "review": N_("I have reviewed this record"),
    "approval": N_("I approve this record"),
    "responsibility": N_("I take responsibility for this record"),
}

#: A criterion's result in words (an exclusion correctly absent is "not present").
RESULTS: dict[str, str] = {
    "met": N_("met"),
    "not_met": N_("not met"),
    "present": N_("present: excludes"),
    "not_present": N_("not present"),
    "not_assessed": N_("not assessed"),
    "not_applicable": N_("not applicable"),
}


class Words:
    """Labels, values, moments and evidence for one casebook (language, protocol, site zone)."""

    def __init__(self, lang: str, protocol: Protocol, zone: ZoneInfo) -> None:
        self.lang = lang
        self.tr = Translator(lang)
        self.protocol = protocol
        self.zone = zone

    @property
    def colon(self) -> str:
        return "：" if self.lang == "zh" else ": "

    @property
    def semicolon(self) -> str:
        return "；" if self.lang == "zh" else "; "

    @property
    def joiner(self) -> str:
        return "、" if self.lang == "zh" else ", "

    def field(self, key: str) -> str:
        """A column or nested key (``components.event.course``: its last known part)."""
        for part in reversed(key.split(".")):
            if part in FIELDS:
                return self.tr(FIELDS[part])
        return key

    def record(self, table: str, row_id: Any) -> str:
        """A record a query names: its kind in words and its number."""
        kind = RECORDS.get(table)
        return f"{self.tr(kind) if kind else table} #{row_id}"

    def code(self, value: Any) -> str:
        text = VALUES.get(str(value))
        return self.tr(text) if text else str(value)

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return "—"
        return self.tr("yes") if value else self.tr("no")

    def moment(self, value: datetime | str | None) -> str:
        """A stored UTC moment in the site's local time with its offset."""
        return local_moment(value, self.zone) if value else "—"

    def arm(self, arm_id: Any) -> str:
        for arm in self.protocol.arms:
            if arm.id == arm_id:
                return arm.in_lang("label", self.lang)
        return str(arm_id) if arm_id else "—"

    def value(self, key: str, value: Any) -> str:
        """A stored value in words (dates ISO, numbers as written, codes translated)."""
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, bool):
            return self.yes_no(value)
        if key == "arm_id":
            return self.arm(value)
        if key in ("viability", "cd3", "car") and isinstance(value, int | float):
            return f"{fmt_g(round(float(value) * 100, 2))}%"
        if key in ("tnc", "infused_cells", "cells_per_kg") and isinstance(value, int | float):
            return sci(float(value))
        if isinstance(value, float | int):
            return fmt_g(value)
        if isinstance(value, datetime):
            return self.moment(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str) and key.endswith("_at"):
            return self.moment(value)
        if isinstance(value, str) and key == "timepoint":
            return self.visit(value)
        if isinstance(value, str):
            return self.code(value)
        if key == "course" and isinstance(value, list):
            points = [self.course_point(p) for p in value if isinstance(p, Mapping)]
            return self.semicolon.join(points)
        if isinstance(value, list):
            return self.joiner.join(self.value(key, v) for v in value)
        if isinstance(value, Mapping):
            return self.semicolon.join(
                f"{self.field(str(k))}{self.colon}{self.value(str(k), v)}" for k, v in value.items()
            )
        return str(value)

    def course_point(self, point: Mapping[str, Any]) -> str:
        return self.tr(
            "grade %(grade)s on %(date)s", grade=point.get("grade"), date=point.get("date")
        )

    def agent(self, agent: Mapping[str, Any]) -> str:
        days = agent.get("days")
        shown = ", ".join(str(d) for d in days) if isinstance(days, list) else str(days or "—")
        return self.tr(
            "%(agent)s %(dose)s %(unit)s, days %(days)s",
            agent=agent.get("agent", ""),
            dose=fmt_g(agent.get("dose")),
            unit=agent.get("unit", ""),
            days=shown,
        )

    def visit(self, name: str) -> str:
        """A visit by its label in the protocol (``day_28`` → "Day 28")."""
        for visit in self.protocol.visits:
            if visit.name == name:
                return visit.in_lang("label", self.lang)
        return name

    def meaning(self, code: str) -> str:
        statement = STATEMENTS.get(code)
        return f"{self.code(code)} — {self.tr(statement)}" if statement else code

    # ----------------------------------------------------------------------- eligibility

    def criterion(self, criterion_id: str, stored: str) -> str:
        for crit in self.protocol.screening_criteria.criteria:
            if crit.id == criterion_id:
                return crit.in_lang("text", self.lang) or stored
        return stored

    @staticmethod
    def result(c: Mapping[str, Any]) -> tuple[str, bool | None]:
        """A criterion's result code and whether it is good (None: neither)."""
        status, kind = c.get("status"), c.get("kind")
        if status in ("not_assessed", "not_applicable"):
            return str(status), None
        if kind == "exclusion":
            return ("present", False) if status == "met" else ("not_present", True)
        return ("met", True) if status == "met" else ("not_met", False)

    def result_text(self, code: str) -> str:
        return self.tr(RESULTS[code])

    def evidence(self, criterion: Mapping[str, Any]) -> list[str]:
        """The criterion's evidence as sentences (:mod:`dosewise.protocol.evidence_words`,
        the participant page's rule and catalog); the stored English when an item cannot be
        said (a screening stored before evidence items existed)."""
        style = evidence_words.Style(
            arm=self.arm, field=lambda name: self.field(name.split(".")[-1])
        )
        items: Iterable[Mapping[str, Any]] = criterion.get("evidence_items") or ()
        lang = evidence_words.lang_of(self.lang)
        said = evidence_words.sentences(items, self.protocol, lang, style)
        return said if said is not None else [str(e) for e in criterion.get("evidence") or ()]
