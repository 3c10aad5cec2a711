"""Simulation commands: ``simulate`` (operating characteristics) and ``scenarios`` (built-ins)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from dosewise.cli.app import app
from dosewise.cli.options import design_from_options, print_json, with_design_options
from dosewise.design.params import Boin12Params
from dosewise.errors import InvalidInput, InvalidParameter
from dosewise.simulate.exact import DEFAULT_MAX_STATES, TooManyStates
from dosewise.simulate.exact_summary import exact_summary
from dosewise.simulate.executors import CHUNK_SIZE
from dosewise.simulate.run import simulate as run_simulation
from dosewise.simulate.scenario import (
    DAYS_PER_MONTH,
    Accrual,
    EventTimes,
    Scenario,
    builtin_scenarios,
    make_scenario,
    resolve_scenario,
)
from dosewise.simulate.summary import OperatingCharacteristics, Summary

console = Console()
if not console.is_terminal:
    console = Console(width=120)  # pipes and files: room for the table without wrapping
err_console = Console(stderr=True)

#: Show a progress bar from this many trials on (or always with --progress).
PROGRESS_FROM = 20 * CHUNK_SIZE
#: CLI option names that differ from Boin12Params fields.
_OPTION_OF_FIELD = {"n_doses": "doses"}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
Setting = "Scenario setting (overrides the scenario file)"


def _explicit(ctx: typer.Context, name: str) -> bool:
    """Whether the user gave option ``name`` (Typer may vendor Click: compare by name)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def _scenario(
    scenario: str | None,
    p_tox: list[float] | None,
    p_eff: list[float] | None,
    rho: float | None,
    correlation: str,
) -> Scenario:
    if scenario is not None:
        if p_tox or p_eff:
            raise InvalidInput("scenario", scenario, "give --scenario or --p-tox/--p-eff, not both")
        if rho is not None:
            raise InvalidInput("rho", rho, "goes with --p-tox/--p-eff; a scenario sets its own")
        return resolve_scenario(scenario)
    if not p_tox or not p_eff:
        missing = "p-tox" if not p_tox else "p-eff"
        raise InvalidInput(missing, None, "required: --scenario NAME|FILE, or --p-tox and --p-eff")
    if correlation not in ("gumbel", "normal", "odds_ratio"):
        raise InvalidInput("correlation", correlation, "must be gumbel, normal or odds_ratio")
    value = rho if rho is not None else (1.0 if correlation == "odds_ratio" else 0.0)
    return make_scenario("custom", p_tox, p_eff, rho=value, model=correlation)  # type: ignore[arg-type]


def _with_setting(ctx: typer.Context, sc: Scenario, values: dict[str, Any]) -> Scenario:
    """Apply the setting options the user gave (accrual, windows, event times)."""
    accrual = sc.accrual
    if _explicit(ctx, "accrual") or _explicit(ctx, "accrual_dist") or _explicit(ctx, "suspension"):
        accrual = Accrual(
            rate=values["accrual"] if _explicit(ctx, "accrual") else accrual.rate,
            distribution=values["accrual_dist"]
            if _explicit(ctx, "accrual_dist")
            else accrual.distribution,
            suspension=values["suspension"] if _explicit(ctx, "suspension") else accrual.suspension,
        )
    events = sc.event_times
    if _explicit(ctx, "event_times"):
        events = EventTimes(
            distribution=values["event_times"],
            tox_early_share=events.tox_early_share,
            eff_early_share=events.eff_early_share,
        )
    changes: dict[str, Any] = {"accrual": accrual, "event_times": events}
    for name in ("tox_window", "eff_window"):
        if _explicit(ctx, name):
            changes[name] = values[name]
    return sc.with_(**changes)


def _design(ctx: typer.Context, options: dict[str, Any], sc: Scenario) -> Boin12Params:
    """The design for this scenario: its number of doses and suggested settings by default.

    Built only now, so that e.g. ``--start-dose 4`` is checked against a 5-dose scenario.
    """
    changes: dict[str, Any] = {}
    if not _explicit(ctx, "doses"):
        changes["n_doses"] = sc.n_doses
    for key, value in sc.design.items():
        # Settings without a CLI option, or whose option was not given, come from the scenario.
        if not _explicit(ctx, _OPTION_OF_FIELD.get(key, key)):
            changes[key] = value
    design = design_from_options(options, **changes)
    sc.check_design(design)
    return design


