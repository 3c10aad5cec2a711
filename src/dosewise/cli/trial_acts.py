"""CLI views of the running trial: ``dosewise arm list|state`` and ``dosewise demo-data``.

``arm state`` prints the same state the API and the web pages show (one function,
:func:`dosewise.trial.state.arm_state`); its ``decide_command`` reproduces the design's
decision with ``dosewise decide``. ``demo-data`` fills an empty, migrated trial database with the
scripted NCT07070323 trial (:func:`dosewise.trial.demo.load_demo_trial`) for demonstrations.
Both read the database from ``DOSEWISE_DATABASE_URL`` (or ``--database-url``); the CLI acts as
``cli:<operating-system user>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from dosewise.cli.app import app
from dosewise.cli.language import cli_lang
from dosewise.cli.options import print_json
from dosewise.cli.trial import DatabaseOption, JsonFlag, _database, _settings, _table, _uow, console
from dosewise.store.tables import Arm
from dosewise.trial import bootstrap, signed
from dosewise.trial.demo import DemoClock, load_demo_trial
from dosewise.trial.state import arm_state

arm_app = typer.Typer(help="The arms of the trial: their dose-finding state.", no_args_is_help=True)
app.add_typer(arm_app, name="arm")


@arm_app.command("list")
def arm_list(database_url: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """The arms, their phase and version."""
    with _database(_settings(database_url)) as db, _uow(db, "arm list", readonly=True) as uow:
        arms = [
            {"id": a.id, "label": a.label, "phase": a.phase, "version": a.version}
            for a in uow.session.scalars(select(Arm).order_by(Arm.id))
        ]
    if as_json:
        print_json({"arms": arms})
        return
    _table("Arms", ["id", "label", "phase", "version"], [list(a.values()) for a in arms])


@arm_app.command("state")
def arm_state_cmd(
    arm_id: Annotated[str, typer.Argument(help="The arm id, e.g. autologous.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Calendar day (default: today, UTC).")
    ] = None,
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The arm's dose-finding state: counts, pending outcomes, RDS, next decision and why."""
    day = _day(as_of) if as_of else datetime.now(UTC).date()
    with _database(_settings(database_url)) as db, _uow(db, "arm state", readonly=True) as uow:
        state = arm_state(uow.session, arm_id, as_of=day)
        data = signed.with_signatures(uow.session, arm_id, state.to_dict())
    if as_json:
        print_json(data)
        return
    console.print(
        f"[bold]{state.label}[/bold] ({state.arm_id}), {state.design}, {state.phase}, "
        f"version {state.version}, as of {state.as_of}"
    )
    _table(
        "Doses",
        [
            "dose",
            "level",
            "treated",
            "evaluable",
            "DLTs",
            "responders",
            "design n",
            "DLT",
            "resp",
            "pending",
            "Pr(U>u_b)",
            "admissible",
        ],
        [
            [
                d.dose,
                d.level,
                d.treated,
                d.evaluable,
                d.dlts,
                d.responders,
                d.n,
                d.dlt,
                d.responses,
                d.pending,
                f"{d.desirability:.4f}",
                "yes" if d.admissible else f"eliminated ({d.eliminated})",
            ]
            for d in state.doses
        ],
    )
    console.print(f'outcomes: "{state.outcomes}"')
    for p in state.pending:
        console.print(
            f"pending: {p.study_id} at dose {p.analysed_dose}: {', '.join(p.waiting_for)}"
            + (f" (by {p.known_by}, {p.days_left} days left)" if p.known_by else "")
        )
    console.print(f"[bold]next: {state.next.action}[/bold] — {state.next.text(cli_lang())}")
    for b in data["broken_signatures"]:
        console.print(
            f"[red]signature broken[/red]: {b['entity']} {b['id']}: {'; '.join(b['problems'])} "
            "(no dose is assigned until it is restored)"
        )
    if state.decide_command:
        console.print(f"reproduce: {state.decide_command}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


@app.command("demo-data")
def demo_data(
    password: Annotated[
        str | None,
        typer.Option("--password", help="Password of every demo user (default: random, shown)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="First trial day (default: 400 days ago: the trial ends in the past)."
        ),
    ] = None,
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Fill an empty, migrated trial database with the scripted NCT07070323 trial.

    Each act is a direct service call, audited and e-signed as in a real run (seconds, not
    minutes). SQLite commits are synchronous=NORMAL while loading: a power cut can lose the
    demo being loaded (run it again), never corrupt the database.
    """
    settings = _settings(database_url).replace(sqlite_synchronous="NORMAL")
    first = _day(start) if start else datetime.now(UTC).date() - timedelta(days=400)
    clock = DemoClock(datetime(first.year, first.month, first.day, 9, 0, tzinfo=UTC))
    with _database(settings) as db:
        with _uow(db, "demo-data") as uow:
            bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
        with _progress(as_json) as progress:
            result = load_demo_trial(
                db, settings, clock, password=password, log=_log(as_json), progress=progress
            )
    summary: dict[str, Any] = {
        "participants": len(result.patients),
        "screen_failures": len(result.screen_failures),
        "dose_decisions": sum(1 for a in result.assignments if a["decision"].get("new_decision")),
        "closures": {arm: c["obd_level"] for arm, c in result.closures.items()},
        "looks": {arm: [look["decision"] for look in ls] for arm, ls in result.looks.items()},
        "users": sorted(result.users),
        "password": result.password,
        "requests": result.requests,
        "last_day": clock().date().isoformat(),
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['participants']} participants, {summary['screen_failures']} screen failures, "
        f"{summary['dose_decisions']} dose decisions; OBD per arm: {summary['closures']}"
    )
    console.print(
        f"Demo users {', '.join(summary['users'])} share the password {result.password!r} "
        "(shown only this once)."
    )


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar of participants treated (on stderr; nothing with ``--json``)."""
    if quiet:
        yield lambda _done, _total: None
        return
    bar = Progress(
        TextColumn("participants treated"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("demo", total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _log(quiet: bool) -> Callable[[str], None]:
    if quiet:
        return lambda _: None
    return lambda line: console.print(line)
