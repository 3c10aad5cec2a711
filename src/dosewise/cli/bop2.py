"""``dosewise bop2``: optimise a BOP2 phase 2 design and print its boundaries and exact OC.

A thin adapter over :mod:`dosewise.design.bop2`: parse, call, render (JSON or Rich tables).
``--looks``, ``--p-true`` and ``--p-tox-true`` take several values after one flag
(``--looks 9 18``), repeated flags (``--looks 9 --looks 18``) or a comma list (``--looks 9,18``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dosewise.cli.app import app
from dosewise.design.bop2 import (
    Bop2Design,
    Bop2OC,
    Bop2Result,
    ToxicityMonitoring,
    operating_characteristics,
    optimise_bop2,
)
from dosewise.errors import InvalidParameter

MULTI_VALUE_OPTIONS = ("--looks", "--p-true", "--p-tox-true")


def _is_value(token: str) -> bool:
    if not token.startswith("-"):
        return True
    try:
        float(token)
    except ValueError:
        return False
    return True


def spread_multi_values(args: list[str]) -> list[str]:
    """Rewrite ``--looks 9 18`` and ``--looks 9,18`` as ``--looks 9 --looks 18`` for Click."""
    out: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        name, eq, inline = token.partition("=")
        if name in MULTI_VALUE_OPTIONS:
            values = [inline] if eq else []
            i += 1
            if not eq:
                while i < len(args) and _is_value(args[i]):
                    values.append(args[i])
                    i += 1
            parts = [p for v in values for p in v.split(",") if p != ""]
            if not parts:
                out.append(token)
            for part in parts:
                out += [name, part]
            continue
        out.append(token)
        i += 1
    return out


class MultiValueCommand(typer.core.TyperCommand):
    """A command whose list options accept several values after one flag."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # ctx is typer's vendored click Context (a private type), hence Any.
        return super().parse_args(ctx, spread_multi_values(list(args)))


def _oc_row(label: str, oc: Bop2OC) -> dict[str, Any]:
    return {
        "scenario": label,
        "p_response": oc.p_response,
        "p_toxicity": oc.p_toxicity,
        "prob_promising": oc.prob_promising,
        "prob_early_stop": oc.prob_early_stop,
        "expected_n": oc.expected_n,
        "stop_by_look": list(oc.stop_by_look),
    }


def _render(result: Bop2Result, scenarios: list[Bop2OC]) -> None:
    console = Console()
    design = result.design
    tox = design.toxicity
    table = Table(title=f"BOP2 boundaries (N = {design.n_max})")
    table.add_column("n", justify="right")
    table.add_column("C(n)", justify="right")
    table.add_column("stop if responses <=", justify="right")
    if tox is not None:
        table.add_column("stop if toxicities >=", justify="right")
    for b in result.boundaries:
        k = "-" if b.stop_if_responses_le is None else str(b.stop_if_responses_le)
        row = [str(b.n), f"{b.cutoff:.4f}", k]
        if tox is not None:
            row.append("-" if b.stop_if_toxicities_ge is None else str(b.stop_if_toxicities_ge))
        table.add_row(*row)
    console.print(table)
    summary = result.as_dict()
    final = f"responses >= {summary['promising_if_responses_ge']}"
    if tox is not None:
        final += f" and toxicities <= {summary['promising_if_toxicities_le']}"
    console.print(
        f"lambda = {result.lambda_:g}, gamma = {result.gamma:g}; "
        f"at n = {design.n_max} the treatment is promising if {final}."
    )
    oc_table = Table(title="Exact operating characteristics")
    oc_table.add_column("truth")
    oc_table.add_column("p_E", justify="right")
    if tox is not None:
        oc_table.add_column("p_T", justify="right")
    oc_table.add_column("Pr(promising)", justify="right")
    oc_table.add_column("Pr(early stop)", justify="right")
    oc_table.add_column("E[N]", justify="right")
    rows = [("H0", result.h0), ("H1", result.h1)]
    extra_nulls = ("null: futile, safe", "null: effective, toxic")
    rows += list(zip(extra_nulls, result.null_ocs[1:], strict=False))
    rows += [("given", oc) for oc in scenarios]
    for label, oc in rows:
        cells = [label, f"{oc.p_response:g}"]
        if tox is not None:
            cells.append(f"{oc.p_toxicity:g}")
        cells += [f"{oc.prob_promising:.4f}", f"{oc.prob_early_stop:.4f}", f"{oc.expected_n:.2f}"]
        oc_table.add_row(*cells)
    console.print(oc_table)
    console.print(
        f"type I error = {result.type_i_error:.4f} (alpha = {design.alpha:g}), "
        f"power = {result.power:.4f}"
    )


