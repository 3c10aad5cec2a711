"""SDTM trial design domains (TS, TE, TA, TV, TI) from the protocol file; each subject's
elements (SE) and the epochs of records are in :mod:`dosewise.report.sdtm_elements`.

Design choices (SDTMIG 3.4 §7), written down in ``docs/reports.md``:

- **Elements** (TE): screening (``SCRN``, from consent or screening), lymphodepletion (``LD``, from
  the first lymphodepleting dose), CAR-T infusion and DLT observation (``CART``, the infusion day
  and the protocol's DLT window, ``windows.dlt_days``) and follow-up (``FU``, to the end of
  participation). Each element is its own **epoch**: SCREENING, LYMPHODEPLETION (a sponsor
  extension of the EPOCH codelist: it is neither screening nor the studied treatment), TREATMENT,
  FOLLOW-UP.
- **Arms** (TA): one per phase × cell-source arm × dose level, ``ARMCD`` =
  ``P<phase>-<arm>-<level>``
  (``P1-AUTO-DL1``), so the phase 1 and phase 2 populations and the dose are read from DM alone.
  Every design level is an arm in both phases: the protocol cannot know the RP2D, and a fallback
  product (DL-1) is a planned way to be treated.
- **Visits** (TV): screening, lymphodepletion, infusion (SDTM day 1 = protocol day 0), the DLT
  read-out (``dlt_days``) and the BOR visit (``bor.target_day`` ± its window).
- **Epoch of a record**: the element the record's date falls in; a date on an element's first
  day belongs to that element (the infusion day is TREATMENT).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dosewise.clinical import Visit
from dosewise.protocol import Protocol
from dosewise.report.sdtm_base import (
    Dataset,
    V,
    ascii_text,
    frame_of,
    iso,
)
from dosewise.report.sdtm_terms import COUNTRY_CODES, SDTM_VERSION, SDTMIG_VERSION
from dosewise.report.trial_data import TrialData

_ARM_CODE = {"autologous": "AUTO", "prior_sct_donor": "SCTDON", "new_donor": "NEWDON"}


@dataclass(frozen=True)
class Element:
    """A trial element (TE row) and the epoch it makes up."""

    code: str
    name: str
    epoch: str
    start_rule: str
    end_rule: str
    duration: str = ""


def elements(protocol: Protocol) -> tuple[Element, ...]:
    """The four elements every treated subject passes through, in order."""
    days = protocol.windows.dlt_days
    return (
        Element(
            "SCRN",
            "Screening",
            "SCREENING",
            "Informed consent or screening, whichever is first",
            "First lymphodepleting dose, or the screening verdict for a screen failure",
        ),
        Element(
            "LD",
            "Lymphodepletion",
            "LYMPHODEPLETION",
            "First dose of the lymphodepleting regimen",
            "CD5 CAR-T infusion",
        ),
        Element(
            "CART",
            "CD5 CAR-T infusion and DLT observation",
            "TREATMENT",
            "CD5 CAR-T infusion (protocol day 0)",
            f"{days} days after the infusion (end of the DLT window)",
            f"P{days}D",
        ),
        Element(
            "FU",
            "Follow-up",
            "FOLLOW-UP",
            f"Day {days} after the infusion",
            "End of study participation",
        ),
    )


def arm_code(arm_id: str | None, level: str | None, phase: Any = None) -> str:
    """``ARMCD``: phase, arm short code and dose level, e.g. ``P1-AUTO-DL1`` (≤ 20 chars)."""
    if arm_id is None:
        return ""
    code = _ARM_CODE.get(arm_id, arm_id.upper()[:8])
    prefix = f"P{int(phase)}-" if phase is not None else ""
    return f"{prefix}{code}-{level}"[:20] if level else f"{prefix}{code}"


def arm_name(label: str, level: str | None, phase: Any = None) -> str:
    """``ARM``: ``Phase 1: <arm label>, <level>``."""
    prefix = f"Phase {int(phase)}: " if phase is not None else ""
    return ascii_text(f"{prefix}{label}, {level}" if level else f"{prefix}{label}")


def planned_arms(protocol: Protocol) -> list[tuple[str, str, int, str, str]]:
    """Every planned arm: (ARMCD, ARM, phase, arm id, level), in protocol order."""
    out = []
    for phase in (1, 2):
        for arm in protocol.arms:
            for level in protocol.dose_levels.levels:
                out.append(
                    (
                        arm_code(arm.id, level.name, phase),
                        arm_name(arm.label, level.name, phase),
                        phase,
                        arm.id,
                        level.name,
                    )
                )
    return out


# --------------------------------------------------------------------------- TE, TA, TV, TI


TE_VARS = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("DOMAIN", "Domain Abbreviation", origin="Assigned"),
    V("ETCD", "Element Code", origin="Assigned"),
    V("ELEMENT", "Description of Element", origin="Assigned"),
    V("TESTRL", "Rule for Start of Element", origin="Assigned"),
    V("TEENRL", "Rule for End of Element", origin="Assigned", core="Perm"),
    V("TEDUR", "Planned Duration of Element", origin="Assigned", core="Perm"),
)


def te(data: TrialData) -> Dataset:
    """Trial Elements."""
    rows = [
        {
            "STUDYID": data.nct_id,
            "DOMAIN": "TE",
            "ETCD": e.code,
            "ELEMENT": e.name,
            "TESTRL": e.start_rule,
            "TEENRL": e.end_rule,
            "TEDUR": e.duration,
        }
        for e in elements(data.protocol)
    ]
    return Dataset(
        "TE",
        "Trial Elements",
        "One record per planned Element",
        TE_VARS,
        frame_of(rows, TE_VARS),
        "TRIAL DESIGN",
        ("STUDYID", "ETCD"),
    )


TA_VARS = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("DOMAIN", "Domain Abbreviation", origin="Assigned"),
    V("ARMCD", "Planned Arm Code", origin="Assigned"),
    V("ARM", "Description of Planned Arm", origin="Assigned"),
    V("TAETORD", "Planned Order of Element within Arm", "Num", origin="Assigned"),
    V("ETCD", "Element Code", origin="Assigned"),
    V("ELEMENT", "Description of Element", origin="Assigned", core="Perm"),
    V("TABRANCH", "Branch", origin="Assigned", core="Exp"),
    V("TATRANS", "Transition Rule", origin="Assigned", core="Exp"),
    V("EPOCH", "Epoch", origin="Assigned", codelist="EPOCH"),
)


def ta(data: TrialData) -> Dataset:
    """Trial Arms: every planned arm passes screening, lymphodepletion, CAR-T, follow-up."""
    rows = []
    steps = elements(data.protocol)
    for armcd, arm, phase, _arm_id, level in planned_arms(data.protocol):
        for order, e in enumerate(steps, start=1):
            rows.append(
                {
                    "STUDYID": data.nct_id,
                    "DOMAIN": "TA",
                    "ARMCD": armcd,
                    "ARM": arm,
                    "TAETORD": float(order),
                    "ETCD": e.code,
                    "ELEMENT": e.name,
                    "TABRANCH": (
                        f"Enrolled in phase {phase} and assigned {level}"
                        if e.code == "SCRN"
                        else ""
                    ),
                    "TATRANS": "",
                    "EPOCH": e.epoch,
                }
            )
    return Dataset(
        "TA",
        "Trial Arms",
        "One record per planned Element per Arm",
        TA_VARS,
        frame_of(rows, TA_VARS),
        "TRIAL DESIGN",
        ("STUDYID", "ARMCD", "TAETORD"),
    )


#: Visit numbers of the visits before the response visits after day 28.
VISITS = {"screening": 1.0, "lymphodepletion": 2.0, "infusion": 3.0, "day_28": 4.0}
UNSCHEDULED = 99.0


def _later_response_visits(protocol: Protocol) -> list[Visit]:
    """The protocol's response visits between day 28 and month 3 (month 2 for NCT07070323)."""
    return [
        v
        for v in protocol.visit_schedule()
        if "response" in v.assessments and v.name not in ("day_28", "month_3")
    ]


