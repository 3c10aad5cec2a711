"""The ClinicalTrials.gov results section of the trial, built from its records.

:func:`build_ctgov` turns :class:`~dosewise.report.trial_data.TrialData` into the four results
modules exactly as the registry structures them, so the JSON can be keyed into the PRS (or read
by anything that reads the registry's data API); :func:`ctgov_html` lays the same document out as
the registry's results page; :func:`export_ctgov` is the export writer. English only: the registry
takes English.

Field names and values follow these published definitions (facts, checked with the project's
search tool):

- ClinicalTrials.gov, *Results Data Element Definitions for Interventional and Observational
  Studies* (prsinfo.clinicaltrials.gov/results_definitions.html, 5 June 2023, adapted from
  42 CFR Part 11): a participant flow of periods with milestones STARTED / COMPLETED / NOT
  COMPLETED and reasons not completed (Death, Withdrawal by Subject, Lost to Follow-up,
  Physician Decision, Other); baseline measures (Age, Continuous / Categorical / Customized,
  "Sex: Female, Male", Region of Enrollment) with a Total column; outcome measures with type,
  title, description, time frame, analysis population, measure type and unit; adverse events
  as all-cause mortality, serious and other (not including serious) tables by organ system and
  term, with a frequency threshold of at most 5 % for other adverse events, the source
  vocabulary and the assessment type (systematic or non-systematic).
- ClinicalTrials.gov data API v2, study data structure (clinicaltrials.gov/data-api/about-api/
  study-data-structure): the JSON names ``resultsSection.participantFlowModule`` (recruitment-
  Details, preAssignmentDetails, groups, periods → milestones → achievements, dropWithdraws →
  reasons), ``baselineCharacteristicsModule`` (groups, denoms, measures → classes → categories
  → measurements), ``outcomeMeasuresModule.outcomeMeasures`` and ``adverseEventsModule``
  (frequencyThreshold, timeFrame, description, allCauseMortalityComment, eventGroups with
  deaths/serious/other NumAffected and NumAtRisk, seriousEvents/otherEvents with organSystem,
  sourceVocabulary, assessmentType and stats of numEvents/numAffected/numAtRisk). Posted API v2
  records carry numSubjects, measurement values and denominator counts as strings and the
  adverse-event counts as integers; this module does the same.

Counting rules (the records are read, never re-derived): reporting groups are the arms (flow,
baseline, adverse events); the outcome measures follow the registered endpoints' phases — the
phase 1 endpoints (DLT, AEs) over phase 1 participants by arm × dose level actually infused, the
phase 2 endpoint (BOR) over phase 2 participants by arm (``groupKeys`` gives each group's arm,
dose and phase). The flow starts with the enrolled participants (STARTED), then those infused
(a custom milestone), COMPLETED and NOT COMPLETED; baseline and adverse events count every
infused participant. DLT incidence counts the investigator's final adjudications among
DLT-evaluable participants; adverse events count each participant once per term at the worst
grade (onset day 0 to the AE window for the outcome measure, every record for the adverse-event
module); the best overall response is the derived BOR of each participant. A participant
*completes* the flow period when on study at the end of the month-3 response window (study day
``bor.target_day + bor.plus_days``); one not completed has a reason: leaving the study (its
code), a product rejected at release and never infused (product failure), waiting for the
infusion, or still inside the window at the cut-off. CRS, ICANS, cytopenias and GvHD are
monitored by the protocol (systematic assessment); other events are reported as they occur
(non-systematic). ``moreInfoModule`` quotes the protocol file: the first registry contact (with
the lead sponsor as organisation) and ``registry.limitations_and_caveats``.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from dosewise import __version__
from dosewise.clinical.response import CATEGORIES
from dosewise.errors import InvalidParameter
from dosewise.report.render import render_html
from dosewise.report.trial_data import TrialData, records

#: The registry's unit of analysis for every measure here.
PARTICIPANTS = "Participants"
#: Other (not serious) adverse events are listed when at least this per cent of a group has them
#: (the registry's maximum, 5 %).
FREQUENCY_THRESHOLD = 5
GRADES = (1, 2, 3, 4, 5)
#: Reasons a participant leaves the study (``off_study_reason`` code) as the registry names them.
REASONS_NOT_COMPLETED = {
    "death": "Death",
    "withdrawal": "Withdrawal by Subject",
    "lost_to_follow_up": "Lost to Follow-up",
    "investigator_decision": "Physician Decision",
    "other": "Other",
    "sct": "Other",
    "new_therapy": "Other",
}
ONGOING = "Follow-up ongoing at data cut-off"
#: Enrolled participants whose product was rejected at release and who were never infused.
PRODUCT_FAILURE = "Product failure (not infused)"
#: Enrolled participants still waiting for the infusion at the cut-off.
AWAITING = "Awaiting infusion at data cut-off"
#: The custom milestone between STARTED (enrolled) and COMPLETED.
INFUSED = "Received CD5 CAR T-cell infusion"
#: Adverse-event categories the protocol monitors on a schedule (systematic assessment).
SYSTEMATIC = frozenset({"crs", "icans", "haematological", "gvhd"})
#: The registry's standard age categories (Age, Categorical).
AGE_CATEGORIES = ("<=18 years", "Between 18 and 65 years", ">=65 years")
BOR_TITLES = {
    "CR": "Complete remission (CR)",
    "CRi": "Complete remission with incomplete count recovery (CRi)",
    "PR": "Partial remission (PR)",
    "SD/NR": "Stable disease / no response (SD/NR)",
    "PD": "Progressive disease (PD)",
    "NE": "Not evaluable (NE)",
}


@dataclass(frozen=True)
class Group:
    """A reporting group: its registry id, words, and the infused participants it holds."""

    id: str
    title: str
    description: str
    members: frozenset[int]
    arm_id: str | None = None
    level: str | None = None
    phase: int | None = None

    def entry(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "description": self.description}


def build_ctgov(data: TrialData) -> dict[str, Any]:
    """The results section of ``data``'s trial, field for field as ClinicalTrials.gov has it."""
    arms = _arm_groups(data, "FG", data.enrolled)
    baseline = [*_arm_groups(data, "BG"), _total_group(data, "BG")]
    phase1 = _dose_groups(data)
    phase2 = _phase2_groups(data, len(phase1))
    events = _arm_groups(data, "EG")
    keys: dict[str, dict[str, Any]] = {}
    for g in [*arms, *baseline, *phase1, *phase2, *events]:
        keys[g.id] = {
            k: v
            for k, v in (("armId", g.arm_id), ("doseLevel", g.level), ("phase", g.phase))
            if v is not None
        }
    return {
        "nctId": data.nct_id,
        "dataCutoffDate": data.as_of.isoformat(),
        "generatedBy": f"dosewise {__version__}",
        "groupKeys": keys,
        "resultsSection": {
            "participantFlowModule": _flow(data, arms),
            "baselineCharacteristicsModule": _baseline(data, baseline),
            "outcomeMeasuresModule": {"outcomeMeasures": _outcomes(data, phase1, phase2)},
            "adverseEventsModule": _adverse_events(data, events),
            **_more_info(data),
        },
    }


