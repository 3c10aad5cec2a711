"""The numbers printed in the design report are the numbers the core computes.

Each test recomputes a figure by calling the design or simulation core directly (never through
the report package) and reads the printed value back from the report's HTML by element id.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dosewise.design.boin import boin_boundaries
from dosewise.design.boin12 import Boin12
from dosewise.design.bop2 import optimise_bop2
from dosewise.design.bop2_model import Bop2Design, ToxicityMonitoring
from dosewise.design.table_format import decision_tables
from dosewise.design.tables import boundary_frame, rds_grid
from dosewise.design.utility import benchmark_utility
from dosewise.protocol import Protocol
from dosewise.report.design_report import DesignReport
from dosewise.simulate import Scenario, builtin_scenario, simulate
from dosewise.simulate.exact import exact_operating_characteristics


def _params(protocol: Protocol):  # the one design shared by NCT07070323's three arms
    return protocol.design_params(protocol.arm_ids[0])


def _design_truth(protocol: Protocol, name: str) -> Scenario:
    """A built-in scenario (a truth per dose level, lowest first) on the design's doses only."""
    scenario = builtin_scenario(name)
    levels = sorted(protocol.dose_levels.levels, key=lambda lv: lv.cells_per_kg)
    keep = [i for i, lv in enumerate(levels) if lv.in_design]
    return scenario.with_(joint=tuple(scenario.joint[i] for i in keep), dose_labels=())


def test_one_design_group_covers_every_arm(report: DesignReport, protocol: Protocol) -> None:
    # NCT07070323 has no per-arm overrides, so the three arms share one design.
    assert len(report.groups) == 1
    assert report.groups[0].group.arm_ids == protocol.arm_ids


def test_boin_boundaries_match_liu_yuan_formula(ids_en: dict[str, str], protocol: Protocol) -> None:
    p = _params(protocol)
    bounds = boin_boundaries(p.phi_t, p.phi1, p.phi2)
    assert float(ids_en["lambda-e-0"]) == pytest.approx(bounds.lambda_e, abs=5e-5)
    assert float(ids_en["lambda-d-0"]) == pytest.approx(bounds.lambda_d, abs=5e-5)


def test_boundary_table_cells_match_core(ids_en: dict[str, str], protocol: Protocol) -> None:
    p = _params(protocol)
    frame = boundary_frame(p, range(p.cohort_size, p.max_n + 1, p.cohort_size))
    columns = {
        "esc": "escalate_if_tox_le",
        "deesc": "deescalate_if_tox_ge",
        "tox": "eliminate_if_tox_ge",
        "fut": "futile_if_eff_le",
    }
    checked = 0
    for row in frame.astype(object).to_dict(orient="records"):
        for key, column in columns.items():
            value = row[column]
            text = ids_en[f"bnd-0-{row['n']}-{key}"]
            if value is None or (isinstance(value, float) and math.isnan(value)) or value < 0:
                assert text == "—"
            else:
                assert int(text) == int(value)
            checked += 1
    assert checked == 4 * len(frame) >= 16


def test_benchmark_utility_matches_core(ids_en: dict[str, str], protocol: Protocol) -> None:
    # Lin et al. 2020: u_b halfway between the "highest unacceptable" utility and 100.
    assert float(ids_en["u-b-0"]) == pytest.approx(benchmark_utility(_params(protocol)), abs=0.005)


def test_every_rds_cell_matches_decision_tables(ids_en: dict[str, str], protocol: Protocol) -> None:
    p = _params(protocol)
    tables = decision_tables(p, p.max_n)
    cells = 0
    for n in tables.sizes:
        if n == 0:
            continue
        grid = rds_grid(tables.rds, n)
        for tox in grid.index:
            for eff in grid.columns:
                assert ids_en[f"rds-0-{n}-{tox}-{eff}"] == str(grid.loc[tox, eff])
                cells += 1
    assert cells == sum((n + 1) ** 2 for n in tables.sizes if n > 0)


