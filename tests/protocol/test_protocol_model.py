"""The embedded NCT07070323 protocol: faithful to the registry record, assumptions marked.

Registry values are checked against shared/protocol/NCT07070323.md (last updated 2025-11-26).
"""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from dosewise.design.params import Boin12Params
from dosewise.errors import InvalidInput
from dosewise.protocol import (
    Fact,
    Protocol,
    assumptions,
    default_protocol,
    default_text,
    parse_protocol,
)


def test_embedded_protocol_loads_and_validates(protocol: Protocol) -> None:
    assert protocol is default_protocol()  # read once, immutable
    assert isinstance(protocol, Protocol)
    assert protocol.registry.nct_id == "NCT07070323"


def test_registry_record(protocol: Protocol) -> None:
    reg = protocol.registry
    assert reg.title.startswith("A Multicenter, Open-Label, Non-Randomized, Single-Arm")
    assert reg.phases == ("PHASE1", "PHASE2")
    assert reg.status == "RECRUITING"
    assert reg.start_date == date(2025, 7, 9)
    assert reg.completion_date == date(2026, 12, 31)
    assert reg.last_updated == date(2025, 11, 26)
    assert reg.target_enrollment == 54
    assert (reg.allocation, reg.intervention_model, reg.masking) == (
        "NON_RANDOMIZED",
        "PARALLEL",
        "NONE",
    )
    assert [i.id for i in reg.identifiers] == ["BJGBYY-IIT-LCYJ-2025-049"]
    assert len(reg.conditions) == 4
    assert (reg.eligibility.min_age_years, reg.eligibility.max_age_years) == (1, 70)
    assert reg.eligibility.sex == "ALL" and not reg.eligibility.healthy_volunteers


def test_sponsors_sites_and_contacts(protocol: Protocol) -> None:
    reg = protocol.registry
    assert reg.lead_sponsor == "Beijing GoBroad Hospital"
    assert len(reg.sponsors) == 6
    assert sum(s.role == "collaborator" for s in reg.sponsors) == 5
    statuses = {s.name: s.status for s in reg.sites}
    assert len(statuses) == 4
    assert statuses["The General Hospital of Western Theater Command PLA"] == "NOT_YET_RECRUITING"
    assert sum(v == "RECRUITING" for v in statuses.values()) == 3
    assert reg.countries == ("China",)
    assert reg.responsible_party is not None
    assert reg.responsible_party.name == "Jing Pan"
    assert reg.responsible_party.role == "PRINCIPAL_INVESTIGATOR"
    assert [c.name for c in reg.contacts] == ["Shaocong Miao"]
    # the results section's limitations: optional, set in the embedded file for the CT.gov export
    assert reg.limitations_and_caveats is not None
    assert "data cut-off" in reg.limitations_and_caveats
    assert reg.model_copy(update={"limitations_and_caveats": None}).limitations_and_caveats is None


def test_three_arms_with_stable_ids(protocol: Protocol) -> None:
    assert protocol.arm_ids == ("autologous", "prior_sct_donor", "new_donor")
    for arm in protocol.arms:
        assert arm.group_type == "EXPERIMENTAL"
        assert arm.intervention.type == "DRUG"
    with pytest.raises(InvalidInput) as exc:
        protocol.arm("donor")
    assert exc.value.field == "arm"


def test_dose_ladder(protocol: Protocol) -> None:
    ladder = protocol.dose_levels
    assert ladder.names == ("DL-1", "DL1", "DL2")
    # The registry's reading: BOIN12 explores DL1 (start) to DL2; DL-1 is outside the design.
    assert ladder.policy == "safety_only" and ladder.fallback_policy.assumption
    assert ladder.design_names == ("DL1", "DL2")
    assert [lv.name for lv in ladder.outside] == ["DL-1"]
    expected = {
        "DL-1": (5e5, "fallback", 0),
        "DL1": (1e6, "start", 1),
        "DL2": (2e6, "escalation", 2),
    }
    for level in ladder.levels:
        cells, role, index = expected[level.name]
        assert level.cells_per_kg == cells
        assert level.role == role
        assert level.design_index.value == index
        assert level.in_design is (index != 0)
        assert level.tolerance == 0.2
        assert level.min_per_kg == pytest.approx(0.8 * cells)
        assert level.max_per_kg == pytest.approx(1.2 * cells)
    assert ladder.start.name == "DL1"
    assert ladder.by_index(1).name == "DL1"
    assert ladder.by_index(0).name == "DL-1"
    with pytest.raises(InvalidInput):
        ladder.by_name("DL3")
    with pytest.raises(InvalidInput):
        ladder.by_index(3)


