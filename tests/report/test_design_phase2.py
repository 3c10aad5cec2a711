"""Section 11 of the design report: the phase 2 (BOP2) design comes from the protocol file.

``--p0``/``--p1`` replace the protocol's rates for the report only, and the report says so.
"""

from __future__ import annotations

import re

from dosewise.design.bop2 import optimise_bop2
from dosewise.protocol import Protocol, default_text, parse_protocol
from dosewise.report.design_data import design_groups, phase2_plan
from dosewise.report.design_report import build_design_report, design_report_html


def test_without_overrides_the_report_uses_and_names_the_protocols_rates(
    html_en: str, protocol: Protocol
) -> None:
    settings = protocol.design.phase2
    plan = phase2_plan(protocol, protocol.arm_ids[0])
    assert plan is not None and not plan.rates_overridden and plan.assumed
    assert (plan.result.design.p0, plan.result.design.p1) == (
        settings.p0.value,
        settings.p1.value,
    )
    text = " ".join(html_en.split())
    assert (
        f"The null (uninteresting) response rate p0 = {settings.p0.value:g}, the target "
        f"p1 = {settings.p1.value:g}, the type I error of at most 10% and the looks come from "
        "the protocol file (design.phase2)."
    ) in text
    assert "The protocol file gives no phase 2 response rates" not in text


def test_command_line_rates_replace_only_p0_and_p1(protocol: Protocol) -> None:
    arm = protocol.arm_ids[0]
    own = phase2_plan(protocol, arm)
    given = phase2_plan(protocol, arm, 0.2, 0.4)
    assert own is not None and given is not None
    assert given.rates_overridden
    assert (given.protocol_p0, given.protocol_p1) == (0.30, 0.60)
    assert (given.result.design.p0, given.result.design.p1) == (0.2, 0.4)
    # Everything else is still the protocol's design.
    for name in ("n_max", "looks", "alpha", "toxicity"):
        assert getattr(given.result.design, name) == getattr(own.result.design, name), name


def test_the_report_says_when_the_command_line_replaced_the_rates(protocol: Protocol) -> None:
    report = build_design_report(
        protocol, trials=20, seed=1, scenarios=["nct07070323-dl2-best"], p0=0.2, p1=0.4
    )
    html = design_report_html(report, "en")
    text = " ".join(html.split())
    assert (
        "The response rates p0 = 0.2 and p1 = 0.4 come from the command line</b> (--p0, --p1) "
        "and replace the protocol file's p0 = 0.3 and p1 = 0.6 in this report only"
    ) in text
    group = report.groups[0].group
    assert group.phase2 is not None
    expected = optimise_bop2(group.phase2.result.design)
    assert (expected.design.p0, expected.design.p1) == (0.2, 0.4)
    for b in expected.boundaries:
        cell = re.search(rf'id="bop2-0-{b.n}">([^<]*)<', html)
        assert cell is not None and cell.group(1) == str(b.stop_if_responses_le)


def test_an_arm_without_expansion_has_no_phase_2_plan() -> None:
    text = default_text().replace(
        "  per_arm: {}",
        "  per_arm:\n    new_donor: {phase1_max_n: 18, phase2_expansion: 0}",
    )
    protocol = parse_protocol(text)
    assert phase2_plan(protocol, "new_donor") is None
    groups = {g.arm_ids: g for g in design_groups(protocol)}
    assert groups[("new_donor",)].phase2 is None
    assert groups[("autologous", "prior_sct_donor")].phase2 is not None


def test_arms_with_different_phase_2_settings_get_their_own_group() -> None:
    text = default_text().replace(
        "  per_arm: {}", "  per_arm:\n    new_donor:\n      phase2: {p1: 0.5}"
    )
    protocol = parse_protocol(text)
    groups = design_groups(protocol)
    assert [g.arm_ids for g in groups] == [("autologous", "prior_sct_donor"), ("new_donor",)]
    p1 = [g.phase2.result.design.p1 for g in groups if g.phase2 is not None]
    assert p1 == [0.60, 0.5]
