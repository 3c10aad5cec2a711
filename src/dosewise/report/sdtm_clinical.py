"""SDTM AE/SUPPAE, RS and DS: adverse events, disease response and disposition.

Part of the SDTM export (:mod:`dosewise.report.sdtm` builds and writes; the choices are in its
module doc and in ``docs/reports.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from dosewise.report.sdtm_base import (
    EPOCH,
    STUDY,
    Dataset,
    V,
    frame_of,
    iso,
    sequence,
    study_day,
    supp_dataset,
    supp_row,
    text,
    usubjid,
)
from dosewise.report.sdtm_design import (
    UNSCHEDULED,
    visit_names,
    visit_numbers,
)
from dosewise.report.sdtm_elements import Timeline, end_of_study
from dosewise.report.sdtm_elements import epoch_of as _epoch
from dosewise.report.sdtm_terms import meddra_mapping
from dosewise.report.trial_data import TrialData, records

_REL = {
    "definite": "DEFINITELY RELATED",
    "probable": "PROBABLY RELATED",
    "possible": "POSSIBLY RELATED",
    "unlikely": "UNLIKELY RELATED",
    "unrelated": "NOT RELATED",
}


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
    numbers = visit_numbers(data.protocol)
    category = "LEUKEMIA RESPONSE"
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for r in records(data.responses):
        start = people.loc[r.study_id, "infused_on"]
        visit = numbers.get(str(r.timepoint), UNSCHEDULED)
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
