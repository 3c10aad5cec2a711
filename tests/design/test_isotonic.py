"""The batch PAVA behind OBD selection against SciPy's ``isotonic_regression`` (the reference).

SciPy fits one row per call; :mod:`dosewise.design.isotonic` fits a batch in one compiled loop.
The two may differ in the last bit of a pooled mean (summation order, and SciPy also pools
equal neighbours), so values are compared to 1e-12, and what the fit is *for* — the MTD and OBD
chosen at the end of a trial — is compared exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import isotonic_regression

from dosewise.design.isotonic import isotonic_rows
from dosewise.design.obd import JITTER, isotonic_toxicity, select_obd_batch
from dosewise.design.params import Boin12Params


def _rates_weights(n: np.ndarray, tox: np.ndarray, phi_t: float) -> tuple[np.ndarray, np.ndarray]:
    nf, yf = n.astype(float), tox.astype(float)
    rate = np.where(nf > 0, yf / np.maximum(nf, 1.0), phi_t)
    weight = ((nf + 0.1) ** 2 * (nf + 1.1)) / ((yf + 0.05) * (nf - yf + 0.05))
    return rate, weight


@st.composite
def dose_data(draw: st.DrawFn, doses: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    size = doses or draw(st.integers(1, 8))
    n = draw(st.lists(st.integers(0, 40), min_size=size, max_size=size))
    tox = [draw(st.integers(0, k)) for k in n]
    return np.array(n, dtype=np.int64), np.array(tox, dtype=np.int64)


@given(st.lists(dose_data(), min_size=1, max_size=6), st.sampled_from([0.2, 0.3, 0.35]))
def test_fit_equals_scipy(rows: list[tuple[np.ndarray, np.ndarray]], phi_t: float) -> None:
    for n, tox in rows:
        rate, weight = _rates_weights(n, tox, phi_t)
        expected = isotonic_regression(rate, weights=weight).x
        np.testing.assert_allclose(isotonic_toxicity(n, tox, phi_t), expected, rtol=0, atol=1e-12)


@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=12).flatmap(
        lambda x: st.tuples(
            st.just(x), st.lists(st.floats(0.01, 100), min_size=len(x), max_size=len(x))
        )
    )
)
def test_fit_is_the_weighted_least_squares_solution(data: tuple[list[float], list[float]]) -> None:
    """Monotone, and no monotone row is closer in weighted squares than the fit (SciPy's is
    the optimum, so equality of objectives within rounding)."""
    x, w = np.array(data[0]), np.array(data[1])
    fit = isotonic_rows(x, w)
    assert np.all(np.diff(fit) >= 0)
    ours = float(np.sum(w * (fit - x) ** 2))
    best = float(np.sum(w * (isotonic_regression(x, weights=w).x - x) ** 2))
    assert ours <= best + 1e-9 * (1 + best)
    # Each pooled block's value is the weighted mean of its values.
    np.testing.assert_allclose(np.sum(w * fit), np.sum(w * x), rtol=1e-12, atol=1e-9)


def test_non_decreasing_rows_are_returned_exactly() -> None:
    x = np.array([[0.1, 0.1, 0.2, 0.2, 0.9], [0.0, 0.0, 0.0, 0.0, 0.0]])
    assert np.array_equal(isotonic_rows(x, np.ones_like(x)), x)


def test_a_batch_equals_its_rows_and_keeps_the_shape() -> None:
    rng = np.random.default_rng(2)
    x, w = rng.random((50, 5)), rng.random((50, 5)) + 0.1
    batch = isotonic_rows(x, w)
    assert batch.shape == (50, 5)
    for b in range(50):
        assert np.array_equal(batch[b], isotonic_rows(x[b], w[b]))
    assert isotonic_rows(np.zeros((0, 5)), np.zeros((0, 5))).shape == (0, 5)


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        isotonic_rows(np.zeros(3), np.ones(4))


def test_mtd_is_that_of_scipy_on_every_state_of_a_large_sample() -> None:
    """100,000 random end-of-trial states (3 and 5 doses): the MTD (argmin of the jittered fit's
    distance to φT) is the same with SciPy's fit — and so is the OBD, which depends on the fit
    only through the MTD."""
    rng = np.random.default_rng(20261126)
    for doses, phi_t in ((3, 0.35), (5, 0.35), (5, 0.3)):
        params = Boin12Params(n_doses=doses, phi_t=phi_t)
        b = 100_000 // 3
        n = rng.integers(0, 5, (b, doses)) * 3
        tox = rng.binomial(n, rng.random((b, doses)))
        eff = rng.binomial(n, rng.random((b, doses)))
        points = 60.0 * eff + 40.0 * (n - tox)
        elim = rng.random((b, doses)) < 0.1
        batch = select_obd_batch(n, tox, points, elim, params)
        fits = []
        for i in range(b):
            rate, weight = _rates_weights(n[i], tox[i], phi_t)
            fits.append(isotonic_regression(rate, weights=weight).x)
        ref_iso = np.array(fits)
        ref_mtd = np.argmin(np.abs(ref_iso + JITTER * np.arange(1, doses + 1) - phi_t), axis=1)
        assert np.array_equal(batch.mtd, ref_mtd)
        np.testing.assert_allclose(batch.tox_isotonic, ref_iso, rtol=0, atol=1e-12)
