"""Response categories (clinical.md §3.1–3.2), BOR with censoring (§3.3) and efficacy."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.clinical.response import (
    Assessment,
    BorSettings,
    EfficacyRule,
    Marrow,
    Mrd,
    best_overall_response,
    classify,
    efficacy_outcome,
    marrow_response,
)
from dosewise.clinical.response_io import BorCase
from dosewise.errors import InvalidInput

DAY0 = date(2025, 8, 1)
RECOVERED = {"anc": 1.5, "platelets": 150}
LOW = {"anc": 0.5, "platelets": 40}


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def marrow(blasts: float, counts: dict[str, float] | None = None, **kw: Any) -> Marrow:
    return Marrow(blasts, **(counts if counts is not None else RECOVERED), **kw)


# ---- §3.1 marrow --------------------------------------------------------------------------------


def test_cr_needs_blasts_below_5_and_recovered_counts() -> None:
    assert marrow_response(marrow(4.9))[0] == "CR"
    assert marrow_response(marrow(5.0, baseline_blasts_pct=6))[0] == "SD/NR"
    assert marrow_response(marrow(1, {"anc": 1.0, "platelets": 100}))[0] == "CR"  # edges


def test_cri_when_counts_have_not_recovered() -> None:
    assert marrow_response(marrow(1, {"anc": 0.9, "platelets": 150}))[0] == "CRi"
    assert marrow_response(marrow(1, {"anc": 1.5, "platelets": 99}))[0] == "CRi"
    assert marrow_response(marrow(1, transfusion_independent=False))[0] == "CRi"
    assert marrow_response(Marrow(1))[0] == "CRi"  # counts not recorded: recovery not shown


def test_circulating_blasts_prevent_cr() -> None:
    assert marrow_response(marrow(1, circulating_blasts=True))[0] == "SD/NR"


def test_pr_is_5_to_25_percent_with_a_50_percent_fall() -> None:
    assert marrow_response(marrow(20, baseline_blasts_pct=40))[0] == "PR"
    assert marrow_response(marrow(25, baseline_blasts_pct=80))[0] == "PR"
    assert marrow_response(marrow(21, baseline_blasts_pct=40))[0] == "SD/NR"  # < 50% fall
    assert marrow_response(marrow(26, baseline_blasts_pct=80))[0] == "SD/NR"  # > 25%
    assert marrow_response(marrow(10))[0] == "SD/NR"  # no baseline: fall unknown


def test_pd_is_a_25_percent_rise() -> None:
    assert marrow_response(marrow(50, baseline_blasts_pct=40))[0] == "PD"
    assert marrow_response(marrow(49, baseline_blasts_pct=40))[0] == "SD/NR"


def test_mrd_value_and_sensitivity() -> None:
    assert Mrd(0, 1e-4).negative is True
    assert Mrd(5e-5, 1e-4).negative is True  # below the assay's limit
    assert Mrd(2e-4, 1e-4).negative is False  # MRD > 0.01%: failure
    assert Mrd(0, 1e-3).negative is None  # assay not sensitive enough to call negative
    with pytest.raises(InvalidInput):
        Mrd(0.5, 0)


# ---- §3.2 combined with extramedullary disease --------------------------------------------------


def test_overall_is_the_worse_of_marrow_and_extramedullary() -> None:
    mrd_neg = Mrd(0, 1e-4)
    r = classify(Assessment(day(28), marrow(1, mrd=mrd_neg), "PR"))
    assert (r.category, r.mrd_negative) == ("PR", True)  # §3.2: MRD-neg marrow CR + PET PR → PR
    assert classify(Assessment(day(28), marrow(1), "CR")).category == "CR"
    assert classify(Assessment(day(28), marrow(1, LOW), "CR")).category == "CRi"
    assert classify(Assessment(day(28), marrow(1), "PD")).category == "PD"
    assert classify(Assessment(day(28), marrow(1), "NE")).category == "NE"
    assert classify(Assessment(day(28), None, "CR")).category == "NE"
    assert classify(Assessment(day(28), None, "PD")).category == "PD"


# ---- §3.3 best overall response -----------------------------------------------------------------


def cr(n: int, mrd: float | None = 0) -> Assessment:
    return Assessment(day(n), marrow(0, mrd=None if mrd is None else Mrd(mrd, 1e-4)))


def test_bor_ranks_mrd_negative_cr_first() -> None:
    best = best_overall_response([cr(28, 3e-4), cr(60, 0), cr(90, 3e-4)], DAY0)
    assert (best.category, best.mrd_negative, best.study_day) == ("CR", True, 60)


def test_bor_is_best_not_last() -> None:
    best = best_overall_response(
        [cr(28), Assessment(day(60), marrow(60, baseline_blasts_pct=1))], DAY0
    )
    assert best.category == "CR" and best.responses[1].category == "PD"


def test_bor_censored_at_sct_including_the_sct_day() -> None:
    items = [Assessment(day(28), marrow(1, LOW)), cr(45), cr(90)]
    best = best_overall_response(items, DAY0, sct_date=day(45))
    assert best.category == "CRi"
    assert best.censored and best.censor_reason == "SCT on study day 45"
    assert best.counted == (True, False, False)


def test_bor_censored_at_new_therapy() -> None:
    items = [Assessment(day(28), marrow(30)), cr(80)]
    best = best_overall_response(items, DAY0, new_therapy_date=day(40))
    assert best.category == "SD/NR" and best.censor_reason == "new therapy on study day 40"


def test_month_3_cut_off_is_day_97() -> None:
    assert best_overall_response([cr(97)], DAY0).category == "CR"
    late = best_overall_response([cr(98)], DAY0)
    assert late.category == "NE" and late.counted == (False,)


def test_death_before_month_3_without_response_is_non_response() -> None:
    best = best_overall_response([], DAY0, death_date=day(40))
    assert best.category == "SD/NR" and "died" in best.reason
    kept = best_overall_response(
        [], DAY0, death_date=day(40), settings=BorSettings(death_as_non_response=False)
    )
    assert kept.category == "NE"
    # an earlier response stands
    assert best_overall_response([cr(28)], DAY0, death_date=day(40)).category == "CR"


def test_not_evaluable_is_kept_apart_from_non_response() -> None:
    best = best_overall_response([Assessment(day(28))], DAY0)
    assert best.category == "NE" and not best.evaluable


def test_cr_confirmation_setting() -> None:
    s = BorSettings(confirm_cr_days=28)
    single = best_overall_response(
        [Assessment(day(14), marrow(20, baseline_blasts_pct=50)), cr(28)], DAY0, settings=s
    )
    assert single.category == "PR" and "not confirmed" in single.reason
    confirmed = best_overall_response([cr(28), cr(56)], DAY0, settings=s)
    assert confirmed.category == "CR"


def test_provisional_while_in_follow_up() -> None:
    assert best_overall_response([cr(28)], DAY0, as_of=day(50)).final is False
    assert best_overall_response([cr(28)], DAY0, as_of=day(97)).final is True


def test_dates_in_the_wrong_order_are_errors() -> None:
    with pytest.raises(InvalidInput, match="after death"):
        best_overall_response([cr(50)], DAY0, death_date=day(40))
    with pytest.raises(InvalidInput, match="before infusion"):
        best_overall_response([cr(50)], DAY0, sct_date=day(-3))


# ---- efficacy for BOIN12 ------------------------------------------------------------------------


def test_efficacy_default_is_cr_or_cri_by_day_30() -> None:
    assert efficacy_outcome([Assessment(day(28), marrow(1, LOW))], DAY0)[0] is True
    # No assessment by day 30: efficacy is not evaluable rather than a failure.
    assert efficacy_outcome([cr(31)], DAY0)[0] is None
    assert efficacy_outcome([Assessment(day(27), marrow(30)), cr(31)], DAY0)[0] is False
    assert (
        efficacy_outcome([Assessment(day(28), marrow(20, baseline_blasts_pct=50))], DAY0)[0]
        is False
    )


def test_efficacy_pending_and_not_evaluable() -> None:
    pending, _ = efficacy_outcome([Assessment(day(14), marrow(40))], DAY0, as_of=day(20))
    assert pending is None
    assert efficacy_outcome([], DAY0)[0] is None
    assert efficacy_outcome([], DAY0, death_date=day(10))[0] is False


def test_efficacy_rule_is_a_parameter() -> None:
    pr = [Assessment(day(28), marrow(20, baseline_blasts_pct=50))]
    assert efficacy_outcome(pr, DAY0, EfficacyRule(("CR", "CRi", "PR")))[0] is True
    mrd_pos = [cr(28, 3e-4)]
    assert efficacy_outcome(mrd_pos, DAY0, EfficacyRule(require_mrd_negative=True))[0] is False
    assert efficacy_outcome([cr(80)], DAY0, EfficacyRule(by_day=97))[0] is True


def test_case_from_mapping_errors_name_the_path() -> None:
    base = {"infusion_date": "2025-08-01"}
    with pytest.raises(InvalidInput) as err:
        BorCase.from_mapping(
            base | {"assessments": [{"date": "2025-08-29", "marrow": {"blasts_pct": 120}}]}
        )
    assert err.value.field == "assessments[0].marrow.blasts_pct"
    with pytest.raises(InvalidInput) as err:
        BorCase.from_mapping(
            base
            | {
                "assessments": [
                    {"date": "2025-08-29", "marrow": {"blasts_pct": 1, "mrd": {"value": 0}}}
                ]
            }
        )
    assert err.value.field == "assessments[0].marrow.mrd.sensitivity"
    with pytest.raises(InvalidInput) as err:
        BorCase.from_mapping(base | {"assessments": [{"date": "2025-08-29", "category": "VGPR"}]})
    assert err.value.field == "assessments[0].category"
    with pytest.raises(InvalidInput) as err:
        BorCase.from_mapping(base | {"efficacy": {"responses": ["CR", "XX"]}})
    assert err.value.field == "efficacy.responses[1]"


# ---- invariants ---------------------------------------------------------------------------------

assessment = st.builds(
    lambda n, blasts, anc, base: Assessment(
        day(n), Marrow(blasts, anc=anc, platelets=150, baseline_blasts_pct=base)
    ),
    st.integers(0, 110),
    st.floats(0, 100),
    st.floats(0, 3),
    st.none() | st.floats(0, 100),
)


@given(st.lists(assessment, max_size=5), assessment)
def test_another_assessment_never_lowers_bor(items: list[Assessment], extra: Assessment) -> None:
    before = best_overall_response(items, DAY0)
    after = best_overall_response([*items, extra], DAY0)
    if before.evaluable:
        assert after.evaluable
        assert _rank(after) >= _rank(before)


@given(st.lists(assessment, max_size=5), st.integers(0, 100))
def test_censoring_never_raises_bor(items: list[Assessment], sct: int) -> None:
    free = best_overall_response(items, DAY0)
    censored = best_overall_response(items, DAY0, sct_date=day(sct))
    if censored.evaluable:
        assert _rank(censored) <= _rank(free)


def _rank(best: Any) -> float:
    order = {"PD": 1, "SD/NR": 2, "PR": 3, "CRi": 4, "CR": 5}
    return order[best.category] + (0.5 if best.category == "CR" and best.mrd_negative else 0)
