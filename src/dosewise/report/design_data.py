"""What the design report states about one arm's design, each figure computed by the core.

Nothing here re-derives a rule: boundaries and RDS grids come from
:func:`dosewise.design.table_format.decision_tables`, decisions from
:class:`dosewise.design.Boin12` / :class:`dosewise.design.TiteBoin12`, the benchmark utility
from :mod:`dosewise.design.utility`, and the phase 2 design from
:func:`dosewise.design.bop2.optimise_bop2`. This module only chooses what to show and records
where each parameter came from (a registry fact, a protocol assumption or a design default).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dosewise.design.boin import BoinBoundaries, boin_boundaries
from dosewise.design.boin12 import Boin12
from dosewise.design.bop2 import optimise_bop2
from dosewise.design.bop2_model import Bop2Result
from dosewise.design.params import U01, U10, Boin12Params
from dosewise.design.table_format import DecisionTables, decision_tables
from dosewise.design.tables import boundary_frame, rds_grid
from dosewise.design.tite import TiteBoin12, TiteDecision, TitePatient
from dosewise.design.utility import benchmark_utility, desirability, mean_utility
from dosewise.errors import InvalidParameter
from dosewise.protocol.base import Fact
from dosewise.protocol.model import Arm, Protocol
from dosewise.report.i18n import N_

#: ``compute(inputs, thunk)``: ``thunk()``'s result, perhaps kept under ``inputs``
#: (:meth:`dosewise.report.oc_cache.OcCache.get_or_compute`).
Memo = Callable[[tuple[Any, ...], Callable[[], Bop2Result]], Bop2Result]

#: Largest n with a printed RDS grid (a grid has (n + 1)² cells).
MAX_GRID_N = 24

#: How the report names each tie-break rule, and the sentence that states it.
TIE_BREAK_NAMES = {"random": N_("random"), "higher": N_("higher dose"), "lower": N_("lower dose")}
TIE_BREAK_TEXT = {
    "random": N_(
        "<b>Ties.</b> If two candidates have exactly the same desirability — typically two "
        "untried doses at their prior value — one of them is chosen at random with equal "
        "probability."
    ),
    "higher": N_(
        "<b>Ties.</b> If two candidates have exactly the same desirability — typically two "
        "untried doses at their prior value — the higher dose is chosen."
    ),
    "lower": N_(
        "<b>Ties.</b> If two candidates have exactly the same desirability — typically two "
        "untried doses at their prior value — the lower dose is chosen."
    ),
}
#: How the report names the registry role of a dose level.
ROLE_NAMES = {
    "fallback": N_("fallback if manufacturing falls short"),
    "start": N_("starting dose"),
    "escalation": N_("escalation"),
}


@dataclass(frozen=True, slots=True)
class ParamRow:
    """One design parameter as the report lists it: symbol, meaning, value and its source."""

    symbol: str
    meaning: str  # an English message id (translated in the template)
    value: str
    source: str  # "registry", "assumption" or "default"
    why: str | None = None
    translate: bool = False  # the value is itself a message id (e.g. the tie-break rule)
    why_zh: str | None = None  # the reason in Chinese, when the protocol file gives it


@dataclass(frozen=True, slots=True)
class FirstDecision:
    """The decision after the first cohort at the start dose, for #DLT and #responses."""

    tox: int
    eff: int
    outcomes: str
    next_dose: int | None
    tied: tuple[int, ...]
    stop: bool


@dataclass(frozen=True, slots=True)
class TiteExample:
    """An illustrative TITE-BOIN12 decision with its inputs (patients at the start dose)."""

    patients: tuple[TitePatient, ...]
    decision: TiteDecision


@dataclass(frozen=True, slots=True)
class Phase2Plan:
    """The BOP2 design of one arm's phase 2 and where its inputs came from.

    ``result.design`` is what the trial service signs at the phase 1 closure when the RP2D has
    ``n_phase1_at_rp2d`` phase 1 patients (both build it with ``Bop2Plan.design``).
    ``rates_overridden`` says that ``--p0``/``--p1`` replaced the protocol's ``protocol_p0`` and
    ``protocol_p1``; ``assumed`` that a phase 2 setting the report uses is an assumption of the
    protocol file (listed in Appendix A).
    """

    result: Bop2Result
    rates_overridden: bool
    protocol_p0: float
    protocol_p1: float
    assumed: bool
    n_phase1_at_rp2d: int
    n_expansion: int

    @property
    def interim_looks(self) -> tuple[int, ...]:
        """The evaluable counts of the interim analyses (every look but the final one at N)."""
        return self.result.design.looks[:-1]


