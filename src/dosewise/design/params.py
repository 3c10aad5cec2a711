"""BOIN12 design parameters: one frozen, validated value that every rule reads.

Defaults follow the authors' code and the MD Anderson app (``shared/reference/boin12.md`` §1);
every switch where published implementations differ (§10) is a named field whose default is the
authors' choice.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from dosewise.errors import InvalidParameter

TieBreak = Literal["random", "higher", "lower"]
TIE_BREAKS: tuple[TieBreak, ...] = ("random", "higher", "lower")

#: u(0,1): no toxicity with efficacy, fixed by the design.
U01 = 100.0
#: u(1,0): toxicity without efficacy, fixed by the design.
U10 = 0.0


def _check_open_unit(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0.0 < value < 1.0):
        raise InvalidParameter(name, value, "must be a number in (0, 1)")


def _check_int(name: str, value: int, low: int, rule: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidParameter(name, value, rule)


@dataclass(frozen=True, slots=True)
class Boin12Params:
    """Everything that defines one BOIN12 (or TITE-BOIN12) design. Doses are 1-based.

    ``n2 = 0`` turns the extra-dose-exploration rule off; ``n_earlystop = 0`` turns the
    stop-at-n-per-dose rule off. ``tox_elim_min_dlt`` is the authors' floor of 3 DLTs before a
    toxicity elimination (BOIN 2.7.2 uses 1); ``elim_min_n`` is the minimum n for either
    elimination.
    """

    n_doses: int = 3
    phi_t: float = 0.35
    phi_e: float = 0.25
    u11: float = 60.0
    u00: float = 40.0
    c_t: float = 0.95
    c_e: float = 0.90
    n_star: int = 6
    n2: int = 9
    cohort_size: int = 3
    max_n: int = 36
    n_earlystop: int = 12
    start_dose: int = 1
    tie_break: TieBreak = "random"
    seed: int | None = None
    phi1_ratio: float = 0.6
    phi2_ratio: float = 1.4
    prior_a: float = 1.0
    prior_b: float = 1.0
    tox_elim_min_dlt: int = 3
    elim_min_n: int = 3
    # TITE-BOIN12: largest share of patients at the current dose with a pending outcome that
    # still allows a decision, and the minimum n (strictly greater than) for toxicity
    # elimination in the authors' TITE code (boin12.md §8).
    maxpen: float = 0.5
    tite_tox_elim_n_gt: int = 3
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        _check_int("n_doses", self.n_doses, 1, "must be a whole number >= 1")
        _check_open_unit("phi_t", self.phi_t)
        _check_open_unit("phi_e", self.phi_e)
        for name in ("u11", "u00"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 100):
                raise InvalidParameter(name, value, "must be a utility in [0, 100]")
        _check_open_unit("c_t", self.c_t)
        _check_open_unit("c_e", self.c_e)
        _check_int("n_star", self.n_star, 1, "must be a whole number >= 1")
        _check_int("n2", self.n2, 0, "must be a whole number >= 0 (0 turns exploration off)")
        _check_int("cohort_size", self.cohort_size, 1, "must be a whole number >= 1")
        _check_int("max_n", self.max_n, 1, "must be a whole number >= 1")
        if self.max_n < self.cohort_size:
            raise InvalidParameter("max_n", self.max_n, "must be at least cohort_size")
        _check_int("n_earlystop", self.n_earlystop, 0, "must be a whole number >= 0 (0 = off)")
        _check_int("start_dose", self.start_dose, 1, "must be a dose from 1 to n_doses")
        if self.start_dose > self.n_doses:
            raise InvalidParameter(
                "start_dose", self.start_dose, f"must be a dose from 1 to n_doses={self.n_doses}"
            )
        if self.tie_break not in TIE_BREAKS:
            raise InvalidParameter("tie_break", self.tie_break, "must be random, higher or lower")
        if self.seed is not None:
            _check_int("seed", self.seed, 0, "must be a whole number >= 0")
        if not (0 < self.phi1_ratio < 1):
            raise InvalidParameter("phi1_ratio", self.phi1_ratio, "must be in (0, 1)")
        if not (self.phi2_ratio > 1 and self.phi2_ratio * self.phi_t < 1):
            raise InvalidParameter(
                "phi2_ratio", self.phi2_ratio, "must be > 1 with phi2_ratio * phi_t < 1"
            )
        for name in ("prior_a", "prior_b"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidParameter(name, value, "must be a positive number")
        _check_int("tox_elim_min_dlt", self.tox_elim_min_dlt, 1, "must be a whole number >= 1")
        _check_int("elim_min_n", self.elim_min_n, 0, "must be a whole number >= 0")
        if not (0 <= self.maxpen <= 1):
            raise InvalidParameter("maxpen", self.maxpen, "must be in [0, 1]")
        _check_int("tite_tox_elim_n_gt", self.tite_tox_elim_n_gt, 0, "must be >= 0")

    @property
    def phi1(self) -> float:
        """Highest DLT rate deemed sub-therapeutic (default 0.6 φT)."""
        return self.phi1_ratio * self.phi_t

    @property
    def phi2(self) -> float:
        """Lowest DLT rate deemed overly toxic (default 1.4 φT)."""
        return self.phi2_ratio * self.phi_t

    @property
    def additive(self) -> bool:
        """True when u11 + u00 = 100, so utility depends on marginal counts only (§3.3)."""
        return math.isclose(self.u11 + self.u00, 100.0, abs_tol=1e-9)

    @property
    def n2_enabled(self) -> bool:
        """Whether the extra-dose-exploration rule (§5.4) is on."""
        return self.n2 > 0

    def with_(self, **changes: Any) -> Boin12Params:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view of the settings, for reports and records."""
        data = asdict(self)
        data.pop("extra", None)
        return data
