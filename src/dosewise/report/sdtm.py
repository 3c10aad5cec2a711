"""CDISC SDTM datasets from the trial's records (SDTMIG 3.4).

Built from :class:`dosewise.report.trial_data.TrialData` (never from the database directly) and
written as SAS XPORT v5 (``pyreadstat``) and CSV with a Define-XML 2.1 document and its HTML
view (:mod:`dosewise.report.sdtm_define`). Subject domains are here; the trial design domains,
the subject elements and epochs are in :mod:`dosewise.report.sdtm_design`; IE and DV in
:mod:`dosewise.report.sdtm_events`. Conventions (each with its reason in ``docs/reports.md``):

- ``STUDYID`` is the registry id (NCT07070323); ``USUBJID`` is ``STUDYID-SUBJID``;
- dates are ISO 8601 text; ``--DY`` counts from ``RFSTDTC`` (the CAR-T infusion) with no day
  0 (the protocol's study day 0 is SDTM day 1); ``--SEQ`` numbers each subject's records;
- ``EPOCH`` on every events, interventions and findings record, from the subject's elements;
- ``ARMCD`` carries the phase, the arm and the dose (``P1-AUTO-DL1``); ``ACTARMCD`` the level
  actually infused; screen failures and subjects not assigned or not treated have null arm
  codes and ``ARMNRS``;
- EX holds the CAR-T infusion (cells/kg) and the lymphodepleting agents (mg/m2/day), both
  protocol-specified treatments given as recorded (``EXCAT``);
- AE: ``AEDECOD`` is the CTCAE v5.0 term, with its MedDRA LLT/PT code where the shipped mapping
  has one; the grading scale and the investigator's DLT flag are in SUPPAE;
- SUPPDM holds each subject's final DLT adjudication (evaluable, DLT), so the phase 1 DLT
  counts by arm and dose are rebuilt from SDTM alone.

Names are ≤ 8 characters, labels ≤ 40, character values ≤ 200 and ASCII
(:func:`check_rules`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dosewise.errors import InvalidParameter
from dosewise.report.sdtm_base import (
    EPOCH,
    STUDY,
    Dataset,
    V,
    Variable,
    frame_of,
    iso,
    num,
    sequence,
    study_day,
    supp_dataset,
    supp_row,
    text,
    usubjid,
)
from dosewise.report.sdtm_design import (
    UNSCHEDULED,
    VISITS,
    Timeline,
    arm_code,
    arm_name,
    end_of_participation,
    end_of_study,
    planned_arms,
    se,
    ta,
    te,
    ti,
    timelines,
    ts,
    tv,
    visit_names,
)
from dosewise.report.sdtm_terms import COUNTRY_CODES, meddra_mapping
from dosewise.report.trial_data import TrialData, records

__all__ = [
    "DOMAINS",
    "Dataset",
    "Variable",
    "arm_code",
    "build_sdtm",
    "check_rules",
    "export_sdtm",
    "study_day",
    "usubjid",
    "write_sdtm",
]

#: The SDTM datasets this module writes, in order.
DOMAINS = (
    "TS",
    "TE",
    "TA",
    "TV",
    "TI",
    "DM",
    "SUPPDM",
    "SE",
    "EX",
    "SUPPEX",
    "AE",
    "SUPPAE",
    "DS",
    "DV",
    "IE",
    "RS",
)
TREATMENT = "CD5 CAR-T CELLS"
_SEX = {"male": "M", "female": "F"}
_REL = {
    "definite": "DEFINITELY RELATED",
    "probable": "PROBABLY RELATED",
    "possible": "POSSIBLY RELATED",
    "unlikely": "UNLIKELY RELATED",
    "unrelated": "NOT RELATED",
}


# --------------------------------------------------------------------------- DM, SUPPDM


DM_VARS = (
    *STUDY,
    V("SUBJID", "Subject Identifier for the Study"),
    V("RFSTDTC", "Subject Reference Start Date/Time", origin="Derived", core="Exp"),
    V("RFENDTC", "Subject Reference End Date/Time", origin="Derived", core="Exp"),
    V("RFXSTDTC", "Date/Time of First Study Treatment", origin="Derived", core="Exp"),
    V("RFXENDTC", "Date/Time of Last Study Treatment", origin="Derived", core="Exp"),
    V("RFICDTC", "Date/Time of Informed Consent", core="Exp"),
    V("RFPENDTC", "Date/Time of End of Participation", origin="Derived", core="Exp"),
    V("DTHDTC", "Date/Time of Death", core="Exp"),
    V("DTHFL", "Subject Death Flag", origin="Derived", core="Exp", codelist="NY"),
    V("SITEID", "Study Site Identifier"),
    V("AGE", "Age", "Num", core="Exp"),
    V("AGEU", "Age Units", origin="Assigned", core="Exp", codelist="AGEU"),
    V("SEX", "Sex", codelist="SEX"),
    V("RACE", "Race", origin="Assigned", core="Exp", codelist="RACE"),
    V("ETHNIC", "Ethnicity", origin="Assigned", core="Perm", codelist="ETHNIC"),
    V("ARMCD", "Planned Arm Code", origin="Assigned", core="Exp"),
    V("ARM", "Description of Planned Arm", origin="Assigned", core="Exp"),
    V("ACTARMCD", "Actual Arm Code", origin="Derived", core="Exp"),
    V("ACTARM", "Description of Actual Arm", origin="Derived", core="Exp"),
    V(
        "ARMNRS",
        "Reason Arm and/or Actual Arm is Null",
        origin="Derived",
        core="Exp",
        codelist="ARMNRS",
    ),
    V("ACTARMUD", "Description of Unplanned Actual Arm", origin="Derived", core="Exp"),
    V("COUNTRY", "Country", origin="Assigned", codelist="COUNTRY"),
)
SUPPDM_LABELS = {
    "DLTEVAL": "Evaluable for DLT (final adjudication)",
    "DLTFL": "Dose-Limiting Toxicity (final adj.)",
}


def _arms(data: TrialData, p: Any) -> dict[str, str]:
    """ARMCD/ARM/ACTARMCD/ACTARM/ARMNRS/ACTARMUD of one subject (SDTMIG 3.4 §5.2)."""
    labels = dict(zip(data.arms["arm_id"], data.arms["label"], strict=True))
    planned = {code for code, *_ in planned_arms(data.protocol)}
    label = str(labels.get(p.arm_id, p.arm_id or ""))
    out = dict.fromkeys(("ARMCD", "ARM", "ACTARMCD", "ACTARM", "ARMNRS", "ACTARMUD"), "")
    if p.enrolled_on is None:
        out["ARMNRS"] = "SCREEN FAILURE" if p.eligible is False else "NOT ASSIGNED"
        return out
    code = arm_code(p.arm_id, p.assigned_level, p.phase)
    if p.assigned_level is None or code not in planned:
        out["ARMNRS"] = "NOT ASSIGNED"
    else:
        out["ARMCD"], out["ARM"] = code, arm_name(label, p.assigned_level, p.phase)
    if p.infused_on is None:
        out["ARMNRS"] = out["ARMNRS"] or "ASSIGNED, NOT TREATED"
        return out
    actual = arm_code(p.arm_id, p.actual_level, p.phase)
    if p.actual_level is not None and actual in planned:
        out["ACTARMCD"], out["ACTARM"] = actual, arm_name(label, p.actual_level, p.phase)
    else:
        out["ARMNRS"] = "UNPLANNED TREATMENT"
        out["ACTARMUD"] = arm_name(label, f"{num(p.cells_per_kg):g} cells/kg", p.phase)
    return out


def dm(
    data: TrialData, doses: Mapping[str, tuple[date, date]], lines: Mapping[str, Timeline]
) -> tuple[Dataset, Dataset]:
    """Demographics (every consented or screened participant) and SUPPDM (DLT adjudication).

    ``doses``: each subject's first and last EX date (RFXSTDTC, RFXENDTC); ``lines``: their
    elements, whose end is RFPENDTC (so no record, lymphodepletion included, is after it).
    """
    site_country = dict(zip(data.sites["site_id"], data.sites["country"], strict=True))
    rows, supp = [], []
    for p in records(data.participants):
        if p.consent_on is None and p.screened_on is None:
            continue
        subject = usubjid(data.nct_id, p.study_id)
        rows.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "DM",
                "USUBJID": subject,
                "SUBJID": p.study_id,
                "RFSTDTC": iso(p.infused_on),
                "RFENDTC": iso(p.last_on) if p.infused_on else "",
                "RFXSTDTC": iso(doses[p.study_id][0]) if p.study_id in doses else "",
                "RFXENDTC": iso(doses[p.study_id][1]) if p.study_id in doses else "",
                "RFICDTC": iso(p.consent_on),
                "RFPENDTC": iso(
                    lines[p.study_id].end if p.study_id in lines else end_of_participation(data, p)
                ),
                "DTHDTC": iso(p.death_on),
                "DTHFL": "Y" if p.death_on else "",
                "SITEID": p.site_id,
                "AGE": p.age_years,
                "AGEU": "YEARS" if p.age_years is not None else "",
                "SEX": _SEX.get(str(p.sex), "U"),
                # Not on the registration or screening form: CT's NOT REPORTED, and the define
                # says why (docs/reports.md).
                "RACE": "NOT REPORTED",
                "ETHNIC": "NOT REPORTED",
                **_arms(data, p),
                "COUNTRY": COUNTRY_CODES.get(str(site_country.get(p.site_id, "")), ""),
            }
        )
        if p.dlt_evaluable is not None:
            for qnam, value in (("DLTEVAL", p.dlt_evaluable), ("DLTFL", p.dlt)):
                supp.append(
                    supp_row(
                        data.nct_id,
                        "DM",
                        subject,
                        "",
                        "",
                        qnam,
                        "Y" if value else "N",
                        origin="Assigned",
                        evaluator="INVESTIGATOR",
                    )
                )
    return (
        Dataset(
            "DM",
            "Demographics",
            "One record per subject",
            DM_VARS,
            frame_of(rows, DM_VARS),
            "SPECIAL PURPOSE",
            ("STUDYID", "USUBJID"),
        ),
        supp_dataset("SUPPDM", "Supplemental Qualifiers for DM", supp, SUPPDM_LABELS),
    )


# --------------------------------------------------------------------------- EX, SUPPEX


EX_VARS = (
    *STUDY,
    V("EXSEQ", "Sequence Number", "Num", origin="Derived"),
    V("EXTRT", "Name of Treatment", origin="Assigned"),
    V("EXCAT", "Category of Treatment", origin="Assigned", core="Perm", codelist="EXCAT"),
    V("EXDOSE", "Dose", "Num", core="Exp"),
    V("EXDOSTXT", "Dose Description", core="Perm"),
    V("EXDOSU", "Dose Units", origin="Assigned", core="Exp", codelist="UNIT"),
    V("EXDOSFRM", "Dose Form", origin="Assigned", core="Exp", codelist="FRM"),
    V("EXDOSFRQ", "Dosing Frequency per Interval", origin="Assigned", core="Perm", codelist="FREQ"),
    V("EXROUTE", "Route of Administration", origin="Assigned", core="Perm", codelist="ROUTE"),
    V("EXLOT", "Lot Number", core="Perm"),
    V("EXADJ", "Reason for Dose Adjustment", core="Perm"),
    EPOCH,
    V("EXSTDTC", "Start Date/Time of Treatment", core="Exp"),
    V("EXENDTC", "End Date/Time of Treatment", core="Perm"),
    V("EXSTDY", "Study Day of Start of Treatment", "Num", origin="Derived", core="Perm"),
    V("EXENDY", "Study Day of End of Treatment", "Num", origin="Derived", core="Perm"),
)
SUPPEX_LABELS = {
    "PLANLVL": "Planned Dose Level",
    "PRODLVL": "Dose Level the Product Supports",
    "PLANDOSE": "Planned Dose (cells/kg)",
    "FALLBKFL": "Fallback Product Flag",
}


def _lymphodepletion_rows(
    data: TrialData, lines: Mapping[str, Timeline]
) -> dict[str, list[dict[str, Any]]]:
    """Each subject's lymphodepleting agents, one record per agent and constant daily dose.

    The agents' days are relative to the infusion (day 0); the first listed day is the
    regimen's ``start_on``, so the dates hold whether or not the infusion took place.
    """
    reference = dict(
        zip(data.participants["study_id"], data.participants["infused_on"], strict=True)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for r in records(data.lymphodepletions):
        days = [int(d) for a in r.agents for d in a.get("days", [])]
        if not days:
            continue
        first = min(days)
        for a in r.agents:
            own = sorted(int(d) for d in a.get("days", []))
            if not own:
                continue
            start = r.start_on + timedelta(days=own[0] - first)
            # doses after the cut-off had not been given yet (the regimen is running)
            end = min(r.start_on + timedelta(days=own[-1] - first), data.as_of)
            if start > data.as_of:
                continue
            unit = str(a.get("unit", "")).replace("/day", "")
            out.setdefault(r.study_id, []).append(
                {
                    "STUDYID": data.nct_id,
                    "DOMAIN": "EX",
                    "USUBJID": usubjid(data.nct_id, r.study_id),
                    "EXTRT": str(a.get("agent", "")).upper(),
                    "EXCAT": "LYMPHODEPLETION",
                    "EXDOSE": num(a.get("dose")),
                    "EXDOSTXT": text(r.regimen),
                    "EXDOSU": unit,
                    "EXDOSFRM": "INJECTION",
                    "EXDOSFRQ": "QD",
                    "EXROUTE": "INTRAVENOUS",
                    "EXLOT": "",
                    "EXADJ": "",
                    "EPOCH": _epoch(lines, r.study_id, start),
                    "EXSTDTC": iso(start),
                    "EXENDTC": iso(end),
                    "EXSTDY": study_day(start, reference.get(r.study_id)),
                    "EXENDY": study_day(end, reference.get(r.study_id)),
                }
            )
    return out


def _epoch(lines: Mapping[str, Timeline], study_id: str, day: Any) -> str:
    line = lines.get(study_id)
    return line.epoch(day) if line else ""


def ex(data: TrialData, lines: Mapping[str, Timeline]) -> tuple[Dataset, Dataset]:
    """Exposure: lymphodepleting agents and the CAR-T infusion; SUPPEX with the planned level."""
    cells = data.dose_cells()
    by_subject = _lymphodepletion_rows(data, lines)
    for p in records(data.treated):
        planned = p.planned_level or p.assigned_level
        adj = ""
        if p.fallback:
            adj = f"Product did not support planned {planned}; given at {p.actual_level}"
        by_subject.setdefault(p.study_id, []).append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "EX",
                "USUBJID": usubjid(data.nct_id, p.study_id),
                "EXTRT": TREATMENT,
                "EXCAT": "CAR-T INFUSION",
                "EXDOSE": num(p.cells_per_kg),
                "EXDOSTXT": text(p.actual_level),
                "EXDOSU": "cells/kg",
                "EXDOSFRM": "SUSPENSION",
                "EXDOSFRQ": "ONCE",
                "EXROUTE": "INTRAVENOUS",
                "EXLOT": text(p.lot),
                "EXADJ": adj,
                "EPOCH": _epoch(lines, p.study_id, p.infused_on),
                "EXSTDTC": iso(p.infused_on),
                "EXENDTC": iso(p.infused_on),
                "EXSTDY": study_day(p.infused_on, p.infused_on),
                "EXENDY": study_day(p.infused_on, p.infused_on),
                "_SUPP": {
                    "PLANLVL": text(planned),
                    "PRODLVL": text(p.product_level),
                    "PLANDOSE": f"{cells[planned]:g}" if planned in cells else "",
                    "FALLBKFL": "Y" if p.fallback else "N",
                },
            }
        )
    rows: list[dict[str, Any]] = []
    for study_id in sorted(by_subject):
        rows += sorted(by_subject[study_id], key=lambda r: (r["EXSTDTC"], r["EXTRT"]))
    sequence(rows, "EXSEQ")
    supp_rows = [
        supp_row(
            data.nct_id,
            "EX",
            row["USUBJID"],
            "EXSEQ",
            row["EXSEQ"],
            qnam,
            qval,
            origin="Derived" if qnam in ("FALLBKFL", "PLANDOSE") else "Collected",
        )
        for row in rows
        if "_SUPP" in row
        for qnam, qval in row["_SUPP"].items()
    ]
    return (
        Dataset(
            "EX",
            "Exposure",
            "One record per constant dosing interval per subject",
            EX_VARS,
            frame_of(rows, EX_VARS),
            "INTERVENTIONS",
            ("STUDYID", "USUBJID", "EXTRT", "EXSTDTC"),
        ),
        supp_dataset("SUPPEX", "Supplemental Qualifiers for EX", supp_rows, SUPPEX_LABELS),
    )


# --------------------------------------------------------------------------- AE, SUPPAE


AE_VARS = (
    *STUDY,
    V("AESEQ", "Sequence Number", "Num", origin="Derived"),
    V("AESPID", "Sponsor-Defined Identifier", origin="Assigned", core="Perm"),
    V("AETERM", "Reported Term for the Adverse Event"),
    V("AELLT", "Lowest Level Term", origin="Assigned", core="Exp", codelist="MedDRA"),
    V("AELLTCD", "Lowest Level Term Code", "Num", origin="Assigned", core="Exp", codelist="MedDRA"),
    V("AEDECOD", "Dictionary-Derived Term", origin="Assigned", codelist="MedDRA"),
    V("AEPTCD", "Preferred Term Code", "Num", origin="Assigned", core="Exp", codelist="MedDRA"),
    V("AECAT", "Category for Adverse Event", origin="Assigned", core="Perm"),
    V("AEBODSYS", "Body System or Organ Class", origin="Assigned", core="Exp", codelist="MedDRA"),
    V("AESOC", "Primary System Organ Class", origin="Assigned", core="Exp", codelist="MedDRA"),
    V("AESER", "Serious Event", core="Exp", codelist="NY"),
    V("AEACN", "Action Taken with Study Treatment", origin="Derived", core="Exp", codelist="ACN"),
    V("AEREL", "Causality", core="Exp", codelist="AEREL"),
    V("AEOUT", "Outcome of Adverse Event", core="Perm", codelist="OUT"),
    V("AESDTH", "Results in Death", origin="Derived", core="Perm", codelist="NY"),
    V("AESLIFE", "Is Life Threatening", origin="Derived", core="Perm", codelist="NY"),
    V("AETOXGR", "Standard Toxicity Grade", core="Exp", codelist="TOXGR"),
    EPOCH,
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
    value = str(outcome or "").lower()
    if grade == 5 or value in ("fatal", "death", "died"):
        return "FATAL"
    if value:
        return value.upper().replace("_", " ")
    return "RECOVERED/RESOLVED" if isinstance(resolved, date) else "NOT RECOVERED/NOT RESOLVED"


def ae(data: TrialData, lines: Mapping[str, Timeline]) -> tuple[Dataset, Dataset]:
    """Adverse events (one record per event) and SUPPAE (grading scale, DLT flag).

    ``AEACN``: the CAR-T product is a single infusion, so an event starting on or after it can
    change no dose (NOT APPLICABLE); before the infusion the action was not collected (UNKNOWN).
    ``AESDTH`` is Y for a fatal event, ``AESLIFE`` Y for grade 4 (CTCAE/ASTCT grade 4 is
    life-threatening); the other seriousness criteria are not collected.
    """
    meddra = meddra_mapping()
    reference = dict(
        zip(data.participants["study_id"], data.participants["infused_on"], strict=True)
    )
    events = data.adverse_events.sort_values(["participant_id", "onset_on", "ae_id"], kind="stable")
    rows = []
    for e in records(events):
        start = reference.get(e.study_id)
        mapped = meddra.lookup(str(e.term))
        outcome = _outcome(e.outcome, e.resolved_on, int(e.grade))
        treated_before = isinstance(start, date) and e.onset_on >= start
        rows.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "AE",
                "USUBJID": usubjid(data.nct_id, e.study_id),
                "AESPID": str(e.ae_id),
                "AETERM": str(e.term)[:200],
                "AELLT": mapped.term if mapped else "",
                "AELLTCD": float(mapped.llt_code) if mapped else float("nan"),
                "AEDECOD": mapped.term if mapped else str(e.term)[:200],
                "AEPTCD": float(mapped.llt_code) if mapped else float("nan"),
                "AECAT": str(e.category).upper().replace("_", " "),
                "AEBODSYS": mapped.soc if mapped else e.soc,
                "AESOC": mapped.soc if mapped else e.soc,
                "AESER": "Y" if e.serious else "N",
                "AEACN": "NOT APPLICABLE" if treated_before else "UNKNOWN",
                "AEREL": _REL.get(str(e.attribution or "").lower(), text(e.attribution).upper()),
                "AEOUT": outcome,
                "AESDTH": "Y" if outcome == "FATAL" else "N",
                "AESLIFE": "Y" if int(e.grade) == 4 else "N",
                "AETOXGR": str(e.grade),
                "EPOCH": _epoch(lines, e.study_id, e.onset_on),
                "AESTDTC": iso(e.onset_on),
                "AEENDTC": iso(e.resolved_on),
                "AESTDY": study_day(e.onset_on, start),
                "AEENDY": study_day(e.resolved_on, start),
                "_DLT": bool(e.is_dlt),
                "_SCALE": str(e.scale),
            }
        )
    sequence(rows, "AESEQ")
    supp = []
    for row in rows:
        for qnam, qval, evaluator in (
            ("AETOXGRS", row["_SCALE"], ""),
            ("AEDLT", "Y" if row["_DLT"] else "N", "INVESTIGATOR"),
        ):
            supp.append(
                supp_row(
                    data.nct_id,
                    "AE",
                    str(row["USUBJID"]),
                    "AESEQ",
                    float(row["AESEQ"]),
                    qnam,
                    str(qval),
                    evaluator=evaluator,
                )
            )
    return (
        Dataset(
            "AE",
            "Adverse Events",
            "One record per adverse event per subject",
            AE_VARS,
            frame_of(rows, AE_VARS),
            "EVENTS",
            ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC"),
        ),
        supp_dataset("SUPPAE", "Supplemental Qualifiers for AE", supp, SUPPAE_LABELS),
    )


# --------------------------------------------------------------------------- RS


RS_VARS = (
    *STUDY,
    V("RSSEQ", "Sequence Number", "Num", origin="Derived"),
    V("RSTESTCD", "Assessment Short Name", origin="Assigned", codelist="RSTESTCD"),
    V("RSTEST", "Assessment Name", origin="Assigned"),
    V("RSCAT", "Category for Assessment", origin="Assigned", core="Perm"),
    V("RSORRES", "Result or Finding in Original Units", core="Exp"),
    V(
        "RSSTRESC",
        "Character Result/Finding in Std Format",
        origin="Derived",
        core="Exp",
        codelist="RSRESP",
    ),
    V("RSEVAL", "Evaluator", origin="Assigned", core="Perm"),
    V("VISITNUM", "Visit Number", "Num", origin="Assigned", core="Exp"),
    V("VISIT", "Visit Name", origin="Assigned", core="Perm"),
    EPOCH,
    V("RSDTC", "Date/Time of Assessment", core="Exp"),
    V("RSDY", "Study Day of Assessment", "Num", origin="Derived", core="Perm"),
)
#: Recorded response → RSSTRESC (the leukaemia response terms; SD/NR is "no response").
_STD_RESPONSE = {
    "CR": "CR",
    "CRI": "CRi",
    "MLFS": "MLFS",
    "PR": "PR",
    "SD/NR": "SD",
    "SD": "SD",
    "NR": "SD",
    "PD": "PD",
    "NE": "NE",
}


def std_response(value: str) -> str:
    """The controlled term of a recorded response (``CRi`` keeps its case)."""
    return _STD_RESPONSE.get(value.strip().upper(), value.strip().upper())


def rs(data: TrialData, lines: Mapping[str, Timeline]) -> Dataset:
    """Disease response: each overall response assessment (with its visit) and each BOR."""
    people = data.participants.set_index("study_id")
    names = visit_names(data.protocol)
    category = "LEUKEMIA RESPONSE"
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for r in records(data.responses):
        start = people.loc[r.study_id, "infused_on"]
        visit = VISITS.get(str(r.timepoint), UNSCHEDULED)
        by_subject.setdefault(r.study_id, []).append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "RS",
                "USUBJID": usubjid(data.nct_id, r.study_id),
                "RSTESTCD": "OVRLRESP",
                "RSTEST": "Overall Response",
                "RSCAT": category,
                "RSORRES": r.response,
                "RSSTRESC": std_response(str(r.response)),
                "RSEVAL": "INVESTIGATOR",
                "VISITNUM": visit,
                "VISIT": names[visit],
                "EPOCH": _epoch(lines, r.study_id, r.assessed_on),
                "RSDTC": iso(r.assessed_on),
                "RSDY": study_day(r.assessed_on, start),
            }
        )
    for p in records(data.participants):
        if p.bor is None:
            continue
        own = by_subject.setdefault(p.study_id, [])
        last = max((row["RSDTC"] for row in own), default="")
        day = date.fromisoformat(last) if last else None
        own.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "RS",
                "USUBJID": usubjid(data.nct_id, p.study_id),
                "RSTESTCD": "BESTRSP",
                "RSTEST": "Best Overall Response",
                "RSCAT": category,
                "RSORRES": p.bor,
                "RSSTRESC": std_response(str(p.bor)),
                "RSEVAL": "INVESTIGATOR",
                "VISITNUM": float("nan"),
                "VISIT": "",
                "EPOCH": _epoch(lines, p.study_id, day),
                "RSDTC": last,
                "RSDY": study_day(day, p.infused_on),
            }
        )
    rows: list[dict[str, Any]] = []
    for subject in sorted(by_subject):
        rows += by_subject[subject]
    return Dataset(
        "RS",
        "Disease Response",
        "One record per response assessment per subject",
        RS_VARS,
        frame_of(sequence(rows, "RSSEQ"), RS_VARS),
        "FINDINGS",
        ("STUDYID", "USUBJID", "RSTESTCD", "VISITNUM", "RSDTC"),
    )


# --------------------------------------------------------------------------- DS


DS_VARS = (
    *STUDY,
    V("DSSEQ", "Sequence Number", "Num", origin="Derived"),
    V("DSTERM", "Reported Term for the Disposition Event"),
    V("DSDECOD", "Standardized Disposition Term", origin="Assigned", codelist="DSDECOD"),
    V("DSCAT", "Category for Disposition Event", origin="Assigned", core="Exp", codelist="DSCAT"),
    V(
        "DSSCAT",
        "Subcategory for Disposition Event",
        origin="Assigned",
        core="Perm",
        codelist="DSSCAT",
    ),
    EPOCH,
    V("DSSTDTC", "Start Date/Time of Disposition Event", core="Exp"),
    V("DSSTDY", "Study Day of Start of Disposition Event", "Num", origin="Derived", core="Perm"),
)


def ds(data: TrialData, lines: Mapping[str, Timeline]) -> Dataset:
    """Disposition: consent and enrollment milestones, and each subject's end of study."""
    rows = []
    for p in records(data.participants):
        if p.consent_on is None and p.screened_on is None:
            continue
        events: list[tuple[str, str, str, str, Any]] = []
        if p.consent_on is not None:
            events.append(
                (
                    "INFORMED CONSENT OBTAINED",
                    "INFORMED CONSENT OBTAINED",
                    "PROTOCOL MILESTONE",
                    "",
                    p.consent_on,
                )
            )
        if p.enrolled_on is not None:
            events.append(("ENROLLED", "ENROLLED", "PROTOCOL MILESTONE", "", p.enrolled_on))
        ended = end_of_study(data, p)
        if ended is not None:
            term, decod, day = ended
            events.append((term, decod, "DISPOSITION EVENT", "END OF STUDY", day))
        for term, decod, cat, scat, day in events:
            rows.append(
                {
                    "STUDYID": data.nct_id,
                    "DOMAIN": "DS",
                    "USUBJID": usubjid(data.nct_id, p.study_id),
                    "DSTERM": term,
                    "DSDECOD": decod,
                    "DSCAT": cat,
                    "DSSCAT": scat,
                    "EPOCH": _epoch(lines, p.study_id, day),
                    "DSSTDTC": iso(day),
                    "DSSTDY": study_day(day, p.infused_on),
                }
            )
    return Dataset(
        "DS",
        "Disposition",
        "One record per disposition status or protocol milestone per subject",
        DS_VARS,
        frame_of(sequence(rows, "DSSEQ"), DS_VARS),
        "EVENTS",
        ("STUDYID", "USUBJID", "DSDECOD", "DSSTDTC"),
    )