@dataclass(frozen=True, slots=True)
class DesignGroup:
    """Arms that share one design: everything the report prints about that design."""

    arms: tuple[Arm, ...]
    params: Boin12Params
    params_rows: tuple[ParamRow, ...]
    bounds: BoinBoundaries
    boundaries: pd.DataFrame
    tables: DecisionTables | None  # None when utilities are not additive (no grid by counts)
    u_b: float
    u_bar: float
    prior_desirability: float
    utilities: dict[str, float]
    first_decisions: tuple[FirstDecision, ...]
    pending_limits: tuple[tuple[int, int], ...]
    tite_examples: tuple[TiteExample, ...]
    phase2: Phase2Plan | None

    @property
    def arm_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.arms)

    def grid_sizes(self) -> tuple[int, ...]:
        """Sample sizes with an RDS grid worth printing (n = 0 is the prior only)."""
        return () if self.tables is None else tuple(n for n in self.tables.sizes if n > 0)

    def boundary_rows(self) -> list[dict[str, Any]]:
        """The boundary table as plain rows (None for "no such count")."""
        rows = []
        for rec in self.boundaries.astype(object).to_dict(orient="records"):
            rows.append({str(k): _count(v) for k, v in rec.items()})
        return rows

    def rds_cells(self, n: int) -> list[list[str]]:
        """The RDS grid for n patients as text cells: rows #DLT 0..n, columns #responses 0..n."""
        if self.tables is None:
            return []
        grid = rds_grid(self.tables.rds, n)
        return [[str(v) for v in grid.loc[t].tolist()] for t in grid.index]


def _count(value: Any) -> Any:
    """A table cell: None for "no such count", whole floats (from NaN-padded columns) as int."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fact_source(fact: Fact[Any] | None) -> tuple[str, str | None, str | None]:
    """Where a value comes from, and the assumption's reason in English and Chinese."""
    if fact is None:
        return "default", None, None
    if fact.assumption:
        return "assumption", fact.why, fact.why_zh
    return "registry", None, None


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def parameter_rows(protocol: Protocol, arm_id: str, params: Boin12Params) -> tuple[ParamRow, ...]:
    """Every design parameter with its value in ``params`` and its source in the protocol."""
    design = protocol.design
    own = design.per_arm.get(arm_id)
    settings = design.boin12

    def setting(name: str) -> Fact[Any]:
        if own is not None and name in own.boin12:
            return own.boin12[name]
        fact: Fact[Any] = getattr(settings, name)
        return fact

    rows: list[ParamRow] = []

    def add(
        symbol: str,
        meaning: str,
        value: Any,
        fact: Fact[Any] | None,
        translate: bool = False,
        source: str | None = None,
    ) -> None:
        found, why, why_zh = _fact_source(fact)
        rows.append(ParamRow(symbol, meaning, _fmt(value), source or found, why, translate, why_zh))

    ladder = protocol.dose_levels
    add("J", N_("Number of dose levels"), params.n_doses, None, source="registry")
    start = ladder.start
    add(
        N_("start"),
        N_("Starting dose (design index)"),
        f"{params.start_dose} ({start.name})",
        start.design_index,
    )
    add("φT", N_("Highest acceptable DLT rate"), params.phi_t, setting("phi_t"))
    add("φE", N_("Lowest acceptable response rate"), params.phi_e, setting("phi_e"))
    add("φ1", N_("DLT rate deemed sub-therapeutic (0.6 φT)"), round(params.phi1, 6), None)
    add("φ2", N_("DLT rate deemed overly toxic (1.4 φT)"), round(params.phi2, 6), None)
    add("u(0,1)", N_("Utility of response without DLT"), U01, None)
    add("u(1,1)", N_("Utility of response with DLT"), params.u11, setting("u11"))
    add("u(0,0)", N_("Utility of neither response nor DLT"), params.u00, setting("u00"))
    add("u(1,0)", N_("Utility of DLT without response"), U10, None)
    add("c_T", N_("Toxicity elimination cut-off"), params.c_t, setting("c_t"))
    add("c_E", N_("Futility elimination cut-off"), params.c_e, setting("c_e"))
    add(
        "N*",
        N_("No escalation from the stay zone once this many are treated"),
        params.n_star,
        setting("n_star"),
    )
    add(
        "N2",
        N_("Extra dose exploration from this many treated (0 = off)"),
        params.n2,
        setting("n2"),
    )
    add(
        "n_earlystop",
        N_("Phase 1 ends when a dose has this many patients"),
        params.n_earlystop,
        setting("n_earlystop"),
    )
    add(N_("cohort"), N_("Cohort size"), params.cohort_size, design.cohort_size)
    phase1 = own.phase1_max_n if own is not None and own.phase1_max_n else None
    add(
        "N",
        N_("Phase 1 maximum sample size per arm"),
        params.max_n,
        phase1 or design.phase1_max_n_per_arm,
    )
    expansion = own.phase2_expansion if own is not None and own.phase2_expansion else None
    add(
        N_("expansion"),
        N_("Phase 2 expansion per arm"),
        design.phase2_expansion(arm_id),
        expansion or design.phase2_expansion_per_arm,
    )
    tie_name = TIE_BREAK_NAMES[params.tie_break]
    add(
        N_("tie-break"),
        N_("Rule for exactly tied desirabilities"),
        tie_name,
        setting("tie_break"),
        translate=True,
    )
    add(
        N_("prior"),
        N_("Prior of toxicity, response and utility"),
        f"Beta({_fmt(params.prior_a)}, {_fmt(params.prior_b)})",
        None,
    )
    add(N_("min DLT"), N_("Fewest DLTs that can eliminate a dose"), params.tox_elim_min_dlt, None)
    add(N_("min n"), N_("Fewest patients before either elimination"), params.elim_min_n, None)
    add("maxpen", N_("TITE: largest pending share that allows a decision"), params.maxpen, None)
    return tuple(rows)


