"""Design search: a grid (or list) of BOIN12 designs × a set of scenarios, ranked.

Each design × scenario pair is one task: exact operating characteristics where feasible (non-TITE
and under the state budget; :mod:`dosewise.simulate.exact`), simulated otherwise
(:func:`dosewise.simulate.run.simulate`). A task's random stream is seeded from
``SeedSequence(seed, spawn_key=(design, scenario))``, never from the order tasks run in, so the
result is the same in this process, on local worker processes or on a Dask cluster. Tasks run on
the engine's executors (:func:`dosewise.simulate.executors.open_executor`); each returns a small
row of headline metrics. Designs are then ranked by a criterion averaged over the scenarios (equal
weights; ties keep the design order).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from dosewise.design.params import Boin12Params
from dosewise.errors import DosewiseError, InvalidInput, InvalidParameter
from dosewise.simulate.exact import DEFAULT_MAX_STATES, TooManyStates
from dosewise.simulate.exact_summary import exact_summary
from dosewise.simulate.executors import open_executor
from dosewise.simulate.run import simulate
from dosewise.simulate.scenario import Scenario, builtin_names, builtin_scenario, resolve_scenario

Mode = Literal["auto", "exact", "simulate"]
Order = Literal["descending", "ascending"]

#: Design settings a grid or a designs file may vary (names as in Boin12Params), with types.
GRID_FIELDS: dict[str, type] = {
    "phi_t": float,
    "phi_e": float,
    "u11": float,
    "u00": float,
    "c_t": float,
    "c_e": float,
    "n_star": int,
    "n2": int,
    "cohort_size": int,
    "max_n": int,
    "n_earlystop": int,
    "start_dose": int,
    "tie_break": str,
}

#: Headline metrics of a row, and whether larger is better (the default ranking order).
METRICS: dict[str, bool] = {
    "pct_select_true_obd": True,
    "pct_patients_at_true_obd": True,
    "pct_patients_above_mtd": False,
    "pct_select_above_mtd": False,
    "early_stop_pct": False,
    "mean_total_n": False,
    "mean_duration_days": False,
}


# -- designs ------------------------------------------------------------------------------------
def _value(name: str, raw: Any) -> Any:
    kind = GRID_FIELDS[name]
    if kind is str:
        return str(raw).strip()
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise InvalidInput(name, raw, "must be a number") from None
    if kind is int:
        if not number.is_integer():
            raise InvalidInput(name, raw, "must be a whole number")
        return int(number)
    return number


def _field(name: str) -> str:
    key = name.strip().replace("-", "_").lower()
    if key not in GRID_FIELDS:
        raise InvalidInput(
            "grid", name, f"not a design setting; use one of {', '.join(GRID_FIELDS)}"
        )
    return key


def parse_grid(specs: Sequence[str]) -> dict[str, list[Any]]:
    """``["phi_e=0.2,0.25", "u11=50,60"]`` → ``{"phi_e": [0.2, 0.25], "u11": [50.0, 60.0]}``."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not values.strip():
            raise InvalidInput("grid", spec, "must be NAME=VALUE[,VALUE...], e.g. phi_e=0.2,0.25")
        key = _field(name)
        if key in grid:
            raise InvalidInput("grid", name, "given twice; list every value in one --grid")
        items = [_value(key, v) for v in values.split(",") if v.strip()]
        if len(set(items)) != len(items):
            raise InvalidInput(f"grid.{key}", values, "repeats a value")
        grid[key] = items
    return grid