@app.command("simulate")
@with_design_options
def simulate_cmd(
    ctx: typer.Context,
    design_options: dict[str, Any],
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Built-in scenario name or a YAML file.")
    ] = None,
    p_tox: Annotated[
        list[float] | None, typer.Option("--p-tox", help="True DLT probability per dose.")
    ] = None,
    p_eff: Annotated[
        list[float] | None, typer.Option("--p-eff", help="True response probability per dose.")
    ] = None,
    rho: Annotated[
        float | None,
        typer.Option("--rho", help="Association (ρ; ψ for odds_ratio). Default independence."),
    ] = None,
    correlation: Annotated[
        str, typer.Option("--correlation", help="gumbel (FGM), normal or odds_ratio.")
    ] = "gumbel",
    trials: Annotated[int, typer.Option("--trials", help="Number of simulated trials.")] = 10_000,
    tite: Annotated[bool, typer.Option("--tite", help="Simulate TITE-BOIN12.")] = False,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="Exact operating characteristics (BOIN12, not TITE): every outcome path "
            "weighted by its probability, no Monte Carlo error.",
        ),
    ] = False,
    max_states: Annotated[
        int,
        typer.Option("--max-states", help="With --exact: refuse designs needing more states."),
    ] = DEFAULT_MAX_STATES,
    accrual: Annotated[
        float, typer.Option("--accrual", help="Patients per month.", rich_help_panel=Setting)
    ] = 2.0,
    accrual_dist: Annotated[
        str,
        typer.Option("--accrual-dist", help="uniform or poisson.", rich_help_panel=Setting),
    ] = "uniform",
    suspension: Annotated[
        str,
        typer.Option(
            "--suspension",
            help="Patient arriving while accrual is suspended: wait or next_arrival.",
            rich_help_panel=Setting,
        ),
    ] = "wait",
    tox_window: Annotated[
        float, typer.Option("--tox-window", help="DLT window, days.", rich_help_panel=Setting)
    ] = 28.0,
    eff_window: Annotated[
        float,
        typer.Option("--eff-window", help="Efficacy window, days.", rich_help_panel=Setting),
    ] = 90.0,
    event_times: Annotated[
        str,
        typer.Option(
            "--event-times", help="Event times: uniform or weibull.", rich_help_panel=Setting
        ),
    ] = "uniform",
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler tcp://host:port or scheduler file."),
    ] = None,
    as_json: JsonOpt = False,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the table as CSV.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Save a figure (PNG).")] = None,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bar on stderr (auto)."),
    ] = None,
) -> None:
    """Operating characteristics of BOIN12 / TITE-BOIN12 under a scenario (simulated or exact)."""
    if exact and tite:
        raise InvalidInput(
            "exact", True, "exact operating characteristics are for BOIN12 only, not --tite"
        )
    sc = _scenario(scenario, p_tox, p_eff, rho, correlation)
    values = {
        "accrual": accrual,
        "accrual_dist": accrual_dist,
        "suspension": suspension,
        "tox_window": tox_window,
        "eff_window": eff_window,
        "event_times": event_times,
    }
    sc = _with_setting(ctx, sc, values)
    params = _design(ctx, design_options, sc)
    summary: OperatingCharacteristics
    if exact:
        summary = _run_exact(sc, params, max_states, progress)
    else:
        if isinstance(trials, bool) or trials < 1:
            raise InvalidParameter("trials", trials, "must be a whole number >= 1")
        if workers is not None and workers < 1:
            raise InvalidParameter("workers", workers, "must be a whole number >= 1")
        seed = params.seed
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        show = progress if progress is not None else trials >= PROGRESS_FROM
        summary = _run(sc, params, trials, seed, tite, workers, scheduler, show)
    if csv is not None:
        summary.to_csv(str(csv))
    if plot is not None:
        from dosewise.simulate.figures import plot_summary

        plot_summary(summary, plot)
    if as_json:
        print_json(summary.to_dict())
        return
    _print_summary(summary)
    for label, path in (("CSV", csv), ("figure", plot)):
        if path is not None:
            console.print(f"wrote {label}: {path}")


