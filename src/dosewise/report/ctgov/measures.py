"""Measure bodies as the registry structures them: counts of participants, medians with range."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from dosewise.report.ctgov.groups import PARTICIPANTS, Group


def number_text(value: float) -> str:
    """A summary number as text: integers bare, others with at most two decimals."""
    rounded = round(float(value), 2)
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:g}"


def denoms(groups: Sequence[Group], population: Mapping[str, frozenset[int]]) -> list[Any]:
    return [
        {
            "units": PARTICIPANTS,
            "counts": [{"groupId": g.id, "value": str(len(population[g.id]))} for g in groups],
        }
    ]


def measurement(group: Group, analysed: frozenset[int], having: set[int]) -> dict[str, str]:
    if not analysed:
        return {"groupId": group.id, "value": "NA", "comment": "No participant analysed"}
    return {"groupId": group.id, "value": str(len(analysed & having))}


Rows = Sequence[tuple[str | None, Sequence[tuple[str | None, set[int]]]]]


def count_measure(
    groups: Sequence[Group], population: Mapping[str, frozenset[int]], rows: Rows
) -> dict[str, Any]:
    """Counts of participants: ``rows`` are (class title, [(category title, ids)])."""
    classes = []
    for class_title, categories in rows:
        cats = []
        for title, ids in categories:
            cat: dict[str, Any] = {} if title is None else {"title": title}
            cat["measurements"] = [measurement(g, population[g.id], ids) for g in groups]
            cats.append(cat)
        classes.append(
            ({} if class_title is None else {"title": class_title}) | {"categories": cats}
        )
    return {
        "paramType": "COUNT_OF_PARTICIPANTS",
        "unitOfMeasure": PARTICIPANTS,
        "calculatePct": True,
        "denomUnitsSelected": PARTICIPANTS,
        "denoms": denoms(groups, population),
        "classes": classes,
    }


def median_measure(
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
                "value": number_text(statistics.median(found)),
                "lowerLimit": number_text(min(found)),
                "upperLimit": number_text(max(found)),
            }
        )
    return {
        "paramType": "MEDIAN",
        "dispersionType": "FULL_RANGE",
        "unitOfMeasure": unit,
        "denomUnitsSelected": PARTICIPANTS,
        "denoms": denoms(groups, population),
        "classes": [{"categories": [{"measurements": measurements}]}],
    }
