"""Outcome measures (the registered primary endpoints) and the adverse-events module."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dosewise.clinical.response import CATEGORIES
from dosewise.report.ctgov.groups import (
    BOR_TITLES,
    FREQUENCY_THRESHOLD,
    GRADES,
    SYSTEMATIC,
    Group,
    participant_ids,
)
from dosewise.report.ctgov.measures import count_measure
from dosewise.report.trial_data import TrialData

# --------------------------------------------------------------------------- outcome measures


def outcome_measures(
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


def grading_text(data: TrialData) -> str:
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
    evaluable = participant_ids(p, p["dlt_evaluable"].map(lambda e: e is True).astype(bool))
    with_dlt = participant_ids(p, p["dlt"].map(lambda d: d is True).astype(bool))
    population = {g.id: g.members & frozenset(evaluable) for g in groups}
    dlt_events = ae[ae["is_dlt"].astype(bool)]
    terms = sorted({str(t) for t in dlt_events["term"]})
    rows: list[tuple[str | None, set[int]]] = [("Any DLT", with_dlt)]
    rows += [(f"DLT: {t}", participant_ids(dlt_events, dlt_events["term"] == t)) for t in terms]
    window = data.protocol.windows.dlt_days
    description = (
        f"Participants with a dose-limiting toxicity (DLT) within {window} days after the "
        "infusion, by the investigator's final adjudication under the protocol's DLT rules "
        f"(any DLT, then by the adverse event that was the DLT). {grading_text(data)}"
    )
    population_text = (
        "Phase 1 DLT-evaluable participants (infused and followed through the DLT window, or "
        "with a DLT before its end), by arm and the dose level actually infused."
    )
    return description, population_text, count_measure(groups, population, [(None, rows)])


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
        f"term); grade 5 is death. {grading_text(data)}"
    )
    population_text = (
        "All infused phase 1 participants, by arm and the dose level actually infused."
    )
    return description, population_text, count_measure(groups, population, rows)


def _bor_measure(data: TrialData, groups: Sequence[Group]) -> tuple[str, str, dict[str, Any]]:
    p = data.treated
    derived = p[p["bor"].notna()]
    population = {g.id: g.members & frozenset(participant_ids(derived)) for g in groups}
    found = [str(b) for b in derived["bor"]]
    order = list(CATEGORIES) + sorted(set(found) - set(CATEGORIES))
    rows: list[tuple[str | None, set[int]]] = [
        (BOR_TITLES.get(c, c), participant_ids(derived, derived["bor"] == c)) for c in order
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
    return description, population_text, count_measure(groups, population, [(None, rows)])


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
                        "numAffected": len(g.members & participant_ids(mine)),
                        "numAtRisk": at_risk[g.id],
                    }
                    for g in groups
                ],
            }
        )
    return rows


def adverse_events_module(data: TrialData, groups: Sequence[Group]) -> dict[str, Any]:
    ae = data.adverse_events
    treated_ids = participant_ids(data.treated)
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
    dead = participant_ids(p, p["death_on"].notna())
    return {
        "frequencyThreshold": str(FREQUENCY_THRESHOLD),
        "timeFrame": (
            f"Adverse events recorded from enrolment to the data cut-off ({data.as_of}); study "
            "days are counted from the CD5 CAR T-cell infusion (day 0)."
        ),
        "description": (
            "Adverse events reported by the investigators for every infused participant, "
            "seriousness as recorded by the investigator; a participant is counted once per "
            f"term (numAffected) and numEvents counts every event. {grading_text(data)}"
        ),
        "allCauseMortalityComment": (
            f"Deaths from any cause from the infusion to the data cut-off ({data.as_of})."
        ),
        "eventGroups": [
            g.entry()
            | {
                "deathsNumAffected": len(g.members & dead),
                "deathsNumAtRisk": at_risk[g.id],
                "seriousNumAffected": len(g.members & participant_ids(serious)),
                "seriousNumAtRisk": at_risk[g.id],
                "otherNumAffected": len(g.members & participant_ids(other_listed)),
                "otherNumAtRisk": at_risk[g.id],
            }
            for g in groups
        ],
        "seriousEvents": _event_rows(serious, groups, at_risk),
        "otherEvents": other_rows,
    }


# --------------------------------------------------------------------------- rendering
