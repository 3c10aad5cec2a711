"""The protocol CLI in process: ``protocol show|validate``, ``screen`` and ``consent``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from protocol_helpers import passing_record

from dosewise.cli.app import main
from dosewise.protocol import default_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "screening"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out, _ = run([*argv, "--json"], capsys)
    lines = out.strip().splitlines()
    assert len(lines) == 1, out  # exactly one JSON object
    return code, json.loads(lines[0])


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------- protocol show / validate


def test_show_json_is_the_whole_protocol_with_assumptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, data = run_json(["protocol", "show"], capsys)
    assert code == 0
    proto = data["protocol"]
    assert proto["registry"]["nct_id"] == "NCT07070323"
    assert proto["registry"]["target_enrollment"] == 54
    assert [a["id"] for a in proto["arms"]] == ["autologous", "prior_sct_donor", "new_donor"]
    assert proto["design"]["boin12"]["phi_t"] == {
        "value": 0.35,
        "assumption": True,
        "why": proto["design"]["boin12"]["phi_t"]["why"],
        "why_zh": proto["design"]["boin12"]["phi_t"]["why_zh"],
    }
    assert len(proto["eligibility"]["criteria"]) == 24
    paths = {a["path"] for a in data["assumptions"]}
    assert "design.boin12.phi_t" in paths and "dlt" in paths
    assert all(a["why"] for a in data["assumptions"])
    assert all(a["why_zh"] for a in data["assumptions"])  # each reason in Chinese too


def test_show_marks_assumptions_in_the_table_view(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["protocol", "show"], capsys)
    assert code == 0
    assert "NCT07070323" in out
    assert "0.35 [A" in out  # phi_t is tagged
    assert "Assumptions (not in the registry)" in out
    assert "Beijing GoBroad Hospital" in out and "NOT_YET_RECRUITING" in out
    for section in ("Arms", "Dose levels", "Windows", "Design", "DLT definition", "Consent"):
        assert section in out
    # DL-1 is outside the dose finding (fallback_policy safety_only), not "design dose 0"
    dl_minus_1 = next(line for line in out.splitlines() if line.startswith("│ DL-1"))
    assert "outside the dose" in dl_minus_1 and "│ 0 " not in dl_minus_1


def test_show_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        default_text().replace("status: RECRUITING\n  last", "status: COMPLETED\n  last"),
    )
    code, data = run_json(["protocol", "show", path], capsys)
    assert code == 0
    assert data["source"] == path
    assert data["protocol"]["registry"]["status"] == "COMPLETED"


def test_validate_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "p.yaml", default_text())
    code, out, err = run(["protocol", "validate", path], capsys)
    assert code == 0
    assert out.startswith(f"ok: {path} is a valid protocol (NCT07070323")
    assert err == ""
    code, data = run_json(["protocol", "validate", path], capsys)
    assert code == 0 and data == {"file": path, "valid": True, "problems": []}


def test_validate_lists_every_problem_with_its_path_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        default_text()
        .replace("nct_id: NCT07070323", "nct_id: NCT1")
        .replace("  ae_days: 30\n", "  ae_days: -30\n")
        .replace("- {check: ecog, max: 2}", "- {check: ecog, max: 9}")
        .replace("  countries: [China]\n", "  countries: [China]\n  colour: blue\n")
    )
    path = write(tmp_path, "broken.yaml", text)
    code, out, err = run(["protocol", "validate", path], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    for where in (
        "registry.nct_id",
        "windows.ae_days",
        "eligibility.criteria[4].checks[0].max",
        "registry.colour",
    ):
        assert any(line.startswith(f"{path}: {where} (line ") for line in lines), where
    assert lines[-1] == f"error: {path} is not a valid protocol: 4 problems"

    code, data = run_json(["protocol", "validate", path], capsys)
    assert code == 2
    assert data["valid"] is False
    assert {p["path"] for p in data["problems"]} >= {"registry.nct_id", "windows.ae_days"}
    assert all(p["line"] for p in data["problems"])


def test_show_of_a_broken_file_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = default_text().replace("nct_id: NCT07070323", "nct_id: NCT1")
    text = text.replace("  ae_days: 30\n", "  ae_days: -30\n")
    code, _, err = run(["protocol", "show", write(tmp_path, "b.yaml", text)], capsys)
    assert code == 2
    assert err.startswith("error: protocol=")
    assert "registry.nct_id" in err and "windows.ae_days" in err


def test_missing_file_is_a_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["protocol", "validate", "/no/such/protocol.yaml"], capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err


# ---------------------------------------------------------------- screen


def test_screen_eligible_example(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "eligible_autologous.json")
    code, data = run_json(["screen", path, "--arm", "autologous"], capsys)
    assert code == 0
    assert data["overall"] == "eligible"
    assert data["arm"] == "autologous" and data["protocol"] == "NCT07070323"
    assert len(data["criteria"]) == 26  # I1-I9, E1-E15 and the arm requirements A1, A2
    i2 = next(c for c in data["criteria"] if c["id"] == "I2")
    assert i2["status"] == "met" and i2["evidence"]


def test_screen_ineligible_example(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "ineligible_autologous_child.json")
    code, data = run_json(["screen", path, "--arm", "autologous"], capsys)
    assert code == 0
    assert data["overall"] == "ineligible"
    # Blood blasts 31% with 7 days off therapy, the child's own voluntary form unsigned, and
    # creatinine at 2 x ULN.
    assert data["failed"] == ["I2", "I8", "E6"]
    e6 = next(c for c in data["criteria"] if c["id"] == "E6")
    assert (e6["status"], e6["verdict"]) == ("met", "fail")


def test_screen_incomplete_names_missing_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = passing_record()
    del data["labs"]["bun"]
    code, result = run_json(
        ["screen", write(tmp_path, "r.json", data), "--arm", "new_donor"], capsys
    )
    assert code == 0
    assert result["overall"] == "incomplete"
    assert result["missing"] == ["labs.bun"]


def test_screen_table_view(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "ineligible_autologous_child.json")
    code, out, _ = run(["screen", path, "--arm", "autologous"], capsys)
    assert code == 0
    assert "overall: ineligible" in out
    assert "failed: I2, I8, E6" in out


def test_screen_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(passing_record())))
    code, data = run_json(["screen", "-", "--arm", "prior_sct_donor"], capsys)
    assert code == 0 and data["overall"] == "eligible"


@pytest.mark.parametrize(
    ("content", "arm", "message"),
    [
        ("PASSING", "autologus", "error: arm='autologus': must be one of"),
        ("{not json", "autologous", "not valid JSON"),
        ("[1, 2]", "autologous", "must hold one JSON object"),
        ("BAD_UNIT", "autologous", "error: labs.creatinine.unit='mg/dl': unknown unit"),
        ("BAD_DATE", "autologous", "error: date_of_birth='2030-01-01': must not be after"),
    ],
)
def test_screen_bad_input_exits_2_with_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, arm: str, message: str
) -> None:
    record = passing_record()
    if content == "BAD_UNIT":
        record["labs"]["creatinine"]["unit"] = "mg/dl"
    if content == "BAD_DATE":
        record["date_of_birth"] = "2030-01-01"
    text = json.dumps(record) if content in ("PASSING", "BAD_UNIT", "BAD_DATE") else content
    code, out, err = run(
        ["screen", write(tmp_path, "r.json", text), "--arm", arm, "--json"], capsys
    )
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- consent


def test_consent_json_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = {
        "consent_date": "2025-09-12",
        "date_of_birth": "2013-05-01",
        "signatures": [{"form": "treatment", "signer": "patient"}],
    }
    code, data = run_json(["consent", write(tmp_path, "c.json", record)], capsys)
    assert code == 0
    assert data["complete"] is False
    assert (data["age_years"], data["band"]) == (12, "8-18")
    assert data["missing"] == [
        {"form": "voluntary", "role": "patient"},
        {"form": "treatment", "role": "guardian"},
        {"form": "voluntary", "role": "guardian"},
    ]


def test_consent_of_a_screening_record(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "eligible_autologous.json")
    code, data = run_json(["consent", path], capsys)
    assert code == 0
    assert data["complete"] is True
    assert data["band"] == "19-70" and data["completed_on"] == "2025-09-12"


def test_consent_table_view(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = {"consent_date": "2025-09-12", "age_years": 75}
    code, out, _ = run(["consent", write(tmp_path, "c.json", record)], capsys)
    assert code == 0
    assert "no consent band covers age 75" in out
    assert "incomplete" in out


def test_consent_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = {"consent_date": "2025-09-12", "date_of_birth": "2026-01-01"}
    code, _, err = run(["consent", write(tmp_path, "c.json", record), "--json"], capsys)
    assert code == 2
    assert err.startswith("error: date_of_birth='2026-01-01'")
