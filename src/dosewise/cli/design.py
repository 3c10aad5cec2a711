"""Design commands: ``boundaries``, ``rds``, ``decide``, ``obd``, ``table``, ``decide-tite``."""

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from dosewise.cli.app import app
from dosewise.cli.language import error_fields, resolve
from dosewise.cli.options import print_json, with_design_options
from dosewise.design.boin import boundary_table
from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params
from dosewise.design.reasons import check_lang
from dosewise.design.tite import TiteBoin12, TitePatient
from dosewise.errors import InvalidInput, InvalidOutcomes, InvalidParameter

console = Console()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
OutcomesOpt = Annotated[
    str | None,
    typer.Option("--outcomes", help='Cohorts in treatment order, e.g. "1NNE 2TBN" ("" = none).'),
]
LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="Language of the reason: en or zh (JSON keys stay the same; default: "
        "dosewise --lang, else $DOSEWISE_LANG, else en).",
    ),
]
OutcomesFileOpt = Annotated[
    Path | None,
    typer.Option("--outcomes-file", help="One outcome string per line; prints JSON Lines."),
]


@app.command()
def boundaries(
    target: Annotated[float, typer.Option("--target", help="Target DLT rate φ.")] = 0.3,
    max_n: Annotated[int, typer.Option("--max-n", help="Rows for n = 1..max-n.")] = 30,
    cutoff: Annotated[float, typer.Option("--cutoff", help="Elimination cut-off.")] = 0.95,
    as_json: JsonOpt = False,
) -> None:
    """BOIN escalation/de-escalation/elimination boundaries by number treated."""
    bounds, rows = boundary_table(target, max_n, cutoff=cutoff)
    if as_json:
        print_json(
            {
                "target": target,
                "lambda_e": bounds.lambda_e,
                "lambda_d": bounds.lambda_d,
                "rows": [
                    {
                        "n": r.n,
                        "escalate_if_tox_le": r.escalate_if_tox_le,
                        "deescalate_if_tox_ge": r.deescalate_if_tox_ge,
                        "eliminate_if_tox_ge": r.eliminate_if_tox_ge,
                    }
                    for r in rows
                ],
            }
        )
        return
    table = Table(
        title=f"BOIN boundaries, target {target}: λe = {bounds.lambda_e:.7f}, "
        f"λd = {bounds.lambda_d:.7f}"
    )
    for col in ("n", "escalate if #DLT ≤", "de-escalate if #DLT ≥", "eliminate if #DLT ≥"):
        table.add_column(col, justify="right")
    for r in rows:
        elim = "—" if r.eliminate_if_tox_ge is None else str(r.eliminate_if_tox_ge)
        table.add_row(str(r.n), str(r.escalate_if_tox_le), str(r.deescalate_if_tox_ge), elim)
    console.print(table)


