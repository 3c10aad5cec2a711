"""The design commands' JSON contracts (issue 3) and one-line errors with exit code 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scipy.stats import beta

from dosewise.cli.app import expand_variadic, main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code, out, err = run([*args, "--json"], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1, "exactly one JSON object"
    result = json.loads(lines[0])
    assert isinstance(result, dict)
    return result


def test_boundaries_contract(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["boundaries", "--target", "0.3", "--max-n", "30"], capsys)
    assert data["target"] == 0.3
    assert round(float(data["lambda_e"]), 7) == 0.2364907  # type: ignore[arg-type]
    assert round(float(data["lambda_d"]), 7) == 0.3585195  # type: ignore[arg-type]
    rows = data["rows"]
    assert isinstance(rows, list) and len(rows) == 30
    assert rows[0] == {"n": 1, "escalate_if_tox_le": 0, "deescalate_if_tox_ge": 1,
                       "eliminate_if_tox_ge": None}  # fmt: skip
    assert rows[11]["eliminate_if_tox_ge"] == 7  # R2: n = 12 eliminates at 7


def test_rds_contract(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["rds", "--n", "0", "3", "6", "9"], capsys)
    assert data["u_b"] == 70.5
    rows = {(r["n"], r["tox"], r["eff"]): r for r in data["rows"]}  # type: ignore[union-attr]
    assert rows[(9, 2, 3)]["rds"] == 32.5 and rows[(9, 2, 3)]["admissible"] is True
    assert rows[(9, 4, 0)]["rds"] is None and rows[(9, 4, 0)]["admissible"] is False
    # Independent value: x = (60*3 + 40*7)/100 = 4.6 quasi-events, U ~ Beta(5.6, 5.4).
    expected = float(beta.sf(0.705, 5.6, 5.4))
    assert rows[(9, 2, 3)]["desirability"] == pytest.approx(expected, rel=1e-9)


def test_rds_non_additive_rows_carry_both(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["rds", "--n", "3", "--u11", "50", "--u00", "30"], capsys)
    assert all("both" in r for r in data["rows"])  # type: ignore[union-attr]


def test_decide_contract(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["decide", "--outcomes", "1NNE 2TBN"], capsys)
    for key in ("next_dose", "stop", "admissible", "desirability", "tied", "reason"):
        assert key in data
    assert data["next_dose"] == 1 and data["stop"] is False
    assert data["admissible"] == [1, 2, 3]
    assert set(data["desirability"]) == {"1", "2", "3"}  # type: ignore[arg-type]
    assert data["desirability"]["3"] == 0.295  # type: ignore[index]


def test_decide_tie_lists_doses(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["decide", "--outcomes", "2NNN", "--tie-break", "higher"], capsys)
    assert data["tied"] == [1, 3] and data["next_dose"] == 3


def test_decide_stop_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["decide", "--outcomes", "1TTT"], capsys)
    assert data["stop"] is True and data["next_dose"] is None
    data = run_json(["decide", "--outcomes", "1NNE 1NEE 1EEE 1NNE", "--max-n", "36"], capsys)
    assert data["stop"] is True and data["next_dose"] is None
    assert "n_earlystop" in str(data["reason"])


def test_obd_contract(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        ["obd", "--doses", "5", "--outcomes",
         "1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN 5BEN 5NBT 4NEN"], capsys
    )  # fmt: skip
    assert data["obd"] == 4 and data["mtd"] == 4
    doses = data["doses"]
    assert isinstance(doses, list)
    assert doses[0] == {"dose": 1, "n": 3, "tox": 0, "eff": 0, "tox_isotonic": 0.0,
                        "utility_mean": 0.44, "eligible": True}  # fmt: skip


def test_outcomes_file_prints_json_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["", "1NNN", "1NNN 2NNB", "1NXN", "1TTT"]
    path = tmp_path / "states.txt"
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = run(["decide", "--outcomes-file", str(path), "--tie-break", "higher"], capsys)
    assert code == 0
    results = [json.loads(x) for x in out.strip().splitlines()]
    assert len(results) == len(lines)
    assert results[0]["next_dose"] == 1
    assert results[1]["next_dose"] == 2
    assert "error" in results[3] and results[3]["error"]["line"] == 4
    assert results[4]["stop"] is True
    code, out, _ = run(["obd", "--outcomes-file", str(path)], capsys)
    assert len(out.strip().splitlines()) == len(lines)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["decide", "--outcomes", "1NQN"], "outcomes"),
        (["decide", "--outcomes", "0NNN"], "outcomes"),
        (["decide", "--outcomes", "4NNN", "--doses", "3"], "outcomes"),
        (["decide", "--outcomes", "1NNN", "--phi-t", "1.2"], "phi_t"),
        (["decide", "--outcomes", "1NNN", "--phi-e", "0"], "phi_e"),
        (["decide", "--outcomes", "1NNN", "--u11", "120"], "u11"),
        (["decide", "--outcomes", "1NNN", "--n-star", "0"], "n_star"),
        (["decide", "--outcomes", "1NNN", "--doses", "x"], "--doses"),
        (["decide", "--outcomes", "1NNN", "--tie-break", "coin"], "tie_break"),
        (["obd", "--outcomes", "1NNN", "--start-dose", "9"], "start_dose"),
        (["rds", "--n", "-3"], "n"),
        (["boundaries", "--target", "1.5"], "target"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    args: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*args, "--json"], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and field in err
    assert "Traceback" not in err


def test_variadic_options_are_expanded() -> None:
    assert expand_variadic(["rds", "--n", "0", "3", "--json"]) == [
        "rds", "--n", "0", "--n", "3", "--json"
    ]  # fmt: skip
    assert expand_variadic(["x", "--p-tox", "-0.1", "0.2"]) == [
        "x", "--p-tox", "-0.1", "--p-tox", "0.2"
    ]  # fmt: skip


def test_table_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["table", "--n-max", "9"], capsys)
    assert code == 0 and "| 9 " not in out.splitlines()[0]
    assert "### n = 9" in out and "| 0 | E | 25.5 |" in out  # R11 n = 9 row 0
    html_path = tmp_path / "t.html"
    code, _, _ = run(["table", "--n-max", "6", "--format", "html", "--out", str(html_path)], capsys)
    assert code == 0 and html_path.read_text().startswith("<!DOCTYPE html>")
    code, out, _ = run(["table", "--n-max", "3", "--format", "csv"], capsys)
    assert out.splitlines()[0] == "n,tox,eff,admissible,desirability,rds"


def test_entry_point_subprocess() -> None:
    """The installed console script works end to end (no traceback on bad input)."""
    exe = Path(sys.executable).with_name("dosewise")
    proc = subprocess.run(
        [str(exe), "decide", "--outcomes", "1NNN", "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["next_dose"] == 2
    proc = subprocess.run(
        [str(exe), "decide", "--outcomes", "1NZN"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_lang_zh_renders_reasons_keys_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    en = run_json(["decide", "--doses", "3", "--outcomes", "1NNE 2TBN"], capsys)
    zh = run_json(["decide", "--doses", "3", "--outcomes", "1NNE 2TBN", "--lang", "zh"], capsys)
    assert set(en) == set(zh)
    assert en["reason_code"] == zh["reason_code"] == "deescalate"
    assert en["reason_params"] == zh["reason_params"]
    assert str(en["reason"]).startswith("De-escalate to dose 1")
    assert str(zh["reason"]).startswith("降至剂量 1")
    obd = run_json(["obd", "--doses", "3", "--outcomes", "1NNE 2NEN 3NEE", "--lang", "zh"], capsys)
    assert obd["reason_code"] == "obd_selected" and "估计的 MTD 为剂量" in str(obd["reason"])
    code, out, _ = run(["decide", "--doses", "3", "--outcomes", "1NNE", "--lang", "zh"], capsys)
    assert code == 0 and "降至" not in out and "剂量" in out  # the table view, reason in Chinese


def test_lang_must_be_en_or_zh(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["decide", "--outcomes", ""], ["obd", "--outcomes", "1NNN"]):
        code, out, err = run([*command, "--lang", "fr"], capsys)
        assert code == 2 and "lang" in err and "en, zh" in err and out == ""


def test_decide_tite_accrual_complete_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patients = [{"dose": 2, "follow_up": 120}] * 3 + [{"dose": 2, "follow_up": 3}] * 3
    path = tmp_path / "patients.json"
    path.write_text(json.dumps({"patients": patients}))
    args = ["decide-tite", "--doses", "3", "--n-earlystop", "6", "--patients-file", str(path)]
    data = run_json(args, capsys)
    assert data["accrual_complete"] is True and data["wait"] is False
    assert data["due_days_max"] == 87.0 and data["next_dose"] is None
    assert data["reason_code"] == "tite_complete_earlystop"
    assert "must wait" not in str(data["reason"])
    zh = run_json([*args, "--lang", "zh"], capsys)
    assert str(zh["reason"]).startswith("入组已完成，等待随访")
    code, out, _ = run(args, capsys)
    assert code == 0 and "ACCRUAL COMPLETE" in out
