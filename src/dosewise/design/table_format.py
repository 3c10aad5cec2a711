"""The protocol decision-table document: boundaries and RDS grids as Markdown, CSV or HTML.

Pure string rendering of the rows built in :mod:`dosewise.design.tables`; no I/O. Written
without pandas (about half a second of ``dosewise table``'s start-up); the output is the same
text the pandas version printed, byte for byte (tests/design/test_table_format.py).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dosewise.design.boin import boin_boundaries
from dosewise.design.params import Boin12Params
from dosewise.design.tables import BoundaryRow, RdsTable, boundary_rows, rds_cells, rds_table
from dosewise.errors import InvalidParameter

if TYPE_CHECKING:
    import pandas as pd

_BOUNDARY_HEADERS = {
    "n": "n treated",
    "escalate_if_tox_le": "Escalate if #DLT ≤",
    "deescalate_if_tox_ge": "De-escalate if #DLT ≥",
    "eliminate_if_tox_ge": "Eliminate (toxicity) if #DLT ≥",
    "futile_if_eff_le": "Eliminate (futility) if #responses ≤",
}

#: A table to print: header cells, then rows of (row label or None, cells).
_Rows = list[tuple[str | None, list[str]]]


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _markdown(headers: Sequence[str], rows: _Rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for label, cells in rows:
        lines.append("| " + " | ".join(([label] if label is not None else []) + cells) + " |")
    return "\n".join(lines)


def _html_table(headers: Sequence[str], rows: _Rows) -> str:
    parts = ["<table><thead><tr>"]
    parts += [f"<th>{html.escape(h)}</th>" for h in headers]
    parts.append("</tr></thead><tbody>")
    for label, cells in rows:
        parts.append("<tr>")
        if label is not None:
            parts.append(f"<th>{html.escape(label)}</th>")
        for text in cells:
            cls = ' class="elim"' if text == "E" else ""
            parts.append(f"<td{cls}>{html.escape(text)}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _settings_table(settings: list[tuple[str, str]]) -> tuple[list[str], _Rows]:
    return ["Setting", "Value"], [(None, [name, value]) for name, value in settings]


def _boundary_table(rows: list[BoundaryRow]) -> tuple[list[str], _Rows]:
    return list(_BOUNDARY_HEADERS.values()), [
        (None, [_cell(row[key]) for key in _BOUNDARY_HEADERS]) for row in rows
    ]


def _grid_table(table: RdsTable, n: int) -> tuple[list[str], _Rows]:
    cells = rds_cells(table, n)
    return ["#DLT", *(str(eff) for eff in range(n + 1))], [
        (str(tox), row) for tox, row in enumerate(cells)
    ]


def _json_rows(rows: list[BoundaryRow]) -> list[BoundaryRow]:
    """The boundary rows as ``table --json`` has always printed them.

    The shape came from a pandas frame, where a column with a gap (``None``) holds floats: its
    counts print as ``3.0``. Kept so the JSON stays the same for scripts that read it.
    """
    gapped = {key for row in rows for key, value in row.items() if value is None}
    return [
        {k: (float(v) if k in gapped and v is not None else v) for k, v in row.items()}
        for row in rows
    ]


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class DecisionTables:
    """Everything a protocol's statistical section tabulates for a BOIN12 design."""

    params: Boin12Params
    sizes: tuple[int, ...]
    boundary_rows: tuple[BoundaryRow, ...]
    rds: RdsTable

    @property
    def boundaries(self) -> pd.DataFrame:
        """The boundary rows as a pandas frame (pandas loads here, not for printing)."""
        import pandas as pd

        return pd.DataFrame.from_records(list(self.boundary_rows))

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
            "boundaries": _json_rows(list(self.boundary_rows)),
            "rds": self.rds.to_dict(),
        }

    def to_markdown(self) -> str:
        """Markdown sections a protocol can paste."""
        parts = ["# BOIN12 decision tables", "", "## Design settings", ""]
        parts.append(_markdown(*_settings_table(self._settings())))
        parts += ["", "## Dose-finding boundaries by number treated at the current dose", ""]
        parts.append(_markdown(*_boundary_table(list(self.boundary_rows))))
        parts += [
            "",
            "## Rank-based desirability score (RDS)",
            "",
            "Higher is more desirable; E = not admissible (eliminated). Rows: #DLT; columns: "
            "#responses. Among the candidate doses the one with the highest RDS is chosen.",
        ]
        for n in self.sizes:
            parts += ["", f"### n = {n}", "", _markdown(*_grid_table(self.rds, n))]
        return "\n".join(parts) + "\n"

    def to_csv(self) -> str:
        """One CSV with the RDS rows (n, tox, eff, admissible, desirability, rds)."""
        columns = ["n", "tox", "eff", "admissible", "desirability", "rds"]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for r in self.rds.rows:
            writer.writerow(
                [_csv_value(v) for v in (r.n, r.tox, r.eff, r.admissible, r.desirability, r.rds)]
            )
        return buf.getvalue()

    def to_html(self) -> str:
        """A printable HTML page."""
        body = ["<h1>BOIN12 decision tables</h1>", "<h2>Design settings</h2>"]
        body.append(_html_table(*_settings_table(self._settings())))
        body.append("<h2>Dose-finding boundaries by number treated at the current dose</h2>")
        body.append(_html_table(*_boundary_table(list(self.boundary_rows))))
        body.append(
            "<h2>Rank-based desirability score (RDS)</h2><p>Higher is more desirable; "
            "E = not admissible. Rows: #DLT; columns: #responses.</p>"
        )
        for n in self.sizes:
            body.append(f"<h3>n = {n}</h3>")
            body.append(_html_table(*_grid_table(self.rds, n)))
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
    if n_max < params.cohort_size:
        raise InvalidParameter(
            "n_max", n_max, f"must be at least the cohort size ({params.cohort_size})"
        )
    sizes = tuple(range(0, n_max + 1, params.cohort_size))
    rows = tuple(boundary_rows(params, sizes))
    return DecisionTables(params, sizes, rows, rds_table(params, sizes))