@app.command()
@with_design_options
def rds(
    design: Boin12Params,
    n: Annotated[
        list[int] | None, typer.Option("--n", help="Sample sizes, e.g. --n 0 3 6 9.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The BOIN12 rank-based desirability score table (Lin et al. 2020, Table 3)."""
    from dosewise.design.tables import rds_table  # pandas and scipy.stats: load only here

    sizes = n if n else list(range(0, design.max_n + 1, design.cohort_size))
    result = rds_table(design, sizes)
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"BOIN12 RDS table (u_b = {result.u_b:g}; E = not admissible)")
    cols = ["n", "#DLT", "#resp"] + (["#both"] if result.joint else []) + ["Pr(U>u_b)", "RDS"]
    for col in cols:
        table.add_column(col, justify="right")
    for r in result.rows:
        cells = [str(r.n), str(r.tox), str(r.eff)] + ([str(r.both)] if result.joint else [])
        cells += [f"{r.desirability:.4f}", "E" if r.rds is None else f"{r.rds:g}"]
        table.add_row(*cells)
    console.print(table)


def _outcome_lines(outcomes: str | None, outcomes_file: Path | None) -> list[str] | None:
    """The outcome strings to evaluate: one (--outcomes) or many (--outcomes-file)."""
    if outcomes is not None and outcomes_file is not None:
        raise InvalidInput("outcomes", outcomes, "give --outcomes or --outcomes-file, not both")
    if outcomes_file is not None:
        text = sys.stdin.read() if str(outcomes_file) == "-" else outcomes_file.read_text()
        return text.splitlines()
    if outcomes is None:
        raise InvalidInput("outcomes", None, 'required: --outcomes "1NNE 2TBN" (or "" for none)')
    return None


def _many(lines: list[str], run: Any) -> None:
    """Evaluate each line; print one JSON object per line, errors as {"error": ...} lines."""
    out = sys.stdout
    for number, line in enumerate(lines, start=1):
        try:
            result = run(line.strip())
        except (InvalidOutcomes, InvalidInput) as exc:
            error = {"line": number, "field": exc.field, "message": exc.message}
            result = {"error": {**error, **error_fields(exc)}}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")


@app.command()
@with_design_options
def decide(
    design: Boin12Params,
    outcomes: OutcomesOpt = None,
    outcomes_file: OutcomesFileOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """The next dose (or a stop) after the outcomes so far, with the reason."""
    lang = check_lang(resolve(lang))
    model = Boin12(design)
    rng = np.random.default_rng(design.seed)
    lines = _outcome_lines(outcomes, outcomes_file)
    if lines is not None:
        _many(lines, lambda s: model.decide(s, rng=rng).to_dict(lang))
        return
    assert outcomes is not None
    result = model.decide(outcomes, rng=rng)
    if as_json:
        print_json(result.to_dict(lang))
        return
    _print_decision(model, outcomes, result.to_dict(lang))


def _print_decision(model: Boin12, outcomes: str, data: dict[str, Any]) -> None:
    state = model.state(outcomes)
    table = Table(title=f'BOIN12 state after "{outcomes}"')
    for col in ("dose", "n", "#DLT", "#resp", "Pr(U>u_b)", "admissible"):
        table.add_column(col, justify="right")
    for j in range(model.params.n_doses):
        table.add_row(
            str(j + 1),
            str(int(state.counts.n[j])),
            str(int(state.counts.tox[j])),
            str(int(state.counts.eff[j])),
            f"{data['desirability'][str(j + 1)]:.4f}",
            "yes" if (j + 1) in data["admissible"] else "eliminated",
        )
    console.print(table)
    verdict = "STOP" if data["stop"] else f"next dose: {data['next_dose']}"
    console.print(f"[bold]{verdict}[/bold] — {data['reason']}")


@app.command()
@with_design_options
def obd(
    design: Boin12Params,
    outcomes: OutcomesOpt = None,
    outcomes_file: OutcomesFileOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """Select the optimal biological dose from the final data (isotonic MTD, utility).

    When ``decide`` on the same data stops without an OBD, there is none, for that reason.
    """
    lang = check_lang(resolve(lang))
    model = Boin12(design)
    rng = np.random.default_rng(design.seed)  # the same draws as ``decide`` (random ties)
    lines = _outcome_lines(outcomes, outcomes_file)
    if lines is not None:
        _many(lines, lambda s: model.select_obd(s, rng=rng).to_dict(lang))
        return
    assert outcomes is not None
    selected = model.select_obd(outcomes, rng=rng)
    result = selected.to_dict(lang)
    if as_json:
        print_json(result)
        return
    table = Table(title="OBD selection")
    for col in ("dose", "n", "#DLT", "#resp", "isotonic DLT", "mean utility", "eligible"):
        table.add_column(col, justify="right")
    for d in selected.doses:
        table.add_row(
            str(d.dose),
            str(d.n),
            str(d.tox),
            str(d.eff),
            f"{d.tox_isotonic:.4f}",
            f"{d.utility_mean:.4f}",
            "yes" if d.eligible else "no",
        )
    console.print(table)
    console.print(f"[bold]OBD: {result['obd']}[/bold], MTD: {result['mtd']} — {result['reason']}")


def _read_tite_patients(path: Path) -> tuple[list[TitePatient], list[int]]:
    """Read {"patients": [...], "eliminated": [...]} (or a bare list) for TITE decisions."""
    raw = sys.stdin.read() if str(path) == "-" else path.read_text()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput("patients-file", str(path), f"not valid JSON ({exc.msg})") from None
    records = data.get("patients") if isinstance(data, dict) else data
    eliminated = data.get("eliminated", []) if isinstance(data, dict) else []
    if not isinstance(records, list):
        raise InvalidInput("patients", type(records).__name__, "must be a list of patients")
    allowed = {"dose", "follow_up", "dlt", "response", "dlt_final", "response_final"}
    patients = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InvalidInput(f"patients[{i}]", rec, "must be an object")
        unknown = set(rec) - allowed
        if unknown:
            raise InvalidInput(f"patients[{i}]", sorted(unknown), f"unknown keys; use {allowed}")
        for key in ("dose", "follow_up"):
            if key not in rec:
                raise InvalidInput(f"patients[{i}].{key}", None, "is required")
        for key in ("dlt", "response", "dlt_final", "response_final"):
            if key in rec and not isinstance(rec[key], bool):
                raise InvalidInput(f"patients[{i}].{key}", rec[key], "must be true or false")
        patients.append(TitePatient(**rec))
    return patients, [int(e) for e in eliminated]


@app.command("decide-tite")
@with_design_options
def decide_tite(
    design: Boin12Params,
    patients_file: Annotated[
        Path,
        typer.Option("--patients-file", help="JSON: patients with dose, follow_up (days), ..."),
    ],
    tox_window: Annotated[float, typer.Option("--tox-window", help="DLT window, days.")] = 28.0,
    eff_window: Annotated[
        float, typer.Option("--eff-window", help="Efficacy window, days.")
    ] = 90.0,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
) -> None:
    """TITE-BOIN12: the next dose with pending outcomes, a stop, or why accrual waits."""
    lang = check_lang(resolve(lang))
    patients, eliminated = _read_tite_patients(patients_file)
    model = TiteBoin12(design, tox_window, eff_window)
    result = model.decide(patients, eliminated, rng=np.random.default_rng(design.seed))
    data = result.to_dict(lang)
    if as_json:
        print_json(data)
        return
    table = Table(title="TITE-BOIN12 effective data")
    for col in ("dose", "n", "DLT obs", "ESS tox", "resp obs", "ESS eff", "x̃", "pending"):
        table.add_column(col, justify="right")
    for d in data["doses"]:
        table.add_row(*(str(d[k]) for k in d))
    console.print(table)
    if result.wait:
        console.print(f"[bold]WAIT[/bold] — {data['reason']}")
    elif result.accrual_complete:
        console.print(f"[bold]ACCRUAL COMPLETE[/bold] — {data['reason']}")
    else:
        verdict = "STOP" if data["stop"] else f"next dose: {data['next_dose']}"
        console.print(f"[bold]{verdict}[/bold] — {data['reason']}")


def _check_table_format(fmt: str) -> str:
    if fmt not in ("markdown", "csv", "html"):
        raise InvalidParameter("format", fmt, "must be markdown, csv or html")
    return fmt


@app.command("table")
@with_design_options
def table_cmd(
    design: Boin12Params,
    n_max: Annotated[int, typer.Option("--n-max", help="Largest n in the table.")] = 12,
    fmt: Annotated[str, typer.Option("--format", help="markdown, csv or html.")] = "markdown",
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The decision table a protocol includes (boundaries and the RDS table by n)."""
    from dosewise.design.table_format import decision_tables

    _check_table_format(fmt)
    doc = decision_tables(design, n_max)
    if as_json:
        print_json(doc.to_dict())
        return
    text = {"markdown": doc.to_markdown, "csv": doc.to_csv, "html": doc.to_html}[fmt]()
    if out is not None:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out} ({fmt})")
    else:
        typer.echo(text)


@app.command()
def demo() -> None:
    """NCT07070323 decision tables and a worked decision for one arm (DL1 = dose 2 starts)."""
    from dosewise.design.table_format import decision_tables

    params = Boin12Params(n_doses=3, start_dose=2, max_n=18, n_earlystop=12, tie_break="random")
    console.rule("NCT07070323 — BOIN12 decision tables (per arm; DL-1 = 1, DL1 = 2, DL2 = 3)")
    typer.echo(decision_tables(params, 12).to_markdown())
    model = Boin12(params)
    example = "2NNE 3NEN"
    console.rule(f'Example: outcomes "{example}" (cohorts in treatment order)')
    _print_decision(model, example, model.decide(example).to_dict())
