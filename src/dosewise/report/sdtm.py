"""CDISC SDTM datasets from the trial's records: DM, EX, SUPPEX, AE, SUPPAE, RS, DS.

Built from :class:`dosewise.report.trial_data.TrialData` (never from the database directly) and
written as CSV and SAS XPORT v5 (``pyreadstat``) with a define-style variable listing
(:mod:`dosewise.report.sdtm_define`). Conventions (SDTMIG v3.4):

- ``STUDYID`` is the registry id (NCT07070323); ``USUBJID`` is ``STUDYID-SUBJID``, ``SUBJID``
  the study ID (``S01-0001``);
- dates are ISO 8601 text; ``--DY`` counts from ``RFSTDTC`` (the CAR-T infusion) with no day
  0, as SDTM requires (the protocol's study day 0 is SDTM day 1);
- ``--SEQ`` numbers each subject's records 1, 2, … within a domain;
- EX gives the infused dose in cells/kg (``EXDOSE``/``EXDOSU``) and the actual level in
  ``EXDOSTXT``; the planned level, the product's level and the fallback flag are in SUPPEX, and
  ``EXADJ`` says why a fallback product was given below the planned level;
- AE grades in ``AETOXGR``; the grading scale (CTCAE v5.0 or ASTCT 2019) and the
  investigator's DLT flag are in SUPPAE (``AETOXGRS``, ``AEDLT``);
- RS holds every overall response (``RSTESTCD=OVRLRESP``) and each subject's best overall
  response (``RSTESTCD=BESTRSP``);
- DS holds informed consent and enrollment (protocol milestones), screen failure, death and
  other end-of-study events.

Names are ≤ 8 characters, labels ≤ 40, character values ≤ 200 (checked by :func:`check_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from dosewise.errors import InvalidParameter
from dosewise.report.trial_data import TrialData, records

#: The SDTM datasets this module writes, in order.
DOMAINS = ("DM", "EX", "SUPPEX", "AE", "SUPPAE", "RS", "DS")
TREATMENT = "CD5 CAR-T CELLS"
_SEX = {"male": "M", "female": "F"}
_ARM_CODE = {"autologous": "AUTO", "prior_sct_donor": "SCTDON", "new_donor": "NEWDON"}
_REL = {
    "definite": "DEFINITELY RELATED",
    "probable": "PROBABLY RELATED",
    "possible": "POSSIBLY RELATED",
    "unlikely": "UNLIKELY RELATED",
    "unrelated": "NOT RELATED",
}


@dataclass(frozen=True)
class Variable:
    """One SDTM variable: name, label, type (``Char``/``Num``), origin and its role."""

    name: str
    label: str
    type: str = "Char"
    origin: str = "Collected"
    core: str = "Req"
    codelist: str | None = None


@dataclass(frozen=True)
class Dataset:
    """An SDTM dataset: name, label, structure, variables and rows."""

    name: str
    label: str
    structure: str
    variables: tuple[Variable, ...]
    frame: pd.DataFrame


def V(
    name: str,
    label: str,
    kind: str = "Char",
    origin: str = "Collected",
    core: str = "Req",
    codelist: str | None = None,
) -> Variable:
    return Variable(name, label, kind, origin, core, codelist)


_STUDY = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("DOMAIN", "Domain Abbreviation", origin="Assigned"),
    V("USUBJID", "Unique Subject Identifier", origin="Derived"),
)
_SUPP = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("RDOMAIN", "Related Domain Abbreviation", origin="Assigned"),
    V("USUBJID", "Unique Subject Identifier", origin="Derived"),
    V("IDVAR", "Identifying Variable", origin="Assigned", core="Exp"),
    V("IDVARVAL", "Identifying Variable Value", origin="Derived", core="Exp"),
    V("QNAM", "Qualifier Variable Name", origin="Assigned"),
    V("QLABEL", "Qualifier Variable Label", origin="Assigned"),
    V("QVAL", "Data Value"),
    V("QORIG", "Origin", origin="Assigned"),
    V("QEVAL", "Evaluator", origin="Assigned", core="Exp"),
)


def iso(day: Any) -> str:
    """ISO 8601 date text ('' when missing)."""
    return day.isoformat() if isinstance(day, date) else ""


def study_day(day: Any, reference: Any) -> float:
    """SDTM ``--DY``: day 1 is the reference date, the day before is -1 (no day 0)."""
    if not isinstance(day, date) or not isinstance(reference, date):
        return float("nan")
    delta = (day - reference).days
    return float(delta + 1 if delta >= 0 else delta)


def usubjid(nct_id: str, study_id: str) -> str:
    return f"{nct_id}-{study_id}"


def arm_code(arm_id: str | None, level: str | None) -> str:
    """``ARMCD``: the arm's short code and the dose level, e.g. ``AUTO-DL1`` (≤ 20 chars)."""
    if arm_id is None:
        return ""
    code = _ARM_CODE.get(arm_id, arm_id.upper()[:8])
    return f"{code}-{level}"[:20] if level else code


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _num(value: Any) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def _sequence(rows: list[dict[str, Any]], seq: str) -> list[dict[str, Any]]:
    """Number each subject's rows 1, 2, … in their current order."""
    counter: dict[str, int] = {}
    for row in rows:
        counter[row["USUBJID"]] = counter.get(row["USUBJID"], 0) + 1
        row[seq] = float(counter[row["USUBJID"]])
    return rows