def grid_settings(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the last setting varying fastest."""
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def load_designs(path: str | Path) -> list[dict[str, Any]]:
    """Designs from a YAML or JSON file: a list of settings maps (or ``{designs: [...]}``)."""
    file = Path(path)
    if not file.exists():
        raise InvalidInput("designs", str(file), "file not found")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))  # JSON is YAML
    except yaml.YAMLError as exc:
        raise InvalidInput("designs", str(file), f"not valid YAML/JSON ({exc})") from None
    if isinstance(data, Mapping) and "designs" in data:
        data = data["designs"]
    if not isinstance(data, list) or not data:
        raise InvalidInput("designs", str(file), "must be a non-empty list of design settings")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"designs[{i + 1}]", item, "must be a map of design settings")
        out.append({_field(str(k)): _value(_field(str(k)), v) for k, v in item.items()})
    return out


def build_designs(base: Boin12Params, settings: Sequence[Mapping[str, Any]]) -> list[Boin12Params]:
    """The base design with each settings map applied; errors say which design is wrong."""
    designs = []
    for i, changes in enumerate(settings):
        try:
            designs.append(base.with_(**changes))
        except DosewiseError as exc:
            label = ", ".join(f"{k}={v}" for k, v in changes.items())
            raise InvalidParameter(
                exc.field, exc.value, f"{exc.rule} (design {i + 1}: {label})"
            ) from None
    return designs


# -- scenarios ----------------------------------------------------------------------------------
def resolve_scenarios(specs: Iterable[str]) -> list[Scenario]:
    """Built-in names, groups (a name prefix or tag, e.g. ``nct07070323``) or YAML files."""
    names = builtin_names()
    out: list[Scenario] = []
    seen: set[str] = set()
    for raw in specs:
        for spec in (s.strip() for s in raw.split(",")):
            if not spec:
                continue
            path = Path(spec)
            if spec in names or path.suffix.lower() in (".yaml", ".yml") or path.exists():
                found = [resolve_scenario(spec)]
            else:
                group = [n for n in names if n.startswith(spec)]
                found = [builtin_scenario(n) for n in group]
                if not found:
                    found = [s for s in map(builtin_scenario, names) if spec in s.tags]
                if not found:
                    raise InvalidInput(
                        "scenarios", spec, "not a built-in scenario, group (prefix or tag) or file"
                    )
            for sc in found:
                if sc.name not in seen:
                    seen.add(sc.name)
                    out.append(sc)
    if not out:
        raise InvalidInput("scenarios", None, "give at least one scenario (name, group or file)")
    doses = {sc.n_doses for sc in out}
    if len(doses) > 1:
        raise InvalidInput(
            "scenarios", [sc.name for sc in out], "must all have the same number of doses"
        )
    return out


def common_suggestions(scenarios: Sequence[Scenario]) -> dict[str, Any]:
    """Design settings that every scenario suggests with the same value."""
    first = dict(scenarios[0].design)
    return {k: v for k, v in first.items() if all(sc.design.get(k) == v for sc in scenarios[1:])}


# -- tasks --------------------------------------------------------------------------------------
def task_seed(seed: int, design: int, scenario: int) -> int:
    """The seed of one design × scenario task, from ``SeedSequence(seed, (design, scenario))``."""
    state = np.random.SeedSequence(seed, spawn_key=(design, scenario)).generate_state(2)
    return int(state[0]) << 32 | int(state[1])


@dataclass(frozen=True, slots=True)
class SearchTask:
    """One design under one scenario (picklable; sent to workers)."""

    design: int
    scenario_index: int
    params: Boin12Params
    scenario: Scenario
    mode: Mode
    tite: bool
    trials: int
    seed: int
    max_states: int


def run_search_task(task: SearchTask) -> dict[str, Any]:
    """Operating characteristics of one task as a row of headline metrics (a plain dict).

    Errors are returned as ``{"error": message}`` rather than raised, so they cross process and
    Dask boundaries intact.
    """
    start = time.perf_counter()
    summary: Any = None
    if task.mode != "simulate" and not task.tite:
        try:
            summary = exact_summary(task.scenario, task.params, max_states=task.max_states)
        except TooManyStates as exc:
            if task.mode == "exact":
                return {"error": f"{exc.value}: {exc.rule}", "design": task.design,
                        "scenario": task.scenario.name}  # fmt: skip
    if summary is None:
        summary = simulate(
            task.scenario, task.params, task.trials, task_seed(task.seed, task.design,
            task.scenario_index), tite=task.tite,
        )  # fmt: skip
    data = summary.to_dict()
    row: dict[str, Any] = {
        "design": task.design,
        "scenario": task.scenario.name,
        "method": data["method"],
        "true_obd": data["true_obd"],
    }
    for name in METRICS:
        row[name] = data[name]
    row["pct_select_true_obd_se"] = data["pct_select_true_obd_se"]
    row["mean_duration_months"] = data["mean_duration_months"]
    row["selection_pct"] = data["selection_pct"]
    row["trials"] = data["trials"]
    row["states"] = data.get("states")
    row["seconds"] = round(time.perf_counter() - start, 4)
    return row


def run_tasks(
    tasks: Sequence[SearchTask],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every task (here, on local processes or on Dask); rows come back in task order."""
    rows: list[dict[str, Any] | None] = [None] * len(tasks)
    with open_executor(workers, scheduler) as (executor, cores):
        if executor is None:
            for i, task in enumerate(tasks):
                rows[i] = run_search_task(task)
                if progress is not None:
                    progress(1)
        else:
            pending: dict[Future[dict[str, Any]], int] = {}
            queue = iter(enumerate(tasks))
            limit = 4 * cores
            while True:
                while len(pending) < limit:
                    nxt = next(queue, None)
                    if nxt is None:
                        break
                    pending[executor.submit(run_search_task, nxt[1])] = nxt[0]
                if not pending:
                    break
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    rows[pending.pop(future)] = future.result()
                    if progress is not None:
                        progress(1)
    out = [r for r in rows if r is not None]
    for row in out:
        if "error" in row:
            raise TooManyStates(
                "design",
                f"design {row['design'] + 1} under {row['scenario']}",
                f"{row['error']}; drop --exact (auto simulates such designs) or use --simulate",
            )
    return out


# -- the search ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SearchResult:
    """Rows (design × scenario) and designs ranked by a criterion averaged over scenarios."""

    designs: tuple[Boin12Params, ...]
    settings: tuple[dict[str, Any], ...]
    scenarios: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    rank_by: str
    order: Order
    trials: int
    seed: int
    tite: bool
    seconds: float

    def means(self) -> list[dict[str, float]]:
        """Per design, every headline metric averaged over the scenarios (equal weights)."""
        sums = [dict.fromkeys(METRICS, 0.0) for _ in self.designs]
        counts = [0] * len(self.designs)
        for row in self.rows:
            counts[row["design"]] += 1
            for name in METRICS:
                sums[row["design"]][name] += float(row[name])
        return [{k: v / max(c, 1) for k, v in s.items()} for s, c in zip(sums, counts, strict=True)]

    def ranking(self) -> list[dict[str, Any]]:
        """Designs best first by the mean criterion (ties keep the design order)."""
        means = self.means()
        sign = -1.0 if self.order == "descending" else 1.0
        order = sorted(range(len(self.designs)), key=lambda i: (sign * means[i][self.rank_by], i))
        methods: list[list[str]] = [[] for _ in self.designs]
        for row in self.rows:
            methods[row["design"]].append(row["method"])
        out = []
        for rank, i in enumerate(order, start=1):
            entry: dict[str, Any] = {
                "rank": rank,
                "design": i,
                "settings": dict(self.settings[i]),
                f"mean_{self.rank_by}": round(means[i][self.rank_by], 6),
            }
            entry.update({f"mean_{k}": round(v, 6) for k, v in means[i].items()})
            entry["methods"] = {m: methods[i].count(m) for m in sorted(set(methods[i]))}
            entry["params"] = self.designs[i].to_dict()
            out.append(entry)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``dosewise search --json``."""
        return {
            "rank_by": self.rank_by,
            "order": self.order,
            "designs": self.ranking(),
            "rows": [dict(r) for r in self.rows],
            "scenarios": list(self.scenarios),
            "trials": self.trials,
            "seed": self.seed,
            "tite": self.tite,
            "seconds": round(self.seconds, 4),
        }


def check_rank_by(rank_by: str, order: str | None) -> Order:
    """Validate the criterion; the order defaults to its natural direction."""
    if rank_by not in METRICS:
        raise InvalidInput("rank_by", rank_by, f"must be one of {', '.join(METRICS)}")
    if order is None:
        return "descending" if METRICS[rank_by] else "ascending"
    if order not in ("descending", "ascending"):
        raise InvalidInput("order", order, "must be descending or ascending")
    return order  # type: ignore[return-value]


def search(
    designs: Sequence[Boin12Params],
    settings: Sequence[Mapping[str, Any]],
    scenarios: Sequence[Scenario],
    *,
    trials: int,
    seed: int,
    mode: Mode = "auto",
    tite: bool = False,
    rank_by: str = "pct_select_true_obd",
    order: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    max_states: int = DEFAULT_MAX_STATES,
    progress: Callable[[int], None] | None = None,
) -> SearchResult:
    """Every design under every scenario, ranked by ``rank_by`` averaged over scenarios."""
    chosen_order = check_rank_by(rank_by, order)
    if mode not in ("auto", "exact", "simulate"):
        raise InvalidInput("mode", mode, "must be auto, exact or simulate")
    if mode == "exact" and tite:
        raise InvalidInput(
            "exact", True, "exact operating characteristics are for BOIN12, not TITE"
        )
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InvalidParameter("trials", trials, "must be a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidParameter("seed", seed, "must be a whole number >= 0")
    if not designs or len(designs) != len(settings):
        raise InvalidInput("designs", len(designs), "need at least one design and its settings")
    for params in designs:
        for sc in scenarios:
            sc.check_design(params)
    tasks = [
        SearchTask(i, s, params, sc, mode, tite, trials, seed, max_states)
        for i, params in enumerate(designs)
        for s, sc in enumerate(scenarios)
    ]
    start = time.perf_counter()
    rows = run_tasks(tasks, workers, scheduler, progress)
    return SearchResult(
        designs=tuple(designs),
        settings=tuple(dict(s) for s in settings),
        scenarios=tuple(sc.name for sc in scenarios),
        rows=tuple(rows),
        rank_by=rank_by,
        order=chosen_order,
        trials=trials,
        seed=seed,
        tite=tite,
        seconds=time.perf_counter() - start,
    )
