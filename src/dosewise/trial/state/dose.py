"""The dose a participant is analysed at: planned, received, and why (one function, everywhere).

:func:`dose_received` classifies a participant's dose from the records the read model loads:

- **infused**: the infused cells/kg against each level's window of the protocol
  (``dose_levels.levels[].cells_per_kg`` ± ``tolerance``). Inside a window: that level,
  ``in_window``. Outside every window (a recorded protocol deviation) the protocol's
  ``deviation_analysis`` decides: the level nearest the dose given (default), the planned level
  (product, else assigned), or not evaluable for the dose finding; ``in_window`` is False with
  the reason, and the arm state, the frames, the DSMB page and report, ClinicalTrials.gov and
  SDTM all count the participant there, never at "no level";
- **not yet infused**: the released product's level, else the assigned level (``planned``).

A fallback product (DL-1) is analysed at its actual level. How that level counts is the
protocol's ``dose_levels.fallback_policy``: under ``safety_only`` (the default) it is outside the
dose finding, design index 0 (:data:`~dosewise.protocol.OUTSIDE_DESIGN`, ``in_design`` False),
and the participant is followed for safety only; under ``analyse_at_actual`` it is design dose 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from dosewise.protocol import OUTSIDE_DESIGN, Protocol

DoseBasis = Literal["infused", "infused_outside_windows", "product", "assigned"]


@dataclass(frozen=True)
class DoseReceived:
    """The design dose a participant is analysed at, and what it rests on."""

    dose: int
    level: str
    basis: DoseBasis
    cells_per_kg: float | None = None
    reason: str | None = None
    #: False when the protocol's ``deviation_analysis`` is ``not_evaluable`` and the dose was
    #: outside every window: the participant is not in the dose finding's data.
    evaluable: bool = True

    @property
    def in_design(self) -> bool:
        """False for a level outside the dose finding (the fallback under ``safety_only``)."""
        return self.dose != OUTSIDE_DESIGN

    @property
    def in_window(self) -> bool | None:
        """True/False once infused (inside a level's window or not); None before."""
        if self.basis == "infused":
            return True
        if self.basis == "infused_outside_windows":
            return False
        return None


def level_for_cells(protocol: Protocol, cells_per_kg: float) -> int | None:
    """The design dose whose window holds ``cells_per_kg`` (0: a level outside the design; None
    when no window does). The window test is the dosing rule's
    (:meth:`dosewise.clinical.dosing.DoseLevel.window`, per kg: a weight of 1 kg), the one the
    infusion was recorded with."""
    ladder = protocol.dose_levels
    for level in ladder.clinical_levels():
        if level.window(1.0).contains(cells_per_kg):
            return ladder.by_name(level.name).design_index.value
    return None


def dose_received(
    protocol: Protocol,
    *,
    assigned: int,
    product: int | None,
    infused_cells_per_kg: float | None,
) -> DoseReceived:
    """Classify the dose (see the module doc); doses are 1-based design indices."""
    ladder = protocol.dose_levels
    planned = product if product is not None else assigned
    basis: DoseBasis = "product" if product is not None else "assigned"
    if infused_cells_per_kg is None:
        return DoseReceived(planned, ladder.by_index(planned).name, basis)
    found = level_for_cells(protocol, infused_cells_per_kg)
    if found is not None:
        return DoseReceived(found, ladder.by_index(found).name, "infused", infused_cells_per_kg)
    return outside_windows(protocol, planned, basis, infused_cells_per_kg)


# --------------------------------------------------------------------------- deviations
# How a dose outside every window is analysed is the protocol's ``deviation_analysis``
# (top-level ``deviation_analysis``; default ``actual_level_nearest``).


def nearest_level(protocol: Protocol, cells_per_kg: float) -> int:
    """The design dose whose target is nearest ``cells_per_kg`` on the log scale (ties: the
    lower dose)."""
    levels = sorted(protocol.dose_levels.levels, key=lambda lv: lv.design_index.value)
    best = min(levels, key=lambda lv: abs(math.log(cells_per_kg / lv.cells_per_kg)))
    return best.design_index.value


def outside_windows(
    protocol: Protocol, planned: int, basis: str, cells_per_kg: float
) -> DoseReceived:
    """A dose outside every level's window, analysed as the protocol's deviation policy says."""
    ladder = protocol.dose_levels
    policy = protocol.deviation_analysis.value
    given = f"infused {cells_per_kg:.3g} cells/kg, outside every level's window (a deviation)"
    if policy == "actual_level_nearest":
        dose = nearest_level(protocol, cells_per_kg)
        name = ladder.by_index(dose).name
        reason = f"{given}: analysed at the nearest level {name}"
    else:
        dose, name = planned, ladder.by_index(planned).name
        reason = (
            f"{given}: not evaluable for the dose finding (followed for safety at {name})"
            if policy == "not_evaluable"
            else f"{given}: analysed at the {basis} level {name}"
        )
    return DoseReceived(
        dose,
        name,
        "infused_outside_windows",
        cells_per_kg,
        reason,
        evaluable=policy != "not_evaluable",
    )