# --------------------------------------------------------------------------- reporting groups


def _arm_text(data: TrialData) -> dict[str, tuple[str, str]]:
    """Arm id → (title, description) from the protocol, falling back to the stored label."""
    described = {a.id: (a.label, a.description or a.label) for a in data.protocol.arms}
    return {r.arm_id: described.get(r.arm_id, (r.label, r.label)) for r in records(data.arms)}


def _arm_groups(data: TrialData, prefix: str, population: Any = None) -> list[Group]:
    """One group per arm over ``population`` (default: the infused participants)."""
    treated = data.treated if population is None else population
    text = _arm_text(data)
    return [
        Group(
            f"{prefix}{i:03d}",
            text[arm][0],
            text[arm][1],
            frozenset(int(p) for p in treated.loc[treated["arm_id"] == arm, "participant_id"]),
            arm_id=arm,
        )
        for i, arm in enumerate(data.arms["arm_id"])
    ]


def _total_group(data: TrialData, prefix: str) -> Group:
    n = len(data.arms)
    return Group(
        f"{prefix}{n:03d}",
        "Total",
        "Total of all reporting groups",
        frozenset(int(p) for p in data.treated["participant_id"]),
    )


def _cells(value: float) -> str:
    """A cell dose as the registry writes it: 5×10^5, 1×10^6."""
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10**exponent, 3)
    return f"{mantissa:g}×10^{exponent}"


def _dose_groups(data: TrialData) -> list[Group]:
    """Phase 1: arm × dose level actually infused, arms in protocol order and doses in design
    order (the phase 1 endpoints, DLT and AEs, are counted over phase 1 participants only)."""
    treated = data.treated
    treated = treated[treated["phase"] == 1]
    text = _arm_text(data)
    ladder = {d.name: d for d in data.protocol.dose_levels.levels}
    unit = data.protocol.dose_levels.unit.value
    groups: list[Group] = []
    for arm in data.arms["arm_id"]:
        mine = treated[treated["arm_id"] == arm]
        given = {str(v) for v in mine["actual_level"] if v is not None}
        order = [n for n in data.dose_names(arm) if n in given] + sorted(
            given - set(data.dose_names(arm))
        )
        for level in order:
            members = frozenset(
                int(p) for p in mine.loc[mine["actual_level"] == level, "participant_id"]
            )
            dose = ladder.get(level)
            amount = (
                f"{_cells(dose.cells_per_kg)} (±{dose.tolerance:.0%}) {unit}"
                if dose
                else f"the dose recorded ({unit})"
            )
            groups.append(
                Group(
                    f"OG{len(groups):03d}",
                    f"Phase 1, {text[arm][0]}: {level}",
                    f"Phase 1 participants of the arm infused at {level}: {amount}.",
                    members,
                    arm_id=str(arm),
                    level=level,
                    phase=1,
                )
            )
    return groups


