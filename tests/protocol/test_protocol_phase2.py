"""The protocol's phase 2 (BOP2) block: what NCT07070323 sets, per-arm overrides, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from dosewise.cli.app import main
from dosewise.design.bop2_model import Bop2Design, ToxicityMonitoring
from dosewise.errors import DosewiseError, InvalidParameter
from dosewise.protocol import Protocol, assumptions, default_text, parse_protocol, protocol_problems

PHASE2_NAMES = ("p0", "p1", "alpha", "interim_looks", "monitor_toxicity", "phi_t1")


def edited(*edits: tuple[str, str]) -> str:
    text = default_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def problems(text: str) -> dict[str, str]:
    protocol, found = protocol_problems(text)
    assert protocol is None
    return {p.path: p.message for p in found}


def test_the_protocol_loads_with_its_phase2_block(protocol: Protocol) -> None:
    s = protocol.design.phase2
    assert (s.p0.value, s.p1.value, s.alpha.value) == (0.30, 0.60, 0.10)
    assert s.interim_looks.value == (3,)
    assert s.monitor_toxicity.value is True
    assert s.phi_t0 is None  # the arm's BOIN12 phi_t
    assert s.phi_t1 is not None and s.phi_t1.value == 0.15


def test_every_phase2_value_is_an_assumption_with_its_reason(protocol: Protocol) -> None:
    notes = {n.path: n for n in assumptions(protocol)}
    for name in PHASE2_NAMES:
        note = notes[f"design.phase2.{name}"]
        assert "Not in the registry" in note.why and note.why.endswith(".")
    # The new assumptions follow the BOIN12 settings (A11-A20), so A21-A26 are phase 2.
    paths = list(notes)
    assert paths[20:26] == [f"design.phase2.{n}" for n in PHASE2_NAMES]


@pytest.mark.parametrize("arm", ["autologous", "prior_sct_donor", "new_donor"])
def test_each_arms_plan_builds_the_bop2_design(protocol: Protocol, arm: str) -> None:
    plan = protocol.bop2_plan(arm)
    assert plan.expansion == 6 and plan.phi_t0 == protocol.design_params(arm).phi_t
    # 12 phase 1 patients at the RP2D: a look after 3 of the 6 expansion participants, then N.
    assert plan.design(12) == Bop2Design(
        n_max=18,
        looks=(15, 18),
        p0=0.30,
        p1=0.60,
        alpha=0.10,
        toxicity=ToxicityMonitoring(phi_t0=0.35, phi_t1=0.15),
    )
    assert plan.design(6).looks == (9, 12)
    assert plan.design(0).looks == (3, 6)
    assert protocol.design.phase1_most_at_one_dose(arm) == 12


def test_plan_changes_keep_the_protocols_value_for_none(protocol: Protocol) -> None:
    plan = protocol.bop2_plan("autologous")
    assert plan.with_(p0=None, p1=0.7).p0 == 0.30
    assert plan.with_(p0=None, p1=0.7).p1 == 0.7
    assert plan.with_(monitor_toxicity=False).design(12).toxicity is None
    with pytest.raises(InvalidParameter, match="not a phase 2"):
        plan.with_(lambda_=0.5)
    with pytest.raises(InvalidParameter, match=r"p1=0\.2: must be greater than p0"):
        plan.with_(p1=0.2).design(12)
    with pytest.raises(InvalidParameter, match="n_phase1_at_rp2d"):
        plan.design(-1)


def test_an_arm_overrides_only_what_it_sets() -> None:
    p = parse_protocol(
        edited(
            (
                "  per_arm: {}",
                "  per_arm:\n    new_donor:\n      boin12: {phi_t: 0.3}\n"
                "      phase2: {p0: 0.2, p1: 0.45, interim_looks: [2, 4]}",
            )
        )
    )
    new_donor, autologous = p.bop2_plan("new_donor"), p.bop2_plan("autologous")
    assert (new_donor.p0, new_donor.p1, new_donor.interim_looks) == (0.2, 0.45, (2, 4))
    assert new_donor.phi_t0 == 0.3  # follows the arm's own phi_t
    assert (new_donor.alpha, new_donor.phi_t1) == (0.10, 0.15)
    assert (autologous.p0, autologous.p1, autologous.interim_looks) == (0.30, 0.60, (3,))
    assert autologous.phi_t0 == 0.35
    assert p.design.phase2_fact("new_donor", "p0") == p.design.per_arm["new_donor"].phase2.p0  # type: ignore[union-attr]
    assert p.design.phase2_fact("autologous", "p0") == p.design.phase2.p0


@pytest.mark.parametrize(
    ("edits", "path", "message"),
    [
        ((("      value: 0.30\n", "      value: 0\n"),), "design.phase2.p0", "(0, 1)"),
        ((("      value: 0.60\n", "      value: 1.5\n"),), "design.phase2.p1", "(0, 1)"),
        (
            (("      value: 0.60\n", "      value: 0.25\n"),),
            "design.phase2.p1",
            "must be greater than p0 (0.3)",
        ),
        ((("      value: 0.10\n", "      value: 1\n"),), "design.phase2.alpha", "(0, 1)"),
        (
            (("      value: [3]\n", "      value: [4, 2]\n"),),
            "design.phase2.interim_looks",
            "strictly increasing",
        ),
        (
            (("      value: [3]\n", "      value: [0, 3]\n"),),
            "design.phase2.interim_looks",
            "whole numbers >= 1",
        ),
        (
            (("      value: [3]\n", "      value: [7]\n"),),
            "design.phase2.interim_looks",
            "at most the phase 2 expansion (6",
        ),
        (
            (("      value: 0.15\n", "      value: 0.4\n"),),
            "design.phase2.phi_t1",
            "must be below phi_t0 (0.35, the BOIN12 phi_t)",
        ),
        (
            (("  per_arm: {}", "  per_arm: {new_donor: {phase2: {p0: 0.7}}}"),),
            "design.phase2.p1",
            "must be greater than p0 of arm new_donor (0.7)",
        ),
        (
            (("  per_arm: {}", "  per_arm: {new_donor: {phase2: {interim_looks: [2, 2]}}}"),),
            "design.per_arm.new_donor.phase2.interim_looks",
            "strictly increasing",
        ),
        (
            (("  per_arm: {}", "  per_arm: {new_donor: {phase2: {phi_t0: 1.2}}}"),),
            "design.per_arm.new_donor.phase2.phi_t0",
            "(0, 1)",
        ),
        (
            (("  per_arm: {}", "  per_arm: {new_donor: {phase2_expansion: 2}}"),),
            "design.phase2.interim_looks",
            "expansion of arm new_donor (2, design.per_arm.new_donor.phase2_expansion)",
        ),
        (
            (("  per_arm: {}", "  per_arm: {new_donor: {phase2_expansion: 96}}"),),
            "design.per_arm.new_donor.phase2_expansion",
            "N must be at most 100 (the BOP2 design of arm new_donor, N = 108)",
        ),
        (
            (("  per_arm: {}", "  per_arm: {new_donor: {phase2: {p2: 0.5}}}"),),
            "design.per_arm.new_donor.phase2.p2",
            "unknown key",
        ),
    ],
)
def test_bad_phase2_values_are_named(
    edits: tuple[tuple[str, str], ...], path: str, message: str
) -> None:
    found = problems(edited(*edits))
    assert path in found, found
    assert message in found[path]


def test_a_protocol_without_the_block_is_refused() -> None:
    text = default_text()
    start = text.index("  phase2:\n")
    end = text.index("  per_arm: {}")
    found = problems(text[:start] + text[end:])
    assert found == {"design.phase2": "required field is missing"}


def test_toxicity_monitoring_needs_phi_t1() -> None:
    text = default_text()
    start = text.index("    phi_t1:\n")
    end = text.index("  per_arm: {}")
    found = problems(text[:start] + text[end:])
    assert found == {"design.phase2.phi_t1": "required when monitor_toxicity is true"}
    off = text[:start].replace(
        "    monitor_toxicity:\n      value: true\n", "    monitor_toxicity:\n      value: false\n"
    )
    assert parse_protocol(off + text[end:]).bop2_plan("autologous").design(12).toxicity is None


def test_every_bad_value_is_listed_once() -> None:
    found = problems(
        edited(
            ("      value: 0.30\n", "      value: 1.3\n"),
            ("      value: 0.10\n", "      value: 0\n"),
            ("  per_arm: {}", "  per_arm: {new_donor: {phase1_max_n: 12}}"),
        )
    )
    assert set(found) == {"design.phase2.p0", "design.phase2.alpha"}


def test_validate_cli_names_the_phase2_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(edited(("      value: [3]\n", "      value: [5, 4]\n")), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["protocol", "validate", str(path)])
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "design.phase2.interim_looks (line" in err and "strictly increasing" in err


def test_show_lists_the_phase2_settings_with_their_tags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["protocol", "show"])
    out = capsys.readouterr().out
    assert "phase2.p0" in out and "0.3 [A21]" in out
    assert "after 3 expansion participants [A24]" in out
    assert "looks at 15, 18" in out


def test_text_stored_before_phase2_existed_reads_with_the_former_service_settings() -> None:
    """A protocol stored in a trial database by an earlier version (no ``design.phase2``) still
    loads, with the settings that version's service applied; a new file must give the block."""
    import yaml

    from dosewise.protocol.loader import parse_stored_protocol

    data = yaml.safe_load(default_text())
    del data["design"]["phase2"]
    old = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    with pytest.raises(DosewiseError, match=r"design\.phase2 \(line \d+\): required field"):
        parse_protocol(old)
    plan = parse_stored_protocol(old).design.bop2_plan("autologous")
    assert (plan.p0, plan.p1, plan.alpha, plan.interim_looks) == (0.30, 0.60, 0.10, (3,))
    assert plan.monitor_toxicity and plan.phi_t1 == 0.15 and plan.phi_t0 == 0.35
