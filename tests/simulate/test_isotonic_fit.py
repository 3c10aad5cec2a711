"""The isotonic fit behind OBD selection (memoised, batched) equals SciPy's bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import isotonic_regression

from dosewise.design.obd import isotonic_toxicity


@st.composite
def dose_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.lists(st.integers(0, 40), min_size=1, max_size=8))
    tox = [draw(st.integers(0, k)) for k in n]
    return np.array(n), np.array(tox)


@given(st.lists(dose_data(), min_size=1, max_size=6), st.sampled_from([0.2, 0.3, 0.35]))
def test_isotonic_fit_is_scipy_bit_for_bit(
    rows: list[tuple[np.ndarray, np.ndarray]], phi_t: float
) -> None:
    for n, tox in rows:
        nf, yf = n.astype(float), tox.astype(float)
        rate = np.where(nf > 0, yf / np.maximum(nf, 1.0), phi_t)
        weight = ((nf + 0.1) ** 2 * (nf + 1.1)) / ((yf + 0.05) * (nf - yf + 0.05))
        expected = isotonic_regression(rate, weights=weight).x
        np.testing.assert_array_equal(isotonic_toxicity(n, tox, phi_t), expected)
    same = [r for r in rows if len(r[0]) == len(rows[0][0])]  # one batch of equal-length rows
    batch = isotonic_toxicity(np.stack([r[0] for r in same]), np.stack([r[1] for r in same]), phi_t)
    for b, (n, tox) in enumerate(same):
        np.testing.assert_array_equal(batch[b], isotonic_toxicity(n, tox, phi_t))