def _run_exact(
    sc: Scenario, params: Boin12Params, max_states: int, progress: bool | None
) -> OperatingCharacteristics:
    """Exact OCs; a design over the state budget gets one line that suggests simulation."""
    if isinstance(max_states, bool) or max_states < 1:
        raise InvalidParameter("max_states", max_states, "must be a whole number >= 1")
    cohorts = -(-params.max_n // params.cohort_size)
    try:
        if not progress:  # seconds at most: a bar only when asked for
            return exact_summary(sc, params, max_states=max_states)
        columns = (TextColumn("exact OCs {task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(f"{sc.name} (cohorts)", total=cohorts)
            return exact_summary(
                sc,
                params,
                max_states=max_states,
                progress=lambda step, total: bar.update(task, completed=step, total=total),
            )
    except TooManyStates as exc:
        raise TooManyStates(
            "design",
            f"{params.n_doses} doses, max N {params.max_n}, cohorts of {params.cohort_size}",
            f"too large for exact computation ({exc.value}; limit {max_states:,}); "
            "simulate instead: drop --exact (e.g. --trials 100000)",
        ) from None


def _run(
    sc: Scenario,
    params: Boin12Params,
    trials: int,
    seed: int,
    tite: bool,
    workers: int | None,
    scheduler: str | None,
    show: bool,
) -> Summary:
    if not show:
        return run_simulation(
            sc, params, trials, seed, tite=tite, workers=workers, scheduler=scheduler
        )
    columns = (
        TextColumn("simulating {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console) as bar:
        task = bar.add_task(sc.name, total=trials)
        return run_simulation(
            sc,
            params,
            trials,
            seed,
            tite=tite,
            workers=workers,
            scheduler=scheduler,
            progress=lambda done: bar.advance(task, done),
        )


def _fmt(value: float, se: float | None = None, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text if se is None else f"{text} ({se:.{digits}f})"


def _print_summary(summary: OperatingCharacteristics) -> None:
    data = summary.to_dict()
    f = summary.figures()
    p = summary.params
    j = p.n_doses
    engine = "TITE-BOIN12" if summary.tite else "BOIN12"
    exact = summary.trials is None
    if exact:
        how = f"exact ({data.get('states', 0):,} states)"
        caption = "Exact: no Monte Carlo error; * true OBD."
    else:
        how = f"{summary.trials:,} trials, seed {summary.run_seed}"
        caption = "Monte Carlo standard errors in brackets; * true OBD."
    title = f"{engine} operating characteristics — scenario '{summary.scenario.name}', {how}"
    table = Table(title=title, caption=caption)
    for col in ("dose", "p(DLT)", "p(resp)", "utility", "sel. %", "n (SD)", "pts %", "DLT", "resp"):
        table.add_column(col, justify="right")
    utility = summary.scenario.utility(p)
    for d in range(j):
        mark = "*" if summary.true_obd == d + 1 else ""
        table.add_row(
            f"{d + 1}{mark}",
            f"{summary.scenario.p_tox[d]:.2f}",
            f"{summary.scenario.p_eff[d]:.2f}",
            f"{utility[d]:.1f}",
            _fmt(f["selection_pct"][d], None if exact else f["selection_se"][d]),
            f"{f['mean_n'][d]:.1f} ({f['sd_n'][d]:.1f})",
            _fmt(f["pct_patients"][d], None if exact else f["pct_patients_se"][d]),
            f"{f['mean_tox'][d]:.2f}",
            f"{f['mean_eff'][d]:.2f}",
        )
    none_mark = "*" if summary.true_obd is None else ""
    none_se = None if exact else f["selection_se"][j]
    table.add_row(f"none{none_mark}", "", "", "", _fmt(f["selection_pct"][j], none_se))
    console.print(table)
    if summary.scenario.dose_labels:
        names = ", ".join(f"{d + 1} = {x}" for d, x in enumerate(summary.scenario.dose_labels))
        console.print(f"doses: {names}")
    obd = "none" if summary.true_obd is None else str(summary.true_obd)
    months = data["mean_duration_days"] / DAYS_PER_MONTH
    months_se = data["se_duration_days"] / DAYS_PER_MONTH

    def se(value: float) -> str:
        return "" if exact else f" ({value:.1f})"

    console.print(
        f"true OBD (*): {obd}; correct selection {_fmt(data['pct_select_true_obd'])}%"
        f"{se(data['pct_select_true_obd_se'])}; patients at the true OBD "
        f"{_fmt(data['pct_patients_at_true_obd'])}%; above the true MTD "
        f"{_fmt(data['pct_patients_above_mtd'])}%; early stop without OBD "
        f"{_fmt(data['early_stop_pct'])}%{se(data['early_stop_se'])}; mean N "
        f"{data['mean_total_n']:.1f}; mean duration {months:.1f} months{se(months_se)}"
    )
    sc = summary.scenario
    console.print(
        f"design: φT={p.phi_t}, φE={p.phi_e}, u11={p.u11:g}, u00={p.u00:g}, c_T={p.c_t}, "
        f"c_E={p.c_e}, N*={p.n_star}, N2={p.n2 or 'off'}, cohort {p.cohort_size}, "
        f"max N {p.max_n}, n_earlystop {p.n_earlystop or 'off'}, start dose {p.start_dose}, "
        f"tie-break {p.tie_break}; association {sc.correlation} {sc.association:g}; accrual "
        f"{sc.accrual.rate:g}/month {sc.accrual.distribution}; windows {sc.tox_window:g}/"
        f"{sc.eff_window:g} days; {summary.seconds:.2f} s"
    )


@app.command("scenarios")
def scenarios_cmd(as_json: JsonOpt = False) -> None:
    """List the built-in scenarios (true OBD under the default design φT, φE, utilities)."""
    rows: list[dict[str, Any]] = []
    for sc in builtin_scenarios():
        params = Boin12Params(n_doses=sc.n_doses)
        rows.append(
            {
                "name": sc.name,
                "n_doses": sc.n_doses,
                "true_obd": sc.true_obd(params),
                "true_mtd": sc.true_mtd(params),
                "p_tox": [round(float(v), 6) for v in sc.p_tox],
                "p_eff": [round(float(v), 6) for v in sc.p_eff],
                "correlation": {"model": sc.correlation, "value": sc.association},
                "description": sc.description,
                "tags": list(sc.tags),
            }
        )
    if as_json:
        print_json({"scenarios": rows})
        return
    table = Table(title="Built-in scenarios (true OBD with φT=0.35, φE=0.25, u11=60, u00=40)")
    for col in ("name", "doses", "p(DLT)", "p(response)", "true OBD", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            str(r["n_doses"]),
            " ".join(f"{v:g}" for v in r["p_tox"]),
            " ".join(f"{v:g}" for v in r["p_eff"]),
            "none" if r["true_obd"] is None else str(r["true_obd"]),
            r["description"],
        )
    console.print(table)
