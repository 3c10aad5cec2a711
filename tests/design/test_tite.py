"""TITE-BOIN12 against the worked decision R10 of boin12_tables.md (derived from §8)."""

import pytest

from dosewise.design.params import Boin12Params
from dosewise.design.tite import TiteBoin12, TitePatient, imputed_probability
from dosewise.errors import InvalidOutcomes, InvalidParameter

# R10: six patients at the current dose (dose 2 of 3 here); τ_T = 28, τ_E = 90 days.
R10 = [
    TitePatient(2, 120, dlt=False, response=True),  # P1 (0, 1) complete
    TitePatient(2, 120, dlt=True, response=False),  # P2 (1, 0) complete
    TitePatient(2, 120, dlt=False, response=False),  # P3 (0, 0) complete
    TitePatient(2, 45, dlt=False, response=False),  # P4 no DLT (window done), eff pending
    TitePatient(2, 30, dlt=True, response=False),  # P5 DLT, eff pending at 30 days
    TitePatient(2, 14, dlt=False, response=False),  # P6 both pending at 14 days
]


def model() -> TiteBoin12:
    return TiteBoin12(Boin12Params(n_doses=3), tox_window=28, eff_window=90)


def test_r10_effective_sample_sizes_and_quasi_events() -> None:
    state = model().dose_states(R10)[1]
    assert state.pending == 3
    assert state.ess_tox == pytest.approx(5.5)
    assert state.dlt_observed == 2
    assert state.ess_eff == pytest.approx(3.9889, abs=1e-4)
    assert state.response_observed == 1
    assert state.quasi_events == pytest.approx(2.4387, abs=1e-4)


def test_r10_imputed_probabilities() -> None:
    p_e = 1 / 3.988888888888889
    assert imputed_probability(p_e, 45 / 90) == pytest.approx(0.1433, abs=1e-4)
    assert imputed_probability(p_e, 30 / 90) == pytest.approx(0.1824, abs=1e-4)
    assert imputed_probability(p_e, 14 / 90) == pytest.approx(0.2203, abs=1e-4)
    assert imputed_probability(2 / 5.5, 14 / 28) == pytest.approx(0.2222, abs=1e-4)


def test_r10_decision() -> None:
    result = model().decide(R10)
    assert not result.wait  # 3 pending, limit 3: "more than", not "at least"
    assert result.pending_limit == 3
    assert result.decision is not None
    assert result.decision.desirability[2] == pytest.approx(0.0548, abs=1e-4)
    assert result.decision.details["p_hat"] == pytest.approx(0.3636, abs=1e-4)
    # Stay zone with n = 6 >= N*: candidates {1, 2}; untried dose 1 at the prior wins.
    assert result.decision.candidates == (1, 2)
    assert result.decision.next_dose == 1


def test_accrual_suspended_when_too_many_pending() -> None:
    patients = [*R10[:5], TitePatient(2, 14), TitePatient(2, 3)]
    result = model().decide(patients)
    assert result.wait and result.decision is None
    # 4 pending of 7 > 3.5; one must complete. Remaining days to complete both windows:
    # P4 90-45 = 45, P5 90-30 = 60, P6 90-14 = 76, P7 90-3 = 87 -> at most 45 days.
    assert result.wait_days_max == pytest.approx(45.0)
    assert "Suspend accrual" in result.reason


def test_final_non_response_is_not_pending() -> None:
    p = TitePatient(1, 10, response_final=True)
    assert not p.eff_pending(90) and p.tox_pending(28)


def test_previous_eliminations_stay() -> None:
    result = model().decide([TitePatient(1, 50, response=True)], eliminated=[3])
    assert 3 in result.eliminated


def test_bad_patient_records() -> None:
    with pytest.raises(InvalidOutcomes, match=r"patients\[0\].dose"):
        model().decide([TitePatient(4, 10)])
    with pytest.raises(InvalidOutcomes, match="follow_up"):
        model().decide([TitePatient(1, -1)])
    with pytest.raises(InvalidParameter, match="tox_window"):
        TiteBoin12(Boin12Params(), tox_window=0)


