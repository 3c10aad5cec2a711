"""`dosewise table` prints the same bytes as before it dropped pandas (issue 19).

The files in ``golden_tables/`` are the output of the pandas-based formatter (commit 7ffdab6)
for the argument sets below: every format, ``--json``, designs whose boundary columns have gaps
("—" / ``null``), other cohort sizes and non-default utilities. The CSV is also compared with
pandas' own ``to_csv`` of the RDS rows for more designs.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from dosewise.cli.app import main
from dosewise.design.params import Boin12Params
from dosewise.design.table_format import decision_tables
from dosewise.errors import InvalidParameter

GOLDEN = Path(__file__).parent / "golden_tables"

CASES: dict[str, list[str]] = {
    "default": ["table"],
    "n9": ["table", "--n-max", "9"],
    "html6": ["table", "--n-max", "6", "--format", "html"],
    "csv3": ["table", "--n-max", "3", "--format", "csv"],
    "csv12": ["table", "--n-max", "12", "--format", "csv"],
    "json": ["table", "--json"],
    "json_trial": ["table", "--doses", "3", "--start-dose", "2", "--max-n", "18", "--json"],
    "md_other": [
        "table", "--n-max", "18", "--phi-t", "0.3", "--phi-e", "0.2", "--u11", "70",
        "--u00", "30", "--cohort-size", "2", "--n2", "0", "--n-earlystop", "0",
    ],
    "html_other": [
        "table", "--n-max", "20", "--phi-t", "0.25", "--phi-e", "0.4", "--u11", "55", "--u00",
        "45", "--doses", "5", "--c-t", "0.9", "--c-e", "0.8", "--format", "html",
    ],
    "json_other": [
        "table", "--n-max", "9", "--phi-t", "0.25", "--phi-e", "0.4", "--u11", "55", "--u00",
        "45", "--c-e", "0.8", "--cohort-size", "1", "--json",
    ],
    "csv_other": [
        "table", "--n-max", "8", "--phi-e", "0.4", "--u11", "20", "--u00", "80",
        "--cohort-size", "4", "--format", "csv",
    ],
    "md_cohort1": ["table", "--n-max", "5", "--cohort-size", "1", "--c-e", "0.5"],
    "json_high_ce": ["table", "--n-max", "12", "--c-e", "0.99", "--phi-e", "0.1", "--json"],
    "md_high_ce": ["table", "--n-max", "12", "--c-e", "0.99", "--phi-e", "0.1"],
}  # fmt: skip


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", sorted(CASES))
def test_table_output_is_unchanged(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(CASES[name], capsys)
    assert code == 0, err
    assert out == (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["markdown", "html", "csv"])
def test_table_out_file_holds_the_printed_text(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"t.{fmt}"
    code, out, _ = run(["table", "--n-max", "9", "--format", fmt, "--out", str(path)], capsys)
    assert code == 0 and out == f"wrote {path} ({fmt})\n"
    _, printed, _ = run(["table", "--n-max", "9", "--format", fmt], capsys)
    assert path.read_text(encoding="utf-8") + "\n" == printed


@pytest.mark.parametrize(
    "params",
    [
        Boin12Params(),
        Boin12Params(phi_t=0.25, phi_e=0.4, u11=55, u00=45, cohort_size=1, c_e=0.8),
        Boin12Params(phi_e=0.1, c_e=0.99, u11=0, u00=100, cohort_size=2),
    ],
)
def test_csv_is_what_pandas_writes(params: Boin12Params) -> None:
    tables = decision_tables(params, 18)
    buf = io.StringIO()
    tables.rds.to_frame().to_csv(buf, index=False)
    assert tables.to_csv() == buf.getvalue()


def test_boundary_frame_view_keeps_its_rows() -> None:
    tables = decision_tables(Boin12Params(phi_e=0.4, cohort_size=1, c_e=0.8), 9)
    frame = tables.boundaries
    assert isinstance(frame, pd.DataFrame) and len(frame) == 9
    assert list(frame["n"]) == [row["n"] for row in tables.boundary_rows]


def test_n_max_below_one_cohort_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InvalidParameter, match="cohort size"):
        decision_tables(Boin12Params(), 2)
    code, out, err = run(["table", "--n-max", "2"], capsys)
    assert code == 2 and out == "" and "n_max" in err and "Traceback" not in err
