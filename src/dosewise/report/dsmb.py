"""The DSMB safety report: flow, exposure, DLTs, adverse events, CRS/ICANS, deaths, decisions.

:func:`build_dsmb` computes every table from :class:`~dosewise.report.trial_data.TrialData`
(counts once, no language); :func:`dsmb_html` renders them with ``templates/dsmb.html.j2`` in
English or Chinese with the figures (a swimmer plot of each participant's course and the
observed toxicity and efficacy by dose in each arm; :mod:`dosewise.report.dsmb_figures` draws
them or reads them from the report cache by what they show). Dose decisions are quoted from
each arm's state (:func:`dosewise.trial.state.arm_state`), never re-derived; the counts by arm
and dose (treated, DLT-evaluable, DLTs, responders, participants by worst AE grade) are the read
model's (:func:`dosewise.trial.state.dose_tally`), the numbers the arm page, the API and the DSMB
page show.

Counting rules: adverse events are counted per participant at the worst grade; CRS and ICANS
onset is the study day (day 0 = infusion) and duration counts onset and resolution days.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dosewise import __version__
from dosewise.protocol import OUTSIDE_DESIGN
from dosewise.report.dsmb_figures import dsmb_figures, pending_figures
from dosewise.report.i18n import Translator
from dosewise.report.names import ReportNames
from dosewise.report.oc_cache import OcCache
from dosewise.report.render import OutputKind, PdfDraft, render_html, sci, writable
from dosewise.report.trial_data import TrialData
from dosewise.report.trial_rows import group_by, in_arm, missing_last, present
from dosewise.settings import get_settings
from dosewise.trial.state import category_tally
from dosewise.trial.state.reasons import decision_text, plain_summary

GRADES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class DsmbReport:
    """Every table of the DSMB report as plain rows (see the template for the layout)."""

    nct_id: str
    as_of: str
    arms: list[dict[str, Any]]
    sites: list[str]
    summary: list[dict[str, Any]]
    flow: list[dict[str, Any]]
    by_site: list[dict[str, Any]]
    exposure: list[dict[str, Any]]
    dlts: list[dict[str, Any]]
    dlt_rates: list[dict[str, Any]]
    ae_terms: list[dict[str, Any]]
    syndromes: list[dict[str, Any]]
    saes: list[dict[str, Any]]
    deaths: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    states: list[dict[str, Any]]
    ae_days: int
    swimmer: list[dict[str, Any]] = field(default_factory=list)
    #: Arm id → {"en": name, "zh": name}, from the protocol file.
    arm_names: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Recorded protocol deviations (investigator-signed), oldest first.
    deviations: list[dict[str, Any]] = field(default_factory=list)


def _median_range(values: Sequence[int]) -> str:
    if not values:
        return "—"
    med = statistics.median(values)
    text = f"{med:g}"
    return f"{text} ({min(values)}–{max(values)})"


def build_dsmb(data: TrialData) -> DsmbReport:
    """Compute the DSMB report's tables from the trial's records (their rows: no pandas)."""
    p, ae = data.rows("participants"), data.rows("adverse_events")
    arms = [{"arm_id": r["arm_id"], "label": r["label"]} for r in data.rows("arms")]
    arm_ids = [a["arm_id"] for a in arms]
    sites = [r["site_id"] for r in data.rows("sites")]
    enrolled, treated = data.enrolled_rows, data.treated_rows
    levels = {
        lv.design_index.value: (lv.name, sci(lv.cells_per_kg))
        for lv in data.protocol.dose_levels.levels
    }
    summary = []
    for arm in [*arm_ids, None]:
        tp, aes = in_arm(treated, arm), in_arm(ae, arm)
        summary.append(
            {
                "arm_id": arm or "all",
                "enrolled": len(in_arm(enrolled, arm)),
                "treated": len(tp),
                "dlt": sum(bool(r["dlt"]) for r in tp),
                "sae_participants": len(
                    {r["study_id"] for r in aes if r["serious"] and present(r["study_id"])}
                ),
                "deaths": sum(r["death_on"] is not None for r in in_arm(p, arm)),
            }
        )
    flow = []
    for arm in arm_ids:
        rows = in_arm(p, arm)
        flow.append(
            {
                "arm_id": arm,
                "registered": len(rows),
                "screen_failed": sum(r["eligible"] is False for r in rows),
                "enrolled": sum(present(r["enrolled_on"]) for r in rows),
                "treated": sum(present(r["infused_on"]) for r in rows),
                "dlt_evaluable": sum(r["dlt_evaluable"] is True for r in rows),
                "off_study": sum(present(r["off_study_on"]) for r in rows),
                "deaths": sum(present(r["death_on"]) for r in rows),
            }
        )
    by_site = [
        {
            "arm_id": arm,
            "counts": {
                s: sum(r["arm_id"] == arm and r["site_id"] == s for r in enrolled) for s in sites
            },
        }
        for arm in arm_ids
    ]
    exposure = []
    for (arm, planned, actual), group in group_by(
        treated, ("arm_id", "planned_level", "actual_level")
    ).items():
        exposure.append(
            {
                "arm_id": arm,
                "planned": planned,
                "actual": actual,
                "n": len(group),
                "median_cells": statistics.median(float(r["cells_per_kg"]) for r in group),
                "fallback": sum(bool(r["fallback"]) for r in group),
            }
        )
    exposure.sort(key=lambda r: (arm_ids.index(r["arm_id"]), str(r["planned"]), str(r["actual"])))
    dlts = _dlt_rows(data)
    dlt_rates = [
        {
            "arm_id": arm,
            "dose": d.dose,
            "level": d.level,
            "treated": d.treated,
            "evaluable": d.evaluable,
            "dlt": d.dlts,
            "responders": d.responders,
            "worst_ae": list(d.worst_ae),
            "outside": d.dose == OUTSIDE_DESIGN,
        }
        for arm in arm_ids
        # The design's doses, then any level outside the dose finding (safety counts only).
        for d in (*data.states[arm].doses, *data.states[arm].outside_doses)
    ]
    return DsmbReport(
        nct_id=data.nct_id,
        as_of=data.as_of.isoformat(),
        arm_names={
            arm.id: {"en": arm.label, "zh": arm.in_lang("label", "zh")}
            for arm in data.protocol.arms
        },
        arms=arms,
        sites=sites,
        summary=summary,
        flow=flow,
        by_site=by_site,
        exposure=exposure,
        dlts=dlts,
        dlt_rates=dlt_rates,
        ae_terms=_ae_terms(data),
        syndromes=_syndromes(data, arm_ids),
        saes=[
            {
                "study_id": e["study_id"],
                "arm_id": e["arm_id"],
                "term": e["term"],
                "grade": int(e["grade"]),
                "onset_day": e["study_day"],
                "outcome": e["outcome"] or ("resolved" if e["resolved_on"] else "not resolved"),
                # What the site recorded (free text, shown as typed), else resolved or not in
                # the report's language.
                "outcome_recorded": e["outcome"] or None,
                "resolved": e["resolved_on"] is not None,
            }
            for e in ae
            if e["serious"]
        ],
        deaths=[
            {
                "study_id": r["study_id"],
                "arm_id": r["arm_id"],
                "date": r["death_on"].isoformat(),
                "cause": (r["off_study_reason"] or "").split(":", 1)[-1].strip(),
            }
            for r in p
            if present(r["death_on"])
        ],
        decisions=[
            {
                "arm_id": arm,
                "kind": h.get("kind"),
                "cohort": h.get("cohort"),
                "dose": (
                    h.get("level")
                    if h.get("kind") == "dose_decision"
                    else f"OBD {h.get('obd_level')}, RP2D {h.get('rp2d_level')}"
                ),
                "outcomes": h.get("outcomes") or "",
                "reason": h.get("reason") or "",
                "reasons": {lang: decision_text(h, lang) for lang in ("en", "zh")},
                "plain": {lang: plain_summary(h, levels, lang) for lang in ("en", "zh")},
            }
            for arm in arm_ids
            for h in data.states[arm].history
            if h.get("kind") != "bop2_look"
        ],
        states=[
            {
                "arm_id": arm,
                "phase": data.states[arm].phase,
                "next": data.states[arm].next.action,
                "reason": data.states[arm].next.reason,
                "reasons": {lang: data.states[arm].next.text(lang) for lang in ("en", "zh")},
                "doses": [d.to_dict() for d in data.states[arm].doses],
            }
            for arm in arm_ids
        ],
        swimmer=_swimmer(data),
        ae_days=data.protocol.windows.ae_days,
        deviations=_deviations(data),
    )


def _deviations(data: TrialData) -> list[dict[str, Any]]:
    """The recorded deviations, one row each, with the participant's arm."""
    arm_of = {r["study_id"]: r["arm_id"] for r in data.rows("participants")}
    return [
        {
            "study_id": d["study_id"],
            "arm_id": arm_of.get(d["study_id"]) or "",
            "category": d["category"],
            "description": d["description"],
            "occurred_on": d["occurred_on"].isoformat(),
            "reason": d["reason"],
            "signed": bool(d["signed"]),
        }
        for d in data.rows("deviations")
    ]


