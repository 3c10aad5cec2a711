"""Single decisions: stopping rules, ties, eliminations, edge cases (boin12.md §§4-5, §10)."""

import numpy as np
import pytest

from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params
from dosewise.errors import InvalidOutcomes


def design(**kw: object) -> Boin12:
    return Boin12(Boin12Params(**kw))  # type: ignore[arg-type]


def test_start_with_no_patients() -> None:
    d = design(n_doses=3, start_dose=2).decide("")
    assert d.next_dose == 2 and not d.stop and d.rule == "START"


def test_untried_neighbours_tie_at_first_decision() -> None:
    """§5.5 / §11: start at the middle of three doses; both untried neighbours sit at the prior."""
    outcomes = "2NNN"  # P(dose 2) = 0.1134 < 0.295 = prior of doses 1 and 3; 0/3 <= λe
    higher = design(n_doses=3, start_dose=2, tie_break="higher").decide(outcomes)
    lower = design(n_doses=3, start_dose=2, tie_break="lower").decide(outcomes)
    assert higher.tied == (1, 3) and lower.tied == (1, 3)
    assert higher.next_dose == 3 and lower.next_dose == 1
    assert "Tie between doses [1, 3]" in higher.reason
    chosen = {design(n_doses=3, start_dose=2, seed=s).decide(outcomes).next_dose
              for s in range(40)}  # fmt: skip
    assert chosen == {1, 3}


def test_random_tie_is_reproducible_with_seed() -> None:
    a = design(n_doses=3, seed=5).decide("2NNN")
    b = design(n_doses=3, seed=5).decide("2NNN")
    assert a.next_dose == b.next_dose


def test_stop_when_lowest_dose_too_toxic() -> None:
    """§4 (a): 3/3 DLTs at dose 1 eliminates it and every higher dose: stop, no OBD."""
    d = design(n_doses=3).decide("1TTT")
    assert d.stop and d.next_dose is None and d.rule == "STOP_LOWEST_TOXIC"
    assert d.admissible == ()
    assert not d.select_obd


def test_toxicity_elimination_takes_higher_doses() -> None:
    d = design(n_doses=4).decide("1NNN 2NNN 3TTT")
    assert d.admissible == (1, 2)
    assert d.next_dose == 2 and d.rule == "DEESCALATE"
    assert d.desirability[3] == 0.0 and d.desirability[4] == 0.0


def test_futility_elimination_is_only_that_dose_and_can_be_skipped() -> None:
    """§5.6: escalation skips a futility-eliminated dose (authors' rule, §10 example)."""
    params = dict(n_doses=4, phi_t=0.15, phi_e=0.4, u11=30, u00=50, c_t=0.9, c_e=0.8,
                  start_dose=2)  # fmt: skip
    d = design(**params).decide("2NNN 3NNT")
    assert 2 not in d.admissible  # 0/3 responses at φE=0.4, c_E=0.8 is futile
    assert d.next_dose == 1  # authors: de-escalate past the futile dose 2


def test_futile_current_dose_with_nine_patients_stops_before_exploration() -> None:
    """§4 (d) is checked before the exploration rule (boin12.md §10 example)."""
    d = design(n_doses=3).decide("1NTT 1NNN 1NNT")
    assert d.stop and d.rule == "STOP_CHOSEN_ELIMINATED"


def test_deescalation_at_lowest_dose_stays() -> None:
    d = design(n_doses=3).decide("1NTT")
    assert d.next_dose == 1 and d.rule == "STAY_NO_LOWER"


def test_max_n_ends_with_obd_selection() -> None:
    d = design(n_doses=3, max_n=6, n_earlystop=0).decide("1NNE 2NEE")
    assert d.stop and d.next_dose is None and d.rule == "END_MAX_N"
    assert d.obd is not None and d.obd.obd is not None


def test_n_earlystop_ends_regardless_of_decision() -> None:
    d = design(n_doses=3, n_earlystop=6).decide("1NNE 1NEE")
    assert d.stop and d.rule == "END_EARLYSTOP"


def test_exploration_off_with_n2_zero() -> None:
    outcomes = "1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN"
    on = design(n_doses=5, max_n=30).decide(outcomes)
    off = design(n_doses=5, max_n=30, n2=0).decide(outcomes)
    assert on.rule == "EXPLORE" and off.rule != "EXPLORE"


def test_eliminations_are_permanent_even_if_later_data_would_admit() -> None:
    """Once futile at 0/9, a dose stays eliminated after (deviating) later responses."""
    d = design(n_doses=2, n_earlystop=0, max_n=30).decide("1NNN 1NNN 1NNN 1EEE")
    assert 1 not in d.admissible


def test_bad_outcomes_point_at_character() -> None:
    with pytest.raises(InvalidOutcomes, match="character 3"):
        design(n_doses=3).decide("1NXN")
    with pytest.raises(InvalidOutcomes, match="dose 0"):
        design(n_doses=3).decide("0NNN")
    with pytest.raises(InvalidOutcomes, match="no patients"):
        design(n_doses=3).decide("1NNN 2")
    with pytest.raises(InvalidOutcomes, match="dose number"):
        design(n_doses=3).decide("NNN")


def test_rng_argument_drives_random_ties() -> None:
    model = design(n_doses=3)
    picks = {model.decide("2NNN", rng=np.random.default_rng(s)).next_dose for s in range(30)}
    assert picks == {1, 3}


def test_one_more_dlt_can_raise_the_dose_counterexample() -> None:
    """Documented in docs/design.md §"One more DLT": under the authors' rule an extra DLT at
    the current dose can make escalation win. 0/6 -> 1/6 DLTs keeps the rate in the escalation
    zone (1/6 <= λe = 0.276) but lowers dose 2's desirability below the untried dose 3's prior."""
    model = design(n_doses=3, tie_break="lower")
    before = model.decide("1NNN 2NNN 2EEE")
    after = model.decide("1NNN 2NNN 2BEE")
    assert before.next_dose == 2 and after.next_dose == 3
    assert before.desirability[2] > 0.295 > after.desirability[2]
    assert after.desirability[3] == pytest.approx(0.295)
