"""CLI for the protocol: ``protocol show|validate``, ``screen`` and ``consent``.

Thin adapters: read the file, call :mod:`dosewise.protocol`, print one JSON object (``--json``) or
the Rich views of :mod:`dosewise.cli.protocol_views`. ``screen`` and ``consent`` exit 0 whatever
the answer; bad input exits 2 with ``error: field=value: rule``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dosewise.cli.app import app
from dosewise.cli.options import print_json
from dosewise.cli.protocol_views import (
    console,
    render_consent,
    render_protocol,
    render_screening,
)
from dosewise.errors import InvalidInput
from dosewise.protocol import (
    ConsentCheck,
    Protocol,
    assumptions,
    default_protocol,
    load_protocol,
    parse_consent,
    parse_screening,
    protocol_problems,
)

protocol_app = typer.Typer(
    help="Show or validate a trial protocol file (default: the embedded NCT07070323).",
    no_args_is_help=True,
)
app.add_typer(protocol_app, name="protocol")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ProtocolOption = Annotated[
    Path | None,
    typer.Option("--protocol", help="Protocol file (default: the embedded NCT07070323)."),
]


def _protocol(path: Path | None) -> Protocol:
    return load_protocol(path) if path is not None else default_protocol()


def _read_json(path: str) -> dict[str, Any]:
    """One JSON object from a file, or from stdin when ``path`` is ``-``."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("file", path, f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InvalidInput("file", path, "must hold one JSON object")
    return data


# ---------------------------------------------------------------- protocol show


@protocol_app.command("show")
def show(
    file: Annotated[
        Path | None, typer.Argument(help="Protocol file (default: the embedded NCT07070323).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print the whole protocol, with every assumption marked."""
    protocol = _protocol(file)
    source = str(file) if file is not None else "embedded NCT07070323"
    if as_json:
        print_json(
            {
                "source": source,
                "protocol": protocol.model_dump(mode="json"),
                "assumptions": [n.to_dict() for n in assumptions(protocol)],
            }
        )
        return
    render_protocol(protocol, console(), source)


@protocol_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Protocol file to check.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a protocol file; list every problem with its path (exit 2), or confirm it is valid."""
    protocol, problems = protocol_problems(file.read_text(encoding="utf-8"))
    if as_json:
        print_json(
            {
                "file": str(file),
                "valid": protocol is not None,
                "problems": [p.to_dict() for p in problems],
            }
        )
    elif problems:
        for p in problems:
            print(f"{file}: {p}", file=sys.stderr)
        noun = "problem" if len(problems) == 1 else "problems"
        print(f"error: {file} is not a valid protocol: {len(problems)} {noun}", file=sys.stderr)
    if protocol is None:
        raise typer.Exit(2)
    if not as_json:
        notes = assumptions(protocol)
        typer.echo(
            f"ok: {file} is a valid protocol ({protocol.registry.nct_id}, {len(protocol.arms)} "
            f"arms, {len(protocol.eligibility.criteria)} criteria, {len(notes)} assumptions)"
        )


# ---------------------------------------------------------------- screen, consent


@app.command("screen")
def screen(
    file: Annotated[str, typer.Argument(help="Screening record (JSON), or - for stdin.")],
    arm: Annotated[str, typer.Option("--arm", help="Arm id, e.g. autologous.")],
    protocol: ProtocolOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Apply every inclusion and exclusion criterion for an arm to a screening record."""
    proto = _protocol(protocol)
    record = parse_screening(_read_json(file))
    result = proto.screen(record, arm)
    if as_json:
        print_json({"protocol": proto.registry.nct_id, **result.model_dump(mode="json")})
        return
    render_screening(result, console())


def _consent_json(check: ConsentCheck) -> dict[str, Any]:
    return {
        "complete": check.complete,
        "age_years": check.age_years,
        "band": check.band_label,
        "required": [m.model_dump() for m in check.required],
        "missing": [m.model_dump() for m in check.missing],
        "problems": list(check.problems),
        "completed_on": check.completed_on.isoformat() if check.completed_on else None,
    }


@app.command("consent")
def consent(
    file: Annotated[str, typer.Argument(help="Consent record or screening record (JSON), or -.")],
    protocol: ProtocolOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Say which consent signatures the patient's age band needs and which are missing."""
    proto = _protocol(protocol)
    check = proto.check_consent(parse_consent(_read_json(file)))
    if as_json:
        print_json({"protocol": proto.registry.nct_id, **_consent_json(check)})
        return
    render_consent(check, console())
