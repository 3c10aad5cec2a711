"""Cell-dose arithmetic: CAR⁺ viable T cells in a product, dose windows, feasibility, fallback.

The dose unit is CAR-positive viable T cells per kg of body weight (clinical.md §4.1). A level's
target for a patient is ``cells_per_kg × weight``; the product is acceptable for that level when it
can deliver a dose inside ``[(1 − tolerance)·target, (1 + tolerance)·target]`` — ±20 % in
NCT07070323. A product holding fewer cells than the target but at least the window's lower edge is
infused whole; a larger product is infused in part, so that the target is met exactly.

When the planned level is not feasible the registry text gives the fallback: "infusion at a low
dose level of 5×10⁵ (±20 %)/kg" (clinical.md §4.2). The planned and the assigned level are kept
apart, and a product below even the fallback window is a clear outcome (no level, with the
reason), not an exception: what happens next is a protocol decision (§4.2, open question 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from dosewise.errors import InvalidInput, InvalidParameter

Role = Literal["fallback", "start", "escalation"]
#: ``fallback_level``: an infeasible planned level drops straight to the fallback level (the
#: registry's text); ``next_lower``: to the highest feasible level below the planned one
#: (clinical.md §4.2 open question 1 — a protocol decision, so a setting).
FallbackPolicy = Literal["fallback_level", "next_lower"]
FALLBACK_POLICIES: tuple[FallbackPolicy, ...] = ("fallback_level", "next_lower")
FractionUnit = Literal["fraction", "percent"]

#: A weight above this is treated as a typing error rather than a patient (kg).
MAX_WEIGHT_KG = 300.0


def check_weight(weight_kg: float, field: str = "weight_kg") -> float:
    """The weight as a float; zero, negative, NaN or implausibly large weights are errors."""
    if isinstance(weight_kg, bool) or not isinstance(weight_kg, int | float):
        raise InvalidInput(field, weight_kg, "must be a number of kilograms")
    if not math.isfinite(weight_kg) or weight_kg <= 0:
        raise InvalidInput(field, weight_kg, "must be a finite number of kilograms > 0")
    if weight_kg > MAX_WEIGHT_KG:
        raise InvalidInput(field, weight_kg, f"must be <= {MAX_WEIGHT_KG:g} kg")
    return float(weight_kg)


@dataclass(frozen=True)
class DoseWindow:
    """The target number of cells for one patient and level, and its acceptable range."""

    level: str
    target_cells: float
    min_cells: float
    max_cells: float

    def contains(self, cells: float) -> bool:
        """Whether ``cells`` lies in the closed window (with a relative slack of 1e-9)."""
        slack = 1e-9 * self.target_cells
        return self.min_cells - slack <= cells <= self.max_cells + slack


@dataclass(frozen=True)
class DoseLevel:
    """A named cell dose per kg with its tolerance (±20 % unless the protocol says otherwise).

    ``flat_cells``/``flat_above_kg`` allow a flat dose above a weight (tisagenlecleucel-style,
    clinical.md §4.2); NCT07070323 doses purely per kg, so both are unset by default.
    """

    name: str
    cells_per_kg: float
    tolerance: float = 0.2
    role: Role = "escalation"
    flat_cells: float | None = None
    flat_above_kg: float | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidParameter("name", self.name, "a dose level needs a name")
        if not (math.isfinite(self.cells_per_kg) and self.cells_per_kg > 0):
            raise InvalidParameter(f"{self.name}.cells_per_kg", self.cells_per_kg, "must be > 0")
        if not (math.isfinite(self.tolerance) and 0 <= self.tolerance < 1):
            raise InvalidParameter(f"{self.name}.tolerance", self.tolerance, "must be in [0, 1)")
        if self.role not in ("fallback", "start", "escalation"):
            raise InvalidParameter(
                f"{self.name}.role", self.role, "must be fallback, start or escalation"
            )
        if (self.flat_cells is None) != (self.flat_above_kg is None):
            raise InvalidParameter(
                f"{self.name}.flat_cells", self.flat_cells, "give flat_cells and flat_above_kg"
            )
        if self.flat_cells is not None and not self.flat_cells > 0:
            raise InvalidParameter(f"{self.name}.flat_cells", self.flat_cells, "must be > 0")

    def target_cells(self, weight_kg: float) -> float:
        """Cells to infuse for this weight: per kg, or flat above ``flat_above_kg``."""
        weight = check_weight(weight_kg)
        if (
            self.flat_cells is not None
            and self.flat_above_kg is not None
            and weight > self.flat_above_kg
        ):
            return self.flat_cells
        return self.cells_per_kg * weight

    def window(self, weight_kg: float) -> DoseWindow:
        """Target and ±tolerance window in cells for this weight (clinical.md §4.1)."""
        target = self.target_cells(weight_kg)
        return DoseWindow(
            self.name, target, target * (1 - self.tolerance), target * (1 + self.tolerance)
        )


#: NCT07070323's ladder: DL-1 5×10⁵/kg (fallback), DL1 1×10⁶/kg (start), DL2 2×10⁶/kg, each ±20 %.
DEFAULT_LEVELS: tuple[DoseLevel, ...] = (
    DoseLevel("DL-1", 5e5, 0.2, "fallback"),
    DoseLevel("DL1", 1e6, 0.2, "start"),
    DoseLevel("DL2", 2e6, 0.2, "escalation"),
)


def find_level(name: str, levels: tuple[DoseLevel, ...] = DEFAULT_LEVELS) -> DoseLevel:
    """The level called ``name`` (case-insensitive), or an error listing the levels."""
    for level in levels:
        if level.name.lower() == name.strip().lower():
            return level
    raise InvalidInput("level", name, f"unknown dose level; one of {', '.join(_names(levels))}")


@dataclass(frozen=True)
class ReleaseCertificate:
    """Release values of one product; fractions in [0, 1] (``cd3`` of viable, ``car`` of CD3⁺)."""

    tnc: float
    viability: float
    cd3: float
    car: float
    volume_ml: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.tnc, bool) or not (math.isfinite(self.tnc) and self.tnc > 0):
            raise InvalidInput("tnc", self.tnc, "total nucleated cells must be a number > 0")
        for field in ("viability", "cd3", "car"):
            value = getattr(self, field)
            if isinstance(value, bool) or not (math.isfinite(value) and 0 <= value <= 1):
                rule = "must be a fraction in [0, 1] (percentages need the explicit percent unit)"
                raise InvalidInput(field, value, rule)
        if self.volume_ml is not None and not (
            math.isfinite(self.volume_ml) and self.volume_ml > 0
        ):
            raise InvalidInput("volume_ml", self.volume_ml, "product volume must be > 0 mL")

    @classmethod
    def from_values(
        cls,
        tnc: float,
        viability: float,
        cd3: float,
        car: float,
        volume_ml: float | None = None,
        *,
        unit: FractionUnit = "fraction",
    ) -> ReleaseCertificate:
        """Build from certificate values given as fractions or, explicitly, as percentages."""
        if unit == "fraction":
            return cls(tnc, viability, cd3, car, volume_ml)
        if unit != "percent":
            raise InvalidInput("unit", unit, "must be fraction or percent")
        fractions = []
        for field, value in (("viability", viability), ("cd3", cd3), ("car", car)):
            if isinstance(value, bool) or not (math.isfinite(value) and 0 <= value <= 100):
                raise InvalidInput(field, value, "must be a percentage in [0, 100]")
            fractions.append(value / 100)
        return cls(tnc, fractions[0], fractions[1], fractions[2], volume_ml)

    @property
    def car_t_cells(self) -> float:
        """CAR⁺ viable T = TNC × viability × %CD3⁺ × %CAR⁺ (clinical.md §4.1)."""
        return self.tnc * self.viability * self.cd3 * self.car

    @property
    def cells_per_ml(self) -> float | None:
        """CAR⁺ viable T cells per mL of product, when the volume is known."""
        return None if self.volume_ml is None else self.car_t_cells / self.volume_ml


@dataclass(frozen=True)
class LevelFeasibility:
    """Whether a product can deliver a level for this patient, and which share of it is used."""

    window: DoseWindow
    cells_per_kg: float
    feasible: bool | None
    fraction_of_product: float | None


@dataclass(frozen=True)
class DosePlan:
    """The dose decision for one patient and product: planned vs assigned level, and why."""

    weight_kg: float
    planned: DoseLevel
    planned_window: DoseWindow
    product: ReleaseCertificate | None = None
    levels: tuple[LevelFeasibility, ...] = ()
    assigned_level: str | None = None
    infused_cells: float | None = None
    volume_ml: float | None = None
    policy: FallbackPolicy = "fallback_level"
    reason: str = ""

    @property
    def car_t_cells(self) -> float | None:
        return None if self.product is None else self.product.car_t_cells

    @property
    def feasible_levels(self) -> tuple[str, ...] | None:
        """Names of the feasible levels, lowest first (None without release values)."""
        if self.product is None:
            return None
        return tuple(f.window.level for f in self.levels if f.feasible)

    @property
    def fallback(self) -> bool:
        """True when a level other than the planned one is assigned."""
        return self.assigned_level is not None and self.assigned_level != self.planned.name

    @property
    def dose_per_kg(self) -> float | None:
        """The achieved dose per kg, computed back from the cells to infuse."""
        return None if self.infused_cells is None else self.infused_cells / self.weight_kg

    @property
    def fraction_of_product(self) -> float | None:
        if self.infused_cells is None or self.product is None:
            return None
        return self.infused_cells / self.product.car_t_cells

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``dosewise dose --json`` shape)."""
        w = self.planned_window
        return {
            "level": self.planned.name,
            "planned_level": self.planned.name,
            "weight_kg": self.weight_kg,
            "cells_per_kg": self.planned.cells_per_kg,
            "target_cells": w.target_cells,
            "min_cells": w.min_cells,
            "max_cells": w.max_cells,
            "car_t_cells": self.car_t_cells,
            "cells_per_ml": None if self.product is None else self.product.cells_per_ml,
            "feasible_levels": None if self.product is None else list(self.feasible_levels or ()),
            "assigned_level": self.assigned_level,
            "fallback": self.fallback,
            "policy": self.policy,
            "infused_cells": self.infused_cells,
            "volume_ml": self.volume_ml,
            "fraction_of_product": self.fraction_of_product,
            "dose_per_kg": self.dose_per_kg,
            "reason": self.reason,
            "levels": [
                {
                    "name": f.window.level,
                    "cells_per_kg": f.cells_per_kg,
                    "target_cells": f.window.target_cells,
                    "min_cells": f.window.min_cells,
                    "max_cells": f.window.max_cells,
                    "feasible": f.feasible,
                    "fraction_of_product": f.fraction_of_product,
                }
                for f in self.levels
            ],
        }


