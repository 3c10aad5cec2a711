"""Exact OCs (dynamic programming) against brute-force enumeration of every outcome path.

The brute force is an independent route: it walks every ordered sequence of patient outcomes,
asks the single-trial API (`Boin12.decide` on the outcome notation) what happens after each
cohort, and multiplies probabilities along the path. Agreement is required to 1e-12.
"""

import itertools

import numpy as np
import pytest

from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params
from dosewise.simulate.exact import TooManyStates, exact_operating_characteristics

LETTERS = "NETB"  # joint cells in the order (T, E) = 00, 01, 10, 11


def joint_from_marginals(p_tox: list[float], p_eff: list[float], rho: float = 0.0) -> np.ndarray:
    """FGM (Gumbel) joint probabilities, boin12.md §9.1."""
    pt, pe = np.array(p_tox), np.array(p_eff)
    c = np.tanh(rho / 2) * pt * (1 - pt) * pe * (1 - pe)
    return np.stack(
        [(1 - pt) * (1 - pe) + c, (1 - pt) * pe - c, pt * (1 - pe) - c, pt * pe + c], axis=1
    )


def brute_force(params: Boin12Params, joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Selection probabilities (J + 1, last = no OBD) and mean n per dose, by enumeration."""
    model = Boin12(params)
    J = params.n_doses
    selection = np.zeros(J + 1)
    mean_n = np.zeros(J)

    def walk(history: str, dose: int, prob: float) -> None:
        for letters in itertools.product(LETTERS, repeat=params.cohort_size):
            p = prob * float(np.prod([joint[dose - 1, LETTERS.index(ch)] for ch in letters]))
            if p == 0.0:
                continue
            path = f"{history} {dose}{''.join(letters)}".strip()
            decision = model.decide(path)
            if decision.stop:
                state = model.state(path)
                mean_n[:] += p * state.counts.n
                if decision.obd is not None and decision.obd.obd is not None:
                    selection[decision.obd.obd - 1] += p
                else:
                    selection[J] += p
                continue
            assert decision.next_dose is not None
            if params.tie_break == "random" and decision.tied:
                for tied_dose in decision.tied:
                    walk(path, tied_dose, p / len(decision.tied))
            else:
                walk(path, decision.next_dose, p)

    walk("", params.start_dose, 1.0)
    return selection, mean_n


CASES = [
    # (params, p_tox, p_eff, rho)
    (dict(n_doses=2, cohort_size=2, max_n=6, tie_break="lower"), [0.1, 0.4], [0.3, 0.5], 0.0),
    (dict(n_doses=2, cohort_size=3, max_n=6, tie_break="higher"), [0.3, 0.5], [0.2, 0.6], 1.0),
    (dict(n_doses=2, cohort_size=2, max_n=6, tie_break="random", start_dose=2),
     [0.05, 0.2], [0.25, 0.4], -0.5),
    (dict(n_doses=3, cohort_size=2, max_n=6, tie_break="random", start_dose=2, n_star=2,
          u11=50, u00=30), [0.05, 0.25, 0.6], [0.1, 0.5, 0.6], 0.5),
    (dict(n_doses=2, cohort_size=2, max_n=8, tie_break="random", n_earlystop=4,
          phi_e=0.4, c_e=0.6), [0.4, 0.7], [0.05, 0.1], 0.0),
]  # fmt: skip


@pytest.mark.parametrize(("kw", "p_tox", "p_eff", "rho"), CASES)
def test_exact_equals_brute_force(
    kw: dict[str, object], p_tox: list[float], p_eff: list[float], rho: float
) -> None:
    params = Boin12Params(**kw)  # type: ignore[arg-type]
    joint = joint_from_marginals(p_tox, p_eff, rho)
    exact = exact_operating_characteristics(params, joint)
    selection, mean_n = brute_force(params, joint)
    np.testing.assert_allclose(exact.selection, selection, rtol=0, atol=1e-12)
    np.testing.assert_allclose(exact.mean_n, mean_n, rtol=0, atol=1e-12)
    assert exact.selection.sum() == pytest.approx(1.0, abs=1e-12)
    assert exact.early_stop <= exact.selection[-1] + 1e-15


def test_too_large_design_is_refused() -> None:
    params = Boin12Params(n_doses=3, max_n=30, u11=50, u00=30)
    joint = joint_from_marginals([0.1, 0.2, 0.3], [0.3, 0.4, 0.5])
    with pytest.raises(TooManyStates, match="use simulation"):
        exact_operating_characteristics(params, joint, max_states=100_000)


def test_bad_joint_probabilities() -> None:
    from dosewise.errors import InvalidInput

    with pytest.raises(InvalidInput, match="joint"):
        exact_operating_characteristics(Boin12Params(n_doses=2), [[0.5, 0.5, 0.1, 0.0]] * 2)
