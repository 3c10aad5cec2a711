"""``dosewise report …``: documents generated from the protocol (and later the trial's records).

The ``report`` group is a Typer sub-app registered on the shared app, so later commands
(``dsmb``, ``ctgov``, ``sdtm``, ``odm``) are added with ``@report_app.command(...)``. Each command
is a thin adapter: check the arguments, call :mod:`dosewise.report`, say what was written.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dosewise.cli.app import app
from dosewise.cli.language import resolve
from dosewise.cli.options import print_json
from dosewise.errors import InvalidParameter
from dosewise.protocol import Protocol, default_protocol, load_protocol
from dosewise.report.design_defaults import DEFAULT_SEED, DEFAULT_TRIALS
from dosewise.report.i18n import LANGS, check_lang
from dosewise.report.render import output_kind

report_app = typer.Typer(
    name="report",
    help="Write reports: the design section, the DSMB safety report, SDTM datasets, casebooks.",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")

OutOpt = Annotated[
    Path, typer.Option("--out", help="Output file: .pdf gives PDF, .html gives HTML.")
]
ProtocolOpt = Annotated[
    Path | None,
    typer.Option("--protocol", help="Protocol file (default: the embedded NCT07070323)."),
]
LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help=f"Language of the report: {' or '.join(LANGS)} "
        "(default: dosewise --lang, else $DOSEWISE_LANG, else en).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def read_protocol(path: Path | None) -> Protocol:
    """The protocol file given, or the embedded NCT07070323."""
    return load_protocol(path) if path is not None else default_protocol()


def _command(argv: dict[str, object]) -> str:
    """The command line that reproduces the report (options in a fixed order)."""
    words = ["dosewise", "report", "design"]
    for flag, value in argv.items():
        if value is None or value == []:
            continue
        for item in value if isinstance(value, list) else [value]:
            words += [flag, str(item)]
    return shlex.join(words)


@report_app.command("design")
def design_cmd(
    out: OutOpt,
    protocol: ProtocolOpt = None,
    lang: LangOpt = None,
    trials: Annotated[
        int,
        typer.Option("--trials", help="Simulated TITE-BOIN12 trials per scenario."),
    ] = DEFAULT_TRIALS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulations.")] = DEFAULT_SEED,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help="Scenario (built-in name or YAML file); repeat for several. "
            "Default: the protocol's built-in scenarios.",
        ),
    ] = None,
    p0: Annotated[
        float | None,
        typer.Option(
            "--p0",
            help="Phase 2 null response rate, replacing the protocol's design.phase2.p0 in "
            "this report only (give --p1 too).",
        ),
    ] = None,
    p1: Annotated[
        float | None,
        typer.Option("--p1", help="Phase 2 target response rate (default: the protocol's)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The protocol's statistical design section: rules, tables and operating characteristics."""
    lang = resolve(lang)
    kind = output_kind(out)  # bad endings and languages fail before any computation
    check_lang(lang)
    proto = read_protocol(protocol)
    command = _command(
        {
            "--protocol": str(protocol) if protocol is not None else None,
            "--lang": lang,
            "--trials": trials,
            "--seed": seed,
            "--scenario": list(scenario or []),
            "--p0": p0,
            "--p1": p1,
            "--out": str(out),
        }
    )

    def progress(name: str) -> None:
        if not as_json and sys.stderr.isatty():
            print(f"computing operating characteristics: {name}", file=sys.stderr)

    from dosewise.report.design_report import build_design_report, write_design_report
    from dosewise.report.oc_cache import OcCache
    from dosewise.settings import get_settings

    report = build_design_report(
        proto,
        source=str(protocol) if protocol is not None else None,
        trials=trials,
        seed=seed,
        scenarios=scenario,
        p0=p0,
        p1=p1,
        command=command,
        progress=progress,
        cache=OcCache.from_settings(get_settings()),
    )
    path, _ = write_design_report(report, out, lang)
    scenarios = [oc.scenario.name for result in report.groups for oc in result.ocs]
    if as_json:
        print_json(
            {
                "report": "design",
                "out": str(path),
                "format": kind,
                "lang": lang,
                "protocol": proto.registry.nct_id,
                "trials": trials,
                "seed": seed,
                "scenarios": scenarios,
                "bytes": path.stat().st_size,
            }
        )
        return
    typer.echo(
        f"wrote {kind.upper()} design report ({lang}) for {proto.registry.nct_id}: {path} "
        f"({len(scenarios)} scenarios, {trials:,} simulated trials each, seed {seed})"
    )