def plan_dose(
    weight_kg: float,
    level: str,
    product: ReleaseCertificate | None = None,
    *,
    levels: tuple[DoseLevel, ...] = DEFAULT_LEVELS,
    policy: FallbackPolicy = "fallback_level",
    volume_step_ml: float | None = None,
) -> DosePlan:
    """Window for the planned level; with a product, feasibility, the assigned level and volume.

    ``volume_step_ml`` rounds the volume to a measurable step (e.g. 0.1 mL) and recomputes the
    achieved dose from the rounded volume, keeping it inside the assigned window.
    """
    weight = check_weight(weight_kg)
    planned = find_level(level, levels)
    if policy not in FALLBACK_POLICIES:
        raise InvalidParameter("policy", policy, f"must be one of {', '.join(FALLBACK_POLICIES)}")
    if volume_step_ml is not None and not (math.isfinite(volume_step_ml) and volume_step_ml > 0):
        raise InvalidParameter("volume_step_ml", volume_step_ml, "must be > 0 mL")
    window = planned.window(weight)
    ordered = sorted(levels, key=lambda lv: lv.target_cells(weight))
    if product is None:
        rows = tuple(
            LevelFeasibility(lv.window(weight), lv.cells_per_kg, None, None) for lv in ordered
        )
        reason = "no release values: the window only"
        return DosePlan(weight, planned, window, None, rows, policy=policy, reason=reason)
    cells = product.car_t_cells
    rows = tuple(_feasibility(lv, weight, cells) for lv in ordered)
    assigned, reason = _assign(planned, rows, cells, levels, policy)
    if assigned is None:
        return DosePlan(weight, planned, window, product, rows, None, policy=policy, reason=reason)
    target = next(r.window for r in rows if r.window.level == assigned)
    infused = min(target.target_cells, cells)
    if infused < target.target_cells:
        reason += "; the whole product is infused (it holds less than the target)"
    volume = None
    if product.volume_ml is not None:
        volume = product.volume_ml * infused / cells
        if volume_step_ml is not None:
            volume, infused = _round_volume(volume, volume_step_ml, product, target)
    return DosePlan(
        weight, planned, window, product, rows, assigned, infused, volume, policy, reason
    )


