"""The clinical commands' JSON contracts (issue 5) and one-line errors with exit code 2."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from dosewise.cli.app import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "clinical"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run([*args, "--json"], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1, "exactly one JSON object"
    result = json.loads(lines[0])
    assert isinstance(result, dict)
    return result


def grade(
    kind: str,
    data: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(data)))
    return run_json(["grade", kind, "--input", "-"], capsys)


def fail(args: list[str], capsys: pytest.CaptureFixture[str], stdin: str | None = None) -> str:
    """Run a command that must fail: exit 2, nothing on stdout, one ``error:`` line."""
    with pytest.MonkeyPatch.context() as mp:
        if stdin is not None:
            mp.setattr("sys.stdin", io.StringIO(stdin))
        code, out, err = run(args, capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# ---- grade crs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "grade_", "by"),
    [
        ({}, 0, None),
        ({"fever": True}, 1, "fever"),
        ({"fever": True, "oxygen_device": "nasal_cannula", "oxygen_l_min": 6}, 2, "hypoxia"),
        (
            {"fever": True, "hypotension": True, "vasopressors": 1, "vasopressin": True},
            3,
            "hypotension",
        ),
        ({"fever_masked": True, "hypotension": True, "vasopressors": 2}, 4, "hypotension"),
        ({"hypotension": True, "vasopressors": 2}, 0, None),
        ({"fever": True, "oxygen_device": "mechanical_ventilation"}, 4, "hypoxia"),
        ({"fever": True, "died": True}, 5, "death"),
    ],
)
def test_grade_crs_contract(
    data: dict[str, Any],
    grade_: int,
    by: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = grade("crs", data, capsys, monkeypatch)
    assert (out["grade"], out["determined_by"], out["scale"]) == (grade_, by, "ASTCT 2019")


def test_grade_crs_from_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(["grade", "crs", "--input", str(EXAMPLES / "crs_grade3.json")], capsys)
    assert out["grade"] == 3 and out["components"] == {"fever": 1, "hypotension": 3, "hypoxia": 2}


# ---- grade icans --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "grade_", "by"),
    [
        ({"age_years": 30, "ice_score": 10}, 0, None),
        ({"age_years": 30, "ice_score": 8}, 1, "ice"),
        ({"age_years": 30, "ice_score": 0, "consciousness": "awake"}, 3, "ice"),
        ({"age_years": 30, "ice_score": 0, "consciousness": "unarousable"}, 4, "consciousness"),
        ({"age_years": 30, "ice_unable": True}, 4, "ice"),
        ({"age_years": 8, "capd_score": 9}, 3, "capd"),
        ({"age_years": 8, "capd_score": 4}, 1, "capd"),
        ({"age_years": 8, "capd_unable": True}, 4, "capd"),
        ({"age_years": 40, "seizure": "prolonged_or_repetitive"}, 4, "seizure"),
        ({"age_years": 40, "motor_weakness": True}, 4, "motor"),
        ({"age_years": 40, "cerebral_edema": "focal"}, 3, "cerebral_edema"),
        ({"age_years": 40, "died": True}, 5, "death"),
    ],
)
def test_grade_icans_contract(
    data: dict[str, Any],
    grade_: int,
    by: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = grade("icans", data, capsys, monkeypatch)
    assert (out["grade"], out["determined_by"], out["scale"]) == (grade_, by, "ASTCT 2019")


def test_grade_icans_capd_age_setting(capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / "icans_child_capd.json"
    out = run_json(["grade", "icans", "--input", str(path), "--capd-positive-at", "12"], capsys)
    assert (out["grade"], out["determined_by"]) == (2, "consciousness")


@pytest.mark.parametrize(
    ("kind", "text", "field"),
    [
        ("crs", '{"fever": "yes"}', "fever="),
        ("crs", '{"vasopressors": 1.5}', "vasopressors="),
        ("crs", '{"oxygen_device": "hood"}', "oxygen_device="),
        ("crs", '{"fevr": true}', "fevr="),
        ("crs", '{"fever": true', "input="),
        ("crs", "[]", "input="),
        ("crs", '{"oxygen_device": "nasal_cannula", "oxygen_l_min": NaN}', "input="),
        ("icans", '{"ice_score": 12}', "ice_score="),
        ("icans", '{"age_years": 5, "ice_score": 8}', "ice_score="),
        ("icans", '{"consciousness": "sleepy"}', "consciousness="),
        ("icans", '{"units": "x"}', "units="),
    ],
)
def test_grade_errors_are_one_line_naming_the_key(
    kind: str, text: str, field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = fail(["grade", kind, "--input", "-", "--json"], capsys, stdin=text)
    assert line.startswith(f"error: {field}")


def test_missing_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = fail(["grade", "crs", "--input", str(tmp_path / "nope.json")], capsys)
    assert "nope.json" in line


# ---- dose ---------------------------------------------------------------------------------------


def test_dose_window_only(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(["dose", "--weight-kg", "25", "--level", "DL1"], capsys)
    assert (out["level"], out["target_cells"], out["min_cells"], out["max_cells"]) == (
        "DL1",
        2.5e7,
        2.0e7,
        3.0e7,
    )
    assert out["car_t_cells"] is None and out["assigned_level"] is None


def test_dose_with_release_values(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["dose", "--weight-kg", "25", "--level", "DL1", "--tnc", "1.2e9"]
    args += ["--viability", "0.92", "--cd3", "0.95", "--car", "0.40", "--volume-ml", "50"]
    out = run_json(args, capsys)
    cells = 1.2e9 * 0.92 * 0.95 * 0.40
    assert out["car_t_cells"] == pytest.approx(cells)
    assert out["feasible_levels"] == ["DL-1", "DL1", "DL2"]
    assert out["assigned_level"] == "DL1" and out["fallback"] is False
    assert out["volume_ml"] == pytest.approx(2.5e7 / (cells / 50))
    assert out["dose_per_kg"] == pytest.approx(1e6)
    assert isinstance(out["reason"], str)


def test_dose_fallback_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["dose", "--weight-kg", "70", "--level", "DL2", "--tnc", "2e8", "--viability", "90"]
    args += ["--cd3", "95", "--car", "40", "--percent", "--volume-ml", "50"]
    out = run_json(args, capsys)
    assert out["feasible_levels"] == ["DL-1", "DL1"]
    assert (out["level"], out["assigned_level"], out["fallback"]) == ("DL2", "DL-1", True)
    assert out["volume_ml"] == pytest.approx(50 * 3.5e7 / 6.84e7)


def test_dose_infeasible_product_is_null_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["dose", "--weight-kg", "25", "--tnc", "2e7", "--viability", "0.9", "--cd3", "0.95"]
    out = run_json([*args, "--car", "0.4", "--volume-ml", "10"], capsys)
    assert out["assigned_level"] is None and out["volume_ml"] is None
    assert out["feasible_levels"] == []


_RELEASE_PERCENT = ["--weight-kg", "25", "--tnc", "1e9", "--viability", "120", "--cd3", "90"]
_RELEASE_PERCENT += ["--car", "40"]


@pytest.mark.parametrize(
    ("extra", "start"),
    [
        (["--weight-kg", "-25"], "error: weight_kg="),
        (["--weight-kg", "0"], "error: weight_kg="),
        (["--weight-kg", "nan"], "error: weight_kg="),
        (["--weight-kg", "25", "--level", "DL7"], "error: level="),
        (
            [
                "--weight-kg",
                "25",
                "--tnc",
                "1e9",
                "--viability",
                "1.2",
                "--cd3",
                ".9",
                "--car",
                ".4",
            ],
            "error: viability=",
        ),
        ([*_RELEASE_PERCENT, "--percent"], "error: viability="),
        (["--weight-kg", "25", "--tnc", "1e9"], "error: viability="),
        (["--weight-kg", "25", "--policy", "upward"], "error: policy="),
        (["--weight-kg", "abc"], "error: --weight-kg"),
    ],
)
def test_dose_errors(extra: list[str], start: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert fail(["dose", *extra, "--json"], capsys).startswith(start)


# ---- dlt, bor, visits, ae-terms -----------------------------------------------------------------


def test_dlt_examples(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(["dlt", "--input", str(EXAMPLES / "dlt_patient.json")], capsys)
    assert (out["status"], out["evaluable"], out["toxicity"], out["dlt_events"]) == (
        "dlt",
        True,
        True,
        [0],
    )
    assert out["events"][0]["rules"] == ["crs_grade_3_persisting"]
    died = run_json(["dlt", "--input", str(EXAMPLES / "dlt_died_of_disease.json")], capsys)
    assert (died["status"], died["evaluable"], died["toxicity"]) == ("not_evaluable", False, None)


def test_dlt_error_names_the_event(capsys: pytest.CaptureFixture[str]) -> None:
    data = {
        "infusion_date": "2025-08-01",
        "assessed_on": "2025-09-01",
        "events": [{"term": "Fever", "grade": 2, "onset": "2025-08-09", "resolved": "2025-08-03"}],
    }
    line = fail(["dlt", "--input", "-", "--json"], capsys, stdin=json.dumps(data))
    assert line.startswith("error: events[0].resolved=")


def test_bor_examples(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(["bor", "--input", str(EXAMPLES / "bor_censored_at_sct.json")], capsys)
    assert (out["best_response"], out["mrd_negative"], out["censored"]) == ("CRi", True, True)
    assert [a["counted"] for a in out["assessments"]] == [True, True, False]
    assert out["efficacy"] is True
    both = run_json(["bor", "--input", str(EXAMPLES / "bor_marrow_and_emd.json")], capsys)
    assert both["best_response"] == "CR" and both["assessments"][0]["category"] == "PR"
    assert both["efficacy"] is False


def test_visits(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["visits", "--infusion-date", "2025-08-01", "--on", "2025-08-09"]
    out = run_json([*args, "--done", "day_7=2025-08-06"], capsys)
    status = {v["visit"]: v["status"] for v in out["visits"]}
    assert status["day_7"] == "out_of_window"  # day 5 < day 6
    assert status["infusion"] == "overdue" and status["day_14"] == "upcoming"
    assert fail([*args, "--done", "day_7"], capsys).startswith("error: done=")


def test_ae_terms(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(["ae-terms"], capsys)
    crs = next(t for t in out["terms"] if t["term"] == "Cytokine release syndrome")
    assert crs["scale"] == "ASTCT 2019" and crs["soc"] == "Immune system disorders"


@pytest.mark.parametrize(
    "args",
    [
        ["grade", "crs", "--input", str(EXAMPLES / "crs_masked_grade4.json")],
        ["grade", "icans", "--input", str(EXAMPLES / "icans_adult_grade3.json")],
        ["dose", "--weight-kg", "25", "--tnc", "2e8", "--viability", ".9", "--cd3", ".95",
         "--car", ".4", "--volume-ml", "50"],
        ["dlt", "--input", str(EXAMPLES / "dlt_patient.json")],
        ["bor", "--input", str(EXAMPLES / "bor_censored_at_sct.json")],
        ["visits", "--infusion-date", "2025-08-01", "--on", "2025-08-20"],
        ["ae-terms"],
    ],
)  # fmt: skip
def test_readable_output_without_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert out.strip() and not out.lstrip().startswith("{")