def _phase2_groups(data: TrialData, start: int) -> list[Group]:
    """Phase 2: one group per arm (the phase 2 endpoint, BOR, is counted over phase 2
    participants at the arm's RP2D); ids continue after the phase 1 groups."""
    treated = data.treated
    treated = treated[treated["phase"] == 2]
    text = _arm_text(data)
    rp2d = dict(zip(data.arms["arm_id"], data.arms["rp2d_level"], strict=True))
    return [
        Group(
            f"OG{start + i:03d}",
            f"Phase 2, {text[arm][0]}",
            "Phase 2 participants of the arm"
            + (f", treated at the RP2D {rp2d[arm]}." if rp2d.get(arm) else "."),
            frozenset(int(p) for p in treated.loc[treated["arm_id"] == arm, "participant_id"]),
            arm_id=str(arm),
            phase=2,
        )
        for i, arm in enumerate(data.arms["arm_id"])
    ]


# --------------------------------------------------------------------------- measures


def _num(value: float) -> str:
    """A summary number as text: integers bare, others with at most two decimals."""
    rounded = round(float(value), 2)
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:g}"


def _denoms(groups: Sequence[Group], population: Mapping[str, frozenset[int]]) -> list[Any]:
    return [
        {
            "units": PARTICIPANTS,
            "counts": [{"groupId": g.id, "value": str(len(population[g.id]))} for g in groups],
        }
    ]


def _measurement(group: Group, analysed: frozenset[int], having: set[int]) -> dict[str, str]:
    if not analysed:
        return {"groupId": group.id, "value": "NA", "comment": "No participant analysed"}
    return {"groupId": group.id, "value": str(len(analysed & having))}


Rows = Sequence[tuple[str | None, Sequence[tuple[str | None, set[int]]]]]


def _count_measure(
    groups: Sequence[Group], population: Mapping[str, frozenset[int]], rows: Rows
) -> dict[str, Any]:
    """Counts of participants: ``rows`` are (class title, [(category title, ids)])."""
    classes = []
    for class_title, categories in rows:
        cats = []
        for title, ids in categories:
            cat: dict[str, Any] = {} if title is None else {"title": title}
            cat["measurements"] = [_measurement(g, population[g.id], ids) for g in groups]
            cats.append(cat)
        classes.append(
            ({} if class_title is None else {"title": class_title}) | {"categories": cats}
        )
    return {
        "paramType": "COUNT_OF_PARTICIPANTS",
        "unitOfMeasure": PARTICIPANTS,
        "calculatePct": True,
        "denomUnitsSelected": PARTICIPANTS,
        "denoms": _denoms(groups, population),
        "classes": classes,
    }


def _median_measure(
    groups: Sequence[Group],
    population: Mapping[str, frozenset[int]],
    values: Mapping[int, float],
    unit: str,
) -> dict[str, Any]:
    """Median and full range of ``values`` per group."""
    measurements = []
    for g in groups:
        found = [values[p] for p in sorted(population[g.id]) if p in values]
        if not found:
            measurements.append({"groupId": g.id, "value": "NA", "comment": "Not recorded"})
            continue
        measurements.append(
            {
                "groupId": g.id,
                "value": _num(statistics.median(found)),
                "lowerLimit": _num(min(found)),
                "upperLimit": _num(max(found)),
            }
        )
    return {
        "paramType": "MEDIAN",
        "dispersionType": "FULL_RANGE",
        "unitOfMeasure": unit,
        "denomUnitsSelected": PARTICIPANTS,
        "denoms": _denoms(groups, population),
        "classes": [{"categories": [{"measurements": measurements}]}],
    }


def _ids(frame: Any, mask: Any = None) -> set[int]:
    """Participant ids of the frame's rows (an empty frame may have no columns at all)."""
    rows = frame if mask is None else frame[mask]
    if rows.empty:
        return set()
    return {int(p) for p in rows["participant_id"]}


# --------------------------------------------------------------------------- participant flow


def _not_completed(data: TrialData, r: Any, end_day: int) -> str | None:
    """Why an enrolled participant has not completed the period (None: completed).

    Not infused: a rejected product (product failure), else leaving the study (its reason),
    else still waiting at the cut-off. Infused: leaving the study before the end of the
    month-3 window, else completed once the window has ended, else follow-up ongoing.
    """
    if r.infused_on is None:
        if r.product_rejected is True:
            return PRODUCT_FAILURE
        if r.off_study_on is not None:
            code = str(r.off_study_reason or "other").split(":", 1)[0].strip()
            return REASONS_NOT_COMPLETED.get(code, "Other")
        return AWAITING
    end = r.infused_on + timedelta(days=end_day)
    if r.off_study_on is not None and r.off_study_on < end:
        code = str(r.off_study_reason or "other").split(":", 1)[0].strip()
        return REASONS_NOT_COMPLETED.get(code, "Other")
    return None if data.as_of >= end else ONGOING


