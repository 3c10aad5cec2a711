"""Rendering helpers: output kinds, number formatting, design groups by arm."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.errors import InvalidParameter
from dosewise.protocol import default_text, parse_protocol
from dosewise.report.design_data import design_groups, parameter_rows
from dosewise.report.render import fmt, output_kind, sci, write_document


@pytest.mark.parametrize(
    ("name", "kind"), [("a.pdf", "pdf"), ("A.PDF", "pdf"), ("r.html", "html"), ("r.htm", "html")]
)
def test_output_kind_by_ending(name: str, kind: str) -> None:
    assert output_kind(name) == kind


@pytest.mark.parametrize("name", ["report.txt", "report", "report.pdf.bak", "r.docx"])
def test_other_endings_are_refused(name: str) -> None:
    with pytest.raises(InvalidParameter, match=r"must end in \.pdf or \.html"):
        output_kind(name)


def test_write_document_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="the folder does not exist"):
        write_document("<p>x</p>", tmp_path / "nope" / "r.html")


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 4))
def test_fmt_rounds_to_the_stated_decimals(value: float, digits: int) -> None:
    text = fmt(value, digits)
    assert not text.startswith("-0") or float(text) != 0
    assert abs(float(text) - value) <= 0.5 * 10**-digits + 1e-9 * max(1.0, abs(value))
    assert (text.split(".")[1] if "." in text else "") == ("" if digits == 0 else text[-digits:])


def test_fmt_missing_values() -> None:
    assert fmt(None) == "—"
    assert fmt(float("nan")) == "—"


def test_sci_writes_registry_notation() -> None:
    assert sci(5e5) == "5×10⁵"
    assert sci(1e6) == "1×10⁶"
    assert sci(2e6) == "2×10⁶"


def test_arms_with_different_designs_get_their_own_group() -> None:
    text = default_text().replace(
        "  per_arm: {}", "  per_arm:\n    new_donor:\n      boin12:\n        n_star: 9"
    )
    protocol = parse_protocol(text)
    groups = design_groups(protocol)
    assert [g.arm_ids for g in groups] == [("autologous", "prior_sct_donor"), ("new_donor",)]
    assert [g.params.n_star for g in groups] == [6, 9]
    # The override is a registry-style value in the file (no assumption flag): say so.
    rows = {r.symbol: r for r in parameter_rows(protocol, "new_donor", groups[1].params)}
    assert rows["N*"].value == "9" and rows["N*"].source == "registry"


def test_parameter_sources_follow_the_protocol_file() -> None:
    protocol = parse_protocol(default_text())
    arm = protocol.arm_ids[0]
    rows = {r.symbol: r for r in parameter_rows(protocol, arm, protocol.design_params(arm))}
    assert rows["φT"].source == "assumption" and rows["φT"].why
    assert rows["φT"].why == protocol.design.boin12.phi_t.why
    assert rows["φ1"].source == "default"
    # The registry's design doses: DL1 and DL2 (the fallback DL-1 is outside, safety_only).
    assert rows["J"].source == "registry" and rows["J"].value == "2"
