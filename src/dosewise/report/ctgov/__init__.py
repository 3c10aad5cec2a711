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

The package: :mod:`.groups` (reporting groups, the registry's words), :mod:`.measures` (measure
bodies), :mod:`.modules` (flow, baseline, more information), :mod:`.outcomes` (outcome measures,
adverse events), :mod:`.html` (the results page).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dosewise import __version__
from dosewise.errors import InvalidParameter
from dosewise.report.ctgov.groups import (
    BOR_TITLES,
    Group,
    arm_groups,
    dose_groups,
    phase2_groups,
    total_group,
)
from dosewise.report.ctgov.html import ctgov_html
from dosewise.report.ctgov.modules import baseline_module, more_info, participant_flow
from dosewise.report.ctgov.outcomes import adverse_events_module, outcome_measures
from dosewise.report.trial_data import TrialData

__all__ = ["BOR_TITLES", "Group", "build_ctgov", "ctgov_html", "export_ctgov"]


def build_ctgov(data: TrialData) -> dict[str, Any]:
    """The results section of ``data``'s trial, field for field as ClinicalTrials.gov has it."""
    arms = arm_groups(data, "FG", data.enrolled)
    baseline = [*arm_groups(data, "BG"), total_group(data, "BG")]
    phase1 = dose_groups(data)
    phase2 = phase2_groups(data, len(phase1))
    events = arm_groups(data, "EG")
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
            "participantFlowModule": participant_flow(data, arms),
            "baselineCharacteristicsModule": baseline_module(data, baseline),
            "outcomeMeasuresModule": {"outcomeMeasures": outcome_measures(data, phase1, phase2)},
            "adverseEventsModule": adverse_events_module(data, events),
            **more_info(data),
        },
    }


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
