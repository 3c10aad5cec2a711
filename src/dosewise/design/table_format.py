"""The protocol decision-table document: boundaries and RDS grids as Markdown, CSV or HTML.

Pure string rendering of the frames built in :mod:`dosewise.design.tables`; no I/O.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import pandas as pd

from dosewise.design.boin import boin_boundaries
from dosewise.design.params import Boin12Params
from dosewise.design.tables import RdsTable, boundary_frame, rds_grid, rds_table
from dosewise.errors import InvalidParameter

_BOUNDARY_HEADERS = {
    "n": "n treated",
    "escalate_if_tox_le": "Escalate if #DLT ≤",
    "deescalate_if_tox_ge": "De-escalate if #DLT ≥",
    "eliminate_if_tox_ge": "Eliminate (toxicity) if #DLT ≥",
    "futile_if_eff_le": "Eliminate (futility) if #responses ≤",
}


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _markdown(frame: pd.DataFrame, index_name: str | None = None) -> str:
    headers = ([index_name] if index_name is not None else []) + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for idx, row in frame.iterrows():
        cells = ([str(idx)] if index_name is not None else []) + [_cell(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _html_table(frame: pd.DataFrame, index_name: str | None = None) -> str:
    head = ([index_name] if index_name is not None else []) + [str(c) for c in frame.columns]
    parts = ["<table><thead><tr>"]
    parts += [f"<th>{html.escape(h)}</th>" for h in head]
    parts.append("</tr></thead><tbody>")
    for idx, row in frame.iterrows():
        parts.append("<tr>")
        if index_name is not None:
            parts.append(f"<th>{html.escape(str(idx))}</th>")
        for v in row:
            text = _cell(v)
            cls = ' class="elim"' if text == "E" else ""
            parts.append(f"<td{cls}>{html.escape(text)}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class DecisionTables:
    """Everything a protocol's statistical section tabulates for a BOIN12 design."""

    params: Boin12Params
    sizes: tuple[int, ...]
    boundaries: pd.DataFrame
    rds: RdsTable

    def _settings(self) -> list[tuple[str, str]]:
        p = self.params
        b = boin_boundaries(p.phi_t, p.phi1, p.phi2)
        return [
            ("Dose levels", str(p.n_doses)),
            ("φT (highest acceptable DLT rate)", f"{p.phi_t:g}"),
            ("φE (lowest acceptable response rate)", f"{p.phi_e:g}"),
            ("Utilities u(0,1), u(1,1), u(0,0), u(1,0)", f"100, {p.u11:g}, {p.u00:g}, 0"),
            ("Benchmark utility u_b", f"{self.rds.u_b:g}"),
            ("λe / λd", f"{b.lambda_e:.4f} / {b.lambda_d:.4f}"),
            ("Elimination cut-offs c_T / c_E", f"{p.c_t:g} / {p.c_e:g}"),
            ("N* / N2 (extra exploration)", f"{p.n_star} / {p.n2 if p.n2 else 'off'}"),
            (
                "Cohort size / maximum N / n_earlystop",
                f"{p.cohort_size} / {p.max_n} / {p.n_earlystop or 'off'}",
            ),
            ("Start dose / tie-break", f"{p.start_dose} / {p.tie_break}"),
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON view: settings, boundary rows and RDS rows."""
        return {
            "settings": dict(self._settings()),
            "boundaries": [
                {k: (None if pd.isna(v) else v) for k, v in rec.items()}
                for rec in self.boundaries.astype(object).to_dict(orient="records")
            ],
            "rds": self.rds.to_dict(),
        }

    def to_markdown(self) -> str:
        """Markdown sections a protocol can paste."""
        parts = ["# BOIN12 decision tables", "", "## Design settings", ""]
        parts.append(_markdown(pd.DataFrame(self._settings(), columns=["Setting", "Value"])))
        parts += ["", "## Dose-finding boundaries by number treated at the current dose", ""]
        parts.append(
            _markdown(self.boundaries[list(_BOUNDARY_HEADERS)].rename(columns=_BOUNDARY_HEADERS))
        )
        parts += [
            "",
            "## Rank-based desirability score (RDS)",
            "",
            "Higher is more desirable; E = not admissible (eliminated). Rows: #DLT; columns: "
            "#responses. Among the candidate doses the one with the highest RDS is chosen.",
        ]
        for n in self.sizes:
            parts += ["", f"### n = {n}", "", _markdown(rds_grid(self.rds, n), "#DLT")]
        return "\n".join(parts) + "\n"

    def to_csv(self) -> str:
        """One CSV with the RDS rows (n, tox, eff, admissible, desirability, rds)."""
        buf = io.StringIO()
        self.rds.to_frame().to_csv(buf, index=False)
        return buf.getvalue()

    def to_html(self) -> str:
        """A printable HTML page."""
        body = ["<h1>BOIN12 decision tables</h1>", "<h2>Design settings</h2>"]
        body.append(_html_table(pd.DataFrame(self._settings(), columns=["Setting", "Value"])))
        body.append("<h2>Dose-finding boundaries by number treated at the current dose</h2>")
        body.append(
            _html_table(self.boundaries[list(_BOUNDARY_HEADERS)].rename(columns=_BOUNDARY_HEADERS))
        )
        body.append(
            "<h2>Rank-based desirability score (RDS)</h2><p>Higher is more desirable; "
            "E = not admissible. Rows: #DLT; columns: #responses.</p>"
        )
        for n in self.sizes:
            body.append(f"<h3>n = {n}</h3>")
            body.append(_html_table(rds_grid(self.rds, n), "#DLT"))
        style = (
            "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em;color:#111}"
            "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
            "th,td{border:1px solid #555;padding:2px 8px;text-align:right}"
            "td.elim{background:#eee;color:#900}h3{page-break-after:avoid}"
            "@media print{body{margin:0}h2{page-break-before:auto}}"
        )
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>BOIN12 decision tables</title><style>{style}</style></head><body>"
            + "".join(body)
            + "</body></html>\n"
        )


def decision_tables(params: Boin12Params, n_max: int) -> DecisionTables:
    """Boundaries and RDS for n = 0, cohort size, ..., n_max (multiples of the cohort size)."""
    if isinstance(n_max, bool) or not isinstance(n_max, int) or not 1 <= n_max <= 60:
        raise InvalidParameter("n_max", n_max, "must be a whole number from 1 to 60")
    if not params.additive:
        raise InvalidParameter(
            "u11+u00",
            params.u11 + params.u00,
            "the printed grid needs u11 + u00 = 100; use `dosewise rds` (joint-count rows)",
        )
    sizes = tuple(range(0, n_max + 1, params.cohort_size))
    return DecisionTables(params, sizes, boundary_frame(params, sizes), rds_table(params, sizes))
