"""Clinical commands: ``grade crs|icans``, ``dose``, ``dlt``, ``bor``, ``visits``, ``ae-terms``.

Each command parses its input, calls one pure rule of :mod:`dosewise.clinical` and renders the
result: one JSON object with ``--json``, a Rich table otherwise. Input problems surface as
``error: field=value: rule`` with exit code 2 (see :func:`dosewise.cli.app.main`).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from dosewise.cli.app import app
from dosewise.cli.options import print_json
from dosewise.clinical.astct import (
    AstctGrade,
    CrsAssessment,
    IcansAssessment,
    IcansSettings,
    grade_crs,
    grade_icans,
)
from dosewise.clinical.ctcae import TERMS
from dosewise.clinical.dlt_io import DltCase
from dosewise.clinical.dosing import FALLBACK_POLICIES, ReleaseCertificate, plan_dose
from dosewise.clinical.response_io import BorCase
from dosewise.clinical.schedule import visit_status
from dosewise.errors import InvalidInput

console = Console()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
InputOpt = Annotated[
    str, typer.Option("--input", help="JSON file with one object, or - for stdin.")
]

grade_app = typer.Typer(
    name="grade",
    help="ASTCT 2019 grades of CRS and ICANS from their components.",
    no_args_is_help=True,
)
app.add_typer(grade_app, name="grade")


def _bad_constant(name: str) -> NoReturn:
    raise InvalidInput("input", name, "NaN and Infinity are not valid numbers")


def read_json_object(source: str) -> dict[str, Any]:
    """One JSON object from a file or stdin (``-``); anything else is a one-line error."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        data = json.loads(text, parse_constant=_bad_constant)
    except json.JSONDecodeError as exc:
        where = "stdin" if source == "-" else source
        raise InvalidInput(
            "input", where, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("input", type(data).__name__, "must be one JSON object")
    return data


def _print_grade(result: AstctGrade) -> None:
    table = Table(title=f"{result.syndrome} grade {result.grade} ({result.scale})")
    table.add_column("component")
    table.add_column("grade alone", justify="right")
    for name, grade in result.components:
        mark = " ◀" if name in result.determined_by_all else ""
        table.add_row(name + mark, str(grade))
    console.print(table)
    console.print(f"determined by: {result.determined_by or '— (no ' + result.syndrome + ')'}")
    for note in result.notes:
        console.print(f"note: {note}")


@grade_app.command("crs")
def grade_crs_command(input_file: InputOpt, as_json: JsonOpt = False) -> None:
    """CRS grade from fever, hypotension/vasopressors and oxygen support (ASTCT 2019)."""
    result = grade_crs(CrsAssessment.from_mapping(read_json_object(input_file)))
    if as_json:
        print_json(result.to_dict())
    else:
        _print_grade(result)


@grade_app.command("icans")
def grade_icans_command(
    input_file: InputOpt,
    capd_below_age: Annotated[
        float, typer.Option("--capd-below-age", help="CAPD instead of ICE below this age.")
    ] = 12.0,
    capd_positive_at: Annotated[
        int, typer.Option("--capd-positive-at", help="CAPD score that is grade 3.")
    ] = 9,
    as_json: JsonOpt = False,
) -> None:
    """ICANS grade from ICE (age >= 12) or CAPD (age < 12) and the other domains (ASTCT 2019)."""
    settings = IcansSettings(capd_below_age, capd_positive_at)
    result = grade_icans(IcansAssessment.from_mapping(read_json_object(input_file)), settings)
    if as_json:
        print_json(result.to_dict())
    else:
        _print_grade(result)


@app.command()
def dose(
    weight_kg: Annotated[float, typer.Option("--weight-kg", help="Body weight in kg.")],
    level: Annotated[str, typer.Option("--level", help="Planned dose level (DL-1, DL1, DL2).")] = (
        "DL1"
    ),
    tnc: Annotated[
        float | None, typer.Option("--tnc", help="Total nucleated cells in the product.")
    ] = None,
    viability: Annotated[
        float | None, typer.Option("--viability", help="Viable fraction (0-1).")
    ] = None,
    cd3: Annotated[
        float | None, typer.Option("--cd3", help="CD3+ fraction of viable cells.")
    ] = None,
    car: Annotated[float | None, typer.Option("--car", help="CAR+ fraction of CD3+ cells.")] = None,
    volume_ml: Annotated[
        float | None, typer.Option("--volume-ml", help="Product volume in mL.")
    ] = None,
    percent: Annotated[
        bool, typer.Option("--percent", help="Viability, CD3 and CAR are given in % (0-100).")
    ] = False,
    policy: Annotated[
        str,
        typer.Option(
            "--policy", help="When the planned level is not feasible: fallback_level or next_lower."
        ),
    ] = "fallback_level",
    volume_step_ml: Annotated[
        float | None, typer.Option("--volume-step-ml", help="Round the volume to this step.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cell-dose window for a weight and level; with release values, feasibility and volume."""
    values = {"tnc": tnc, "viability": viability, "cd3": cd3, "car": car}
    given = [k for k, v in values.items() if v is not None]
    product = None
    if given:
        missing = [k for k, v in values.items() if v is None]
        if missing:
            raise InvalidInput(
                missing[0],
                None,
                f"required with --{given[0]}: give --tnc, --viability, --cd3 and --car together",
            )
        assert tnc is not None and viability is not None and cd3 is not None and car is not None
        product = ReleaseCertificate.from_values(
            tnc, viability, cd3, car, volume_ml, unit="percent" if percent else "fraction"
        )
    elif volume_ml is not None:
        raise InvalidInput("volume_ml", volume_ml, "needs the release values --tnc ... --car")
    if policy not in FALLBACK_POLICIES:
        raise InvalidInput("policy", policy, f"must be one of {', '.join(FALLBACK_POLICIES)}")
    plan = plan_dose(
        weight_kg,
        level,
        product,
        policy=policy,
        volume_step_ml=volume_step_ml,
    )
    result = plan.to_dict()
    if as_json:
        print_json(result)
        return
    table = Table(title=f"{weight_kg:g} kg, planned {plan.planned.name}")
    for col in ("level", "cells/kg", "target", "window", "feasible", "share of product"):
        table.add_column(col, justify="right")
    for row in result["levels"]:
        feasible = {True: "yes", False: "no", None: "—"}[row["feasible"]]
        share = row["fraction_of_product"]
        table.add_row(
            row["name"],
            f"{row['cells_per_kg']:.3g}",
            f"{row['target_cells']:.3g}",
            f"{row['min_cells']:.3g}–{row['max_cells']:.3g}",
            feasible,
            "—" if share is None else f"{share:.0%}",
        )
    console.print(table)
    if product is not None:
        console.print(f"CAR+ viable T cells in product: {plan.car_t_cells:.3g}")
        console.print(f"assigned level: {plan.assigned_level or 'none'}")
        if plan.volume_ml is not None:
            console.print(f"volume to infuse: {plan.volume_ml:.2f} mL")
        if plan.dose_per_kg is not None:
            console.print(f"achieved dose: {plan.dose_per_kg:.3g} cells/kg")
    console.print(f"reason: {plan.reason}")


@app.command()
def dlt(input_file: InputOpt, as_json: JsonOpt = False) -> None:
    """Classify a patient's adverse events under a DLT definition (default: CAR-T template)."""
    case = DltCase.from_mapping(read_json_object(input_file))
    result = case.classify()
    out = {"patient_id": case.patient_id, **result.to_dict()}
    if as_json:
        print_json(out)
        return
    table = Table(title=f"DLT ({result.definition_version}): {result.status}")
    for col in ("#", "term", "grade", "day", "status", "reason"):
        table.add_column(col)
    for e in result.events:
        table.add_row(str(e.index), e.term, str(e.grade), str(e.onset_day), e.status, e.reason)
    console.print(table)
    console.print(result.reason)


@app.command()
def bor(input_file: InputOpt, as_json: JsonOpt = False) -> None:
    """Best overall response by month 3 (censored at SCT or new therapy) and efficacy."""
    case = BorCase.from_mapping(read_json_object(input_file))
    best = case.best()
    efficacy, basis = case.efficacy_outcome()
    out = {
        "patient_id": case.patient_id,
        **best.to_dict(case.infusion_date),
        "efficacy": efficacy,
        "efficacy_rule": {
            "responses": list(case.efficacy.responses),
            "by_day": case.efficacy.by_day,
            "require_mrd_negative": case.efficacy.require_mrd_negative,
        },
        "efficacy_basis": basis.reason,
    }
    if as_json:
        print_json(out)
        return
    table = Table(title=f"BOR by day {case.settings.by_day}: {best.category}")
    for col in ("date", "day", "response", "MRD-", "counted", "reason"):
        table.add_column(col)
    for row in out["assessments"]:
        mrd = {True: "yes", False: "no", None: "—"}[row["mrd_negative"]]
        counted = "yes" if row["counted"] else "no"
        table.add_row(
            row["date"], str(row["study_day"]), row["category"], mrd, counted, row["reason"]
        )
    console.print(table)
    console.print(best.reason)
    console.print(f"efficacy for BOIN12: {efficacy}")


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, value, "must be a date YYYY-MM-DD") from None


@app.command()
def visits(
    infusion_date: Annotated[
        str, typer.Option("--infusion-date", help="Infusion date (study day 0), YYYY-MM-DD.")
    ],
    on: Annotated[str | None, typer.Option("--on", help="Status date (default: today).")] = None,
    done: Annotated[
        list[str] | None,
        typer.Option("--done", help="VISIT[.ASSESSMENT]=YYYY-MM-DD, repeatable."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Visit schedule with windows: upcoming, due, overdue, done or out of window on a date
    (the embedded protocol's ``visits:``)."""
    day0 = _date(infusion_date, "infusion_date")
    when = date.today() if on is None else _date(on, "on")
    records: dict[str, date] = {}
    for item in done or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput("done", item, "must be VISIT=YYYY-MM-DD")
        records[key.strip()] = _date(value.strip(), f"done.{key.strip()}")
    from dosewise.protocol import default_protocol

    rows = visit_status(day0, when, records, default_protocol().visit_schedule())
    if as_json:
        print_json(
            {
                "infusion_date": day0.isoformat(),
                "on": when.isoformat(),
                "visits": [r.to_dict() for r in rows],
            }
        )
        return
    table = Table(title=f"Visits on {when} (infusion {day0})")
    for col in ("visit", "day", "window", "status", "done", "assessments not done"):
        table.add_column(col)
    for r in rows:
        open_items = [a.assessment for a in r.assessments if a.done_on is None]
        table.add_row(
            r.visit.label,
            str(r.visit.day),
            f"{r.window_start} – {r.window_end}",
            r.status,
            "—" if r.done_on is None else str(r.done_on),
            ", ".join(open_items) or "—",
        )
    console.print(table)


@app.command("ae-terms")
def ae_terms(as_json: JsonOpt = False) -> None:
    """The built-in CAR-T adverse-event terms with their SOC and grading scale."""
    terms: list[dict[str, Any]] = [
        {
            "term": t.name,
            "soc": t.soc,
            "kind": t.kind,
            "scale": t.scale,
            "max_grade": t.max_grade,
            "aliases": list(t.aliases),
        }
        for t in TERMS
    ]
    if as_json:
        print_json({"terms": terms})
        return
    table = Table(title="Built-in adverse-event terms")
    for col in ("term", "SOC", "kind", "scale", "max grade"):
        table.add_column(col)
    for t in terms:
        table.add_row(t["term"], t["soc"], t["kind"], t["scale"], str(t["max_grade"]))
    console.print(table)
