"""Validating protocol files: every problem is reported, each with its path (and line)."""

from __future__ import annotations

import pytest

from dosewise.errors import DosewiseError
from dosewise.protocol import (
    InvalidProtocol,
    default_text,
    load_protocol,
    parse_protocol,
    protocol_problems,
)
from dosewise.protocol.loader import parse_stored_protocol


def broken(*edits: tuple[str, str]) -> str:
    text = default_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def paths(text: str) -> dict[str, str]:
    protocol, problems = protocol_problems(text)
    assert protocol is None
    return {p.path: p.message for p in problems}


def test_the_embedded_file_has_no_problems() -> None:
    protocol, problems = protocol_problems(default_text())
    assert protocol is not None and problems == []


def test_every_field_problem_is_listed_with_its_path() -> None:
    text = broken(
        ("nct_id: NCT07070323", "nct_id: NCT0707"),
        ("  ae_days: 30\n", "  ae_days: -30\n  extra_key: 1\n"),
        ("- {check: ecog, max: 2}", "- {check: ecog, max: 9}"),
        (
            "- {check: finding, name: sepsis, value: true}",
            "- {check: findng, name: sepsis, value: true}",
        ),
        ("      cells_per_kg: 2.0e+6\n", "      cells_per_kg: -2.0e+6\n"),
    )
    found = paths(text)
    assert set(found) >= {
        "registry.nct_id",
        "windows.ae_days",
        "windows.extra_key",
        "eligibility.criteria[4].checks[0].max",
        "eligibility.criteria[15].checks[0]",
        "dose_levels.levels[2].cells_per_kg",
    }
    assert found["windows.extra_key"] == "unknown key"
    assert "findng" in found["eligibility.criteria[15].checks[0]"]


def test_problems_carry_the_line_in_the_file() -> None:
    text = broken(("  ae_days: 30\n", "  ae_days: 0\n"))
    _, problems = protocol_problems(text)
    (problem,) = problems
    assert problem.line is not None
    assert text.splitlines()[problem.line - 1].strip() == "ae_days: 0"
    assert str(problem).startswith(f"windows.ae_days (line {problem.line}):")


def test_cross_section_problems_are_all_listed() -> None:
    text = broken(
        ("  target_enrollment: 54\n", "  target_enrollment: 60\n"),
        ("  dlt_days: 28\n", "  dlt_days: 21\n"),
        (
            "- {check: age, min_years: 1, max_years: 70}",
            "- {check: age, min_years: 2, max_years: 70}",
        ),
        (
            "      arms: [new_donor]\n      checks:\n        - {check: finding, name: allo",
            "      arms: [new_donr]\n      checks:\n        - {check: finding, name: allo",
        ),
        ("  per_arm: {}", "  per_arm: {autologus: {phase1_max_n: 9}}"),
    )
    found = paths(text)
    assert len(found) == 5
    assert "registry.target_enrollment" in found["design.total_enrollment"]
    assert "windows.dlt_days 21" in found["dlt.window_days"]
    assert "registry.eligibility ages" in found["eligibility.criteria[2].checks[0]"]
    assert "no such arm" in found["eligibility.criteria[8].arms"]
    assert "no such arm" in found["design.per_arm.autologus"]


def test_section_problems_come_before_cross_section_checks() -> None:
    # Cross-section consistency is checked once every section is valid on its own.
    text = broken(
        ("  target_enrollment: 54\n", "  target_enrollment: 60\n"),
        (
            "    - {min_age: 8, max_age: 18, roles: [patient, guardian]}",
            "    - {min_age: 9, max_age: 18, roles: [patient, guardian]}",
        ),
    )
    found = paths(text)
    assert "contiguous" in found["consent.bands[1].min_age"]
    assert "design.total_enrollment" not in found


def test_design_values_are_checked_by_the_design_core() -> None:
    text = broken(
        ("      value: 0.35\n", "      value: 1.35\n"),
        ("      value: 0.25\n", "      value: 0\n"),
        ("  per_arm: {}", "  per_arm: {new_donor: {boin12: {n_star: 2.5}}}"),
    )
    found = paths(text)
    assert "(0, 1)" in found["design.boin12.phi_t"]
    assert "(0, 1)" in found["design.boin12.phi_e"]
    assert "whole number" in found["design.per_arm.new_donor.boin12.n_star"]


def test_sample_sizes_must_add_up_to_the_registered_total() -> None:
    text = broken(
        (
            "  phase2_expansion_per_arm:\n    value: 6\n",
            "  phase2_expansion_per_arm:\n    value: 5\n",
        )
    )
    found = paths(text)
    assert "total 51" in found["design.phase1_max_n_per_arm"]