def first_decisions(params: Boin12Params) -> tuple[FirstDecision, ...]:
    """The decision after one cohort at the start dose, for every #DLT and #responses."""
    design = Boin12(params)
    rng = np.random.default_rng(0)  # only the tied set is shown, never the random draw
    size = params.cohort_size
    rows = []
    for tox in range(size + 1):
        for eff in range(size + 1):
            both = max(0, tox + eff - size)
            letters = "B" * both + "T" * (tox - both) + "E" * (eff - both)
            letters += "N" * (size - len(letters))
            outcomes = f"{params.start_dose}{letters}"
            d = design.decide(outcomes, rng=rng)
            tied = d.tied if len(d.tied) > 1 else ()
            rows.append(FirstDecision(tox, eff, outcomes, d.next_dose, tied, d.stop))
    return tuple(rows)


def pending_limits(params: Boin12Params, cohorts: int = 6) -> tuple[tuple[int, int], ...]:
    """(n at the current dose, most patients with a pending outcome that still allow a decision).

    The suspension rule alone (maxpen): n_earlystop is switched off here, since at n_earlystop
    TiteBoin12 answers "accrual complete" before it would ask whether accrual waits.
    """
    tite = TiteBoin12(params.with_(n_earlystop=0))
    out = []
    for k in range(1, cohorts + 1):
        n = k * params.cohort_size
        if n >= params.max_n:  # at the maximum no further cohort is enrolled
            break
        allowed = 0
        for pending in range(n + 1):
            # n patients at the start dose, `pending` of them just treated (day 0), the rest
            # complete without events; the rule itself says whether accrual must wait.
            patients = [TitePatient(params.start_dose, 365.0)] * (n - pending) + [
                TitePatient(params.start_dose, 0.0)
            ] * pending
            if tite.decide(patients, rng=np.random.default_rng(0)).wait:
                break
            allowed = pending
        out.append((n, allowed))
    return tuple(out)


def tite_examples(
    params: Boin12Params, tox_days: float, eff_days: float
) -> tuple[TiteExample, ...]:
    """Two decisions at the start dose: one allowed, one where accrual must wait."""
    tite = TiteBoin12(params, tox_window=tox_days, eff_window=eff_days)
    d = params.start_dose
    cases = (
        # Two responders beyond the DLT window, one patient 20 days out: one pending, decide.
        (
            TitePatient(d, round(0.78 * eff_days), response=True),
            TitePatient(d, round(0.56 * eff_days), response=True),
            TitePatient(d, round(0.72 * tox_days)),
        ),
        # Nobody has responded yet and two are inside the DLT window: accrual waits.
        (
            TitePatient(d, round(0.45 * eff_days)),
            TitePatient(d, round(0.9 * tox_days)),
            TitePatient(d, round(0.35 * tox_days)),
        ),
    )
    return tuple(
        TiteExample(case, tite.decide(case, rng=np.random.default_rng(0))) for case in cases
    )