def _frame(rows: Iterable[Mapping[str, Any]], variables: Sequence[Variable]) -> pd.DataFrame:
    names = [v.name for v in variables]
    frame = pd.DataFrame(list(rows), columns=names)
    for v in variables:
        if v.type == "Num":
            frame[v.name] = frame[v.name].astype(float)
        else:
            frame[v.name] = frame[v.name].map(_text).astype(object)
    return frame


# --------------------------------------------------------------------------- domains


DM_VARS = (
    *_STUDY,
    V("SUBJID", "Subject Identifier for the Study"),
    V("RFSTDTC", "Subject Reference Start Date/Time", origin="Derived", core="Exp"),
    V("RFENDTC", "Subject Reference End Date/Time", origin="Derived", core="Exp"),
    V("RFXSTDTC", "Date/Time of First Study Treatment", origin="Derived", core="Exp"),
    V("RFXENDTC", "Date/Time of Last Study Treatment", origin="Derived", core="Exp"),
    V("RFICDTC", "Date/Time of Informed Consent", core="Exp"),
    V("DTHDTC", "Date/Time of Death", core="Exp"),
    V("DTHFL", "Subject Death Flag", origin="Derived", core="Exp", codelist="NY"),
    V("SITEID", "Study Site Identifier"),
    V("AGE", "Age", "Num", core="Exp"),
    V("AGEU", "Age Units", origin="Assigned", core="Exp", codelist="AGEU"),
    V("SEX", "Sex", codelist="SEX"),
    V("ARMCD", "Planned Arm Code", origin="Assigned"),
    V("ARM", "Description of Planned Arm", origin="Assigned"),
    V("ACTARMCD", "Actual Arm Code", origin="Derived"),
    V("ACTARM", "Description of Actual Arm", origin="Derived"),
    V("COUNTRY", "Country", origin="Assigned", codelist="ISO 3166-1 alpha-3"),
)


def dm(data: TrialData) -> Dataset:
    """Demographics: every consented participant; screen failures with ``ARMCD=SCRNFAIL``."""
    labels = dict(zip(data.arms["arm_id"], data.arms["label"], strict=True))
    country = {"China": "CHN"}
    site_country = dict(zip(data.sites["site_id"], data.sites["country"], strict=True))
    rows = []
    for p in records(data.participants):
        if p.consent_on is None and p.screened_on is None:
            continue
        failed = p.enrolled_on is None
        planned = p.assigned_level
        actual = p.actual_level
        arm_label = labels.get(p.arm_id, "")
        rows.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "DM",
                "USUBJID": usubjid(data.nct_id, p.study_id),
                "SUBJID": p.study_id,
                "RFSTDTC": iso(p.infused_on),
                "RFENDTC": iso(p.last_on) if p.infused_on else "",
                "RFXSTDTC": iso(p.infused_on),
                "RFXENDTC": iso(p.infused_on),
                "RFICDTC": iso(p.consent_on),
                "DTHDTC": iso(p.death_on),
                "DTHFL": "Y" if p.death_on else "",
                "SITEID": p.site_id,
                "AGE": p.age_years,
                "AGEU": "YEARS" if p.age_years is not None else "",
                "SEX": _SEX.get(str(p.sex), "U"),
                "ARMCD": "SCRNFAIL" if failed else arm_code(p.arm_id, planned),
                "ARM": "Screen Failure" if failed else f"{arm_label}, {planned}",
                "ACTARMCD": (
                    "SCRNFAIL" if failed else arm_code(p.arm_id, actual) if actual else "NOTTRT"
                ),
                "ACTARM": (
                    "Screen Failure"
                    if failed
                    else f"{arm_label}, {actual}"
                    if actual
                    else "Not Treated"
                ),
                "COUNTRY": country.get(site_country.get(p.site_id, ""), ""),
            }
        )
    return Dataset("DM", "Demographics", "One record per subject", DM_VARS, _frame(rows, DM_VARS))


