"""OBD selection (boin12.md §7): batch and single forms agree, SciPy PAVA, no-OBD cases."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import isotonic_regression

from dosewise.design.boin12 import Boin12
from dosewise.design.obd import isotonic_toxicity, select_obd, select_obd_batch
from dosewise.design.params import Boin12Params

PARAMS = Boin12Params(n_doses=4)


@st.composite
def dose_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = np.array(draw(st.lists(st.integers(0, 15), min_size=4, max_size=4)), dtype=np.int64)
    tox = np.array([draw(st.integers(0, int(k))) for k in n], dtype=np.int64)
    eff = np.array([draw(st.integers(0, int(k))) for k in n], dtype=np.int64)
    elim = np.array(draw(st.lists(st.booleans(), min_size=4, max_size=4)))
    return n, tox, eff, elim


@given(st.lists(dose_data(), min_size=1, max_size=8))
def test_batch_equals_single_and_scipy(rows: list[tuple[np.ndarray, ...]]) -> None:
    n = np.stack([r[0] for r in rows])
    tox = np.stack([r[1] for r in rows])
    eff = np.stack([r[2] for r in rows])
    elim = np.stack([r[3] for r in rows])
    points = 60.0 * eff + 40.0 * (n - tox)
    batch = select_obd_batch(n, tox, points, elim, PARAMS)
    for b in range(len(rows)):
        single = select_obd(n[b], tox[b], eff[b], points[b], elim[b], PARAMS)
        assert (single.obd or 0) - 1 == batch.obd[b] or (single.obd is None and batch.obd[b] < 0)
        assert single.mtd - 1 == batch.mtd[b]
        # Independent reference: SciPy on the raw rates (untried at φT) with the Beta weights.
        nf, yf = n[b].astype(float), tox[b].astype(float)
        rate = np.where(nf > 0, yf / np.maximum(nf, 1), PARAMS.phi_t)
        var = (yf + 0.05) * (nf - yf + 0.05) / ((nf + 0.1) ** 2 * (nf + 1.1))
        ref = isotonic_regression(rate, weights=1 / var).x
        np.testing.assert_allclose(batch.tox_isotonic[b], ref, rtol=0, atol=1e-12)


def test_isotonic_single_row_shape() -> None:
    out = isotonic_toxicity(np.array([3, 3, 6]), np.array([0, 1, 1]), 0.35)
    assert out.shape == (3,)
    assert np.all(np.diff(out) >= 0)


def test_no_obd_when_every_dose_up_to_mtd_is_excluded() -> None:
    """Divergence from the authors' R (which.max returns dose 1): dosewise gives no OBD."""
    model = Boin12(Boin12Params(n_doses=3, phi_e=0.4, c_e=0.8))
    # Dose 1 futile (0/6 responses, φE = 0.4) and the MTD is dose 1 (3/3 DLTs at dose 2).
    result = model.select_obd_from_state(model.state("1NNN 1NNN 2TTT"))  # the §7 rule alone
    assert result.mtd == 1
    assert result.obd is None
    assert result.reason.startswith("No OBD: no tried, non-eliminated dose at or below")
    assert result.why.code == "obd_none" and result.why.params["mtd"] == 1
    # Every dose is eliminated here, so the design stops first and says so; obd agrees.
    stopped = model.select_obd("1NNN 1NNN 2TTT")
    assert stopped.obd is None
    assert stopped.reason == model.decide("1NNN 1NNN 2TTT").reason
    assert stopped.reason == "Stop, no OBD: every dose is eliminated (toxicity or futility)."


def test_untried_doses_never_selected() -> None:
    result = Boin12(Boin12Params(n_doses=3)).select_obd("1NNE")
    assert result.obd == 1
    assert [d.eligible for d in result.doses] == [True, False, False]