def _dlt_rows(data: TrialData) -> list[dict[str, Any]]:
    ae = {r["ae_id"]: r for r in data.rows("adverse_events")}
    people = {r["participant_id"]: r for r in data.rows("participants")}
    rows = []
    for a in data.rows("dlts"):
        if not a["is_dlt"]:
            continue
        person = people[a["participant_id"]]
        ids = list(a["dlt_event_ids"]) or ([a["adverse_event_id"]] if a["adverse_event_id"] else [])
        events = [ae[i] for i in ids if i in ae]
        event_list = [
            {"term": e["term"], "grade": int(e["grade"]), "day": e["study_day"]} for e in events
        ]
        rationale = a["rationale"] or ""
        rows.append(
            {
                "study_id": a["study_id"],
                "arm_id": a["arm_id"],
                "level": person["actual_level"],
                "events": "; ".join(f"{e['term']} (grade {e['grade']})" for e in events) or "—",
                "event_list": event_list,
                "grade": max((int(e["grade"]) for e in events), default=None),
                "onset_day": min((e["study_day"] for e in events), default=None),
                "rationale": rationale,
                # The DLT rule's own words (not an investigator's): shown from the events in
                # the report's language instead.
                "by_rule": rationale == _rule_words(event_list),
                "adjudicated_on": a["adjudicated_on"].isoformat(),
            }
        )
    return rows


