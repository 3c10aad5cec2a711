"""Simulation of the user's own scenario on the protocol page (issue 17 item 7).

The user gives the true DLT and response rates per design dose (and optionally an association
between the two); the arm's design is simulated under the protocol's windows, exactly as
``dosewise simulate --p-tox ... --p-eff ... --json`` does with the arm's design options: the
page shows that command, and the JSON it offers for download is the command's JSON
(:meth:`dosewise.simulate.summary.Summary.to_dict`; only ``seconds`` differs from run to run).

A run happens in a background thread of the web process, reporting how many trials are done;
the page polls it (htmx) and shows a progress bar. Runs are bounded (:data:`MAX_TRIALS` trials,
:data:`MAX_RUNNING` at once, one per user) and kept :data:`KEEP_SECONDS` for the download.
A server with several worker processes would need a shared store for the jobs: this one keeps
them in memory, as ``dosewise serve`` runs one process.
"""

from __future__ import annotations

import json
import secrets
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dosewise.design.params import Boin12Params
from dosewise.errors import DosewiseError, InvalidInput
from dosewise.protocol import Protocol
from dosewise.report.design_oc import with_protocol_windows
from dosewise.simulate.run import simulate
from dosewise.simulate.scenario import Scenario, make_scenario
from dosewise.trial.state.arm import CLI_OPTIONS
from dosewise.web.i18n import N_

#: At most this many simulated trials per run.
MAX_TRIALS = 10_000
DEFAULT_TRIALS = 1_000
#: Runs at the same time in this process (each user: one).
MAX_RUNNING = 2
#: A finished run (and its JSON) is kept this long.
KEEP_SECONDS = 30 * 60
CORRELATIONS = ("independent", "gumbel", "normal", "odds_ratio")
NAME = "custom"


@dataclass(frozen=True)
class CustomRequest:
    """A checked custom scenario: the arm, true rates per design dose and the run's size."""

    arm: str
    p_tox: tuple[float, ...]
    p_eff: tuple[float, ...]
    correlation: str
    rho: float | None
    trials: int
    seed: int
    tite: bool


#: Inputs named like the built-in simulation's on the same page get their own names (ids).
INPUT_NAMES = {
    "arm": "scenario_arm",
    "trials": "scenario_trials",
    "seed": "scenario_seed",
    "tite": "scenario_tite",
}


def fields(n_doses: int) -> tuple[str, ...]:
    """The form's input names (``p_tox_1`` … for each design dose)."""
    rates = [f"{k}_{j}" for k in ("p_tox", "p_eff") for j in range(1, n_doses + 1)]
    names = ("arm", *rates, "correlation", "rho", "trials", "seed", "tite")
    return tuple(INPUT_NAMES.get(n, n) for n in names)


def form_getter(get: Callable[[str], str]) -> Callable[[str], str]:
    """Read a request field (``arm``, ``p_tox_1``, …) from the form's input names."""
    return lambda name: get(INPUT_NAMES.get(name, name))


def _error(name: str, value: Any, template: str, **params: Any) -> InvalidInput:
    """An error on field ``name`` whose rule the page shows in its own language."""
    return InvalidInput(name, value, template % params, template=template, reason_params=params)


def _number(value: str, name: str, errors: list[DosewiseError]) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        errors.append(_error(name, value, N_("must be a number")))
        return None
    return number


def _whole(value: str, name: str, lo: int, hi: int, errors: list[DosewiseError]) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        errors.append(_error(name, value, N_("must be a whole number")))
        return lo
    if not lo <= number <= hi:
        errors.append(_error(name, number, N_("must be from %(lo)s to %(hi)s"), lo=lo, hi=hi))
    return number


def check_request(
    protocol: Protocol, get: Callable[[str], str], tite: bool
) -> tuple[CustomRequest | None, list[DosewiseError]]:
    """The form's values checked, every error at once (each names its field)."""
    errors: list[DosewiseError] = []
    arm = get("arm")
    try:
        protocol.arm(arm)
    except DosewiseError as exc:
        errors.append(InvalidInput("arm", arm, exc.rule))
    n_doses = len(protocol.dose_levels.design_levels)
    rates: dict[str, list[float]] = {"p_tox": [], "p_eff": []}
    for key, values in rates.items():
        for j in range(1, n_doses + 1):
            name = f"{key}_{j}"
            value = _number(get(name), name, errors)
            if value is None:
                continue
            if not 0.0 <= value <= 1.0:
                errors.append(_error(name, value, N_("must be a probability from 0 to 1")))
            values.append(value)
    correlation = get("correlation") or "independent"
    if correlation not in CORRELATIONS:
        choices = ", ".join(CORRELATIONS)
        errors.append(
            _error("correlation", correlation, N_("must be one of: %(choices)s"), choices=choices)
        )
    rho_text = get("rho").strip()
    rho = _number(rho_text, "rho", errors) if rho_text else None
    if rho is not None and correlation == "independent":
        errors.append(_error("rho", rho, N_("needs a correlation model (not independent)")))
    trials = _whole(get("trials"), "trials", 1, MAX_TRIALS, errors)
    seed = _whole(get("seed"), "seed", 0, 2**31 - 1, errors)
    if errors:
        return None, errors
    req = CustomRequest(
        arm, tuple(rates["p_tox"]), tuple(rates["p_eff"]), correlation, rho, trials, seed, tite
    )
    try:
        scenario(protocol, req)  # the association must give a valid joint distribution
    except DosewiseError as exc:
        rule = N_(
            "with these rates, this association gives no joint distribution of DLT and response"
        )
        errors.append(_error("rho", exc.value, rule))
        return None, errors
    return req, []


