"""``dosewise search``: many BOIN12 designs × many scenarios, ranked (exact or simulated)."""

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
from dosewise.simulate.exact import DEFAULT_MAX_STATES
from dosewise.simulate.scenario import Scenario
from dosewise.simulate.search import (
    METRICS,
    Mode,
    SearchResult,
    build_designs,
    check_rank_by,
    common_suggestions,
    grid_settings,
    load_designs,
    parse_grid,
    resolve_scenarios,
    search,
)
from dosewise.simulate.search_output import LABELS, plot_search, write_csv, write_html

console = Console()
if not console.is_terminal:
    console = Console(width=160)
err_console = Console(stderr=True)

_OPTION_OF_FIELD = {"n_doses": "doses"}


def _explicit(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def _base_design(
    ctx: typer.Context, options: dict[str, Any], scenarios: list[Scenario]
) -> Boin12Params:
    """Defaults, then settings every scenario suggests, then the options given (built only
    once the scenarios' number of doses is known)."""
    changes: dict[str, Any] = {}
    if not _explicit(ctx, "doses"):
        changes["n_doses"] = scenarios[0].n_doses
    for key, value in common_suggestions(scenarios).items():
        if not _explicit(ctx, _OPTION_OF_FIELD.get(key, key)):
            changes[key] = value
    design = design_from_options(options, **changes)
    for sc in scenarios:
        sc.check_design(design)
    return design


@app.command("search")
@with_design_options
def search_cmd(
    ctx: typer.Context,
    design_options: dict[str, Any],
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            help="NAME=V1,V2,... for a design setting (phi_e, u11, n_star, ...); repeat it.",
        ),
    ] = None,
    designs_file: Annotated[
        Path | None,
        typer.Option("--designs", help="YAML/JSON list of designs (maps of settings)."),
    ] = None,
    scenarios: Annotated[
        list[str] | None,
        typer.Option(
            "--scenarios",
            help="Built-in names, groups (e.g. nct07070323) or YAML files (repeat, or commas).",
        ),
    ] = None,
    trials: Annotated[
        int, typer.Option("--trials", help="Trials per simulated design × scenario.")
    ] = 10_000,
    exact: Annotated[
        bool, typer.Option("--exact", help="Exact OCs only (fail if a design is too large).")
    ] = False,
    simulate_only: Annotated[
        bool, typer.Option("--simulate", help="Simulate every design (no exact OCs).")
    ] = False,
    tite: Annotated[bool, typer.Option("--tite", help="TITE-BOIN12 (always simulated).")] = False,
    rank_by: Annotated[
        str, typer.Option("--rank-by", help=f"Criterion: {', '.join(METRICS)}.")
    ] = "pct_select_true_obd",
    order: Annotated[
        str | None,
        typer.Option("--order", help="descending or ascending (default: the better way)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler tcp://host:port or scheduler file."),
    ] = None,
    max_states: Annotated[
        int, typer.Option("--max-states", help="State budget of one exact computation.")
    ] = DEFAULT_MAX_STATES,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write design × scenario rows as CSV.")
    ] = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML page with the tables.")
    ] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Save a figure (PNG).")] = None,
    top: Annotated[int, typer.Option("--top", help="Designs shown in the table (0 = all).")] = 20,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")
    ] = True,
) -> None:
    """Compare designs (a grid or a list) over scenarios; rank by a criterion averaged over them."""
    if exact and simulate_only:
        raise InvalidInput("exact", True, "give --exact or --simulate, not both")
    if exact and tite:
        raise InvalidInput(
            "exact", True, "exact operating characteristics are for BOIN12, not --tite"
        )
    if grid and designs_file is not None:
        raise InvalidInput("designs", str(designs_file), "give --grid or --designs, not both")
    if not scenarios:
        raise InvalidInput("scenarios", None, "required: built-in names, a group or YAML files")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise InvalidParameter("workers", workers, "must be a whole number >= 1")
    if top < 0:
        raise InvalidParameter("top", top, "must be >= 0 (0 shows every design)")
    check_rank_by(rank_by, order)
    if isinstance(trials, bool) or trials < 1:
        raise InvalidParameter("trials", trials, "must be a whole number >= 1")
    scs = resolve_scenarios(scenarios)
    base = _base_design(ctx, design_options, scs)
    settings = load_designs(designs_file) if designs_file else grid_settings(parse_grid(grid or []))
    designs = build_designs(base, settings)
    seed = (
        base.seed if base.seed is not None else int(np.random.SeedSequence().generate_state(1)[0])
    )
    mode: Mode = "exact" if exact else "simulate" if simulate_only else "auto"
    kwargs: dict[str, Any] = dict(
        trials=trials, seed=seed, mode=mode, tite=tite, rank_by=rank_by, order=order,
        workers=workers, scheduler=scheduler, max_states=max_states,
    )  # fmt: skip
    total = len(designs) * len(scs)
    if progress:
        columns = (
            TextColumn("searching {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err_console) as bar:
            task = bar.add_task(f"{len(designs)} designs × {len(scs)} scenarios", total=total)
            result = search(
                designs, settings, scs, progress=lambda k: bar.advance(task, k), **kwargs
            )
    else:
        result = search(designs, settings, scs, **kwargs)
    if csv is not None:
        write_csv(result, csv)
    if plot is not None:
        plot_search(result, plot)
    if html_file is not None:
        figure = None
        if plot is not None:
            try:
                figure = str(plot.resolve().relative_to(html_file.resolve().parent))
            except ValueError:
                figure = str(plot.resolve())
        write_html(result, html_file, figure)
    if as_json:
        print_json(result.to_dict())
        return
    _print(result, top)
    for label, path in (("CSV", csv), ("HTML", html_file), ("figure", plot)):
        if path is not None:
            console.print(f"wrote {label}: {path}")


def _print(result: SearchResult, top: int) -> None:
    ranking = result.ranking()
    shown = ranking if top == 0 else ranking[:top]
    names: list[str] = []
    for entry in ranking:
        names += [k for k in entry["settings"] if k not in names]
    title = (
        f"Design search: {len(result.designs)} designs × {len(result.scenarios)} scenarios, "
        f"ranked by mean {LABELS[result.rank_by]} ({result.order})"
    )
    table = Table(title=title, caption=f"Means over: {', '.join(result.scenarios)}")
    for col in ("rank", "design", *names):
        table.add_column(col, justify="right")
    metrics = list(METRICS)
    for name in metrics:
        table.add_column(LABELS[name], justify="right")
    table.add_column("method")
    for entry in shown:
        cells = [str(entry["rank"]), str(entry["design"] + 1)]
        cells += [f"{entry['settings'].get(k, '')}" for k in names]
        cells += [f"{entry[f'mean_{m}']:.1f}" for m in metrics]
        cells.append(", ".join(f"{m} {c}" for m, c in entry["methods"].items()))
        table.add_row(*cells)
    console.print(table)
    if len(shown) < len(ranking):
        console.print(f"({len(ranking) - len(shown)} more designs: --top 0 shows all)")
    console.print(
        f"simulated rows: {result.trials:,} trials each, seed {result.seed}"
        f"{', TITE-BOIN12' if result.tite else ''}; {result.seconds:.1f} s"
    )