def _feasibility(level: DoseLevel, weight: float, cells: float) -> LevelFeasibility:
    """A level is feasible when the product reaches its window's lower edge (§4.2 example)."""
    window = level.window(weight)
    feasible = cells >= window.min_cells * (1 - 1e-9)
    share = min(1.0, window.target_cells / cells) if cells > 0 else None
    return LevelFeasibility(window, level.cells_per_kg, feasible, share)


def _assign(
    planned: DoseLevel,
    rows: tuple[LevelFeasibility, ...],
    cells: float,
    levels: tuple[DoseLevel, ...],
    policy: FallbackPolicy,
) -> tuple[str | None, str]:
    """The level given and the reason, under the fallback policy."""
    by_name = {r.window.level: r for r in rows}
    plan = by_name[planned.name]
    have = f"the product holds {cells:.3g} CAR+ viable T cells"
    w = plan.window
    need = f"{planned.name} needs >= {w.min_cells:.3g} (target {w.target_cells:.3g})"
    if plan.feasible:
        return planned.name, f"{have}; {need}: the planned level is feasible"
    if policy == "fallback_level":
        fallbacks = [lv for lv in levels if lv.role == "fallback" and lv.name != planned.name]
        candidates = [by_name[lv.name] for lv in fallbacks]
        rule = "the protocol's fallback level (clinical.md §4.2)"
    else:
        lower = [r for r in rows if r.window.target_cells < plan.window.target_cells and r.feasible]
        candidates = lower[-1:]
        rule = "the highest feasible level below the planned one (policy next_lower)"
    chosen = next((r for r in candidates if r.feasible), None)
    if chosen is not None:
        name = chosen.window.level
        return name, f"{have}; {need}: not feasible, so {rule}: {name}"
    lowest = rows[0].window
    return None, (
        f"{have}; {need}: not feasible, and no fallback is feasible (the lowest window, "
        f"{lowest.level}, needs >= {lowest.min_cells:.3g}); remanufacture, infuse and exclude, or "
        "withdraw is a protocol decision (clinical.md §4.2, open question 2)"
    )


