"""CLI for the trial service: ``db``, ``user``, ``audit`` and ``serve``.

Thin adapters over :mod:`dosewise.store.migrate` and :mod:`dosewise.trial`; the CLI acts as
``cli:<operating-system user>`` in the audit trail. Every command reads the database URL from
``DOSEWISE_DATABASE_URL`` (or ``--database-url``) and refuses an unmigrated database with the
command to run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from dosewise.cli.actor import cli_actor
from dosewise.cli.app import app
from dosewise.cli.options import print_json
from dosewise.errors import InvalidInput, InvalidParameter
from dosewise.settings import Settings, get_settings
from dosewise.store import migrate
from dosewise.store.session import Database, open_database
from dosewise.store.tables import Arm, Site, User
from dosewise.trial import access, audit, bootstrap, replay
from dosewise.trial.uow import UnitOfWork

console = Console(highlight=False)

db_app = typer.Typer(help="The trial database: migrate and check.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts of the trial service.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: verify and export.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="Database URL (default: DOSEWISE_DATABASE_URL or ./dosewise.db)."
    ),
]


def _settings(database_url: str | None) -> Settings:
    settings = get_settings()
    return settings.replace(database_url=database_url) if database_url else settings


@contextmanager
def _database(settings: Settings, *, migrated: bool = True) -> Iterator[Database]:
    db = open_database(settings)
    try:
        if migrated:
            migrate.ensure_migrated(db.engine)
        yield db
    finally:
        db.dispose()


def _uow(db: Database, command: str, *, readonly: bool = False) -> UnitOfWork:
    return UnitOfWork(
        db, cli_actor(), readonly=readonly, context={"via": "cli", "command": command}
    )


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


# --------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Migrate the database to the newest schema and load the protocol's sites and arms."""
    settings = _settings(database_url)
    with _database(settings, migrated=False) as db:
        state = migrate.upgrade(db.engine, revision)
        loaded = None
        if state.up_to_date:
            with _uow(db, "db upgrade") as uow:
                loaded = bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
    out = {
        **state.to_dict(),
        "sites_added": list(loaded.sites_added) if loaded else [],
        "arms_added": list(loaded.arms_added) if loaded else [],
    }
    if as_json:
        print_json(out)
        return
    console.print(f"database {state.url} at revision {state.current} (head {state.head})")
    if loaded and (loaded.sites_added or loaded.arms_added):
        console.print(
            f"added sites {', '.join(loaded.sites_added) or '-'}; "
            f"arms {', '.join(loaded.arms_added) or '-'}"
        )


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision (`base` removes everything).")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this destroys data.")] = False,
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Migrate the database down (destroys the data of the removed tables)."""
    if not yes:
        raise InvalidInput("--yes", False, "downgrading destroys data: repeat with --yes")
    with _database(_settings(database_url), migrated=False) as db:
        state = migrate.downgrade(db.engine, revision)
    if as_json:
        print_json(state.to_dict())
    else:
        console.print(f"database {state.url} at revision {state.current or 'base'}")


@db_app.command("check")
def db_check(database_url: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """Say whether the database is reachable and migrated (exit 1 if not), and what it holds."""
    settings = _settings(database_url)
    with _database(settings, migrated=False) as db:
        state = migrate.status(db.engine)
        counts: dict[str, int] = {}
        if state.up_to_date:
            with _uow(db, "db check", readonly=True) as uow:
                for name, model in (("users", User), ("sites", Site), ("arms", Arm)):
                    counts[name] = len(list(uow.session.scalars(select(model))))
    problems = [] if state.up_to_date else [f"not migrated: run `{migrate.UPGRADE_COMMAND}`"]
    out = {**state.to_dict(), "counts": counts, "problems": problems}
    if as_json:
        print_json(out)
    else:
        console.print(
            f"database {state.url}: revision {state.current or 'none'}, head {state.head}"
        )
        for problem in problems:
            console.print(f"[red]{problem}[/red]")
        if counts:
            console.print(", ".join(f"{v} {k}" for k, v in counts.items()))
    if problems:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- user


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Option(help="Login name (lower case).")],
    role: Annotated[
        str, typer.Option(help="admin, investigator, coordinator, statistician, dsmb or monitor.")
    ],
    site: Annotated[str | None, typer.Option(help="Site id (S01 ...) for site staff.")] = None,
    full_name: Annotated[
        str | None, typer.Option(help="Printed name shown on signatures (default: username).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (avoid: it stays in shell history); default: prompt or random."
        ),
    ] = None,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a random password (printed once).")
    ] = False,
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a user. Without --password: prompt on a terminal, else generate and print once."""
    settings = _settings(database_url)
    if password is None and not generate and sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _database(settings) as db, _uow(db, "user add") as uow:
        user, generated = access.create_user(
            uow,
            access.Passwords(settings),
            settings,
            username=username,
            full_name=full_name or username,
            role=role,
            site_id=site,
            password=password,
        )
    out = {
        "username": user.username,
        "role": user.role,
        "site_id": user.site_id,
        "full_name": user.full_name,
        "generated_password": generated,
        "must_change_password": user.must_change_password,
    }
    if as_json:
        print_json(out)
        return
    console.print(f"created {user.role} {user.username} (site {user.site_id or 'all'})")
    if generated:
        console.print(
            f"password (shown once; one-time, to be replaced at first sign-in): {generated}"
        )


