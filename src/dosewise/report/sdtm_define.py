"""A define-style listing of the SDTM datasets: every variable with label, type, length, origin.

Not a full Define-XML 2.1 document; the same metadata a reviewer reads in one, as
``define.csv`` (one row per variable) and ``define.html`` (a table per dataset).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from dosewise.report.sdtm import Dataset
from dosewise.report.trial_data import records

COLUMNS = (
    "dataset",
    "dataset_label",
    "structure",
    "order",
    "variable",
    "label",
    "type",
    "length",
    "origin",
    "core",
    "codelist",
    "records",
)


def define_frame(datasets: Mapping[str, Dataset]) -> pd.DataFrame:
    """One row per variable; ``length`` is the longest value for text, 8 bytes for numbers."""
    rows = []
    for d in datasets.values():
        for order, v in enumerate(d.variables, start=1):
            column = d.frame[v.name]
            length = 8 if v.type == "Num" else int(column.map(len).max()) if len(column) else 1
            rows.append(
                {
                    "dataset": d.name,
                    "dataset_label": d.label,
                    "structure": d.structure,
                    "order": order,
                    "variable": v.name,
                    "label": v.label,
                    "type": v.type,
                    "length": max(length, 1),
                    "origin": v.origin,
                    "core": v.core,
                    "codelist": v.codelist or "",
                    "records": len(d.frame),
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def define_html(frame: pd.DataFrame, study: str) -> str:
    """The listing as a small self-contained HTML page."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(study)} SDTM variable listing</title>",
        "<style>body{font-family:'DejaVu Sans',sans-serif;font-size:10pt}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #999;padding:2px 6px;text-align:left}</style></head><body>",
        f"<h1>{html.escape(study)}: SDTM datasets and variables</h1>",
    ]
    for name, group in frame.groupby("dataset", sort=False):
        first = group.iloc[0]
        parts.append(
            f"<h2 id='{html.escape(str(name))}'>{html.escape(str(name))} — "
            f"{html.escape(str(first['dataset_label']))} ({int(first['records'])} records)</h2>"
            f"<p>{html.escape(str(first['structure']))}</p><table><tr>"
            + "".join(
                f"<th>{c}</th>"
                for c in ("#", "Variable", "Label", "Type", "Length", "Origin", "Core", "Codelist")
            )
            + "</tr>"
        )
        for row in records(group):
            cells = (
                row.order,
                row.variable,
                row.label,
                row.type,
                row.length,
                row.origin,
                row.core,
                row.codelist,
            )
            parts.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells))
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_define(datasets: Mapping[str, Dataset], folder: Path, study: str) -> list[Path]:
    """``define.csv`` and ``define.html`` in ``folder`` for study ``study`` (its STUDYID)."""
    frame = define_frame(datasets)
    csv = folder / "define.csv"
    frame.to_csv(csv, index=False)
    page = folder / "define.html"
    page.write_text(define_html(frame, str(study)), encoding="utf-8")
    return [csv, page]