# --------------------------------------------------------------------------- all, rules, files


_ALWAYS = frozenset({"TS", "TE", "TA", "TV", "TI", "DM"})


def build_sdtm(data: TrialData) -> dict[str, Dataset]:
    """The datasets of :data:`DOMAINS` that have records (the design domains and DM always),
    checked against the naming and length rules."""
    from dosewise.report.sdtm_events import dv, ie

    lines = timelines(data)
    ex_ds, suppex = ex(data, lines)
    doses: dict[str, tuple[date, date]] = {}
    frame = ex_ds.frame
    for subject, start, end in zip(
        frame["USUBJID"], frame["EXSTDTC"], frame["EXENDTC"], strict=True
    ):
        sid = subject[len(data.nct_id) + 1 :]
        first, last = date.fromisoformat(start), date.fromisoformat(end or start)
        seen = doses.get(sid, (first, last))
        doses[sid] = (min(seen[0], first), max(seen[1], last))
    dm_ds, suppdm = dm(data, doses, lines)
    ae_ds, suppae = ae(data, lines)
    built = (
        ts(data),
        te(data),
        ta(data),
        tv(data),
        ti(data),
        dm_ds,
        suppdm,
        se(data, lines),
        ex_ds,
        suppex,
        ae_ds,
        suppae,
        ds(data, lines),
        dv(data, lines),
        ie(data),
        rs(data, lines),
    )
    # An empty dataset is not submitted (FDA Study Data Technical Conformance Guide); the
    # trial design domains and DM always have rows.
    out = {d.name: d for d in built if len(d.frame) or d.name in _ALWAYS}
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


def write_sdtm(
    datasets: Mapping[str, Dataset], folder: str | Path, study: str, data: TrialData | None = None
) -> list[Path]:
    """Write each dataset as ``<name>.xpt`` (SAS XPORT v5) and ``<name>.csv``, plus the
    define (``define.xml``, ``define.html``, ``define.csv``); the paths written."""
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
    title = data.protocol.registry.title if data is not None else ""
    written += write_define(datasets, path, study, title)
    return written


def export_sdtm(data: TrialData, out: Path, lang: str) -> dict[str, Any]:
    """The export writer (:mod:`dosewise.report.exports`): every dataset into the folder."""
    datasets = build_sdtm(data)
    files = write_sdtm(datasets, out, data.nct_id, data)
    return {
        "format": "sdtm",
        "datasets": {name: len(d.frame) for name, d in datasets.items()},
        "files": [f.name for f in files],
    }