def _flow(data: TrialData, groups: Sequence[Group]) -> dict[str, Any]:
    """The participant flow: STARTED = enrolled, then infused, COMPLETED, NOT COMPLETED."""
    p, treated, enrolled = data.participants, data.treated, data.enrolled
    bor = data.protocol.windows.bor
    end_day = bor.last_day
    completed: set[int] = set()
    reasons: dict[str, set[int]] = {}
    for r in records(enrolled):
        reason = _not_completed(data, r, end_day)
        if reason is None:
            completed.add(int(r.participant_id))
        else:
            reasons.setdefault(reason, set()).add(int(r.participant_id))
    order = [*REASONS_NOT_COMPLETED.values(), PRODUCT_FAILURE, AWAITING, ONGOING]
    not_completed = set().union(*reasons.values()) if reasons else set()

    def achievements(ids: set[int]) -> list[dict[str, str]]:
        return [{"groupId": g.id, "numSubjects": str(len(g.members & ids))} for g in groups]

    enrolled_on = sorted(d for d in enrolled["enrolled_on"] if d is not None)
    screen_failed = int(sum(e is False for e in p["eligible"]))
    countries = sorted({str(c) for c in data.sites["country"] if c})
    where = ", ".join(countries) or "the participating countries"
    period = f", from {enrolled_on[0]} to {enrolled_on[-1]}" if enrolled_on else ""
    recruitment = (
        f"Participants were registered at {len(data.sites)} sites in {where}. Of {len(p)} "
        f"registered, {screen_failed} did not meet the eligibility criteria and {len(enrolled)} "
        f"were enrolled{period}. Data cut-off: {data.as_of}."
    )
    pre_assignment = (
        "Each participant is assigned to the arm of the source of the CAR T cells "
        "(non-randomized). The flow starts with the enrolled participants; "
        f"{len(treated)} of {len(enrolled)} received the CD5 CAR T-cell infusion (a product "
        "that fails release is a reason for not completing)."
    )
    return {
        "recruitmentDetails": recruitment,
        "preAssignmentDetails": pre_assignment,
        "groups": [g.entry() for g in groups],
        "periods": [
            {
                "title": "Overall Study",
                "milestones": [
                    {
                        "type": "STARTED",
                        "comment": "Enrolled in the arm",
                        "achievements": achievements(_ids(enrolled)),
                    },
                    {
                        "type": INFUSED,
                        "comment": "Received the CD5 CAR T-cell infusion",
                        "achievements": achievements(_ids(treated)),
                    },
                    {
                        "type": "COMPLETED",
                        "comment": (
                            f"On study at the end of the month-3 response window "
                            f"(study day {end_day})"
                        ),
                        "achievements": achievements(completed),
                    },
                    {"type": "NOT COMPLETED", "achievements": achievements(not_completed)},
                ],
                "dropWithdraws": [
                    {
                        "type": reason,
                        "reasons": [
                            {"groupId": g.id, "numSubjects": str(len(g.members & reasons[reason]))}
                            for g in groups
                        ],
                    }
                    for reason in order
                    if reason in reasons
                ],
            }
        ],
    }


# --------------------------------------------------------------------------- more information


def _more_info(data: TrialData) -> dict[str, Any]:
    """``moreInfoModule``: the point of contact (the protocol file's first registry contact,
    organisation = the lead sponsor) and the limitations and caveats the protocol file states;
    absent when the protocol file gives neither."""
    reg = data.protocol.registry
    module: dict[str, Any] = {}
    if reg.limitations_and_caveats:
        module["limitationsAndCaveats"] = {
            "description": " ".join(reg.limitations_and_caveats.split())
        }
    if reg.contacts:
        contact = reg.contacts[0]
        lead = reg.lead_sponsor
        module["pointOfContact"] = {
            k: v
            for k, v in (
                ("title", contact.name),
                ("organization", lead),
                ("email", contact.email),
                ("phone", contact.phone),
            )
            if v
        }
    return {"moreInfoModule": module} if module else {}


# --------------------------------------------------------------------------- baseline


