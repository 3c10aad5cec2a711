"""The participant flow, baseline characteristics and more-information modules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from dosewise.report.ctgov.groups import (
    AGE_CATEGORIES,
    AWAITING,
    INFUSED,
    ONGOING,
    PRODUCT_FAILURE,
    REASONS_NOT_COMPLETED,
    Group,
    participant_ids,
)
from dosewise.report.ctgov.measures import count_measure, denoms, median_measure
from dosewise.report.trial_data import TrialData, records


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


def participant_flow(data: TrialData, groups: Sequence[Group]) -> dict[str, Any]:
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
                        "achievements": achievements(participant_ids(enrolled)),
                    },
                    {
                        "type": INFUSED,
                        "comment": "Received the CD5 CAR T-cell infusion",
                        "achievements": achievements(participant_ids(treated)),
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


def more_info(data: TrialData) -> dict[str, Any]:
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


def baseline_module(data: TrialData, groups: Sequence[Group]) -> dict[str, Any]:
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
        ("Female", participant_ids(treated, treated["sex"] == "female")),
        ("Male", participant_ids(treated, treated["sex"] == "male")),
    ]
    other_sex = participant_ids(treated) - sexes[0][1] - sexes[1][1]
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
            **median_measure(groups, population, ages, "years"),
        },
        {
            "title": "Age, Categorical",
            "description": "Age in completed years on the screening date.",
            **count_measure(
                groups, population, [(None, list(zip(AGE_CATEGORIES, standard, strict=True)))]
            ),
        },
        {
            "title": "Age, Customized",
            "description": (
                "The protocol's age bands (consent by the guardian, by the participant and the "
                "guardian, or by the participant), age in completed years on the screening date."
            ),
            **count_measure(groups, population, [(None, custom)]),
        },
        {
            "title": "Sex: Female, Male",
            **count_measure(groups, population, [(None, sexes)]),
        },
        {
            "title": "Region of Enrollment",
            **count_measure(groups, population, by_country),
        },
        {
            "title": "Study site",
            "description": "The site that enrolled the participant.",
            **count_measure(groups, population, [(None, by_site)]),
        },
        {
            "title": "Body weight",
            "description": "Weight on the infusion day (the cell dose is given per kg).",
            **median_measure(groups, population, weights, "kg"),
        },
    ]
    return {
        "populationDescription": "All participants who received the CD5 CAR T-cell infusion.",
        "groups": [g.entry() for g in groups],
        "denoms": denoms(groups, population),
        "measures": measures,
    }