def visit_numbers(protocol: Protocol) -> dict[str, float]:
    """Response time point → VISITNUM: :data:`VISITS`, then the protocol's response visits
    after day 28 (``visits:``) in order, then month 3 (the BOR visit) last."""
    later = _later_response_visits(protocol)
    numbers = dict(VISITS)
    numbers.update({v.name: 5.0 + i for i, v in enumerate(later)})
    numbers["month_3"] = 5.0 + len(later)
    return numbers


TV_VARS = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("DOMAIN", "Domain Abbreviation", origin="Assigned"),
    V("VISITNUM", "Visit Number", "Num", origin="Assigned"),
    V("VISIT", "Visit Name", origin="Assigned", core="Perm"),
    V("VISITDY", "Planned Study Day of Visit", "Num", origin="Assigned", core="Perm"),
    V("ARMCD", "Planned Arm Code", origin="Assigned", core="Exp"),
    V("TVSTRL", "Visit Start Rule", origin="Assigned"),
    V("TVENRL", "Visit End Rule", origin="Assigned", core="Perm"),
)


def visit_names(protocol: Protocol) -> dict[float, str]:
    """VISITNUM → VISIT."""
    numbers = visit_numbers(protocol)
    return {
        1.0: "SCREENING",
        2.0: "LYMPHODEPLETION",
        3.0: "CAR-T INFUSION",
        4.0: f"DAY {protocol.windows.dlt_days}",
        **{numbers[v.name]: v.label.upper() for v in _later_response_visits(protocol)},
        numbers["month_3"]: "MONTH 3",
        UNSCHEDULED: "UNSCHEDULED",
    }