def _round_volume(
    volume: float, step: float, product: ReleaseCertificate, window: DoseWindow
) -> tuple[float, float]:
    """The measurable volume nearest the exact one whose dose stays in the window."""
    assert product.volume_ml is not None and product.cells_per_ml is not None
    per_ml = product.cells_per_ml
    options = {math.floor(volume / step) * step, math.ceil(volume / step) * step}
    usable = [
        v for v in options if 0 < v <= product.volume_ml + 1e-12 and window.contains(v * per_ml)
    ]
    if not usable:
        return volume, volume * per_ml
    best = min(usable, key=lambda v: abs(v - volume))
    best = round(best, 10)
    return best, best * per_ml


@dataclass(frozen=True)
class ActualDose:
    """The dose actually given, computed back from the infused volume, and the level it meets."""

    infused_cells: float
    dose_per_kg: float
    actual_level: str | None


def actual_dose(
    weight_kg: float,
    product: ReleaseCertificate,
    infused_volume_ml: float,
    levels: tuple[DoseLevel, ...] = DEFAULT_LEVELS,
) -> ActualDose:
    """Achieved dose per kg from the volume infused; ``actual_level`` is the window it falls in."""
    weight = check_weight(weight_kg)
    if product.volume_ml is None or product.cells_per_ml is None:
        raise InvalidInput("volume_ml", None, "the product volume is needed to compute the dose")
    if not (math.isfinite(infused_volume_ml) and 0 < infused_volume_ml <= product.volume_ml):
        raise InvalidInput(
            "infused_volume_ml", infused_volume_ml, f"must be in (0, {product.volume_ml:g}] mL"
        )
    cells = infused_volume_ml * product.cells_per_ml
    level = next((lv.name for lv in levels if lv.window(weight).contains(cells)), None)
    return ActualDose(cells, cells / weight, level)


def _names(levels: tuple[DoseLevel, ...]) -> list[str]:
    return [lv.name for lv in levels]