def test_complete_data_matches_boin12() -> None:
    """With every outcome complete, TITE-BOIN12 decides like BOIN12 (same rule, same data)."""
    from dosewise.design.boin12 import Boin12

    params = Boin12Params(n_doses=3, tie_break="lower", tite_tox_elim_n_gt=2)
    patients = [TitePatient(1, 200, dlt=False, response=False) for _ in range(3)]
    patients += [TitePatient(2, 200, dlt=d, response=r)
                 for d, r in [(False, True), (False, False), (True, True)]]  # fmt: skip
    tite = TiteBoin12(params).decide(patients)
    plain = Boin12(params).decide("1NNN 2ENB")
    assert tite.decision is not None
    assert tite.decision.next_dose == plain.next_dose
    assert tite.decision.desirability == pytest.approx(plain.desirability)


def test_lowest_dose_toxic_stops_now_even_with_pending_outcomes() -> None:
    # Seven at dose 1, five DLTs (Pr(p > 0.35 | 5/7) = 0.975 > 0.95): dose 1 is too toxic. All
    # seven have an outcome pending, which would suspend accrual; the stop needs no more data.
    patients = [TitePatient(1, 40, dlt=True)] * 5 + [TitePatient(1, 2)] * 2
    result = model().decide(patients)
    assert not result.wait and not result.accrual_complete
    assert result.decision is not None and result.decision.stop
    assert result.decision.rule == "STOP_LOWEST_TOXIC"
    assert result.reason == "Stop, no OBD: the lowest dose is eliminated for toxicity."


def test_every_dose_eliminated_stops_now() -> None:
    patients = [TitePatient(2, 5), TitePatient(2, 3), TitePatient(2, 1)]
    result = model().decide(patients, eliminated=[1, 2, 3])
    assert not result.wait and result.decision is not None
    assert result.decision.rule == "STOP_ALL_ELIMINATED" and result.decision.stop


def test_n_earlystop_reached_is_accrual_complete_not_wait() -> None:
    params = Boin12Params(n_doses=3, n_earlystop=6)
    tite = TiteBoin12(params, tox_window=28, eff_window=90)
    patients = [TitePatient(2, 120)] * 3 + [
        TitePatient(2, 10),
        TitePatient(2, 4),
        TitePatient(2, 1),
    ]
    result = tite.decide(patients)
    assert result.accrual_complete and not result.wait and result.decision is None
    assert result.due_days_max == pytest.approx(89.0)  # the patient treated yesterday, 90 - 1
    assert result.why.code == "tite_complete_earlystop"
    assert "must wait" not in result.reason
    assert result.reason.startswith("Accrual complete, awaiting follow-up: 6 patients at dose 2")
    data = result.to_dict()
    assert data["accrual_complete"] is True and data["due_days_max"] == pytest.approx(89.0)
    assert data["wait"] is False and data["next_dose"] is None and data["stop"] is False
    # Once every outcome is in, the trial ends and the OBD is selected on complete data.
    done = tite.decide([TitePatient(2, 120)] * 6)
    assert done.decision is not None and done.decision.rule == "END_EARLYSTOP"
    assert done.decision.obd is not None and not done.accrual_complete


def test_max_n_reached_is_accrual_complete() -> None:
    params = Boin12Params(n_doses=3, max_n=6, n_earlystop=0)
    tite = TiteBoin12(params, tox_window=28, eff_window=90)
    patients = [TitePatient(1, 120)] * 3 + [TitePatient(2, 30, response=True), TitePatient(2, 20)]
    result = tite.decide([*patients, TitePatient(2, 27, response=True)])
    assert result.accrual_complete and result.why.code == "tite_complete_max_n"
    assert result.due_days_max == pytest.approx(70.0)  # 90 - 20: the only open efficacy window
    assert "maximum sample size 6" in result.reason