def _baseline(data: TrialData, groups: Sequence[Group]) -> dict[str, Any]:
    treated = data.treated
    population = {g.id: g.members for g in groups}
    ages = {
        int(r.participant_id): int(r.age_years) for r in records(treated) if r.age_years is not None
    }
    weights = {
        int(r.participant_id): float(r.weight_kg)
        for r in records(treated)
        if r.weight_kg is not None
    }
    standard = [
        {pid for pid, a in ages.items() if a <= 18},
        {pid for pid, a in ages.items() if 18 < a < 65},
        {pid for pid, a in ages.items() if a >= 65},
    ]
    bands = [
        (f"{b.min_age}-{b.max_age} years", b.min_age, b.max_age)
        for b in data.protocol.consent.bands
    ]
    custom = [(title, {pid for pid, a in ages.items() if lo <= a <= hi}) for title, lo, hi in bands]
    outside = set(ages) - set().union(*(ids for _, ids in custom)) if custom else set(ages)
    if outside:
        custom.append(("Outside the protocol's age bands", outside))
    sexes: list[tuple[str | None, set[int]]] = [
        ("Female", _ids(treated, treated["sex"] == "female")),
        ("Male", _ids(treated, treated["sex"] == "male")),
    ]
    other_sex = _ids(treated) - sexes[0][1] - sexes[1][1]
    if other_sex:
        sexes.append(("Unknown or Not Reported", other_sex))
    sites = records(data.sites)
    country = {s.site_id: s.country for s in sites}
    site_of = dict(zip(treated["participant_id"], treated["site_id"], strict=True))
    by_country: list[tuple[str | None, Sequence[tuple[str | None, set[int]]]]] = [
        (c, [(None, {int(p) for p, s in site_of.items() if country.get(s) == c})])
        for c in sorted({str(country.get(s)) for s in site_of.values()})
    ]
    by_site: list[tuple[str | None, set[int]]] = [
        (f"{s.name} ({s.city})", {int(p) for p, at in site_of.items() if at == s.site_id})
        for s in sites
    ]
    measures = [
        {
            "title": "Age, Continuous",
            "description": "Age in completed years on the screening date.",
            **_median_measure(groups, population, ages, "years"),
        },
        {
            "title": "Age, Categorical",
            "description": "Age in completed years on the screening date.",
            **_count_measure(
                groups, population, [(None, list(zip(AGE_CATEGORIES, standard, strict=True)))]
            ),
        },
        {
            "title": "Age, Customized",
            "description": (
                "The protocol's age bands (consent by the guardian, by the participant and the "
                "guardian, or by the participant), age in completed years on the screening date."
            ),
            **_count_measure(groups, population, [(None, custom)]),
        },
        {
            "title": "Sex: Female, Male",
            **_count_measure(groups, population, [(None, sexes)]),
        },
        {
            "title": "Region of Enrollment",
            **_count_measure(groups, population, by_country),
        },
        {
            "title": "Study site",
            "description": "The site that enrolled the participant.",
            **_count_measure(groups, population, [(None, by_site)]),
        },
        {
            "title": "Body weight",
            "description": "Weight on the infusion day (the cell dose is given per kg).",
            **_median_measure(groups, population, weights, "kg"),
        },
    ]
    return {
        "populationDescription": "All participants who received the CD5 CAR T-cell infusion.",
        "groups": [g.entry() for g in groups],
        "denoms": _denoms(groups, population),
        "measures": measures,
    }


# --------------------------------------------------------------------------- outcome measures


def _outcomes(
    data: TrialData, phase1: Sequence[Group], phase2: Sequence[Group]
) -> list[dict[str, Any]]:
    """One measure per registered primary endpoint, in the registry's order: DLT and AEs over
    the phase 1 groups (arm × dose), BOR over the phase 2 groups (arm)."""
    out = []
    for endpoint in data.protocol.registry.primary_endpoints:
        name = endpoint.measure.lower()
        head = {"type": "PRIMARY", "title": endpoint.measure}
        # the endpoint's registered phase picks its population (phase 1 by arm × dose, phase 2
        # by arm); without one, the efficacy endpoint is phase 2's and the others phase 1's
        found = re.search(r"\d", endpoint.phase or "")
        phase = int(found.group(0)) if found else (2 if "response" in name else 1)
        groups = phase2 if phase == 2 else phase1
        if "dose-limiting" in name or "(dlt)" in name:
            body = _dlt_measure(data, groups)
        elif "adverse event" in name:
            body = _ae_measure(data, groups)
        elif "response" in name:
            body = _bor_measure(data, groups)
        else:
            out.append(
                head
                | {
                    "description": "dosewise has no counting rule for this endpoint.",
                    "reportingStatus": "NOT_POSTED",
                    "timeFrame": endpoint.time_frame,
                }
            )
            continue
        description, population, measure = body
        out.append(
            head
            | {
                "description": description,
                "populationDescription": population,
                "reportingStatus": "POSTED",
                "paramType": measure.pop("paramType"),
                "unitOfMeasure": measure.pop("unitOfMeasure"),
                "timeFrame": endpoint.time_frame,
                "groups": [g.entry() for g in groups],
            }
            | measure
        )
    return out


def _grading(data: TrialData) -> str:
    """How events are graded, from the protocol's DLT definition (CRS/ICANS vs the default)."""
    grading = data.protocol.dlt.grading
    default = grading.get("default", "CTCAE v5.0")
    special = sorted(
        {(k.upper(), v) for k, v in grading.items() if k != "default" and v != default}
    )
    parts = [f"{k} by {v}" for k, v in special]
    return "Grading: " + ", ".join([*parts, f"other events by {default}"]) + "."


