"""SDTM DM/SUPPDM and EX/SUPPEX: who the subjects are, their arms and what they were given.

Part of the SDTM export (:mod:`dosewise.report.sdtm` builds and writes; the choices are in its
module doc and in ``docs/reports.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from dosewise.report.sdtm_base import (
    EPOCH,
    STUDY,
    Dataset,
    V,
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
    arm_code,
    arm_name,
    planned_arms,
)
from dosewise.report.sdtm_elements import Timeline, end_of_participation
from dosewise.report.sdtm_elements import epoch_of as _epoch
from dosewise.report.sdtm_terms import COUNTRY_CODES
from dosewise.report.trial_data import TrialData, records

TREATMENT = "CD5 CAR-T CELLS"
_SEX = {"male": "M", "female": "F"}


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