def tv(data: TrialData) -> Dataset:
    """Trial Visits (the same for every arm: ARMCD null)."""
    w = data.protocol.windows
    target = int(w.bor.target_day.value)
    names = visit_names(data.protocol)
    numbers = visit_numbers(data.protocol)
    plan = (
        (1.0, float("nan"), "Informed consent and screening", "Screening verdict"),
        (2.0, float("nan"), "First lymphodepleting dose", "Last lymphodepleting dose"),
        (3.0, 1.0, "CD5 CAR-T infusion (protocol day 0 = study day 1)", ""),
        (4.0, float(w.dlt_days + 1), f"Protocol day {w.dlt_days}: end of the DLT window", ""),
        *(
            (
                numbers[v.name],
                float(v.day + 1),
                f"Protocol day {v.day - v.before}",
                f"Protocol day {v.day + v.after}",
            )
            for v in _later_response_visits(data.protocol)
        ),
        (
            numbers["month_3"],
            float(target + 1),
            f"Protocol day {w.bor.first_day}",
            f"Protocol day {w.bor.last_day}",
        ),
    )
    rows = [
        {
            "STUDYID": data.nct_id,
            "DOMAIN": "TV",
            "VISITNUM": num_,
            "VISIT": names[num_],
            "VISITDY": day,
            "ARMCD": "",
            "TVSTRL": start,
            "TVENRL": end,
        }
        for num_, day, start, end in plan
    ]
    return Dataset(
        "TV",
        "Trial Visits",
        "One record per planned Visit per Arm",
        TV_VARS,
        frame_of(rows, TV_VARS),
        "TRIAL DESIGN",
        ("STUDYID", "ARMCD", "VISITNUM"),
    )


TI_VARS = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("DOMAIN", "Domain Abbreviation", origin="Assigned"),
    V("IETESTCD", "Incl/Excl Criterion Short Name", origin="Assigned"),
    V("IETEST", "Inclusion/Exclusion Criterion", origin="Assigned"),
    V("IECAT", "Inclusion/Exclusion Category", origin="Assigned", codelist="IECAT"),
    V("IESCAT", "Inclusion/Exclusion Subcategory", origin="Assigned", core="Perm"),
    V("TIRL", "Inclusion/Exclusion Criterion Rule", origin="Assigned", core="Perm"),
    V("TIVERS", "Protocol Criteria Versions", origin="Assigned", core="Perm"),
)


def criterion_test(criterion: Any) -> str:
    """``IETEST``: the criterion's registry text (its title when the text is over 200)."""
    full = ascii_text(criterion.text, 10_000)
    if len(full) <= 200 or not criterion.title:
        return ascii_text(criterion.text)
    return ascii_text(criterion.title)


def ti(data: TrialData) -> Dataset:
    """Trial Inclusion/Exclusion Criteria, from the protocol file's eligibility criteria."""
    rows = []
    for c in data.protocol.screening_criteria.criteria:  # with the arm requirements
        arms = ", ".join(c.arms) if c.arms else ""
        rows.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "TI",
                "IETESTCD": c.id.upper()[:8],
                "IETEST": criterion_test(c),
                "IECAT": str(c.kind).upper(),
                "IESCAT": f"ARMS: {arms.upper()}"[:200] if arms else "",
                "TIRL": f"{len(c.checks)} check(s), combined with {c.combine.upper()}",
                "TIVERS": "1",
            }
        )
    return Dataset(
        "TI",
        "Trial Inclusion/Exclusion Criteria",
        "One record per I/E criterion",
        TI_VARS,
        frame_of(rows, TI_VARS),
        "TRIAL DESIGN",
        ("STUDYID", "IETESTCD"),
    )


# --------------------------------------------------------------------------- TS


TS_VARS = (
    V("STUDYID", "Study Identifier", origin="Assigned"),
    V("DOMAIN", "Domain Abbreviation", origin="Assigned"),
    V("TSSEQ", "Sequence Number", "Num", origin="Assigned"),
    V("TSPARMCD", "Trial Summary Parameter Short Name", origin="Assigned"),
    V("TSPARM", "Trial Summary Parameter", origin="Assigned"),
    V("TSVAL", "Parameter Value", origin="Assigned", core="Exp"),
    V("TSVALNF", "Parameter Null Flavor", origin="Assigned", core="Perm"),
    V("TSVCDREF", "Name of the Reference Terminology", origin="Assigned", core="Exp"),
    V("TSVCDVER", "Version of the Reference Terminology", origin="Assigned", core="Exp"),
)

