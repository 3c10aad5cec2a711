"""The state space of the exact computation: packed state keys and the expand-and-merge step.

A state is the per-dose counts plus the current dose. When the fields fit in 63 bits (mixed
radix) the state is packed into one int64 key, children are parent key + the key increment of the
cohort outcome, and equal children are merged in one pass through an open-addressing hash table
(compiled with Numba): no sort of the (states x outcomes) children, which dominated the time
before. Larger layouts fall back to a sort-based merge on the raw counts.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Fibonacci hashing multiplier (2^64 / golden ratio), spreads packed keys over the table.
_GOLDEN = 0x9E3779B97F4A7C15


class StateKeys:
    """Pack a state (counts per dose, current dose) into one int64 (mixed radix), when it fits.

    Each count is a digit in base max_value + 1 and the current dose a digit in base J, so
    adding a cohort's increments to a key never carries into the next field.
    """

    def __init__(self, n_doses: int, width: int, max_value: int) -> None:
        radix = [max_value + 1] * (n_doses * width) + [n_doses]  # the current dose is last
        places = [math.prod(radix[:i]) for i in range(len(radix))]
        self.fits = math.prod(radix) <= 2**63 - 1
        self.radix = np.array(radix, dtype=np.int64)
        self.places = np.array(places if self.fits else [0] * len(radix), dtype=np.int64)
        self.n_doses, self.width = n_doses, width

    def keys(self, counts: IntArray, current: IntArray) -> IntArray:
        """One key per state."""
        flat = np.concatenate([counts.reshape(len(counts), -1), current[:, None]], axis=1)
        return np.asarray(flat.astype(np.int64) @ self.places, dtype=np.int64)

    def delta_keys(self, delta: IntArray) -> IntArray:
        """(J, M): the key increment of each cohort outcome added at each dose."""
        out = np.zeros((self.n_doses, len(delta)), dtype=np.int64)
        for d in range(self.n_doses):
            place = self.places[d * self.width : (d + 1) * self.width]
            out[d] = delta.astype(np.int64) @ place
        return out

    def decode(self, keys: IntArray) -> tuple[IntArray, IntArray]:
        """(counts (S, J, width), current (S,)) from packed keys."""
        fields = (keys[:, None] // self.places[None, :]) % self.radix[None, :]
        counts = fields[:, :-1].reshape(len(keys), self.n_doses, self.width)
        return np.ascontiguousarray(counts, dtype=np.int64), np.asarray(
            fields[:, -1], dtype=np.int64
        )


@numba.njit(cache=True, nogil=True)
def _merge_kernel(
    keys: IntArray,
    weight: FloatArray,
    current: IntArray,
    delta_keys: IntArray,
    outcome_p: FloatArray,
    table_bits: int,
) -> tuple[IntArray, FloatArray]:  # pragma: no cover - compiled; covered through expand_merge
    """Children of every state (key + outcome increment), equal keys merged, weights added."""
    n_out = delta_keys.shape[1]
    size = 1 << table_bits
    mask = size - 1
    slot = np.full(size, -1, dtype=np.int32)
    out_key = np.empty(keys.shape[0] * n_out, dtype=np.int64)
    out_w = np.empty(keys.shape[0] * n_out, dtype=np.float64)
    shift = np.uint64(64 - table_bits)
    golden = np.uint64(_GOLDEN)
    count = 0
    for i in range(keys.shape[0]):
        d = current[i]
        for m in range(n_out):
            w = weight[i] * outcome_p[d, m]
            if not w > 0.0:
                continue
            k = keys[i] + delta_keys[d, m]
            h = np.int64((np.uint64(k) * golden) >> shift)
            while True:
                s = slot[h]
                if s < 0:
                    slot[h] = count
                    out_key[count] = k
                    out_w[count] = w
                    count += 1
                    break
                if out_key[s] == k:
                    out_w[s] += w
                    break
                h = (h + 1) & mask
    return out_key[:count].copy(), out_w[:count].copy()


def expand_merge(
    counts: IntArray,
    current: IntArray,
    weight: FloatArray,
    delta: IntArray,
    outcome_p: FloatArray,
    keys: StateKeys,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Children of every state after one cohort at its current dose, equal children merged.

    ``delta`` (M, width) is each cohort outcome's increment of a dose's counts and
    ``outcome_p`` (J, M) its probability at each dose.
    """
    if keys.fits:
        children = len(counts) * len(delta)
        table_bits = max(4, int(2 * max(children, 1) - 1).bit_length())
        merged_keys, merged_w = _merge_kernel(
            keys.keys(counts, current),
            np.ascontiguousarray(weight, dtype=np.float64),
            np.ascontiguousarray(current, dtype=np.int64),
            keys.delta_keys(delta),
            np.ascontiguousarray(outcome_p, dtype=np.float64),
            table_bits,
        )
        new_counts, new_current = keys.decode(merged_keys)
        return new_counts, new_current, merged_w
    return _sort_merge(counts, current, weight, delta, outcome_p)


def _sort_merge(
    counts: IntArray,
    current: IntArray,
    weight: FloatArray,
    delta: IntArray,
    outcome_p: FloatArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """The same merge for layouts that do not fit one int64 (many doses or patients)."""
    n_out = len(delta)
    child_w = (weight[:, None] * outcome_p[current]).ravel()
    full = np.repeat(counts, n_out, axis=0)
    full[np.arange(len(full)), np.repeat(current, n_out)] += np.tile(delta, (len(counts), 1))
    flat = np.concatenate([full.reshape(len(full), -1), np.repeat(current, n_out)[:, None]], 1)
    small = np.ascontiguousarray(flat.astype(np.int16))
    child_key = small.view(np.dtype((np.void, small.shape[1] * 2))).ravel()
    live = np.flatnonzero(child_w > 0)
    _, first, inverse = np.unique(child_key[live], return_index=True, return_inverse=True)
    merged_w = np.bincount(inverse.ravel(), weights=child_w[live], minlength=len(first))
    origin = live[first]
    parent, outcome = origin // n_out, origin % n_out
    new_counts = counts[parent].copy()
    new_current = np.asarray(current[parent], dtype=np.int64)
    new_counts[np.arange(len(parent)), new_current] += delta[outcome]
    return (
        np.asarray(new_counts, dtype=np.int64),
        new_current,
        np.asarray(merged_w, dtype=np.float64),
    )