def test_design_params_follow_the_fallback_policy(protocol: Protocol) -> None:
    params = protocol.design_params("autologous")
    assert (params.n_doses, params.start_dose) == (2, 1)
    assert params.extra["dose_labels"] == ["DL1", "DL2"]
    assert params.extra["cells_per_kg"] == [1e6, 2e6]
    actual = protocol.with_fallback_policy("analyse_at_actual")
    ladder = actual.dose_levels
    assert ladder.design_names == ("DL-1", "DL1", "DL2") and ladder.outside == ()
    assert [ladder.by_name(n).design_index.value for n in ("DL-1", "DL1", "DL2")] == [1, 2, 3]
    assert all(lv.design_index.assumption for lv in ladder.levels)
    params = actual.design_params("autologous")
    assert (params.n_doses, params.start_dose) == (3, 2)
    assert params.extra["dose_labels"] == ["DL-1", "DL1", "DL2"]
    assert actual.with_fallback_policy("safety_only").dose_levels == protocol.dose_levels
    paths = {n.path for n in assumptions(actual)}
    assert "dose_levels.fallback_policy" in paths
    assert "dose_levels.levels[0].design_index" in paths


def test_windows(protocol: Protocol) -> None:
    w = protocol.windows
    assert (w.dlt_days, w.ae_days) == (28, 30)
    assert w.bor.target_day.value == 90 and w.bor.target_day.assumption
    assert (w.bor.first_day, w.bor.last_day) == (83, 97)
    assert protocol.dlt.window_days == 28


def test_design_totals_54(protocol: Protocol) -> None:
    d = protocol.design
    assert d.method == "BOIN12"
    assert d.total_enrollment == 54
    total = sum(d.phase1_max_n(a) + d.phase2_expansion(a) for a in protocol.arm_ids)
    assert total == 54


@pytest.mark.parametrize("arm", ["autologous", "prior_sct_donor", "new_donor"])
def test_design_params_map_onto_the_design_core(protocol: Protocol, arm: str) -> None:
    params = protocol.design_params(arm)
    assert isinstance(params, Boin12Params)
    assert params.n_doses == 2  # DL1 and DL2; the fallback DL-1 is outside (safety_only)
    assert params.start_dose == 1  # DL1, the registry's starting dose
    assert params.cohort_size == 3
    assert params.max_n == 12
    assert (params.phi_t, params.phi_e, params.u11, params.u00) == (0.35, 0.25, 60, 40)
    assert params.extra["dose_labels"] == ["DL1", "DL2"]
    assert params.extra["cells_per_kg"] == [1e6, 2e6]
    assert params.extra["arm"] == arm


def test_design_params_unknown_arm(protocol: Protocol) -> None:
    with pytest.raises(InvalidInput):
        protocol.design_params("all")


def test_per_arm_override_changes_only_that_arm() -> None:
    text = default_text().replace(
        "  per_arm: {}",
        "  per_arm:\n    new_donor:\n      phase1_max_n: 9\n      phase2_expansion: 9\n"
        "      boin12: {phi_t: 0.3}",
    )
    p = parse_protocol(text)
    assert p.design_params("new_donor").max_n == 9
    assert p.design_params("new_donor").phi_t == 0.3
    assert p.design_params("autologous").max_n == 12
    assert p.design_params("autologous").phi_t == 0.35


def test_dlt_definition_is_declarative_and_versioned(protocol: Protocol) -> None:
    dlt = protocol.dlt
    assert dlt.version and dlt.assumption and dlt.why
    assert dlt.related_attributions == ("possible", "probable", "definite")
    crs3 = dlt.rule("crs_grade_3_persisting")
    assert crs3.scale == "ASTCT 2019"
    assert (crs3.min_grade, crs3.max_grade) == (3, 3)
    assert crs3.not_dlt_if_resolves is not None
    assert (crs3.not_dlt_if_resolves.to_grade, crs3.not_dlt_if_resolves.within_hours) == (2, 72)
    assert dlt.rule("crs_grade_4_or_5").min_grade == 4
    assert dlt.rule("cytopenia_grade_4_persisting").persists_beyond_day == 28
    assert dlt.evaluability.min_follow_up_days == 28
    with pytest.raises(InvalidInput):
        dlt.rule("no_such_rule")