def _dlt_measure(data: TrialData, groups: Sequence[Group]) -> tuple[str, str, dict[str, Any]]:
    p, ae = data.treated, data.adverse_events
    evaluable = _ids(p, p["dlt_evaluable"].map(lambda e: e is True).astype(bool))
    with_dlt = _ids(p, p["dlt"].map(lambda d: d is True).astype(bool))
    population = {g.id: g.members & frozenset(evaluable) for g in groups}
    dlt_events = ae[ae["is_dlt"].astype(bool)]
    terms = sorted({str(t) for t in dlt_events["term"]})
    rows: list[tuple[str | None, set[int]]] = [("Any DLT", with_dlt)]
    rows += [(f"DLT: {t}", _ids(dlt_events, dlt_events["term"] == t)) for t in terms]
    window = data.protocol.windows.dlt_days
    description = (
        f"Participants with a dose-limiting toxicity (DLT) within {window} days after the "
        "infusion, by the investigator's final adjudication under the protocol's DLT rules "
        f"(any DLT, then by the adverse event that was the DLT). {_grading(data)}"
    )
    population_text = (
        "Phase 1 DLT-evaluable participants (infused and followed through the DLT window, or "
        "with a DLT before its end), by arm and the dose level actually infused."
    )
    return description, population_text, _count_measure(groups, population, [(None, rows)])


def _ae_measure(data: TrialData, groups: Sequence[Group]) -> tuple[str, str, dict[str, Any]]:
    ae, window = data.adverse_events, data.protocol.windows.ae_days
    in_window = ae[
        ae["study_day"].map(lambda d: d is not None and 0 <= int(d) <= window).astype(bool)
    ]
    worst = in_window.groupby(["term", "participant_id"])["grade"].max().reset_index()
    any_worst = in_window.groupby("participant_id")["grade"].max()
    population = {g.id: g.members for g in groups}

    def by_grade(ids_grades: Iterable[tuple[Any, Any]]) -> list[tuple[str | None, set[int]]]:
        pairs = [(int(pid), int(grade)) for pid, grade in ids_grades]
        rows: list[tuple[str | None, set[int]]] = [("Any grade", {pid for pid, _ in pairs})]
        return rows + [(f"Grade {g}", {pid for pid, grade in pairs if grade == g}) for g in GRADES]

    rows: list[tuple[str | None, Sequence[tuple[str | None, set[int]]]]] = [
        ("Any adverse event", by_grade(zip(any_worst.index, any_worst.values, strict=True)))
    ]
    for term in sorted({str(t) for t in worst["term"]}):
        mine = worst[worst["term"] == term]
        rows.append((term, by_grade(zip(mine["participant_id"], mine["grade"], strict=True))))
    description = (
        f"Participants with an adverse event with onset from the infusion (day 0) to day "
        f"{window}, counted once per term at their worst grade (any adverse event, then by "
        f"term); grade 5 is death. {_grading(data)}"
    )
    population_text = (
        "All infused phase 1 participants, by arm and the dose level actually infused."
    )
    return description, population_text, _count_measure(groups, population, rows)


def _bor_measure(data: TrialData, groups: Sequence[Group]) -> tuple[str, str, dict[str, Any]]:
    p = data.treated
    derived = p[p["bor"].notna()]
    population = {g.id: g.members & frozenset(_ids(derived)) for g in groups}
    found = [str(b) for b in derived["bor"]]
    order = list(CATEGORIES) + sorted(set(found) - set(CATEGORIES))
    rows: list[tuple[str | None, set[int]]] = [
        (BOR_TITLES.get(c, c), _ids(derived, derived["bor"] == c)) for c in order
    ]
    bor = data.protocol.windows.bor
    last = bor.last_day
    description = (
        f"Participants by best overall response from the infusion to the month-3 assessment "
        f"(window ends on study day {last}): the best of the recorded responses (marrow by "
        "NCCN-style ALL criteria, extramedullary disease by Lugano 2014; the worse of the two), "
        "ranked CR > CRi > PR > SD/NR > PD; assessments after SCT or new anti-leukaemic "
        "therapy do not count."
    )
    population_text = (
        "Infused phase 2 participants with a derived best overall response by the data "
        "cut-off, by arm."
    )
    return description, population_text, _count_measure(groups, population, [(None, rows)])


# --------------------------------------------------------------------------- adverse events


def _vocabulary(scales: Iterable[str]) -> str:
    """The registry's source vocabulary name: ``CTCAE (5.0)``, ``ASTCT (2019)``."""
    names = set()
    for scale in scales:
        text = str(scale).strip()
        version = re.search(r"\d+(?:\.\d+)?", text)
        number = version.group(0) if version else ""
        if text.upper().startswith("CTCAE"):
            names.add(f"CTCAE ({number if '.' in number or not number else number + '.0'})")
        elif text.upper().startswith("ASTCT"):
            names.add(f"ASTCT ({number})" if number else "ASTCT")
        else:
            names.add(text)
    return "; ".join(sorted(names))