EX_VARS = (
    *_STUDY,
    V("EXSEQ", "Sequence Number", "Num", origin="Derived"),
    V("EXTRT", "Name of Treatment", origin="Assigned"),
    V("EXDOSE", "Dose", "Num", core="Exp"),
    V("EXDOSTXT", "Dose Description", core="Perm"),
    V("EXDOSU", "Dose Units", origin="Assigned", core="Exp"),
    V("EXDOSFRM", "Dose Form", origin="Assigned", core="Exp", codelist="FRM"),
    V("EXROUTE", "Route of Administration", origin="Assigned", core="Perm", codelist="ROUTE"),
    V("EXLOT", "Lot Number", core="Perm"),
    V("EXADJ", "Reason for Dose Adjustment", core="Perm"),
    V("EXSTDTC", "Start Date/Time of Treatment", core="Exp"),
    V("EXENDTC", "End Date/Time of Treatment", core="Perm"),
    V("EXSTDY", "Study Day of Start of Treatment", "Num", origin="Derived", core="Perm"),
)
SUPPEX_LABELS = {
    "PLANLVL": "Planned Dose Level",
    "PRODLVL": "Dose Level the Product Supports",
    "PLANDOSE": "Planned Dose (cells/kg)",
    "FALLBKFL": "Fallback Product Flag",
}


def ex(data: TrialData) -> tuple[Dataset, Dataset]:
    """Exposure (one infusion per treated subject) and SUPPEX with the planned level."""
    cells = data.dose_cells()
    rows, supp = [], []
    for p in records(data.treated):
        subject = usubjid(data.nct_id, p.study_id)
        planned = p.planned_level or p.assigned_level
        adj = ""
        if p.fallback:
            adj = f"Product did not support planned {planned}; given at {p.actual_level}"
        rows.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "EX",
                "USUBJID": subject,
                "EXTRT": TREATMENT,
                "EXDOSE": _num(p.cells_per_kg),
                "EXDOSTXT": _text(p.actual_level),
                "EXDOSU": "cells/kg",
                "EXDOSFRM": "SUSPENSION",
                "EXROUTE": "INTRAVENOUS",
                "EXLOT": _text(p.lot),
                "EXADJ": adj,
                "EXSTDTC": iso(p.infused_on),
                "EXENDTC": iso(p.infused_on),
                "EXSTDY": study_day(p.infused_on, p.infused_on),
            }
        )
        values = {
            "PLANLVL": _text(planned),
            "PRODLVL": _text(p.product_level),
            "PLANDOSE": f"{cells[planned]:g}" if planned in cells else "",
            "FALLBKFL": "Y" if p.fallback else "N",
        }
        for qnam, qval in values.items():
            supp.append(_supp_row(data.nct_id, "EX", subject, "EXSEQ", 1, qnam, qval))
    ex_rows = _sequence(rows, "EXSEQ")
    return (
        Dataset(
            "EX",
            "Exposure",
            "One record per constant dosing interval per subject",
            EX_VARS,
            _frame(ex_rows, EX_VARS),
        ),
        _supp_dataset("SUPPEX", "Supplemental Qualifiers for EX", supp, SUPPEX_LABELS),
    )


def _supp_row(
    nct_id: str, domain: str, subject: str, idvar: str, idval: float, qnam: str, qval: str
) -> dict[str, Any]:
    return {
        "STUDYID": nct_id,
        "RDOMAIN": domain,
        "USUBJID": subject,
        "IDVAR": idvar,
        "IDVARVAL": f"{idval:g}",
        "QNAM": qnam,
        "QVAL": qval,
        "QORIG": "Derived" if qnam in ("FALLBKFL", "PLANDOSE") else "Collected",
        "QEVAL": "INVESTIGATOR" if qnam == "AEDLT" else "",
    }


def _supp_dataset(
    name: str, label: str, rows: list[dict[str, Any]], labels: Mapping[str, str]
) -> Dataset:
    for row in rows:
        row["QLABEL"] = labels[row["QNAM"]]
    return Dataset(
        name,
        label,
        "One record per IDVAR, IDVARVAL, and QNAM value per subject",
        _SUPP,
        _frame(rows, _SUPP),
    )