def _rule_words(events: list[dict[str, Any]]) -> str:
    """The rationale the DLT rule writes for these events (``dosewise.clinical.dlt``), in
    English: "DLT: Cytokine release syndrome grade 4 (day 2)"."""
    return "DLT: " + ", ".join(f"{e['term']} grade {e['grade']} (day {e['day']})" for e in events)


def _ae_terms(data: TrialData) -> list[dict[str, Any]]:
    """Participants by SOC and term at their worst grade (each participant counted once),
    sorted by SOC and term."""
    worst: dict[tuple[Any, ...], dict[Any, int]] = {}
    for (soc, term, study_id), events in group_by(
        data.rows("adverse_events"), ("soc", "term", "study_id")
    ).items():
        worst.setdefault((soc, term), {})[study_id] = max(int(e["grade"]) for e in events)
    rows = []
    for soc, term in sorted(worst):
        grades = list(worst[soc, term].values())
        rows.append(
            {
                "soc": soc,
                "term": term,
                "grades": {g: grades.count(g) for g in GRADES},
                "any": len(grades),
                "grade3": sum(g >= 3 for g in grades),
            }
        )
    return rows


def _syndromes(data: TrialData, arm_ids: list[str]) -> list[dict[str, Any]]:
    """CRS and ICANS: infused participants by worst grade in the protocol's AE window (the read
    model's per-category worst grades, as the DSMB page shows them), with onset and duration of
    the events in that window."""
    treated = data.treated_rows
    window = data.protocol.windows.ae_days
    in_window = [
        e
        for e in data.rows("adverse_events")
        if e["study_day"] is not None and 0 <= int(e["study_day"]) <= window
    ]
    tallies = {arm: category_tally(data.states[arm].patients) for arm in arm_ids}
    rows = []
    for kind, name in (("crs", "CRS"), ("icans", "ICANS")):
        for arm in [*arm_ids, None]:
            chosen = arm_ids if arm is None else [arm]
            counts = [sum(tallies[a].get(kind, (0,) * 5)[g - 1] for a in chosen) for g in GRADES]
            events = [e for e in in_arm(in_window, arm) if e["category"] == kind]
            durations = [int(e["duration_days"]) for e in events if e["duration_days"] is not None]
            rows.append(
                {
                    "syndrome": name,
                    "arm_id": arm or "all",
                    "treated": len(in_arm(treated, arm)),
                    "any": sum(counts),
                    "grades": dict(zip(GRADES, counts, strict=True)),
                    "onset": _median_range(
                        [int(e["study_day"]) for e in events if e["study_day"] is not None]
                    ),
                    "duration": _median_range(durations),
                }
            )
    return rows


