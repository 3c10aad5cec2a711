"""Reporting groups of the ClinicalTrials.gov results section, and the registry's fixed words."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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


# --------------------------------------------------------------------------- reporting groups


def arm_text(data: TrialData) -> dict[str, tuple[str, str]]:
    """Arm id → (title, description) from the protocol, falling back to the stored label."""
    described = {a.id: (a.label, a.description or a.label) for a in data.protocol.arms}
    return {r.arm_id: described.get(r.arm_id, (r.label, r.label)) for r in records(data.arms)}


def arm_groups(data: TrialData, prefix: str, population: Any = None) -> list[Group]:
    """One group per arm over ``population`` (default: the infused participants)."""
    treated = data.treated if population is None else population
    text = arm_text(data)
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


def total_group(data: TrialData, prefix: str) -> Group:
    n = len(data.arms)
    return Group(
        f"{prefix}{n:03d}",
        "Total",
        "Total of all reporting groups",
        frozenset(int(p) for p in data.treated["participant_id"]),
    )


def cells_text(value: float) -> str:
    """A cell dose as the registry writes it: 5×10^5, 1×10^6."""
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10**exponent, 3)
    return f"{mantissa:g}×10^{exponent}"


def dose_groups(data: TrialData) -> list[Group]:
    """Phase 1: arm × dose level actually infused, arms in protocol order and doses in design
    order (the phase 1 endpoints, DLT and AEs, are counted over phase 1 participants only)."""
    treated = data.treated
    treated = treated[treated["phase"] == 1]
    text = arm_text(data)
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
                f"{cells_text(dose.cells_per_kg)} (±{dose.tolerance:.0%}) {unit}"
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


def phase2_groups(data: TrialData, start: int) -> list[Group]:
    """Phase 2: one group per arm (the phase 2 endpoint, BOR, is counted over phase 2
    participants at the arm's RP2D); ids continue after the phase 1 groups."""
    treated = data.treated
    treated = treated[treated["phase"] == 2]
    text = arm_text(data)
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


def participant_ids(frame: Any, mask: Any = None) -> set[int]:
    """Participant ids of the frame's rows (an empty frame may have no columns at all)."""
    rows = frame if mask is None else frame[mask]
    if rows.empty:
        return set()
    return {int(p) for p in rows["participant_id"]}


# --------------------------------------------------------------------------- participant flow