AE_VARS = (
    *_STUDY,
    V("AESEQ", "Sequence Number", "Num", origin="Derived"),
    V("AESPID", "Sponsor-Defined Identifier", origin="Assigned", core="Perm"),
    V("AETERM", "Reported Term for the Adverse Event"),
    V("AEDECOD", "Dictionary-Derived Term", origin="Assigned", codelist="MedDRA"),
    V("AECAT", "Category for Adverse Event", origin="Assigned", core="Perm"),
    V("AEBODSYS", "Body System or Organ Class", origin="Assigned", core="Exp", codelist="MedDRA"),
    V("AESOC", "Primary System Organ Class", origin="Assigned", core="Exp", codelist="MedDRA"),
    V("AESER", "Serious Event", core="Exp", codelist="NY"),
    V("AEREL", "Causality", core="Exp"),
    V("AEOUT", "Outcome of Adverse Event", core="Perm", codelist="OUT"),
    V("AESDTH", "Results in Death", core="Perm", codelist="NY"),
    V("AETOXGR", "Standard Toxicity Grade", core="Exp"),
    V("AESTDTC", "Start Date/Time of Adverse Event", core="Exp"),
    V("AEENDTC", "End Date/Time of Adverse Event", core="Exp"),
    V("AESTDY", "Study Day of Start of Adverse Event", "Num", origin="Derived", core="Perm"),
    V("AEENDY", "Study Day of End of Adverse Event", "Num", origin="Derived", core="Perm"),
)
SUPPAE_LABELS = {
    "AETOXGRS": "Toxicity Grading Scale",
    "AEDLT": "Dose-Limiting Toxicity",
}


def _outcome(outcome: Any, resolved: Any, grade: int) -> str:
    text = str(outcome or "").lower()
    if grade == 5 or text in ("fatal", "death", "died"):
        return "FATAL"
    if text:
        return text.upper().replace("_", " ")
    return "RECOVERED/RESOLVED" if isinstance(resolved, date) else "NOT RECOVERED/NOT RESOLVED"


def ae(data: TrialData) -> tuple[Dataset, Dataset]:
    """Adverse events (one record per event) and SUPPAE (grading scale, DLT flag)."""
    reference = dict(
        zip(data.participants["study_id"], data.participants["infused_on"], strict=True)
    )
    events = data.adverse_events.sort_values(["participant_id", "onset_on", "ae_id"], kind="stable")
    rows, supp = [], []
    for e in records(events):
        subject = usubjid(data.nct_id, e.study_id)
        start = reference.get(e.study_id)
        rows.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "AE",
                "USUBJID": subject,
                "AESPID": str(e.ae_id),
                "AETERM": e.term[:200],
                "AEDECOD": e.term[:200],
                "AECAT": str(e.category).upper().replace("_", " "),
                "AEBODSYS": e.soc,
                "AESOC": e.soc,
                "AESER": "Y" if e.serious else "N",
                "AEREL": _REL.get(str(e.attribution or "").lower(), _text(e.attribution).upper()),
                "AEOUT": _outcome(e.outcome, e.resolved_on, int(e.grade)),
                "AESDTH": "Y"
                if _outcome(e.outcome, e.resolved_on, int(e.grade)) == "FATAL"
                else "N",
                "AETOXGR": str(e.grade),
                "AESTDTC": iso(e.onset_on),
                "AEENDTC": iso(e.resolved_on),
                "AESTDY": study_day(e.onset_on, start),
                "AEENDY": study_day(e.resolved_on, start),
                "_DLT": bool(e.is_dlt),
                "_SCALE": e.scale,
            }
        )
    _sequence(rows, "AESEQ")
    for row in rows:
        seq = row["AESEQ"]
        supp.append(
            _supp_row(
                data.nct_id, "AE", row["USUBJID"], "AESEQ", seq, "AETOXGRS", str(row["_SCALE"])
            )
        )
        supp.append(
            _supp_row(
                data.nct_id,
                "AE",
                row["USUBJID"],
                "AESEQ",
                seq,
                "AEDLT",
                "Y" if row["_DLT"] else "N",
            )
        )
    return (
        Dataset(
            "AE",
            "Adverse Events",
            "One record per adverse event per subject",
            AE_VARS,
            _frame(rows, AE_VARS),
        ),
        _supp_dataset("SUPPAE", "Supplemental Qualifiers for AE", supp, SUPPAE_LABELS),
    )


