"""The values of a BOP2 design: what is specified, the boundary table and the exact figures.

Frozen dataclasses, validated when built (each error names the field and the rule). The rules
that produce and use them are in :mod:`dosewise.design.bop2`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from dosewise.errors import InvalidParameter

NullRule = Literal["composite", "joint"]

#: Largest maximum sample size accepted (exact sums stay fast and memory small).
MAX_N = 200
#: Largest maximum sample size with toxicity monitoring (the state is two-dimensional).
MAX_N_TOXICITY = 100


def is_number(value: object) -> bool:
    """A finite int or float (bool excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_open_unit(name: str, value: float) -> None:
    """A design rate or level: strictly between 0 and 1."""
    if not (is_number(value) and 0.0 < value < 1.0):
        raise InvalidParameter(name, value, "must be a number in (0, 1)")


def check_closed_unit(name: str, value: float) -> None:
    """A true rate for the operating characteristics: 0 and 1 allowed."""
    if not (is_number(value) and 0.0 <= value <= 1.0):
        raise InvalidParameter(name, value, "must be a probability in [0, 1]")


@dataclass(frozen=True, slots=True)
class ToxicityMonitoring:
    """Joint toxicity monitoring: the multinomial/Dirichlet form of BOP2 for efficacy + toxicity.

    ``phi_t0`` is the toxicity rate deemed unacceptable (the trial stops if Pr(p_T > phi_t0) is
    high); ``phi_t1`` the rate expected of a good treatment (used for the power). ``odds_ratio``
    is the association between response and toxicity assumed in the operating characteristics
    (1 = independent); decisions do not depend on it. ``null`` picks the type I error: "composite"
    takes the worst of (p0, phi_t1), (p1, phi_t0) and (p0, phi_t0) - futile but safe, effective
    but toxic, both; "joint" uses only (p0, phi_t0), the single null point of the BOP2 app.
    """

    phi_t0: float
    phi_t1: float
    odds_ratio: float = 1.0
    null: NullRule = "composite"

    def __post_init__(self) -> None:
        _check_open_unit("phi_t0", self.phi_t0)
        _check_open_unit("phi_t1", self.phi_t1)
        if self.phi_t1 >= self.phi_t0:
            raise InvalidParameter(
                "phi_t1", self.phi_t1, f"must be below phi_t0={self.phi_t0} (acceptable < toxic)"
            )
        if not (is_number(self.odds_ratio) and self.odds_ratio > 0):
            raise InvalidParameter("odds_ratio", self.odds_ratio, "must be a number > 0")
        if self.null not in ("composite", "joint"):
            raise InvalidParameter("null", self.null, "must be 'composite' or 'joint'")


@dataclass(frozen=True, slots=True)
class Bop2Design:
    """What the statistician specifies: N, the looks, the null and target response rates, alpha.

    ``looks`` are the cumulative sample sizes of the analyses; N is appended if missing, because
    the end-of-trial decision is always made at N.
    """

    n_max: int
    looks: tuple[int, ...]
    p0: float
    p1: float
    alpha: float = 0.10
    toxicity: ToxicityMonitoring | None = None

    def __post_init__(self) -> None:
        if isinstance(self.n_max, bool) or not isinstance(self.n_max, int) or self.n_max < 1:
            raise InvalidParameter("n_max", self.n_max, "must be a whole number >= 1")
        limit = MAX_N if self.toxicity is None else MAX_N_TOXICITY
        if self.n_max > limit:
            raise InvalidParameter("n_max", self.n_max, f"must be at most {limit}")
        looks = tuple(self.looks)
        for look in looks:
            if isinstance(look, bool) or not isinstance(look, int) or look < 1:
                raise InvalidParameter("looks", list(looks), "must be whole numbers >= 1")
        if any(b <= a for a, b in itertools.pairwise(looks)):
            raise InvalidParameter("looks", list(looks), "must be strictly increasing")
        if looks and looks[-1] > self.n_max:
            raise InvalidParameter("looks", list(looks), f"must not exceed n_max={self.n_max}")
        if not looks or looks[-1] != self.n_max:
            looks = (*looks, self.n_max)
        object.__setattr__(self, "looks", looks)
        _check_open_unit("p0", self.p0)
        _check_open_unit("p1", self.p1)
        if self.p1 <= self.p0:
            raise InvalidParameter("p1", self.p1, f"must be greater than p0={self.p0}")
        _check_open_unit("alpha", self.alpha)
        if self.toxicity is not None and not isinstance(self.toxicity, ToxicityMonitoring):
            raise InvalidParameter("toxicity", self.toxicity, "must be a ToxicityMonitoring")


@dataclass(frozen=True, slots=True)
class Bop2Boundary:
    """The rule at one look, as counts: stop if responses <= k, or toxicities >= t.

    ``None`` means no count stops the trial at this look for that reason.
    """

    n: int
    cutoff: float
    stop_if_responses_le: int | None
    stop_if_toxicities_ge: int | None = None


@dataclass(frozen=True, slots=True)
class Bop2OC:
    """Exact operating characteristics under one truth.

    ``prob_promising`` is the probability of passing every look (at H0: the type I error; at H1:
    the power). ``prob_early_stop`` counts stops at interim looks (n < N). The per-look tuples
    give the probability of stopping there, overall and by the rule that fired (the futility and
    toxicity columns may overlap when both fire at once).
    """

    p_response: float
    p_toxicity: float | None
    prob_promising: float
    prob_early_stop: float
    expected_n: float
    stop_by_look: tuple[float, ...]
    futility_by_look: tuple[float, ...]
    toxicity_by_look: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Bop2Result:
    """The chosen design: (lambda, gamma), the boundary table and its exact operating figures.

    ``null_ocs`` are the null configurations the type I error is the maximum over (one without
    toxicity monitoring). ``candidates`` counts the distinct boundary tables the grid produced,
    ``feasible`` those with type I error <= alpha.
    """

    design: Bop2Design
    lambda_: float
    gamma: float
    boundaries: tuple[Bop2Boundary, ...]
    h0: Bop2OC
    h1: Bop2OC
    null_ocs: tuple[Bop2OC, ...]
    candidates: int
    feasible: int

    @property
    def type_i_error(self) -> float:
        """The largest probability of declaring the treatment promising under the null."""
        return max(oc.prob_promising for oc in self.null_ocs)

    @property
    def power(self) -> float:
        """The probability of declaring the treatment promising under H1."""
        return self.h1.prob_promising

    def _final_toxicity_limit(self) -> int | None:
        if self.design.toxicity is None:
            return None
        t = self.boundaries[-1].stop_if_toxicities_ge
        return self.design.n_max if t is None else t - 1

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with snake_case keys (the CLI's ``--json`` shape)."""
        tox = self.design.toxicity
        boundaries = []
        for b in self.boundaries:
            row: dict[str, Any] = {
                "n": b.n,
                "cutoff": b.cutoff,
                "stop_if_responses_le": b.stop_if_responses_le,
            }
            if tox is not None:
                row["stop_if_toxicities_ge"] = b.stop_if_toxicities_ge
            boundaries.append(row)
        final = self.boundaries[-1].stop_if_responses_le
        return {
            "design": "BOP2",
            "n_max": self.design.n_max,
            "looks": list(self.design.looks),
            "p0": self.design.p0,
            "p1": self.design.p1,
            "alpha": self.design.alpha,
            "toxicity": None if tox is None else asdict(tox),
            "lambda": self.lambda_,
            "gamma": self.gamma,
            "boundaries": boundaries,
            "promising_if_responses_ge": 0 if final is None else final + 1,
            "promising_if_toxicities_le": self._final_toxicity_limit(),
            "type_i_error": self.type_i_error,
            "power": self.power,
            "early_stop_h0": self.h0.prob_early_stop,
            "early_stop_h1": self.h1.prob_early_stop,
            "expected_n_h0": self.h0.expected_n,
            "expected_n_h1": self.h1.expected_n,
            "null_scenarios": [asdict(oc) for oc in self.null_ocs],
            "h0": asdict(self.h0),
            "h1": asdict(self.h1),
            "candidates": self.candidates,
            "feasible": self.feasible,
        }
