"""The packed-key hash merge of the exact computation equals the plain sort-based merge."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dosewise.simulate.exact_states import StateKeys, _sort_merge, expand_merge


def as_map(counts: np.ndarray, current: np.ndarray, weight: np.ndarray) -> dict[tuple, float]:
    out: dict[tuple, float] = {}
    for c, d, w in zip(counts.tolist(), current.tolist(), weight.tolist(), strict=True):
        key = (tuple(map(tuple, c)), d)
        assert key not in out  # merged: every state once
        out[key] = w
    return out


@st.composite
def batches(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    doses = draw(st.integers(1, 4))
    width = draw(st.sampled_from([3, 4]))
    top = draw(st.integers(2, 12))
    states = draw(st.integers(1, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    counts = rng.integers(0, top // 2 + 1, size=(states, doses, width))
    current = rng.integers(0, doses, size=states)
    weight = rng.random(states)
    weight[rng.random(states) < 0.2] = 0.0  # impossible states leave no children
    outcomes = draw(st.integers(1, 6))
    delta = rng.integers(0, top // 2 + 1, size=(outcomes, width))
    outcome_p = rng.random((doses, outcomes))
    return counts, current, weight, delta, outcome_p, np.array([top])


@given(batches())
def test_hash_merge_equals_sort_merge(batch: tuple[np.ndarray, ...]) -> None:
    counts, current, weight, delta, outcome_p, top = batch
    keys = StateKeys(counts.shape[1], counts.shape[2], int(top[0]))
    assert keys.fits
    fast = as_map(*expand_merge(counts, current, weight, delta, outcome_p, keys))
    slow = as_map(*_sort_merge(counts, current, weight, delta, outcome_p))
    assert fast.keys() == slow.keys()
    for key, value in fast.items():
        assert abs(value - slow[key]) <= 1e-12 * max(1.0, abs(value))
    # Nothing is lost: the children carry the parents' probability times the outcomes'.
    total = float((weight[:, None] * outcome_p[current]).sum())
    assert abs(sum(fast.values()) - total) <= 1e-9 * max(1.0, total)


@given(st.integers(1, 6), st.sampled_from([3, 4]), st.integers(1, 40), st.integers(0, 10**6))
def test_keys_round_trip(doses: int, width: int, top: int, seed: int) -> None:
    keys = StateKeys(doses, width, top)
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, top + 1, size=(20, doses, width))
    current = rng.integers(0, doses, size=20)
    if not keys.fits:
        return  # such layouts use the sort-based merge
    back_counts, back_current = keys.decode(keys.keys(counts, current))
    np.testing.assert_array_equal(back_counts, counts)
    np.testing.assert_array_equal(back_current, current)