def test_every_non_registry_value_is_marked_with_a_reason(protocol: Protocol) -> None:
    notes = assumptions(protocol)
    paths = {n.path for n in notes}
    expected = {
        "dose_levels.unit",
        "dose_levels.fallback_policy",
        "windows.bor.target_day",
        "windows.study_day_zero",
        "design.efficacy_endpoint",
        "design.cohort_size",
        "design.phase1_max_n_per_arm",
        "design.phase2_expansion_per_arm",
        "dlt",
        "consent.age_basis",
    } | {f"design.boin12.{k}" for k in ("phi_t", "phi_e", "u11", "u00", "c_t", "c_e", "n_star")}
    assert expected <= paths
    for note in notes:
        assert note.why.strip().endswith("."), note  # one sentence, finished
    # The registry section is all fact, except the Chinese site names dosewise adds to it.
    registry = [n.path for n in notes if n.path.startswith("registry")]
    assert registry and all(".zh." in path for path in registry), registry
    assert all(".zh." in n.path for n in assumptions(protocol.registry))


def test_assumption_without_reason_is_rejected() -> None:
    text = default_text().replace(
        "    why: Not in the registry; 3 is the BOIN12 paper and app default (boin12.md §1).\n",
        "",
    )
    assert text != default_text()
    with pytest.raises(InvalidInput) as exc:
        parse_protocol(text)
    assert "design.cohort_size" in str(exc.value)
    assert "why" in str(exc.value)


def test_fact_round_trip_plain_and_assumed() -> None:
    plain = Fact[int].model_validate(3)
    assumed = Fact[int].model_validate({"value": 3, "assumption": True, "why": "Because."})
    assert plain.value == assumed.value == 3
    assert plain.model_dump() == 3
    assert assumed.model_dump() == {"value": 3, "assumption": True, "why": "Because."}


def test_an_assumption_gives_its_reason_in_chinese_too(protocol: Protocol) -> None:
    fact = Fact[int].model_validate(
        {"value": 3, "assumption": True, "why": "Because.", "why_zh": "因为。"}
    )
    assert fact.why_in("en") == "Because." and fact.why_in("zh_CN") == "因为。"
    assert fact.model_dump()["why_zh"] == "因为。"
    for bad in ({"why": "Because.", "why_zh": " "}, {"why_zh": "因为。"}):
        with pytest.raises(ValueError, match="why_zh"):
            Fact[int].model_validate({"value": 3, **bad})
    # Every assumption of the embedded protocol has its reason in Chinese (the Chinese pages
    # and reports show it), and a translated value its Chinese text.
    notes = assumptions(protocol)
    assert notes and all(n.why_zh and n.why_in("zh") == n.why_zh for n in notes)
    assert all(n.why_in("en") == n.why for n in notes)
    unit = next(n for n in notes if n.path == "dose_levels.unit")
    assert unit.value_in("zh") == protocol.dose_levels.zh["unit"].value
    assert unit.value_in("en") == unit.value


def test_dump_and_reload_is_the_same_protocol(protocol: Protocol) -> None:
    dumped = protocol.model_dump(mode="json")
    again = parse_protocol(yaml.safe_dump(dumped, allow_unicode=True))
    assert again == protocol


def test_the_protocol_dlt_block_is_what_the_clinical_rules_read(protocol: Protocol) -> None:
    # dosewise.clinical applies the DLT definition; it must accept the protocol's block as is.
    dlt_io = pytest.importorskip("dosewise.clinical.dlt_io")
    definition = dlt_io.definition_from_mapping(protocol.dlt.model_dump(mode="json"), "dlt")
    assert definition.version == protocol.dlt.version
    assert [r.id for r in definition.rules] == [r.id for r in protocol.dlt.rules]
    assert definition.window_days == protocol.windows.dlt_days