def test_negative_phase2_expansion() -> None:
    text = broken(("  per_arm: {}", "  per_arm: {new_donor: {phase2_expansion: -1}}"))
    assert paths(text)["design.per_arm.new_donor.phase2_expansion"] == "must be >= 0"


def test_dose_ladder_rules() -> None:
    text = broken(
        ("      role: start\n", "      role: escalation\n"),
        ("      role: fallback\n", "      role: fallback\n      design_index: 2\n"),
    )
    found = paths(text)
    assert "exactly one level must have role 'start'" in found["dose_levels.levels"]
    assert "outside the dose finding" in found["dose_levels.levels[0].design_index"]


def test_a_fallback_numbered_as_a_design_dose_needs_analyse_at_actual() -> None:
    numbered = ("      role: fallback\n", "      role: fallback\n      design_index: 1\n")
    assert "fallback_policy" in paths(broken(numbered))["dose_levels.levels[0].design_index"]
    text = broken(numbered, ("    value: safety_only\n", "    value: analyse_at_actual\n"))
    protocol, problems = protocol_problems(text)
    assert problems == [] and protocol is not None
    assert protocol.dose_levels.design_names == ("DL-1", "DL1", "DL2")


def test_an_unknown_fallback_policy_is_refused() -> None:
    text = broken(("    value: safety_only\n", "    value: analyse_somehow\n"))
    assert "dose_levels.fallback_policy" in " ".join(paths(text))


def test_design_indices_out_of_dose_order() -> None:
    text = broken(
        ("      role: start\n", "      role: start\n      design_index: 2\n"),
        ("      role: escalation\n", "      role: escalation\n      design_index: 1\n"),
    )
    assert "higher dose" in paths(text)["dose_levels.levels[1].cells_per_kg"]


def test_a_higher_design_index_must_be_a_higher_dose() -> None:
    text = broken(
        ("      role: start\n", "      role: start\n      design_index: 1\n"),
        ("      cells_per_kg: 2.0e+6\n", "      cells_per_kg: 1.0e+6\n"),
        ("      role: escalation\n", "      role: escalation\n      design_index: 2\n"),
    )
    assert "higher dose" in paths(text)["dose_levels.levels[2].cells_per_kg"]


def test_a_stored_text_of_the_old_reading_keeps_it() -> None:
    """A trial stored before fallback_policy ran DL-1 as design dose 1: it still does."""
    text = default_text()
    for name, index in (("fallback", 1), ("start", 2), ("escalation", 3)):
        text = text.replace(
            f"      role: {name}\n", f"      role: {name}\n      design_index: {index}\n", 1
        )
    lines = text.splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if ln.startswith("  fallback_policy:"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("  levels:"))
    old = "".join(lines[:start] + lines[end:])
    assert "fallback_policy" not in old.split("windows:")[0]
    protocol = parse_stored_protocol(old)
    assert protocol.dose_levels.policy == "analyse_at_actual"
    assert protocol.design_params("autologous").n_doses == 3


def test_registry_dates_out_of_order() -> None:
    text = broken(("  completion_date: 2026-12-31\n", "  completion_date: 2024-12-31\n"))
    assert "start_date" in paths(text)["registry.completion_date"]


def test_yaml_syntax_error_has_a_line() -> None:
    _, problems = protocol_problems("registry:\n  nct_id: [NCT07070323\n")
    assert problems[0].line is not None
    assert "not valid YAML" in problems[0].message


def test_a_file_that_is_not_a_mapping() -> None:
    _, problems = protocol_problems("- just\n- a list\n")
    assert "mapping" in problems[0].message


def test_invalid_protocol_error_lists_every_problem() -> None:
    text = broken(
        ("nct_id: NCT07070323", "nct_id: X"),
        ("  ae_days: 30\n", "  ae_days: -1\n"),
    )
    with pytest.raises(InvalidProtocol) as exc:
        parse_protocol(text, "trial.yaml")
    assert isinstance(exc.value, DosewiseError)
    assert len(exc.value.problems) == 2
    message = str(exc.value)
    assert message.startswith("protocol='trial.yaml': 2 problems:")
    assert "registry.nct_id" in message and "windows.ae_days" in message


def test_load_protocol_reads_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "copy.yaml"
    path.write_text(default_text(), encoding="utf-8")
    assert load_protocol(path).registry.nct_id == "NCT07070323"