@app.command("bop2", cls=MultiValueCommand)
def bop2_command(
    n: Annotated[int, typer.Option("--n", help="Maximum sample size N of the phase 2 part.")],
    p0: Annotated[float, typer.Option("--p0", help="Null (futile) response rate.")],
    p1: Annotated[float, typer.Option("--p1", help="Target (promising) response rate.")],
    looks: Annotated[
        list[int] | None,
        typer.Option("--looks", help="Cumulative sample sizes of the analyses (N is added)."),
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Largest type I error.")] = 0.10,
    tox: Annotated[bool, typer.Option("--tox", help="Monitor toxicity jointly.")] = False,
    phi_t0: Annotated[
        float | None, typer.Option("--phi-t0", help="Unacceptable toxicity rate (with --tox).")
    ] = None,
    phi_t1: Annotated[
        float | None, typer.Option("--phi-t1", help="Acceptable toxicity rate (with --tox).")
    ] = None,
    odds_ratio: Annotated[
        float, typer.Option("--odds-ratio", help="Response-toxicity odds ratio for the OC.")
    ] = 1.0,
    null: Annotated[
        str, typer.Option("--null", help="Type I error with --tox: composite or joint.")
    ] = "composite",
    p_true: Annotated[
        list[float] | None,
        typer.Option("--p-true", help="Further true response rates to report OC for."),
    ] = None,
    p_tox_true: Annotated[
        list[float] | None,
        typer.Option("--p-tox-true", help="True toxicity rates, one per --p-true (with --tox)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Optimise a BOP2 design (Zhou, Lee & Yuan 2017): stopping boundaries and exact OC."""
    toxicity = None
    if tox:
        if phi_t0 is None or phi_t1 is None:
            missing = "phi_t0" if phi_t0 is None else "phi_t1"
            raise InvalidParameter(missing, None, "required with --tox")
        if null not in ("composite", "joint"):
            raise InvalidParameter("null", null, "must be 'composite' or 'joint'")
        toxicity = ToxicityMonitoring(
            phi_t0=phi_t0,
            phi_t1=phi_t1,
            odds_ratio=odds_ratio,
            null="composite" if null == "composite" else "joint",
        )
    elif phi_t0 is not None or phi_t1 is not None or p_tox_true:
        raise InvalidParameter("tox", False, "--phi-t0/--phi-t1/--p-tox-true need --tox")
    design = Bop2Design(
        n_max=n, looks=tuple(looks or ()), p0=p0, p1=p1, alpha=alpha, toxicity=toxicity
    )
    result = optimise_bop2(design)
    truths = list(p_true or [])
    tox_truths: list[float | None] = [None] * len(truths)
    if toxicity is not None and truths:
        if p_tox_true is None or len(p_tox_true) != len(truths):
            raise InvalidParameter("p_tox_true", p_tox_true, "give one rate per --p-true value")
        tox_truths = list(p_tox_true)
    scenarios = [
        operating_characteristics(result, p_e, p_t)
        for p_e, p_t in zip(truths, tox_truths, strict=True)
    ]
    if as_json:
        payload = result.as_dict()
        payload["scenarios"] = [_oc_row("given", oc) for oc in scenarios]
        print(json.dumps(payload))
        return
    _render(result, scenarios)