# --------------------------------------------------------------------------- trial-data reports

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="Database URL (default: DOSEWISE_DATABASE_URL or ./dosewise.db)."
    ),
]
UserOpt = Annotated[
    str | None,
    typer.Option("--user", help="Username the export is audit-logged as (default: cli:<os user>)."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Data cut-off date YYYY-MM-DD (default: the last clinical record's day)."
    ),
]


def _export(
    kind: str,
    out: Path,
    database_url: str | None,
    user: str | None,
    as_of: str | None,
    lang: str = "en",
) -> dict[str, Any]:
    """Read the trial's records, write the export, and audit-log it (:mod:`report.exports`).

    A DSMB report's figures are drawn by a forked child meanwhile, where that pays
    (:mod:`dosewise.report.figures_aside`): started first, so it imports Matplotlib while this
    process imports the rest and reads the records."""
    if kind != "dsmb":
        return _export_now(kind, out, database_url, user, as_of, lang)
    from dosewise.report.figures_aside import figures_aside

    with figures_aside():
        return _export_now(kind, out, database_url, user, as_of, lang)


def _export_now(
    kind: str,
    out: Path,
    database_url: str | None,
    user: str | None,
    as_of: str | None,
    lang: str,
) -> dict[str, Any]:
    from dosewise.cli.actor import cli_actor
    from dosewise.report.exports import export_kind, parse_as_of, run_export
    from dosewise.settings import get_settings
    from dosewise.store import migrate
    from dosewise.store.session import open_database

    export_kind(kind).check_out(out)  # bad paths fail before the database is opened
    check_lang(lang)
    cutoff = parse_as_of(as_of)
    settings = get_settings()
    if database_url:
        settings = settings.replace(database_url=database_url)
    db = open_database(settings)
    try:
        migrate.ensure_migrated(db.engine)
        actor = _actor(db, user) if user is not None else cli_actor()
        return run_export(db, actor, kind, out, lang=lang, as_of=cutoff, via="cli")
    finally:
        db.dispose()


def _say(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result)
    else:
        typer.echo(
            f"wrote {result['report']} ({result['format']}) to {result['out']}"
            + (f" (data cut-off {result['as_of']})" if result.get("as_of") else "")
        )


@report_app.command("dsmb")
def dsmb_cmd(
    out: OutOpt,
    lang: LangOpt = None,
    as_of: AsOfOpt = None,
    user: UserOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The DSMB safety report from the trial database (PDF or HTML)."""
    _say(_export("dsmb", out, database_url, user, as_of, resolve(lang)), as_json)


@report_app.command("ctgov")
def ctgov_cmd(
    out: Annotated[
        Path, typer.Option("--out", help="Output file: .json (registry structure) or .html.")
    ],
    as_of: AsOfOpt = None,
    user: UserOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The ClinicalTrials.gov results section (participant flow, baseline, outcomes, AEs)."""
    _say(_export("ctgov", out, database_url, user, as_of), as_json)


@report_app.command("sdtm")
def sdtm_cmd(
    out: Annotated[Path, typer.Option("--out", help="An existing folder for the dataset files.")],
    as_of: AsOfOpt = None,
    user: UserOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """CDISC SDTM datasets (XPT v5 and CSV) and a define-style variable listing."""
    _say(_export("sdtm", out, database_url, user, as_of), as_json)


@report_app.command("odm")
def odm_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output file ending in .xml.")],
    as_of: AsOfOpt = None,
    user: UserOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """CDISC ODM 1.3.2 XML of the clinical data and the audit trail."""
    _say(_export("odm", out, database_url, user, as_of), as_json)


@report_app.command("casebook")
def casebook_cmd(
    study_id: Annotated[
        str, typer.Option("--study-id", help="The participant's study ID (S01-0001).")
    ],
    out: OutOpt,
    lang: LangOpt = None,
    user: UserOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One participant's casebook: every record, its e-signatures and per-field change history."""
    from dosewise.cli.actor import cli_actor
    from dosewise.report.casebook_export import export_casebook
    from dosewise.settings import get_settings
    from dosewise.store import migrate
    from dosewise.store.session import open_database

    lang = resolve(lang)
    fmt = output_kind(out)  # bad endings, folders and languages fail before the database opens
    check_lang(lang)
    if out.parent and not out.parent.exists():
        from dosewise.trial.refusals import refusal

        raise refusal(InvalidParameter, "out", str(out), "no_such_folder")
    settings = get_settings()
    if database_url:
        settings = settings.replace(database_url=database_url)
    db = open_database(settings)
    try:
        migrate.ensure_migrated(db.engine)
        actor = _actor(db, user) if user is not None else cli_actor()
        file = export_casebook(db, actor, study_id, fmt=fmt, lang=lang, via="cli", out=str(out))
    finally:
        db.dispose()
    out.write_bytes(file.content)
    result = {
        "report": "casebook",
        "study_id": study_id,
        "out": str(out),
        "format": fmt,
        "lang": lang,
        "bytes": len(file.content),
    }
    if as_json:
        print_json(result)
    else:
        typer.echo(f"wrote casebook of {study_id} ({fmt}, {lang}) to {out}")


def _actor(db: Any, user: str) -> Any:
    """The active user ``user`` as the actor the export is logged as (a clear error if none)."""
    from sqlalchemy import select

    from dosewise.cli.actor import cli_actor
    from dosewise.store.tables import User
    from dosewise.trial.audit import Actor
    from dosewise.trial.refusals import refusal
    from dosewise.trial.uow import UnitOfWork

    with UnitOfWork(db, cli_actor(), readonly=True) as uow:
        found = uow.session.scalar(select(User).where(User.username == user))
        if found is None or not found.active:
            raise refusal(InvalidParameter, "user", user, "no_such_active_user")
        return Actor.of(found)