def phase2_plan(
    protocol: Protocol,
    arm_id: str,
    p0: float | None = None,
    p1: float | None = None,
    compute: Memo | None = None,
) -> Phase2Plan | None:
    """BOP2 for the arm's phase 2 from the protocol's ``design.phase2`` (§ docs/bop2).

    N counts the most phase 1 patients the RP2D can have (the phase 1 maximum, or n_earlystop if
    less) plus the expansion. ``p0``/``p1`` (the CLI's ``--p0``/``--p1``) replace the protocol's
    rates for this report only; everything else is the design the trial service signs.
    ``compute(inputs, thunk)`` may cache the optimised boundaries (the report passes its OC
    cache: a pure function of the BOP2 design, and what needs SciPy's statistics).
    """
    plan = protocol.bop2_plan(arm_id)
    if plan.expansion <= 0:
        return None
    at_rp2d = protocol.design.phase1_most_at_one_dose(arm_id)
    try:
        design = plan.with_(p0=p0, p1=p1).design(at_rp2d)
    except InvalidParameter as exc:
        raise InvalidParameter(exc.field, exc.value, exc.rule + " (phase 2 BOP2)") from None
    used = ["alpha", "interim_looks", "monitor_toxicity"]
    used += [] if p0 is not None and p1 is not None else ["p0", "p1"]
    used += ["phi_t0", "phi_t1"] if plan.monitor_toxicity else []
    facts = [protocol.design.phase2_fact(arm_id, name) for name in used]

    def optimise() -> Bop2Result:
        return optimise_bop2(design)

    return Phase2Plan(
        result=optimise() if compute is None else compute(("bop2", design), optimise),
        rates_overridden=p0 is not None or p1 is not None,
        protocol_p0=plan.p0,
        protocol_p1=plan.p1,
        assumed=any(f is not None and f.assumption for f in facts),
        n_phase1_at_rp2d=at_rp2d,
        n_expansion=plan.expansion,
    )


def design_group(
    protocol: Protocol,
    arms: tuple[Arm, ...],
    p0: float | None = None,
    p1: float | None = None,
    compute: Memo | None = None,
) -> DesignGroup:
    """Everything the report says about the design shared by ``arms`` (``compute``: see
    :func:`phase2_plan`)."""
    arm_id = arms[0].id
    params = protocol.design_params(arm_id)
    step = params.cohort_size
    sizes = sorted({*range(step, params.max_n + 1, step), params.max_n})
    tables = decision_tables(params, min(params.max_n, MAX_GRID_N)) if params.additive else None
    windows = protocol.windows
    return DesignGroup(
        arms=arms,
        params=params,
        params_rows=parameter_rows(protocol, arm_id, params),
        bounds=boin_boundaries(params.phi_t, params.phi1, params.phi2),
        boundaries=boundary_frame(params, sizes),
        tables=tables,
        u_b=benchmark_utility(params),
        u_bar=mean_utility(params.phi_t, params.phi_e, params.u11, params.u00),
        prior_desirability=float(desirability(0, 0.0, params)),
        utilities={"u01": U01, "u11": params.u11, "u00": params.u00, "u10": U10},
        # By counts only when utility depends on counts only (u11 + u00 = 100; boin12.md §3.3).
        first_decisions=first_decisions(params) if params.additive else (),
        pending_limits=pending_limits(params),
        tite_examples=tite_examples(params, windows.dlt_days, windows.bor.target_day.value),
        phase2=phase2_plan(protocol, arm_id, p0, p1, compute),
    )


def design_groups(
    protocol: Protocol,
    p0: float | None = None,
    p1: float | None = None,
    compute: Memo | None = None,
) -> tuple[DesignGroup, ...]:
    """Arms grouped by identical design (the same BOIN12 settings and BOP2 plan)."""
    keyed: dict[str, list[Arm]] = {}
    for arm in protocol.arms:
        params = protocol.design_params(arm.id)
        key = repr((sorted(params.to_dict().items()), protocol.bop2_plan(arm.id)))
        keyed.setdefault(key, []).append(arm)
    return tuple(design_group(protocol, tuple(arms), p0, p1, compute) for arms in keyed.values())