def test_first_decision_table_matches_boin12(html_en: str, protocol: Protocol) -> None:
    # The registry's reading: the design starts at DL1, its lowest dose; after 0 DLTs and 0
    # responses there is one untried neighbour (DL2), so no tie.
    p = _params(protocol)
    decision = Boin12(p).decide(f"{p.start_dose}" + "N" * p.cohort_size)
    names = protocol.dose_levels.design_names
    assert names == ("DL1", "DL2") and p.start_dose == 1
    assert not decision.tied and decision.next_dose is not None
    assert "tie: " not in html_en
    assert names[decision.next_dose - 1] in html_en
    # Read with DL-1 as design dose 1, the start has an untried dose on each side, which tie
    # (boin12.md §5.5): the reason the demo once went down to DL-1 after 0 of 3 DLTs.
    actual = protocol.with_fallback_policy("analyse_at_actual")
    q = actual.design_params(protocol.arm_ids[0])
    tied = Boin12(q).decide(f"{q.start_dose}" + "N" * q.cohort_size).tied
    assert [actual.dose_levels.by_index(d).name for d in tied] == ["DL-1", "DL2"]


def test_exact_selection_matches_exact_oc(
    ids_en: dict[str, str], report: DesignReport, protocol: Protocol
) -> None:
    p = _params(protocol)
    names = [oc.scenario.name for oc in report.groups[0].ocs]
    assert names and all(n.startswith("nct07070323-") for n in names)
    for name in names:
        scenario = _design_truth(protocol, name)
        exact = exact_operating_characteristics(p, scenario.joint_array)
        for j in range(p.n_doses):
            text = ids_en[f"exact-sel-0-{name}-{j + 1}"]
            assert float(text) == pytest.approx(100 * exact.selection[j], abs=0.05)
            mean_n = float(ids_en[f"exact-n-0-{name}-{j + 1}"])
            assert mean_n == pytest.approx(exact.mean_n[j], abs=0.005)
        none = float(ids_en[f"exact-sel-0-{name}-none"])
        assert none == pytest.approx(100 * exact.selection[p.n_doses], abs=0.05)
        assert float(ids_en[f"exact-stop-0-{name}"]) == pytest.approx(
            100 * exact.early_stop, abs=0.05
        )


def test_true_obd_matches_scenario_definition(
    ids_en: dict[str, str], report: DesignReport, protocol: Protocol
) -> None:
    p = _params(protocol)
    names = protocol.dose_levels.design_names
    seen_none = False
    for oc in report.groups[0].ocs:
        obd = _design_truth(protocol, oc.scenario.name).true_obd(p)
        text = ids_en[f"true-obd-0-{oc.scenario.name}"]
        if obd is None:
            seen_none = True
            assert text == "none"
        else:
            assert text == names[obd - 1]
    assert seen_none  # the all-toxic scenario has no acceptable dose


def test_tite_selection_matches_simulation_at_same_seed(
    ids_en: dict[str, str], report: DesignReport, protocol: Protocol
) -> None:
    # The report's TITE-BOIN12 column is the engine's output for the protocol's windows.
    p = _params(protocol)
    name = "nct07070323-dl1-best"
    scenario = _design_truth(protocol, name).with_(
        tox_window=float(protocol.windows.dlt_days),
        eff_window=float(protocol.windows.bor.target_day.value),
    )
    summary = simulate(scenario, p, report.trials, report.seed, tite=True, workers=1)
    data = summary.to_dict()
    for j in range(p.n_doses):
        printed = ids_en[f"tite-sel-0-{name}-{j + 1}"].split(" ")[0]
        assert printed == f"{data['selection_pct'][str(j + 1)]:.1f}"
    months = data["mean_duration_days"] / 30.4375
    assert ids_en[f"tite-dur-0-{name}"].split(" ")[0] == f"{months:.1f}"


