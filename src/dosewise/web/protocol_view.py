"""What the protocol page shows: the protocol with its assumptions numbered, the decision tables
of each distinct arm design, and a small simulation of the design. Presentation only: the
values come from :mod:`dosewise.protocol`, :mod:`dosewise.design` and :mod:`dosewise.simulate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dosewise.clinical import dosing
from dosewise.design.boin import boin_boundaries
from dosewise.design.params import Boin12Params
from dosewise.design.table_format import DecisionTables, decision_tables
from dosewise.design.tables import rds_grid
from dosewise.errors import InvalidInput
from dosewise.protocol import Protocol, assumptions
from dosewise.protocol.base import AssumptionNote
from dosewise.report.design_oc import for_design, with_protocol_windows
from dosewise.report.downloads import DESIGN_TRIALS
from dosewise.settings import Settings
from dosewise.simulate.run import simulate
from dosewise.simulate.scenario import builtin_names, builtin_scenario
from dosewise.simulate.summary import Summary
from dosewise.trial.bootstrap import LoadedProtocol, protocol_for
from dosewise.web.i18n import N_

#: Simulations run in the request: keep them small (the CLI and the report do the big runs).
MAX_SIM_TRIALS = 2000
DEFAULT_SIM_TRIALS = 500
DEFAULT_SEED = 20250709
#: The design report linked from the page is computed with this many trials per scenario.
REPORT_TRIALS = DESIGN_TRIALS


@lru_cache(maxsize=4)
def _load(protocol_path: str) -> LoadedProtocol:
    return protocol_for(Settings(protocol_path=protocol_path))


def loaded_protocol(settings: Settings) -> LoadedProtocol:
    """The protocol the service runs (read once per path)."""
    return _load(settings.protocol_path)


class Tags:
    """Numbers the protocol's assumptions (A1, A2 ...) and finds a value's tag by its path."""

    def __init__(self, protocol: Protocol) -> None:
        self.notes: list[AssumptionNote] = assumptions(protocol)
        self.number = {note.path: i for i, note in enumerate(self.notes, start=1)}

    def __call__(self, path: str) -> str:
        number = self.number.get(path)
        return f"A{number}" if number is not None else ""

    def under(self, prefix: str) -> list[str]:
        """Tags of every assumption at or below ``prefix``."""
        return [
            f"A{i}"
            for path, i in self.number.items()
            if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")
        ]


@dataclass(frozen=True)
class TableGroup:
    """Arms that share one design, and its decision tables as rows for the template."""

    arms: tuple[str, ...]
    params: Boin12Params
    tables: DecisionTables
    settings: list[tuple[str, str | tuple[str, ...]]]
    boundaries: list[dict[str, Any]]
    grids: list[tuple[int, list[int], list[tuple[int, list[str]]]]]


def design_settings(tables: DecisionTables) -> list[tuple[str, str | tuple[str, ...]]]:
    """(label message id, value) pairs of the design's settings; a value in parts is text and
    message ids (each part is translated)."""
    p = tables.params
    b = boin_boundaries(p.phi_t, p.phi1, p.phi2)
    return [
        (N_("Dose levels"), str(p.n_doses)),
        (N_("φT (highest acceptable DLT rate)"), f"{p.phi_t:g}"),
        (N_("φE (lowest acceptable response rate)"), f"{p.phi_e:g}"),
        (N_("Utilities u(0,1), u(1,1), u(0,0), u(1,0)"), f"100, {p.u11:g}, {p.u00:g}, 0"),
        (N_("Benchmark utility u_b"), f"{tables.rds.u_b:g}"),
        (
            N_("λe / λd (escalation / de-escalation boundaries)"),
            f"{b.lambda_e:.4f} / {b.lambda_d:.4f}",
        ),
        (N_("Elimination cut-offs c_T / c_E"), f"{p.c_t:g} / {p.c_e:g}"),
        (N_("N* / N2 (extra exploration)"), f"{p.n_star} / {p.n2 if p.n2 else '—'}"),
        (
            N_("Cohort size / maximum N / n_earlystop"),
            f"{p.cohort_size} / {p.max_n} / {p.n_earlystop or '—'}",
        ),
        (N_("Start dose / tie-break"), (f"{p.start_dose} / ", TIE_BREAKS[p.tie_break])),
    ]


#: How the design breaks a tie between doses of equal utility, in words.
TIE_BREAKS: dict[str, str] = {
    "random": N_("at random"),
    "higher": N_("the higher dose"),
    "lower": N_("the lower dose"),
}


def _grid(tables: DecisionTables, n: int) -> tuple[int, list[int], list[tuple[int, list[str]]]]:
    frame = rds_grid(tables.rds, n)
    columns = [int(c) for c in frame.columns]
    rows = [(int(tox), [str(v) for v in frame.loc[tox]]) for tox in frame.index]
    return n, columns, rows


def table_groups(protocol: Protocol) -> list[TableGroup]:
    """The decision tables once per distinct design (NCT07070323: one for all three arms)."""
    keyed: dict[str, list[str]] = {}
    for arm in protocol.arms:
        key = repr(sorted(protocol.design_params(arm.id).to_dict().items()))
        keyed.setdefault(key, []).append(arm.id)
    groups = []
    for arms in keyed.values():
        params = protocol.design_params(arms[0])
        tables = decision_tables(params, params.max_n)
        boundaries = [
            {str(k): (None if v != v else v) for k, v in row.items()}  # NaN → None
            for row in tables.boundaries.astype(object).to_dict(orient="records")
        ]
        grids = [_grid(tables, n) for n in tables.sizes if n > 0]
        groups.append(
            TableGroup(tuple(arms), params, tables, design_settings(tables), boundaries, grids)
        )
    return groups


def arm_decision_table(
    params: Boin12Params, n: int
) -> tuple[list[int], list[tuple[int, list[str]]]]:
    """The RDS grid for ``n`` patients at a dose (the arm page highlights its current cell)."""
    tables = decision_tables(params, max(n, params.cohort_size))
    _n, columns, rows = _grid(tables, n)
    return columns, rows


# --------------------------------------------------------------------------- simulation


def scenario_names(protocol: Protocol) -> list[str]:
    """Built-in scenarios written for this protocol (NCT id tag), else those with its dose count."""
    prefix = protocol.registry.nct_id.lower() + "-"
    own = [name for name in builtin_names() if name.startswith(prefix)]
    if own:
        return own
    n = len(protocol.dose_levels.design_levels)
    return [name for name in builtin_names() if builtin_scenario(name).n_doses == n]


@dataclass(frozen=True)
class SimulationRequest:
    scenario: str
    arm: str
    trials: int
    seed: int
    tite: bool


def _whole(value: str, field: str, lo: int, hi: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise InvalidInput(field, value, "must be a whole number") from None
    if not lo <= number <= hi:
        raise InvalidInput(field, number, f"must be from {lo} to {hi:,}")
    return number


def simulation_request(
    protocol: Protocol, scenario: str, arm: str, trials: str, seed: str, tite: bool
) -> SimulationRequest:
    """The form's values, checked: a known scenario and arm, a small number of trials."""
    names = scenario_names(protocol)
    if scenario not in names:
        raise InvalidInput("scenario", scenario, f"must be one of {', '.join(names)}")
    protocol.arm(arm)
    return SimulationRequest(
        scenario,
        arm,
        _whole(trials, "trials", 1, MAX_SIM_TRIALS),
        _whole(seed, "seed", 0, 2**31 - 1),
        tite,
    )