def _swimmer(data: TrialData) -> list[dict[str, Any]]:
    """Each treated participant's course, by arm, infusion day and study id."""
    ae = group_by(data.rows("adverse_events"), ("study_id",))
    responses = group_by(data.rows("responses"), ("study_id",))
    out = []
    for r in sorted(data.treated_rows, key=missing_last("arm_id", "infused_on", "study_id")):
        mine = ae.get((r["study_id"],), [])
        first_cr = [
            int(x["study_day"])
            for x in responses.get((r["study_id"],), [])
            if x["response"] in ("CR", "CRi") and x["study_day"] is not None
        ]
        out.append(
            {
                "study_id": r["study_id"],
                "arm_id": r["arm_id"],
                "level": r["actual_level"],
                "days": (r["last_on"] - r["infused_on"]).days,
                "dlt_day": min((int(e["study_day"]) for e in mine if e["is_dlt"]), default=None),
                "response_day": min(first_cr, default=None),
                "death_day": ((r["death_on"] - r["infused_on"]).days if r["death_on"] else None),
            }
        )
    return out


# --------------------------------------------------------------------------- rendering


def dsmb_html(report: DsmbReport, lang: str = "en", cache: OcCache | None = None) -> str:
    """The report as one self-contained HTML document (figures embedded, kept in ``cache``)."""
    return _html(report, lang, dsmb_figures(report, lang, cache))


def _html(report: DsmbReport, lang: str, figures: Mapping[str, str]) -> str:
    tr = Translator(lang)
    return render_html(
        "dsmb.html.j2",
        {
            "r": report,
            "figures": figures,
            "grades": GRADES,
            "nm": ReportNames(lang, report.arm_names),
            "running_head": f"{report.nct_id} — {tr('DSMB safety report')} — {report.as_of}",
            "version": __version__,
        },
        lang,
    )


#: Where the PDF's figures go until they are drawn (``<img src>``, see :func:`write_dsmb`).
FIGURE_SLOTS = {"swimmer": "dosewise-figure:swimmer", "rates": "dosewise-figure:rates"}


def write_dsmb(
    report: DsmbReport, out: str | Path, lang: str = "en", cache: OcCache | None = None
) -> tuple[Path, OutputKind]:
    """Write the report to ``out`` (``.pdf`` or ``.html``).

    A PDF is drafted (WeasyPrint imported, the HTML parsed and styled) while the command's
    helper process draws the figures, when it started one (:mod:`.figures_aside`); the
    figures then take their places (:data:`FIGURE_SLOTS`) in the same document."""
    path, kind = writable(out)
    figures = pending_figures(report, lang, cache)
    if kind != "pdf":
        path.write_text(_html(report, lang, figures()), encoding="utf-8")
        return path, kind
    draft = PdfDraft(_html(report, lang, FIGURE_SLOTS))
    drawn = figures()
    path.write_bytes(draft.pdf({slot: drawn[name] for name, slot in FIGURE_SLOTS.items()}))
    return path, kind


def export_dsmb(data: TrialData, out: Path, lang: str) -> dict[str, Any]:
    """The export writer (:mod:`dosewise.report.exports`): the report as PDF or HTML."""
    cache = OcCache.from_settings(get_settings())
    _, kind = write_dsmb(build_dsmb(data), out, lang, cache)
    return {"format": kind, "lang": lang, "treated": len(data.treated_rows)}