def _event_rows(events: Any, groups: Sequence[Group], at_risk: Mapping[str, int]) -> list[Any]:
    rows = []
    for (soc, term), mine in events.groupby(["soc", "term"], sort=True):
        categories = {str(c) for c in mine["category"]}
        rows.append(
            {
                "term": str(term),
                "organSystem": str(soc),
                "sourceVocabulary": _vocabulary(mine["scale"]),
                "assessmentType": (
                    "SYSTEMATIC_ASSESSMENT"
                    if categories <= SYSTEMATIC
                    else "NON_SYSTEMATIC_ASSESSMENT"
                ),
                "stats": [
                    {
                        "groupId": g.id,
                        "numEvents": int(mine["participant_id"].isin(g.members).sum()),
                        "numAffected": len(g.members & _ids(mine)),
                        "numAtRisk": at_risk[g.id],
                    }
                    for g in groups
                ],
            }
        )
    return rows


def _adverse_events(data: TrialData, groups: Sequence[Group]) -> dict[str, Any]:
    ae = data.adverse_events
    treated_ids = _ids(data.treated)
    ae = ae[ae["participant_id"].isin(treated_ids)]
    serious_mask = ae["serious"].astype(bool)
    serious, other = ae[serious_mask], ae[~serious_mask]
    at_risk = {g.id: len(g.members) for g in groups}
    other_rows = [
        row
        for row in _event_rows(other, groups, at_risk)
        if any(
            s["numAtRisk"] and 100 * s["numAffected"] / s["numAtRisk"] >= FREQUENCY_THRESHOLD
            for s in row["stats"]
        )
    ]
    listed = {(r["organSystem"], r["term"]) for r in other_rows}
    other_listed = other[
        [(s, t) in listed for s, t in zip(other["soc"], other["term"], strict=True)]
    ]
    p = data.treated
    dead = _ids(p, p["death_on"].notna())
    return {
        "frequencyThreshold": str(FREQUENCY_THRESHOLD),
        "timeFrame": (
            f"Adverse events recorded from enrolment to the data cut-off ({data.as_of}); study "
            "days are counted from the CD5 CAR T-cell infusion (day 0)."
        ),
        "description": (
            "Adverse events reported by the investigators for every infused participant, "
            "seriousness as recorded by the investigator; a participant is counted once per "
            f"term (numAffected) and numEvents counts every event. {_grading(data)}"
        ),
        "allCauseMortalityComment": (
            f"Deaths from any cause from the infusion to the data cut-off ({data.as_of})."
        ),
        "eventGroups": [
            g.entry()
            | {
                "deathsNumAffected": len(g.members & dead),
                "deathsNumAtRisk": at_risk[g.id],
                "seriousNumAffected": len(g.members & _ids(serious)),
                "seriousNumAtRisk": at_risk[g.id],
                "otherNumAffected": len(g.members & _ids(other_listed)),
                "otherNumAtRisk": at_risk[g.id],
            }
            for g in groups
        ],
        "seriousEvents": _event_rows(serious, groups, at_risk),
        "otherEvents": other_rows,
    }


# --------------------------------------------------------------------------- rendering


def _pct(n: int, d: int, digits: int) -> str:
    return f"{100 * n / d:.{digits}f}%" if d else "—"