def run_simulation(protocol: Protocol, req: SimulationRequest) -> Summary:
    """Operating characteristics of the arm's design under the scenario (protocol windows)."""
    # A protocol scenario has a truth per dose level; the design may have fewer (the fallback
    # outside the dose finding), so it is restricted to the design's doses.
    scenario = with_protocol_windows(for_design(builtin_scenario(req.scenario), protocol), protocol)
    return simulate(scenario, protocol.design_params(req.arm), req.trials, req.seed, tite=req.tite)


# --------------------------------------------------------------------------- design report


def design_report(settings: Settings, locale: str) -> str:
    """The protocol design report as one HTML page: the Reports page's document and cache
    (:func:`dosewise.report.downloads.design_download`)."""
    from dosewise.report.downloads import design_download

    lang = "zh" if locale.startswith("zh") else "en"
    return design_download(settings, fmt="html", lang=lang).read().decode("utf-8")


def dose_labels(protocol: Protocol) -> Sequence[str]:
    """Level names in design order (index 1 first): ``DL-1``, ``DL1``, ``DL2``."""
    return protocol.dose_levels.names


def clinical_levels(protocol: Protocol) -> tuple[dosing.DoseLevel, ...]:
    """The protocol's dose ladder as the dosing rule's levels, in design order."""
    return protocol.dose_levels.clinical_levels()