RS_VARS = (
    *_STUDY,
    V("RSSEQ", "Sequence Number", "Num", origin="Derived"),
    V("RSTESTCD", "Assessment Short Name", origin="Assigned"),
    V("RSTEST", "Assessment Name", origin="Assigned"),
    V("RSCAT", "Category for Assessment", origin="Assigned", core="Perm"),
    V("RSORRES", "Result or Finding in Original Units", core="Exp"),
    V("RSSTRESC", "Character Result/Finding in Std Format", origin="Derived", core="Exp"),
    V("RSEVAL", "Evaluator", origin="Assigned", core="Perm"),
    V("VISIT", "Visit Name", core="Perm"),
    V("RSDTC", "Date/Time of Assessment", core="Exp"),
    V("RSDY", "Study Day of Assessment", "Num", origin="Derived", core="Perm"),
)
_VISIT = {"day_28": "DAY 28", "month_3": "MONTH 3"}


def _std_response(value: str) -> str:
    return {"SD/NR": "NR"}.get(value, value).upper()


def rs(data: TrialData) -> Dataset:
    """Disease response: each overall response assessment and each subject's BOR."""
    people = data.participants.set_index("study_id")
    rows: list[dict[str, Any]] = []
    category = "LEUKEMIA RESPONSE"
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for r in records(data.responses):
        start = people.loc[r.study_id, "infused_on"]
        by_subject.setdefault(r.study_id, []).append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "RS",
                "USUBJID": usubjid(data.nct_id, r.study_id),
                "RSTESTCD": "OVRLRESP",
                "RSTEST": "Overall Response",
                "RSCAT": category,
                "RSORRES": r.response,
                "RSSTRESC": _std_response(str(r.response)),
                "RSEVAL": "INVESTIGATOR",
                "VISIT": _VISIT.get(str(r.timepoint), _text(r.timepoint).upper()),
                "RSDTC": iso(r.assessed_on),
                "RSDY": study_day(r.assessed_on, start),
            }
        )
    for p in records(data.participants):
        if p.bor is None:
            continue
        own = by_subject.setdefault(p.study_id, [])
        last = max((row["RSDTC"] for row in own), default="")
        own.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "RS",
                "USUBJID": usubjid(data.nct_id, p.study_id),
                "RSTESTCD": "BESTRSP",
                "RSTEST": "Best Overall Response",
                "RSCAT": category,
                "RSORRES": p.bor,
                "RSSTRESC": _std_response(str(p.bor)),
                "RSEVAL": "INVESTIGATOR",
                "VISIT": "",
                "RSDTC": last,
                "RSDY": study_day(date.fromisoformat(last), p.infused_on) if last else None,
            }
        )
    for subject in sorted(by_subject):
        rows += by_subject[subject]
    return Dataset(
        "RS",
        "Disease Response",
        "One record per response assessment per subject",
        RS_VARS,
        _frame(_sequence(rows, "RSSEQ"), RS_VARS),
    )


DS_VARS = (
    *_STUDY,
    V("DSSEQ", "Sequence Number", "Num", origin="Derived"),
    V("DSTERM", "Reported Term for the Disposition Event"),
    V("DSDECOD", "Standardized Disposition Term", origin="Assigned", codelist="NCOMPLT"),
    V("DSCAT", "Category for Disposition Event", origin="Assigned", core="Exp"),
    V("DSSTDTC", "Start Date/Time of Disposition Event", core="Exp"),
    V("DSSTDY", "Study Day of Start of Disposition Event", "Num", origin="Derived", core="Perm"),
)


