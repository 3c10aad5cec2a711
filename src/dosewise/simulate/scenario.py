"""Simulation scenarios: the true dose-outcome model, accrual, windows and event times.

A scenario says, per dose, the true probabilities of the four joint outcomes (N neither, E
efficacy only, T toxicity only, B both). They are given directly (``joint``) or built from the
marginal probabilities and an association model (boin12.md §9.1; Gumbel/FGM, latent normal or
odds ratio, see :mod:`dosewise.simulate.association`).

Accrual is in patients per month (uniform or exponential inter-arrival times, §9.3); windows are
in days; event times inside a window are uniform or Weibull with a given share of events in the
first half of the window (§9.2). The true MTD and OBD follow §9.5. Scenarios load from YAML; the
built-in library lives next to this module in ``library/``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import yaml

from dosewise.design.params import U01, U10, Boin12Params
from dosewise.errors import InvalidInput, InvalidParameter
from dosewise.simulate.association import CELLS as CELLS
from dosewise.simulate.association import CorrelationModel as CorrelationModel
from dosewise.simulate.association import joint_from_marginals as joint_from_marginals
from dosewise.yamlread import safe_load

FloatArray = npt.NDArray[np.float64]
AccrualDistribution = Literal["uniform", "poisson"]
Suspension = Literal["wait", "next_arrival"]
EventDistribution = Literal["uniform", "weibull"]

#: Days per month (365.25 / 12), to turn accrual rates per month into days.
DAYS_PER_MONTH = 30.4375
_TOL = 1e-6


def _number(field_name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(field_name, value, "must be a finite number")
    return float(value)


def _probabilities(field_name: str, values: Any) -> tuple[float, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        raise InvalidInput(field_name, values, "must be a non-empty list of probabilities")
    out = []
    for j, v in enumerate(values):
        p = _number(f"{field_name}[{j + 1}]", v)
        if not 0.0 <= p <= 1.0:
            raise InvalidInput(f"{field_name}[{j + 1}]", v, "must be a probability in [0, 1]")
        out.append(p)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Accrual:
    """Patient arrivals: ``rate`` patients per month, uniform or Poisson (exponential gaps).

    ``suspension`` says what happens to a patient who arrives while accrual is suspended
    (TITE pending rule, or waiting for complete data in BOIN12): ``wait`` (treated as soon as
    accrual reopens; the default) or ``next_arrival`` (turned away; the first patient arriving
    after reopening is treated, as in the authors' simulator).
    """

    rate: float = 2.0
    distribution: AccrualDistribution = "uniform"
    suspension: Suspension = "wait"

    def __post_init__(self) -> None:
        rate = _number("accrual.rate", self.rate)
        if rate <= 0:
            raise InvalidInput("accrual.rate", self.rate, "must be > 0 patients per month")
        if self.distribution not in ("uniform", "poisson"):
            raise InvalidInput(
                "accrual.distribution", self.distribution, "must be uniform or poisson"
            )
        if self.suspension not in ("wait", "next_arrival"):
            raise InvalidInput(
                "accrual.suspension", self.suspension, "must be wait or next_arrival"
            )

    @property
    def mean_gap_days(self) -> float:
        """Mean days between arrivals."""
        return DAYS_PER_MONTH / self.rate


@dataclass(frozen=True, slots=True)
class EventTimes:
    """When an event happens inside its window: uniform, or Weibull with a given early share.

    ``tox_early_share`` / ``eff_early_share`` (Weibull only) are the shares of events in the
    first half of the window (boin12.md §9.2, α; 0.5 equals the uniform median).
    """

    distribution: EventDistribution = "uniform"
    tox_early_share: float = 0.5
    eff_early_share: float = 0.5

    def __post_init__(self) -> None:
        if self.distribution not in ("uniform", "weibull"):
            raise InvalidInput(
                "event_times.distribution", self.distribution, "must be uniform or weibull"
            )
        for name in ("tox_early_share", "eff_early_share"):
            value = _number(f"event_times.{name}", getattr(self, name))
            if not 0.0 < value < 1.0:
                raise InvalidInput(f"event_times.{name}", value, "must be in (0, 1)")


@dataclass(frozen=True, slots=True)
class Scenario:
    """A true dose-outcome model plus the trial's operational setting (doses 1-based outside).

    ``joint`` holds, per dose, the probabilities of (N, E, T, B) = (no toxicity no efficacy,
    efficacy only, toxicity only, both). ``design`` holds suggested design settings (names as in
    :class:`Boin12Params`) that the CLI uses where the user gave none.
    """

    name: str
    joint: tuple[tuple[float, float, float, float], ...]
    correlation: CorrelationModel = "gumbel"
    association: float = 0.0  # ρ for gumbel/normal, ψ for odds_ratio, unused for joint
    accrual: Accrual = field(default_factory=Accrual)
    tox_window: float = 28.0
    eff_window: float = 90.0
    event_times: EventTimes = field(default_factory=EventTimes)
    description: str = ""
    #: The description in Chinese (the Chinese design report shows it); empty when none.
    description_zh: str = ""
    dose_labels: tuple[str, ...] = ()
    design: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.joint:
            raise InvalidInput("joint", self.joint, "must have at least one dose")
        for j, row in enumerate(self.joint):
            if len(row) != 4:
                raise InvalidInput(f"joint[{j + 1}]", row, "must have 4 cells N, E, T, B")
            for cell, value in zip(CELLS, row, strict=True):
                if not (math.isfinite(value) and value >= -1e-12):
                    raise InvalidInput(f"joint[{j + 1}].{cell}", value, "must be >= 0")
            if abs(sum(row) - 1.0) > _TOL:
                raise InvalidInput(f"joint[{j + 1}]", row, "cells N+E+T+B must sum to 1")
        for name in ("tox_window", "eff_window"):
            value = _number(name, getattr(self, name))
            if value <= 0:
                raise InvalidInput(name, value, "must be > 0 days")
        if self.dose_labels and len(self.dose_labels) != self.n_doses:
            raise InvalidInput(
                "dose_labels", list(self.dose_labels), f"must have {self.n_doses} labels"
            )

    # -- views ------------------------------------------------------------------------------
    @property
    def n_doses(self) -> int:
        """Number of dose levels J."""
        return len(self.joint)

    @property
    def joint_array(self) -> FloatArray:
        """(J, 4) probabilities of N, E, T, B, clipped at 0 and renormalised."""
        arr = np.clip(np.asarray(self.joint, dtype=np.float64), 0.0, None)
        return np.asarray(arr / arr.sum(axis=1, keepdims=True), dtype=np.float64)

    @property
    def p_tox(self) -> FloatArray:
        """True marginal DLT probability per dose."""
        arr = self.joint_array
        return np.asarray(arr[:, 2] + arr[:, 3], dtype=np.float64)

    @property
    def p_eff(self) -> FloatArray:
        """True marginal response probability per dose."""
        arr = self.joint_array
        return np.asarray(arr[:, 1] + arr[:, 3], dtype=np.float64)

    def utility(self, params: Boin12Params) -> FloatArray:
        """True mean utility ū_j = Σ u(a,b) π_j(a,b) (boin12.md §3.1)."""
        arr = self.joint_array
        return np.asarray(
            params.u00 * arr[:, 0] + U01 * arr[:, 1] + U10 * arr[:, 2] + params.u11 * arr[:, 3],
            dtype=np.float64,
        )

    def true_mtd(self, params: Boin12Params) -> int:
        """Number of doses with p_T <= φT (boin12.md §9.5; toxicity assumed monotone)."""
        return int(np.sum(self.p_tox <= params.phi_t + 1e-12))

    def true_obd(self, params: Boin12Params) -> int | None:
        """The true OBD (1-based) by boin12.md §9.5, or None when no dose qualifies."""
        mtd = self.true_mtd(params)
        if mtd == 0 or float(np.max(self.p_eff[:mtd])) < params.phi_e - 1e-12:
            return None
        return int(np.argmax(self.utility(params)[:mtd])) + 1

    def check_design(self, params: Boin12Params) -> None:
        """Raise if the design's number of doses does not match the scenario's."""
        if params.n_doses != self.n_doses:
            raise InvalidParameter(
                "doses",
                params.n_doses,
                f"scenario {self.name!r} has {self.n_doses} doses; the design must match",
            )

    def with_(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view (the truth and the setting), for outputs and YAML round-trips."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            **({"description_zh": self.description_zh} if self.description_zh else {}),
            "n_doses": self.n_doses,
            "p_tox": [round(float(v), 10) for v in self.p_tox],
            "p_eff": [round(float(v), 10) for v in self.p_eff],
            "joint": [
                {c: round(float(v), 10) for c, v in zip(CELLS, row, strict=True)}
                for row in self.joint_array
            ],
            "correlation": {"model": self.correlation, "value": self.association},
            "accrual": {
                "rate": self.accrual.rate,
                "distribution": self.accrual.distribution,
                "suspension": self.accrual.suspension,
            },
            "tox_window": self.tox_window,
            "eff_window": self.eff_window,
            "event_times": {
                "distribution": self.event_times.distribution,
                "tox_early_share": self.event_times.tox_early_share,
                "eff_early_share": self.event_times.eff_early_share,
            },
        }
        if self.dose_labels:
            out["dose_labels"] = list(self.dose_labels)
        if self.design:
            out["design"] = dict(self.design)
        if self.tags:
            out["tags"] = list(self.tags)
        return out


# -- construction -----------------------------------------------------------------------------
def make_scenario(
    name: str,
    p_tox: Sequence[float] | None = None,
    p_eff: Sequence[float] | None = None,
    *,
    rho: float = 0.0,
    model: CorrelationModel = "gumbel",
    joint: Sequence[Any] | None = None,
    **setting: Any,
) -> Scenario:
    """Build and validate a scenario from marginals (+ association) or from joint cells."""
    if joint is not None:
        rows = _joint_rows(joint)
        sc = Scenario(name=name, joint=rows, correlation="joint", association=0.0, **setting)
        for key, given, derived in (("p_tox", p_tox, sc.p_tox), ("p_eff", p_eff, sc.p_eff)):
            if given is None:
                continue
            values = _probabilities(key, given)
            if len(values) != sc.n_doses:
                raise InvalidInput(key, list(given), f"must have {sc.n_doses} doses like joint")
            for j, (g, d) in enumerate(zip(values, derived, strict=True)):
                if abs(g - float(d)) > _TOL:
                    raise InvalidInput(
                        f"{key}[{j + 1}]", g, f"disagrees with the joint cells ({float(d):.6g})"
                    )
        return sc
    if p_tox is None or p_eff is None:
        missing = "p_tox" if p_tox is None else "p_eff"
        raise InvalidInput(missing, None, "required (or give joint: per-dose N, E, T, B cells)")
    pt = _probabilities("p_tox", p_tox)
    pe = _probabilities("p_eff", p_eff)
    rho_value = _number("rho", rho)
    rows = joint_from_marginals(pt, pe, model, rho_value)
    return Scenario(name=name, joint=rows, correlation=model, association=rho_value, **setting)


def _joint_rows(joint: Any) -> tuple[tuple[float, float, float, float], ...]:
    if not isinstance(joint, Sequence) or isinstance(joint, str) or not joint:
        raise InvalidInput("joint", joint, "must be a list with one entry per dose")
    rows = []
    for j, row in enumerate(joint):
        where = f"joint[{j + 1}]"
        if isinstance(row, Mapping):
            unknown = set(row) - set(CELLS)
            if unknown:
                raise InvalidInput(where, sorted(unknown), "cells must be N, E, T, B")
            values = [row.get(c, 0.0) for c in CELLS]
        elif isinstance(row, Sequence) and not isinstance(row, str) and len(row) == 4:
            values = list(row)
        else:
            raise InvalidInput(where, row, "must be {N:, E:, T:, B:} or a list of 4 cells")
        cells = []
        for c, v in zip(CELLS, values, strict=True):
            x = _number(f"{where}.{c}", v)
            if x < 0:
                raise InvalidInput(f"{where}.{c}", v, "must be >= 0 (a probability)")
            if x > 1:
                raise InvalidInput(f"{where}.{c}", v, "must be <= 1 (a probability)")
            cells.append(x)
        rows.append((cells[0], cells[1], cells[2], cells[3]))
    return tuple(rows)


_TOP_KEYS = {
    "name",
    "description",
    "description_zh",
    "p_tox",
    "p_eff",
    "rho",
    "correlation",
    "joint",
    "accrual",
    "tox_window",
    "eff_window",
    "event_times",
    "n_doses",
    "dose_labels",
    "design",
    "tags",
}


def scenario_from_dict(data: Any, default_name: str = "scenario") -> Scenario:
    """Validate a scenario mapping (the YAML shape; see docs/simulation.md)."""
    if not isinstance(data, Mapping):
        raise InvalidInput("scenario", type(data).__name__, "must be a mapping of fields")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise InvalidInput("scenario", sorted(unknown), f"unknown fields; use {sorted(_TOP_KEYS)}")
    model: CorrelationModel = "gumbel"
    value = 0.0
    corr = data.get("correlation")
    if isinstance(corr, Mapping):
        model = corr.get("model", "gumbel")
        if model not in ("gumbel", "normal", "odds_ratio"):
            raise InvalidInput("correlation.model", model, "must be gumbel, normal or odds_ratio")
        key = "odds_ratio" if model == "odds_ratio" else "rho"
        value = _number(f"correlation.{key}", corr.get(key, 1.0 if key == "odds_ratio" else 0.0))
    elif corr is not None:
        raise InvalidInput("correlation", corr, "must be {model: gumbel|normal|odds_ratio, rho:}")
    if "rho" in data:
        if corr is not None:
            raise InvalidInput("rho", data["rho"], "give rho or correlation, not both")
        value = _number("rho", data["rho"])
    accrual = _accrual(data.get("accrual", {}))
    events = _event_times(data.get("event_times", {}))
    setting: dict[str, Any] = {
        "accrual": accrual,
        "event_times": events,
        "description": str(data.get("description", "")),
        "description_zh": str(data.get("description_zh", "")),
        "dose_labels": tuple(str(x) for x in data.get("dose_labels", ()) or ()),
        "design": dict(data.get("design", {}) or {}),
        "tags": tuple(str(x) for x in data.get("tags", ()) or ()),
    }
    for key in ("tox_window", "eff_window"):
        if key in data:
            setting[key] = _number(key, data[key])
    design = setting["design"]
    if design:
        _check_design_overrides(design)
    name = str(data.get("name", default_name))
    sc = make_scenario(
        name,
        data.get("p_tox"),
        data.get("p_eff"),
        rho=value,
        model=model,
        joint=data.get("joint"),
        **setting,
    )
    declared = data.get("n_doses")
    if declared is not None and declared != sc.n_doses:
        raise InvalidInput("n_doses", declared, f"the probabilities give {sc.n_doses} doses")
    return sc


def _check_design_overrides(design: Mapping[str, Any]) -> None:
    allowed = set(Boin12Params.__dataclass_fields__) - {"extra", "n_doses"}
    unknown = set(design) - allowed
    if unknown:
        raise InvalidInput("design", sorted(unknown), "unknown design settings")


def _accrual(raw: Any) -> Accrual:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Accrual(rate=float(raw))
    if not isinstance(raw, Mapping):
        raise InvalidInput("accrual", raw, "must be a rate or {rate:, distribution:, suspension:}")
    unknown = set(raw) - {"rate", "distribution", "suspension"}
    if unknown:
        raise InvalidInput("accrual", sorted(unknown), "unknown fields")
    return Accrual(
        rate=_number("accrual.rate", raw.get("rate", 2.0)),
        distribution=raw.get("distribution", "uniform"),
        suspension=raw.get("suspension", "wait"),
    )


def _event_times(raw: Any) -> EventTimes:
    if isinstance(raw, str):
        return EventTimes(distribution=raw)  # type: ignore[arg-type]
    if not isinstance(raw, Mapping):
        raise InvalidInput("event_times", raw, "must be uniform, weibull or a mapping")
    unknown = set(raw) - {"distribution", "tox_early_share", "eff_early_share"}
    if unknown:
        raise InvalidInput("event_times", sorted(unknown), "unknown fields")
    return EventTimes(
        distribution=raw.get("distribution", "uniform"),
        tox_early_share=raw.get("tox_early_share", 0.5),
        eff_early_share=raw.get("eff_early_share", 0.5),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read one scenario from a YAML file; errors name the offending field."""
    file = Path(path)
    try:
        data = safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput("scenario", str(file), f"not valid YAML ({exc})") from None
    return scenario_from_dict(data, default_name=file.stem)


# -- the built-in library (YAML files in dosewise/simulate/library/) ----------------------------
_LIBRARY = "dosewise.simulate.library"


def builtin_names() -> tuple[str, ...]:
    """Names of the built-in scenarios, sorted."""
    files = resources.files(_LIBRARY).iterdir()
    return tuple(sorted(f.name[:-5] for f in files if f.name.endswith(".yaml")))


def builtin_scenario(name: str) -> Scenario:
    """A built-in scenario by name."""
    if name not in builtin_names():
        raise InvalidInput("scenario", name, "not a built-in scenario (see `dosewise scenarios`)")
    text = resources.files(_LIBRARY).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return scenario_from_dict(safe_load(text), default_name=name)


def builtin_scenarios() -> tuple[Scenario, ...]:
    """Every built-in scenario."""
    return tuple(builtin_scenario(n) for n in builtin_names())


def resolve_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario name, or a path to a YAML file."""
    if name_or_path in builtin_names():
        return builtin_scenario(name_or_path)
    path = Path(name_or_path)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise InvalidInput("scenario", name_or_path, "file not found")
        return load_scenario(path)
    raise InvalidInput(
        "scenario", name_or_path, "not a built-in scenario name nor a YAML file path"
    )
