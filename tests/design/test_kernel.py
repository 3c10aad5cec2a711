"""The interpreted and the Numba-compiled form of each design kernel give the same bits.

A single decision runs a kernel interpreted (no Numba import); a batch runs it compiled. Both
forms are fed the same random inputs (ties, eliminated doses, zero-count doses, pending TITE
outcomes included) and every output array must match exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dosewise.design import isotonic, rule, tite_arrays
from dosewise.design.kernel import INTERPRETED_MAX_ROWS, Kernel

B, J = 300, 5


def both_forms(kernel: Kernel, make_args: Callable[[], list[np.ndarray | float | int]]) -> None:
    """Run ``kernel`` both ways on copies of the same arguments; outputs must be identical."""
    args = make_args()
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    kernel.python(*args)
    kernel.compiled()(*copies)
    for a, c in zip(args, copies, strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("tie_mode", [0, 1, 2])
def test_rule_kernel_forms_agree(tie_mode: int) -> None:
    rng = np.random.default_rng(tie_mode)

    def args() -> list[np.ndarray | float | int]:
        n = rng.integers(0, 13, size=(B, J))
        current = rng.integers(0, J, size=B)
        n[np.arange(B), current] = np.maximum(n[np.arange(B), current], 1)
        # Desirabilities on a coarse grid, so that ties are common.
        desirability = rng.integers(0, 6, size=(B, J)) / 5.0
        return [
            n,
            rng.integers(0, 8, size=B) / 8.0,
            desirability,
            rng.random((B, J)) < 0.25,
            rng.random(B) < 0.05,
            current,
            n.sum(axis=1),
            6,
            9,
            30,
            12,
            tie_mode,
            0.276,
            0.419,
            rng.random(B),
            np.full(B, -7, dtype=np.int64),
            np.zeros(B, dtype=np.int8),
            np.zeros((B, J), dtype=np.bool_),
            np.zeros((B, J), dtype=np.bool_),
            np.full(B, -7, dtype=np.int64),
        ]

    both_forms(rule._rule_kernel, args)


def test_isotonic_kernel_forms_agree() -> None:
    rng = np.random.default_rng(7)

    def args() -> list[np.ndarray | float | int]:
        values = rng.integers(0, 5, size=(B, J)) / 4.0
        return [values, rng.integers(1, 10, size=(B, J)).astype(np.float64), np.zeros((B, J))]

    both_forms(isotonic._fit_rows, args)


def test_tite_kernel_forms_agree() -> None:
    rng = np.random.default_rng(11)
    slots = 12

    def args() -> list[np.ndarray | float | int]:
        dose = rng.integers(-1, J, size=(B, slots))
        shape = (B, J)
        follow_up = rng.random((B, slots)) * 120
        # As the TITE model has them: an outcome is pending only inside its window and before
        # it is observed.
        dlt = rng.random((B, slots)) < 0.3
        response = rng.random((B, slots)) < 0.4
        tox_pending = (rng.random((B, slots)) < 0.5) & (follow_up < 28) & ~dlt
        eff_pending = (rng.random((B, slots)) < 0.5) & (follow_up < 90) & ~response
        return [
            dose,
            follow_up,
            dlt,
            response,
            tox_pending,
            eff_pending,
            28.0,
            90.0,
            np.array([40.0, 100.0, 0.0, 60.0]),
            np.zeros(shape, dtype=np.int64),
            np.zeros(shape, dtype=np.int64),
            np.zeros(shape, dtype=np.int64),
            np.zeros(shape),
            np.zeros(shape),
            np.zeros(shape, dtype=np.int64),
            np.zeros(shape),
        ]

    both_forms(tite_arrays._tite_kernel, args)


def test_small_batches_run_interpreted_and_large_ones_compiled() -> None:
    calls: list[str] = []
    k = Kernel(lambda out: calls.append("python"))
    k._compiled = lambda out: calls.append("compiled")
    k.run(1, None)
    k.run(INTERPRETED_MAX_ROWS, None)
    k.run(INTERPRETED_MAX_ROWS + 1, None)
    assert calls == ["python", "python", "compiled"]
