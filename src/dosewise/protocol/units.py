"""Measured values with units, as screening records carry them: ``{"value": 1.1, "unit": "mg/dL"}``.

Each kind of quantity accepts a fixed set of unit spellings and converts to one canonical unit, so
the rules compare like with like. An unknown unit, a negative value or a percentage over 100 is
rejected with the field named (Pydantic places the error at the field's path).
"""

from __future__ import annotations

import math
from typing import ClassVar

from pydantic import field_validator, model_validator

from dosewise.protocol.base import Frozen
from dosewise.protocol.problems import raise_problems

_MICRO = ("umol/L", "µmol/L", "μmol/L")  # ASCII u, micro sign, Greek mu

#: Days per unit of time; a month is 365.25/12 days.
DAYS_PER: dict[str, float] = {
    "d": 1.0,
    "day": 1.0,
    "days": 1.0,
    "wk": 7.0,
    "week": 7.0,
    "weeks": 7.0,
    "mo": 365.25 / 12,
    "month": 365.25 / 12,
    "months": 365.25 / 12,
    "y": 365.25,
    "yr": 365.25,
    "year": 365.25,
    "years": 365.25,
}

#: Creatinine: factor to mg/dL (molar mass 113.12 g/mol: 1 mg/dL = 88.4 µmol/L).
CREATININE_TO_MG_DL: dict[str, float] = {
    "mg/dL": 1.0,
    **{u: 1 / 88.4 for u in _MICRO},
    "mmol/L": 1000 / 88.4,
}

#: Blood urea nitrogen: factor to mg/dL of urea nitrogen. Labs that report urea in mmol/L report
#: the same molar quantity (1 mmol/L urea = 2.8014 mg/dL urea nitrogen); urea in mg/dL is not
#: accepted because it is easily mistaken for BUN (urea mg/dL = BUN mg/dL × 2.14).
BUN_TO_MG_DL: dict[str, float] = {"mg/dL": 1.0, "mmol/L": 2.8014}

PERCENT: dict[str, float] = {"%": 1.0, "percent": 1.0, "fraction": 100.0}


class Quantity(Frozen):
    """A non-negative number with a unit from :attr:`UNITS` (mapped to the canonical unit)."""

    UNITS: ClassVar[dict[str, float]] = {}
    CANONICAL: ClassVar[str] = ""

    value: float
    unit: str

    @field_validator("value")
    @classmethod
    def _finite_non_negative(cls, value: float) -> float:
        if not math.isfinite(value) or value < 0:
            raise ValueError("must be a finite number >= 0")
        return value

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str) -> str:
        if unit not in cls.UNITS:
            raise ValueError(f"unknown unit; expected one of {', '.join(cls.UNITS)}")
        return unit

    @property
    def canonical(self) -> float:
        """The value in :attr:`CANONICAL` units."""
        return self.value * self.UNITS[self.unit]

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


class Percent(Quantity):
    """A percentage (``%``/``percent``) or a fraction of 1 (``fraction``); at most 100%."""

    UNITS: ClassVar[dict[str, float]] = PERCENT
    CANONICAL: ClassVar[str] = "%"

    @model_validator(mode="after")
    def _at_most_100(self) -> Percent:
        if self.canonical > 100 + 1e-9:
            raise_problems([("value", self.value, f"{self} is more than 100%")])
        return self


class Duration(Quantity):
    """A span of time; canonical unit: days."""

    UNITS: ClassVar[dict[str, float]] = DAYS_PER
    CANONICAL: ClassVar[str] = "days"


class Creatinine(Quantity):
    """Serum creatinine; canonical unit mg/dL."""

    UNITS: ClassVar[dict[str, float]] = CREATININE_TO_MG_DL
    CANONICAL: ClassVar[str] = "mg/dL"


class Bun(Quantity):
    """Blood urea nitrogen (or urea in mmol/L); canonical unit mg/dL of urea nitrogen."""

    UNITS: ClassVar[dict[str, float]] = BUN_TO_MG_DL
    CANONICAL: ClassVar[str] = "mg/dL"
