"""The vectorised TITE formulas give the same numbers for one trial and for a padded batch."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dosewise.design.params import Boin12Params
from dosewise.design.tite import TiteBoin12, TitePatient, tite_arrays

PARAMS = Boin12Params(n_doses=3, u11=55.0, u00=35.0)
patient = st.builds(
    TitePatient,
    dose=st.integers(1, 3),
    follow_up=st.floats(0, 120),
    dlt=st.booleans(),
    response=st.booleans(),
    dlt_final=st.booleans(),
    response_final=st.booleans(),
)


@given(st.lists(patient, min_size=1, max_size=12), st.lists(patient, min_size=1, max_size=12))
def test_batch_rows_equal_single_trials_bit_for_bit(
    first: list[TitePatient], second: list[TitePatient]
) -> None:
    model = TiteBoin12(PARAMS, 28, 90)
    singles = [model.arrays(first), model.arrays(second)]
    width = max(len(first), len(second)) + 3  # padding slots at the end

    def pad(values: list[object], fill: object, dtype: type) -> np.ndarray:
        return np.array(values + [fill] * (width - len(values)), dtype=dtype)

    rows = (first, second)
    batch = tite_arrays(
        dose=np.stack([pad([p.dose - 1 for p in r], -1, np.int64) for r in rows]),
        follow_up=np.stack([pad([float(p.follow_up) for p in r], 0.0, np.float64) for r in rows]),
        dlt=np.stack([pad([p.dlt for p in r], False, np.bool_) for r in rows]),
        response=np.stack([pad([p.response for p in r], False, np.bool_) for r in rows]),
        tox_pending=np.stack([pad([p.tox_pending(28) for p in r], False, np.bool_) for r in rows]),
        eff_pending=np.stack([pad([p.eff_pending(90) for p in r], False, np.bool_) for r in rows]),
        params=PARAMS,
        tox_window=28,
        eff_window=90,
    )
    for b, single in enumerate(singles):
        for name in ("n", "dlt", "ess_tox", "response", "ess_eff", "points", "pending"):
            np.testing.assert_array_equal(getattr(batch, name)[b], getattr(single, name)[0])


def test_complete_data_points_are_exact_utility_sums() -> None:
    # No outcome pending: x̃ is the plain BOIN12 score, exactly (so ties stay exact).
    patients = [TitePatient(1, 200, dlt=d, response=r) for d, r in
                [(False, True), (True, True), (False, False), (True, False)]]  # fmt: skip
    data = TiteBoin12(PARAMS).arrays(patients)
    assert data.points[0, 0] == 100 + 55 + 35 + 0


def _reference(data: dict[str, np.ndarray], params: Boin12Params) -> dict[str, np.ndarray]:
    """§8 written directly with NumPy (sums by np.bincount, which adds in input order)."""
    dose, follow = data["dose"], data["follow_up"]
    tp, ep = data["tox_pending"], data["eff_pending"]
    batch, j = dose.shape[0], params.n_doses
    cells = batch * j
    index = np.where(dose >= 0, np.arange(batch)[:, None] * j + dose, cells).ravel()

    def per_dose(w: np.ndarray | None) -> np.ndarray:
        return np.bincount(index, weights=w, minlength=cells + 1)[:cells]

    w_t, w_e = follow / 28.0, follow / 90.0
    dlt = per_dose(data["dlt"].ravel().astype(float))
    resp = per_dose(data["response"].ravel().astype(float))
    ess_t = per_dose(np.where(tp, np.minimum(w_t, 1.0), 1.0).ravel())
    ess_e = per_dose(np.where(ep, np.minimum(w_e, 1.0), 1.0).ravel())
    p_t = np.divide(dlt, ess_t, out=np.zeros(cells), where=ess_t > 0)
    p_e = np.divide(resp, ess_e, out=np.zeros(cells), where=ess_e > 0)
    at = np.where(dose >= 0, index.reshape(dose.shape), 0)
    wt, we = np.where(tp, w_t, 0.0), np.where(ep, w_e, 0.0)
    t = np.where(tp, p_t[at] * (1 - wt) / (1 - p_t[at] * wt), data["dlt"].astype(float))
    e = np.where(ep, p_e[at] * (1 - we) / (1 - p_e[at] * we), data["response"].astype(float))
    u = (
        100.0 * (1 - t) * e
        + params.u00 * (1 - t) * (1 - e)
        + params.u11 * t * e
        + 0.0 * t * (1 - e)
    )
    return {
        "n": per_dose(None).reshape(batch, j),
        "ess_tox": ess_t.reshape(batch, j),
        "ess_eff": ess_e.reshape(batch, j),
        "points": per_dose(u.ravel()).reshape(batch, j),
    }


@given(st.lists(patient, min_size=1, max_size=30))
def test_compiled_sums_equal_a_numpy_reference(patients: list[TitePatient]) -> None:
    data = {
        "dose": np.array([[p.dose - 1 for p in patients]]),
        "follow_up": np.array([[float(p.follow_up) for p in patients]]),
        "dlt": np.array([[p.dlt for p in patients]]),
        "response": np.array([[p.response for p in patients]]),
        "tox_pending": np.array([[p.tox_pending(28) for p in patients]]),
        "eff_pending": np.array([[p.eff_pending(90) for p in patients]]),
    }
    got = tite_arrays(**data, params=PARAMS, tox_window=28, eff_window=90)
    for name, value in _reference(data, PARAMS).items():
        np.testing.assert_array_equal(getattr(got, name), value)