def ds(data: TrialData) -> Dataset:
    """Disposition: consent and enrollment milestones, screen failure, death, withdrawal."""
    rows = []
    for p in records(data.participants):
        subject = usubjid(data.nct_id, p.study_id)
        events: list[tuple[str, str, str, Any]] = []
        if p.consent_on is not None:
            events.append(
                (
                    "INFORMED CONSENT OBTAINED",
                    "INFORMED CONSENT OBTAINED",
                    "PROTOCOL MILESTONE",
                    p.consent_on,
                )
            )
        if p.enrolled_on is not None:
            events.append(("ENROLLED", "ENROLLED", "PROTOCOL MILESTONE", p.enrolled_on))
        elif p.eligible is False:
            events.append(("SCREEN FAILURE", "SCREEN FAILURE", "DISPOSITION EVENT", p.screened_on))
        if p.death_on is not None:
            events.append(("DEATH", "DEATH", "DISPOSITION EVENT", p.death_on))
        elif p.off_study_on is not None:
            reason = _text(p.off_study_reason)
            decod = reason.split(":", 1)[0].upper().replace("_", " ") or "OTHER"
            events.append((reason[:200] or decod, decod, "DISPOSITION EVENT", p.off_study_on))
        for term, decod, cat, day in events:
            rows.append(
                {
                    "STUDYID": data.nct_id,
                    "DOMAIN": "DS",
                    "USUBJID": subject,
                    "DSTERM": term,
                    "DSDECOD": decod,
                    "DSCAT": cat,
                    "DSSTDTC": iso(day),
                    "DSSTDY": study_day(day, p.infused_on),
                }
            )
    return Dataset(
        "DS",
        "Disposition",
        "One record per disposition status or protocol milestone per subject",
        DS_VARS,
        _frame(_sequence(rows, "DSSEQ"), DS_VARS),
    )


# --------------------------------------------------------------------------- all, rules, files


def build_sdtm(data: TrialData) -> dict[str, Dataset]:
    """Every dataset of :data:`DOMAINS`, checked against the naming and length rules."""
    ex_ds, suppex = ex(data)
    ae_ds, suppae = ae(data)
    out = {d.name: d for d in (dm(data), ex_ds, suppex, ae_ds, suppae, rs(data), ds(data))}
    problems = [p for d in out.values() for p in check_rules(d)]
    if problems:
        raise InvalidParameter("sdtm", problems[0][0], problems[0][1])
    return out


def check_rules(dataset: Dataset) -> list[tuple[str, str]]:
    """SDTMIG/XPORT v5 rules broken by ``dataset``: (where, rule) pairs; empty when clean."""
    problems: list[tuple[str, str]] = []
    if len(dataset.name) > 8 or not dataset.name.isalnum() or not dataset.name.isupper():
        problems.append((dataset.name, "dataset names are at most 8 upper-case letters/digits"))
    if len(dataset.label) > 40:
        problems.append((dataset.name, "dataset labels are at most 40 characters"))
    for v in dataset.variables:
        where = f"{dataset.name}.{v.name}"
        if len(v.name) > 8 or not v.name[0].isalpha() or not v.name.replace("_", "").isalnum():
            problems.append((where, "variable names are at most 8 characters, starting a letter"))
        if not v.name.isupper():
            problems.append((where, "variable names are upper case"))
        if len(v.label) > 40:
            problems.append((where, "variable labels are at most 40 characters"))
        if v.type == "Char":
            longest = dataset.frame[v.name].map(len).max() if len(dataset.frame) else 0
            if longest > 200:
                problems.append((where, "character values are at most 200 characters"))
            if any(not str(x).isascii() for x in dataset.frame[v.name]):
                problems.append((where, "values are ASCII (XPORT v5)"))
    if list(dataset.frame.columns) != [v.name for v in dataset.variables]:
        problems.append((dataset.name, "columns follow the variable list"))
    return problems


def write_sdtm(datasets: Mapping[str, Dataset], folder: str | Path, study: str) -> list[Path]:
    """Write each dataset as ``<name>.xpt`` (SAS XPORT v5) and ``<name>.csv``, plus the
    define-style listing; the paths written."""
    import pyreadstat

    from dosewise.report.sdtm_define import write_define

    path = Path(folder)
    if not path.is_dir():
        raise InvalidParameter("out", str(path), "the folder does not exist")
    written: list[Path] = []
    for d in datasets.values():
        xpt = path / f"{d.name.lower()}.xpt"
        pyreadstat.write_xport(
            d.frame,
            str(xpt),
            file_format_version=5,
            table_name=d.name,
            file_label=d.label,
            column_labels=[v.label for v in d.variables],
        )
        csv = path / f"{d.name.lower()}.csv"
        d.frame.to_csv(csv, index=False)
        written += [xpt, csv]
    written += write_define(datasets, path, study)
    return written


def export_sdtm(data: TrialData, out: Path, lang: str) -> dict[str, Any]:
    """The export writer (:mod:`dosewise.report.exports`): every dataset into the folder."""
    datasets = build_sdtm(data)
    files = write_sdtm(datasets, out, data.nct_id)
    return {
        "format": "sdtm",
        "datasets": {name: len(d.frame) for name, d in datasets.items()},
        "files": [f.name for f in files],
    }