def scenario(protocol: Protocol, req: CustomRequest) -> Scenario:
    """The scenario as ``dosewise simulate --p-tox/--p-eff`` builds it, with the protocol's
    DLT window and BOR day as its windows."""
    model = "gumbel" if req.correlation == "independent" else req.correlation
    rho = req.rho if req.rho is not None else (1.0 if model == "odds_ratio" else 0.0)
    built = make_scenario(NAME, req.p_tox, req.p_eff, rho=rho, model=model)  # type: ignore[arg-type]
    return with_protocol_windows(built, protocol)


def design(protocol: Protocol, req: CustomRequest) -> Boin12Params:
    """The arm's design, with the run's seed (as ``--seed`` sets it in the CLI)."""
    return protocol.design_params(req.arm).with_(seed=req.seed)


def cli_args(protocol: Protocol, req: CustomRequest) -> list[str] | None:
    """``dosewise simulate`` arguments giving the same JSON; None when the arm's design has a
    setting the CLI has no option for."""
    params = design(protocol, req)
    data = params.to_dict()
    if Boin12Params(**{key: data[key] for _, key in CLI_OPTIONS}, seed=req.seed) != params:
        return None
    sc = scenario(protocol, req)
    args = ["simulate"]
    for flag, values in (("--p-tox", req.p_tox), ("--p-eff", req.p_eff)):
        for v in values:
            args += [flag, repr(v)]
    if req.correlation != "independent":
        args += ["--correlation", req.correlation]
        if req.rho is not None:
            args += ["--rho", repr(req.rho)]
    args += ["--trials", str(req.trials), "--seed", str(req.seed)]
    if req.tite:
        args.append("--tite")
    for flag, key in CLI_OPTIONS:
        args += [flag, str(data[key])]
    args += ["--tox-window", repr(sc.tox_window), "--eff-window", repr(sc.eff_window)]
    return [*args, "--json"]


def cli_command(protocol: Protocol, req: CustomRequest) -> str | None:
    args = cli_args(protocol, req)
    return None if args is None else shlex.join(["dosewise", *args])


def run(
    protocol: Protocol, req: CustomRequest, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Simulate the request in this thread: the JSON of ``dosewise simulate``."""
    summary = simulate(
        scenario(protocol, req),
        design(protocol, req),
        req.trials,
        req.seed,
        tite=req.tite,
        workers=1,
        progress=progress,
    )
    return summary.to_dict()


def as_json(result: dict[str, Any]) -> str:
    """The result as the CLI prints it (one line)."""
    return json.dumps(result, ensure_ascii=False, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- background runs


@dataclass
class Job:
    """One run in the background: how far it is, and its result or error."""

    id: str
    owner: int
    request: CustomRequest
    command: str | None
    started: float
    done: int = 0
    result: dict[str, Any] | None = None
    error: DosewiseError | None = None
    finished: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        return self.finished is None

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / max(self.request.trials, 1)))


class Busy(DosewiseError):
    """Too many simulations are running (HTTP 429)."""

    http_status = 429


_JOBS: dict[str, Job] = {}
_JOBS_LOCK = threading.Lock()


def _forget_old(now: float) -> None:
    for key, job in list(_JOBS.items()):
        if job.finished is not None and now - job.finished > KEEP_SECONDS:
            del _JOBS[key]


def start(protocol: Protocol, req: CustomRequest, owner: int) -> Job:
    """Start a run in a background thread (refused while too many run, or the user's own)."""
    now = time.monotonic()
    with _JOBS_LOCK:
        _forget_old(now)
        running = [j for j in _JOBS.values() if j.running]
        if any(j.owner == owner for j in running):
            text = N_("your previous simulation is still running")
            raise Busy("trials", req.trials, text, template=text)
        if len(running) >= MAX_RUNNING:
            text = N_("other simulations are running; try again shortly")
            raise Busy("trials", req.trials, text, template=text)
        job = Job(secrets.token_urlsafe(16), owner, req, cli_command(protocol, req), now)
        _JOBS[job.id] = job

    def advance(count: int) -> None:
        with job.lock:
            job.done += count

    def work() -> None:
        try:
            job.result = run(protocol, req, advance)
        except DosewiseError as exc:
            job.error = exc
        except Exception as exc:
            job.error = DosewiseError("simulation", None, f"the simulation failed: {exc}")
        finally:
            job.finished = time.monotonic()

    threading.Thread(target=work, name=f"simulate-{job.id[:6]}", daemon=True).start()
    return job


def job_for(job_id: str, owner: int) -> Job | None:
    """The user's run ``job_id`` (None when unknown, expired or another user's)."""
    with _JOBS_LOCK:
        job = _JOBS.get(job_id)
    return job if job is not None and job.owner == owner else None
