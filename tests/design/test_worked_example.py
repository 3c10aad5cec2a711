"""The paper's worked example step by step (Lin et al. 2020; boin12_tables.md R7)."""

import pytest

from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params

PAPER = Boin12Params(n_doses=5, phi_t=0.35, phi_e=0.25, u11=60, u00=40, n_star=6, max_n=30,
                     n_earlystop=12, c_t=0.95, c_e=0.90)  # fmt: skip

# R7(b): data so far -> next dose, continue?
STEPS = [
    ("1NNN", 2, True),
    ("1NNN 2NNB", 3, True),
    ("1NNN 2NNB 3NEE", 3, True),
    ("1NNN 2NNB 3NEE 3NTN", 4, True),
    ("1NNN 2NNB 3NEE 3NTN 4ETE", 4, True),
    ("1NNN 2NNB 3NEE 3NTN 4ETE 4NBE", 4, True),
    ("1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN", 5, True),
    ("1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN 5BEN", 5, True),
    ("1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN 5BEN 5NBT", 4, True),
    ("1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN 5BEN 5NBT 4NEN", 4, False),
]


@pytest.mark.parametrize("tie_break", ["random", "higher", "lower"])
@pytest.mark.parametrize(("outcomes", "dose", "cont"), STEPS)
def test_worked_example_matches_lin2020_supplement(
    outcomes: str, dose: int, cont: bool, tie_break: str
) -> None:
    decision = Boin12(PAPER.with_(tie_break=tie_break, seed=7)).decide(outcomes)
    assert decision.stop is (not cont)
    if cont:
        assert decision.next_dose == dose
    else:
        # The trial ends normally: next_dose is null, the rule's dose is still recorded.
        assert decision.next_dose is None
        assert decision.details["rule_dose"] == dose
        assert decision.select_obd


def test_exploration_step_uses_extra_dose_rule() -> None:
    decision = Boin12(PAPER).decide("1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN")
    assert decision.rule == "EXPLORE"
    assert "extra dose exploration" in decision.reason


def test_p1396_example() -> None:
    """R7(a): `1NNN 2ENT 3ETT 2EEN` continues at dose 2 (p.1396 of Lin et al.)."""
    decision = Boin12(PAPER).decide("1NNN 2ENT 3ETT 2EEN")
    assert decision.next_dose == 2 and not decision.stop


def test_final_obd_of_worked_example() -> None:
    """R7 derived OBD: PAVA (0, .2114, .2114, .25, .5), MTD 4, utilities (.44 .. .5), OBD 4."""
    result = Boin12(PAPER).select_obd("1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN 5BEN 5NBT 4NEN")
    assert result.mtd == 4 and result.obd == 4
    iso = [round(d.tox_isotonic, 4) for d in result.doses]
    assert iso == [0.0, 0.2114, 0.2114, 0.25, 0.5]
    util = [round(d.utility_mean, 3) for d in result.doses]
    assert util == [0.44, 0.48, 0.525, 0.586, 0.5]
