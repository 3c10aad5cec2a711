"""``dosewise report design``: the command writes the document; bad input is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dosewise.cli.app import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "report.txt"], "error: out='report.txt': must end in .pdf or .html"),
        (["--out", "r.html", "--lang", "fr"], "error: lang='fr': must be one of en, zh"),
        (["--out", "r.html", "--trials", "0"], "error: trials=0: must be a whole number"),
        (["--out", "r.html", "--p0", "0.2"], "error: p1=None: give both phase 2 rates"),
        (
            ["--out", "r.html", "--scenario", "five-monotone"],
            "error: scenario='five-monotone': has 5 doses",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["report", "design", *[str(tmp_path / a) if a == "r.html" else a for a in extra]]
    code, out, err = _run(args, capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)


def test_missing_out_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["report", "design"], capsys)
    assert code == 2
    assert "--out" in err and len(err.strip().splitlines()) == 1


def test_design_report_html_with_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "design.html"
    args = ["report", "design", "--out", str(out), "--trials", "50", "--seed", "3",
            "--scenario", "nct07070323-dl2-best", "--lang", "zh", "--json"]  # fmt: skip
    code, stdout, _ = _run(args, capsys)
    assert code == 0
    data = json.loads(stdout)
    assert data == {
        "report": "design",
        "out": str(out),
        "format": "html",
        "lang": "zh",
        "protocol": "NCT07070323",
        "trials": 50,
        "seed": 3,
        "scenarios": ["nct07070323-dl2-best"],
        "bytes": out.stat().st_size,
    }
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "统计设计" in html
    # The appendix gives the command that reproduces the document.
    assert "--scenario nct07070323-dl2-best" in html and "--seed 3" in html


def test_report_group_lists_design(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["report", "--help"], capsys)
    assert code == 0 and "design" in out