def _measure_rows(measure: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """The table rows of a measure: class headings and category rows, cells by group id."""
    denom = {c["groupId"]: int(c["value"]) for c in measure["denoms"][0]["counts"]}
    rows: list[dict[str, Any]] = []
    for ci, klass in enumerate(measure["classes"]):
        categories = klass["categories"]
        titled = any("title" in c for c in categories)
        if "title" in klass and titled:
            rows.append({"label": klass["title"], "heading": True, "cells": {}})
        for ki, category in enumerate(categories):
            label = category.get("title") or klass.get("title") or ""
            cells = {}
            for m in category["measurements"]:
                gid, value = m["groupId"], m["value"]
                if value == "NA":
                    extra = m.get("comment", "")
                elif measure["paramType"] == "COUNT_OF_PARTICIPANTS":
                    extra = f"({_pct(int(value), denom.get(gid, 0), 1)})"
                elif "lowerLimit" in m:
                    extra = f"({m['lowerLimit']} to {m['upperLimit']})"
                else:
                    extra = ""
                cells[gid] = {"id": f"{prefix}-c{ci}-k{ki}-{gid}", "value": value, "extra": extra}
            rows.append(
                {
                    "label": label,
                    "heading": False,
                    "indent": titled and "title" in klass,
                    "cells": cells,
                }
            )
    return rows


_PARAM_WORDS = {
    "COUNT_OF_PARTICIPANTS": "Count of Participants",
    "MEDIAN": "Median",
    "MEAN": "Mean",
    "NUMBER": "Number",
}
_ASSESSMENT_WORDS = {
    "SYSTEMATIC_ASSESSMENT": "Systematic Assessment",
    "NON_SYSTEMATIC_ASSESSMENT": "Non-systematic Assessment",
}
_DISPERSION_WORDS = {"FULL_RANGE": "Full Range", "STANDARD_DEVIATION": "Standard Deviation"}


def _measure_kind(measure: Mapping[str, Any]) -> str:
    words = _PARAM_WORDS.get(measure["paramType"], measure["paramType"])
    if measure.get("dispersionType"):
        words += f" ({_DISPERSION_WORDS.get(measure['dispersionType'], measure['dispersionType'])})"
    return words


def _ae_view(events: Sequence[Mapping[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """Serious or other events grouped by organ system, as the registry's tables list them."""
    rows: list[dict[str, Any]] = []
    last = None
    order = sorted(range(len(events)), key=lambda i: (events[i]["organSystem"], events[i]["term"]))
    for index in order:
        event = events[index]
        if event["organSystem"] != last:
            rows.append({"heading": event["organSystem"]})
            last = event["organSystem"]
        rows.append(
            {
                "heading": None,
                "term": event["term"],
                "vocabulary": event["sourceVocabulary"],
                "assessment": _ASSESSMENT_WORDS.get(
                    event["assessmentType"], event["assessmentType"]
                ),
                "stats": {
                    s["groupId"]: s
                    | {
                        "id": f"{prefix}{index}-{s['groupId']}",
                        "pct": _pct(s["numAffected"], s["numAtRisk"], 2),
                    }
                    for s in event["stats"]
                },
            }
        )
    return rows


def ctgov_html(doc: Mapping[str, Any]) -> str:
    """The results section as the registry's results page lays it out (one HTML file)."""
    results = doc["resultsSection"]
    flow, base = results["participantFlowModule"], results["baselineCharacteristicsModule"]
    outcomes = results["outcomeMeasuresModule"]["outcomeMeasures"]
    ae = results["adverseEventsModule"]
    baseline_measures = [
        {"m": m, "kind": _measure_kind(m), "rows": _measure_rows(m, f"bl{i}")}
        for i, m in enumerate(base["measures"])
    ]
    outcome_views = [
        {
            "m": m,
            "kind": _measure_kind(m) if "paramType" in m else "",
            "rows": _measure_rows(m, f"om{i}") if "classes" in m else [],
            "n": {c["groupId"]: c["value"] for c in m["denoms"][0]["counts"]}
            if "denoms" in m
            else {},
        }
        for i, m in enumerate(outcomes)
    ]
    groups = ae["eventGroups"]
    listed = [*ae["seriousEvents"], *ae["otherEvents"]]
    totals = {
        kind: {
            g["id"]: {
                "affected": g[f"{kind}NumAffected"],
                "at_risk": g[f"{kind}NumAtRisk"],
                "pct": _pct(g[f"{kind}NumAffected"], g[f"{kind}NumAtRisk"], 2),
            }
            for g in groups
        }
        for kind in ("deaths", "serious", "other")
    }
    return render_html(
        "ctgov.html.j2",
        {
            "doc": doc,
            "flow": flow,
            "base": base,
            "base_n": {c["groupId"]: c["value"] for c in base["denoms"][0]["counts"]},
            "baseline_measures": baseline_measures,
            "outcomes": outcome_views,
            "ae": ae,
            "ae_totals": totals,
            "serious_rows": _ae_view(ae["seriousEvents"], "ae-s"),
            "other_rows": _ae_view(ae["otherEvents"], "ae-o"),
            "vocabularies": sorted({e["sourceVocabulary"] for e in listed}),
            "assessments": sorted({_ASSESSMENT_WORDS[e["assessmentType"]] for e in listed}),
            "running_head": (
                f"{doc['nctId']} — ClinicalTrials.gov results — {doc['dataCutoffDate']}"
            ),
            "version": __version__,
        },
        "en",
    )


def export_ctgov(data: TrialData, out: Path, lang: str) -> dict[str, Any]:
    """The export writer (:mod:`dosewise.report.exports`): JSON or HTML by ``out``'s ending.

    ``lang`` is accepted for the writer signature and ignored: the registry takes English.
    """
    del lang
    suffix = out.suffix.lower()
    if suffix not in (".json", ".html"):
        raise InvalidParameter("out", str(out), "must end in .json or .html")
    if not out.parent.is_dir():
        raise InvalidParameter("out", str(out), "the folder does not exist")
    doc = build_ctgov(data)
    if suffix == ".json":
        out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        out.write_text(ctgov_html(doc), encoding="utf-8")
    results = doc["resultsSection"]
    ae = results["adverseEventsModule"]
    return {
        "format": suffix.lstrip("."),
        "groups": len(results["participantFlowModule"]["groups"]),
        "outcome_groups": len(
            {
                g["id"]
                for m in results["outcomeMeasuresModule"]["outcomeMeasures"]
                for g in m.get("groups", [])
            }
        ),
        "outcome_measures": len(results["outcomeMeasuresModule"]["outcomeMeasures"]),
        "treated": len(data.treated),
        "serious_terms": len(ae["seriousEvents"]),
        "other_terms": len(ae["otherEvents"]),
    }