def test_bop2_boundaries_match_optimiser(ids_en: dict[str, str], protocol: Protocol) -> None:
    # The protocol's design.phase2, built here by hand: N = the most phase 1 patients at one dose
    # (n_earlystop) + the expansion, the interim look after 3 expansion participants, and joint
    # DLT monitoring with phi_t0 = the arm's phi_t.
    p = _params(protocol)
    arm = protocol.arm_ids[0]
    settings = protocol.design.phase2
    assert settings.phi_t0 is None and settings.phi_t1 is not None
    n1 = min(p.max_n, p.n_earlystop)
    n_max = n1 + protocol.design.phase2_expansion(arm)
    looks = (*(n1 + k for k in settings.interim_looks.value), n_max)
    assert looks == (15, 18)
    result = optimise_bop2(
        Bop2Design(
            n_max=n_max,
            looks=looks,
            p0=settings.p0.value,
            p1=settings.p1.value,
            alpha=settings.alpha.value,
            toxicity=ToxicityMonitoring(phi_t0=p.phi_t, phi_t1=settings.phi_t1.value),
        )
    )
    for b in result.boundaries:
        text = ids_en[f"bop2-0-{b.n}"]
        assert text == ("—" if b.stop_if_responses_le is None else str(b.stop_if_responses_le))
        tox = ids_en[f"bop2-0-{b.n}-tox"]
        assert tox == ("—" if b.stop_if_toxicities_ge is None else str(b.stop_if_toxicities_ge))
    rows = [*result.null_ocs, result.h1]
    for i, oc in enumerate(rows):
        printed = float(ids_en[f"bop2-0-promising-{i}"])
        assert printed == pytest.approx(100 * oc.prob_promising, abs=0.05)
    worst = max(float(ids_en[f"bop2-0-promising-{i}"]) for i in range(len(rows) - 1))
    assert worst == pytest.approx(100 * result.type_i_error, abs=0.05)
    assert float(ids_en[f"bop2-0-promising-{len(rows) - 1}"]) == pytest.approx(
        100 * result.power, abs=0.05
    )


def test_both_readings_of_the_fallback_side_by_side(
    ids_en: dict[str, str], report: DesignReport, protocol: Protocol
) -> None:
    """Table 14: every scenario under both fallback policies, the numbers of the exact core."""
    readings = report.groups[0].readings
    names = {r.scenario for r in readings}
    assert names and all(n.startswith("nct07070323-") for n in names)
    assert [r.policy for r in readings[:2]] == ["safety_only", "analyse_at_actual"]
    for name in names:
        truth = builtin_scenario(name).joint_array  # DL-1, DL1, DL2
        safety = exact_operating_characteristics(_params(protocol), truth[1:])
        actual = protocol.with_fallback_policy("analyse_at_actual")
        at_actual = exact_operating_characteristics(
            actual.design_params(protocol.arm_ids[0]), truth
        )
        assert ids_en[f"reading-sel-0-{name}-safety_only-DL-1"] == "—"
        for j, level in enumerate(("DL1", "DL2")):
            text = ids_en[f"reading-sel-0-{name}-safety_only-{level}"]
            assert float(text) == pytest.approx(100 * safety.selection[j], abs=0.05)
        for j, level in enumerate(("DL-1", "DL1", "DL2")):
            text = ids_en[f"reading-sel-0-{name}-analyse_at_actual-{level}"]
            assert float(text) == pytest.approx(100 * at_actual.selection[j], abs=0.05)
        for policy, exact in (("safety_only", safety), ("analyse_at_actual", at_actual)):
            stop = float(ids_en[f"reading-stop-0-{name}-{policy}"])
            assert stop == pytest.approx(100 * exact.early_stop, abs=0.05)


def test_chinese_report_prints_the_same_numbers(
    ids_en: dict[str, str], ids_zh: dict[str, str]
) -> None:
    numeric = {}
    for key, text in ids_en.items():
        first = text.split(" ")[0] if text else ""
        try:
            float(first)
        except ValueError:
            continue
        numeric[key] = text
    assert len(numeric) > 250  # boundaries, RDS grids, OCs, BOP2
    for key, text in numeric.items():
        assert ids_zh[key] == text, key


def test_pending_limits_follow_maxpen(report: DesignReport, protocol: Protocol) -> None:
    # TITE-BOIN12: a decision needs pending <= maxpen * n at the current dose (boin12.md §8).
    p = _params(protocol)
    limits = report.groups[0].group.pending_limits
    assert [n for n, _ in limits] == list(range(p.cohort_size, p.max_n, p.cohort_size))
    for n, allowed in limits:
        assert allowed == int(np.floor(p.maxpen * n))