_PHASES = {
    frozenset({"PHASE1"}): "PHASE I TRIAL",
    frozenset({"PHASE2"}): "PHASE II TRIAL",
    frozenset({"PHASE1", "PHASE2"}): "PHASE I/II TRIAL",
    frozenset({"PHASE2", "PHASE3"}): "PHASE II/III TRIAL",
    frozenset({"PHASE3"}): "PHASE III TRIAL",
}


def ts(data: TrialData) -> Dataset:
    """Trial Summary: the registry facts of the protocol file, SDTM versions, the cut-off."""
    reg = data.protocol.registry
    lead = reg.lead_sponsor
    params: list[tuple[str, str, str, str, str]] = [
        ("TITLE", "Trial Title", ascii_text(reg.title), "", ""),
        ("REGID", "Registry Identifier", reg.nct_id, "ClinicalTrials.gov", ""),
        ("SPONSOR", "Clinical Study Sponsor", ascii_text(lead), "", ""),
        (
            "TPHASE",
            "Trial Phase Classification",
            _PHASES.get(frozenset(str(p) for p in reg.phases), ""),
            "CDISC CT",
            "",
        ),
        ("STYPE", "Study Type", str(reg.study_type), "CDISC CT", ""),
        ("INTMODEL", "Intervention Model", str(reg.intervention_model or ""), "CDISC CT", ""),
        (
            "TBLIND",
            "Trial Blinding Schema",
            "OPEN LABEL" if str(reg.masking or "").upper() == "NONE" else "",
            "CDISC CT",
            "",
        ),
        ("RANDOM", "Trial is Randomized", "N" if reg.allocation != "RANDOMIZED" else "Y", "", ""),
        ("TCNTRL", "Control Type", "NONE", "CDISC CT", ""),
        ("TTYPE", "Trial Type", "SAFETY", "CDISC CT", ""),
        ("TTYPE", "Trial Type", "EFFICACY", "CDISC CT", ""),
        ("TTYPE", "Trial Type", "DOSE FINDING", "CDISC CT", ""),
        ("TINDTP", "Trial Intent Type", str(reg.primary_purpose or ""), "CDISC CT", ""),
        ("TRT", "Investigational Therapy or Treatment", "CD5 CAR-T CELLS", "", ""),
        ("PLANSUB", "Planned Number of Subjects", str(reg.target_enrollment), "", ""),
        ("ACTSUB", "Actual Number of Subjects", str(len(data.enrolled)), "", ""),
        ("AGEMIN", "Planned Minimum Age of Subjects", _age(reg.eligibility.min_age_years), "", ""),
        ("AGEMAX", "Planned Maximum Age of Subjects", _age(reg.eligibility.max_age_years), "", ""),
        ("SEXPOP", "Sex of Participants", "BOTH", "CDISC CT", ""),
        ("HLTSUBJI", "Healthy Subject Indicator", "N", "", ""),
        ("ADDON", "Added on to Existing Treatments", "N", "", ""),
        ("STSTDTC", "Study Start Date", iso(reg.start_date), "ISO 8601", ""),
        ("DCUTDTC", "Data Cutoff Date", iso(data.as_of), "ISO 8601", ""),
        ("DCUTDESC", "Data Cutoff Description", "Clinical data up to the end of the day", "", ""),
        ("SDTMVER", "SDTM Version", SDTM_VERSION, "", ""),
        ("SDTIGVER", "SDTM IG Version", SDTMIG_VERSION, "", ""),
    ]
    for condition in reg.conditions:
        params.append(
            ("INDIC", "Trial Disease/Condition Indication", ascii_text(condition), "", "")
        )
    for endpoint in reg.primary_endpoints:
        params.append(("OUTMSPRI", "Primary Outcome Measure", ascii_text(endpoint.measure), "", ""))
    for country in reg.countries:
        code = COUNTRY_CODES.get(country, "")
        params.append(("FCNTRY", "Planned Country of Investigational Sites", code, "ISO 3166", ""))
    rows = []
    seq: dict[str, int] = {}
    for code, name, value, ref, _ in params:
        seq[code] = seq.get(code, 0) + 1
        rows.append(
            {
                "STUDYID": data.nct_id,
                "DOMAIN": "TS",
                "TSSEQ": float(seq[code]),
                "TSPARMCD": code,
                "TSPARM": name,
                "TSVAL": value,
                "TSVALNF": "" if value else "NI",
                "TSVCDREF": ref if value else "",
                "TSVCDVER": "",
            }
        )
    return Dataset(
        "TS",
        "Trial Summary",
        "One record per trial summary parameter value",
        TS_VARS,
        frame_of(rows, TS_VARS),
        "TRIAL DESIGN",
        ("STUDYID", "TSPARMCD", "TSSEQ"),
    )


def _age(years: int | None) -> str:
    return f"P{years}Y" if years is not None else ""
