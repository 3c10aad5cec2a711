"""The results section laid out as the registry's results page (one HTML file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dosewise import __version__
from dosewise.report.render import render_html


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