@user_app.command("list")
def user_list(database_url: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """List user accounts."""
    settings = _settings(database_url)
    with _database(settings) as db, _uow(db, "user list", readonly=True) as uow:
        now = uow.now()
        rows = [
            {
                "username": u.username,
                "full_name": u.full_name,
                "role": u.role,
                "site_id": u.site_id,
                "active": u.active,
                "locked": access.is_locked(u, now),
            }
            for u in uow.session.scalars(select(User).order_by(User.id))
        ]
    if as_json:
        print_json({"users": rows})
        return
    columns = ["username", "full_name", "role", "site_id", "active", "locked"]
    _table("users", columns, [[r[c] for c in columns] for r in rows])


@user_app.command("unlock")
def user_unlock(
    username: Annotated[str, typer.Argument(help="The locked user.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail).")],
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Lift a lock-out."""
    settings = _settings(database_url)
    with _database(settings) as db, _uow(db, "user unlock") as uow:
        user = access.unlock_user(uow, username, reason=reason)
    if as_json:
        print_json({"username": user.username, "locked": False})
    else:
        console.print(f"unlocked {user.username}")


# --------------------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify(
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also replay the trail and compare every audited table with it, naming each "
            "row changed, inserted or deleted outside the service.",
        ),
    ] = False,
) -> None:
    """Recompute the audit trail's hash chain (exit 1 if it is broken)."""
    settings = _settings(database_url)
    with _database(settings) as db, _uow(db, "audit verify", readonly=True) as uow:
        if deep:
            deep_report = replay.verify_deep(uow.session)
            report = deep_report.chain
        else:
            report = audit.verify_chain(uow.session)
    if deep:
        _print_deep(deep_report, as_json)
        if not deep_report.ok:
            raise typer.Exit(1)
        return
    if as_json:
        print_json(report.to_dict())
    else:
        verdict = "[green]intact[/green]" if report.ok else "[red]BROKEN[/red]"
        console.print(
            f"audit trail {verdict}: {report.records} records, last seq {report.last_seq}, "
            f"last hash {report.last_hash}"
        )
        if report.problems:
            _table(
                f"{report.problem_count} problem(s)",
                ["seq", "kind", "detail"],
                [[p.seq, p.kind, p.detail] for p in report.problems],
            )
    if not report.ok:
        raise typer.Exit(1)


def _print_deep(report: replay.DeepReport, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    chain = report.chain
    verdict = "[green]intact[/green]" if chain.ok else "[red]BROKEN[/red]"
    console.print(
        f"audit trail {verdict}: {chain.records} records, last seq {chain.last_seq}, "
        f"last hash {chain.last_hash}"
    )
    if chain.problems:
        _table(
            f"{chain.problem_count} problem(s)",
            ["seq", "kind", "detail"],
            [[p.seq, p.kind, p.detail] for p in chain.problems],
        )
    tables = "[green]match the trail[/green]" if not report.drifts else "[red]DIFFER[/red]"
    console.print(f"{len(report.tables)} tables, {report.rows} rows {tables}")
    if report.drifts:
        _table(
            f"{len(report.drifts)} row change(s) outside the service",
            ["table", "id", "column", "audited", "now"],
            [
                [d.table, d.id, d.column or d.kind, _cell(d.audited), _cell(d.current)]
                for d in report.drifts[: audit.MAX_PROBLEMS]
            ],
        )


def _cell(value: object) -> str:
    return "" if value is None else str(value)[:60]


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option("--out", help="File to write (.csv or .json).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or json (default: from the suffix).")
    ] = None,
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the audit trail to a file; the export is itself recorded in the trail."""
    chosen = (fmt or out.suffix.lstrip(".")).lower()
    if chosen not in ("csv", "json"):
        raise InvalidInput(
            "--format", chosen or str(out), "must be csv or json (or a .csv/.json file)"
        )
    settings = _settings(database_url)
    with (
        _database(settings) as db,
        out.open("w", encoding="utf-8", newline="") as stream,
        _uow(db, "audit export") as uow,
    ):
        summary = audit.export(uow, chosen, stream)  # type: ignore[arg-type]
    result = {**summary.to_dict(), "out": str(out)}
    if as_json:
        print_json(result)
    else:
        console.print(f"wrote {summary.records} records to {out} (chain ok: {summary.chain.ok})")


# --------------------------------------------------------------------------- serve


def prepare_service(settings: Settings) -> tuple[Database, tuple[str, str] | None]:
    """Open a migrated database, load reference data, create the first admin if none exists.

    Raises :class:`~dosewise.store.migrate.DatabaseNotMigrated` (naming ``dosewise db
    upgrade``) on a database that is not at the code's schema. Returns the database and, on
    the very first start, the new administrator's (username, password).
    """
    db = open_database(settings)
    try:
        migrate.ensure_migrated(db.engine)
        with _uow(db, "serve") as uow:
            bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
        with _uow(db, "serve") as uow:
            admin = bootstrap.ensure_first_admin(uow, access.Passwords(settings), settings)
    except BaseException:
        db.dispose()
        raise
    return db, admin


def check_port(host: str, port: int) -> None:
    """Refuse to start on a port another program holds, saying how to choose another (before
    anything claims to be serving). Binds as uvicorn does (``SO_REUSEADDR``)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InvalidParameter("host", host, f"cannot be resolved ({exc})") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            other = port + 1 if port < 65535 else 8001
            raise InvalidParameter(
                "port",
                port,
                f"is already in use on {host} (is dosewise already running?): choose another "
                f"with `dosewise serve --port {other}` or DOSEWISE_PORT={other} "
                f"(`make run DOSEWISE_PORT={other}`)",
            ) from None


def server_options() -> tuple[Literal["httptools", "h11"], Literal["uvloop", "asyncio"]]:
    """uvicorn's compiled HTTP parser (httptools) and event loop (uvloop) when they import (both
    are dependencies; uvloop has no Windows build), else the pure-Python h11 and asyncio's loop:
    the compiled pair takes about a sixth less server CPU per arm-state read and answers a third
    more reads per second under 20 clients (``bench/api_latency.py``)."""
    import importlib

    def importable(name: str) -> bool:
        try:
            importlib.import_module(name)
        except ImportError:
            return False
        return True

    return (
        "httptools" if importable("httptools") else "h11",
        "uvloop" if importable("uvloop") else "asyncio",
    )


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default DOSEWISE_PORT, else 8000).")
    ] = None,
    database_url: DatabaseOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes sharing the port (PostgreSQL; each one its own interpreter).",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help=(
                "Log every HTTP request on stdout (uvicorn's access log). Off by default: every "
                "clinical act and refusal is in the audit trail already, and the log line costs "
                "about a fifth of the server's CPU per request under load."
            ),
        ),
    ] = False,
) -> None:
    """Run the trial service (REST API under /api/v1) on a migrated database."""
    import os

    import uvicorn

    from dosewise.server import create_app

    settings = _settings(database_url)
    bind_host, bind_port = host or settings.host, port or settings.port
    check_port(bind_host, bind_port)  # before anything is created or claims to be serving
    db, admin = prepare_service(settings)
    if admin is not None:
        print(
            f"Created the first administrator: username {admin[0]!r}, password {admin[1]!r}\n"
            "It is shown only this once and works once: sign in and choose your own password "
            "at /account/password (nothing else is allowed until you do).",
            flush=True,
        )
    print(
        f"dosewise serving on http://{bind_host}:{bind_port}/ (pages) and /api/v1/docs (API)",
        flush=True,
    )
    http, loop = server_options()
    if workers == 1:
        uvicorn.run(
            create_app(settings, db=db, freeze_at_start=True),
            host=bind_host,
            access_log=access_log,
            port=bind_port,
            log_level="info",
            http=http,
            loop=loop,
        )
        return
    # Each worker process builds its own app (and database connections) from the environment.
    db.dispose()
    os.environ["DOSEWISE_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "dosewise.server:serve_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        access_log=access_log,
        log_level="info",
        http=http,
        loop=loop,
    )
