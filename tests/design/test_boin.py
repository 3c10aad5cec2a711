"""BOIN boundaries against published BOIN output and the derived tables (boin12_tables.md)."""

import pytest

from dosewise.design.boin import boin_boundaries, boundary_table, elimination_count
from dosewise.errors import InvalidParameter

# R3 (derived from the formula of boin12.md §2; the 0.30 row is BOIN output quoted in
# escalation issue #6).
R3 = {
    0.10: (0.0784490, 0.1190318),
    0.15: (0.1177966, 0.1786863),
    0.20: (0.1572423, 0.2384624),
    0.25: (0.1968009, 0.2983922),
    0.30: (0.2364907, 0.3585195),
    0.33: (0.2603767, 0.3947159),
    0.35: (0.2763343, 0.4189075),
    0.40: (0.3163600, 0.4796503),
}


@pytest.mark.parametrize("target", sorted(R3))
def test_lambdas_match_table_r3(target: float) -> None:
    b = boin_boundaries(target)
    assert round(b.lambda_e, 7) == R3[target][0]
    assert round(b.lambda_d, 7) == R3[target][1]


def test_boin_get_boundary_output_r2() -> None:
    """R2: BOIN::get.boundary(target=0.3, ncohort=10, cohortsize=3), quoted in issue #6."""
    _, rows = boundary_table(0.3, 30)
    by_n = {r.n: r for r in rows}
    sizes = [3, 6, 9, 12, 15, 18, 21, 24, 27, 30]
    assert [by_n[n].escalate_if_tox_le for n in sizes] == [0, 1, 2, 2, 3, 4, 4, 5, 6, 7]
    assert [by_n[n].deescalate_if_tox_ge for n in sizes] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert [by_n[n].eliminate_if_tox_ge for n in sizes] == [3, 4, 5, 7, 8, 9, 10, 11, 12, 14]


# R4c (derived, φT = 0.35, cohort size 1): n -> (escalate <=, de-escalate >=, eliminate >=).
R4C = {
    1: (0, 1, None), 2: (0, 1, None), 3: (0, 2, 3), 4: (1, 2, 4), 5: (1, 3, 4), 6: (1, 3, 5),
    7: (1, 3, 5), 8: (2, 4, 6), 9: (2, 4, 6), 10: (2, 5, 7), 11: (3, 5, 7), 12: (3, 6, 7),
    13: (3, 6, 8), 14: (3, 6, 8), 15: (4, 7, 9), 16: (4, 7, 9), 17: (4, 8, 10), 18: (4, 8, 10),
    19: (5, 8, 11), 20: (5, 9, 11), 21: (5, 9, 11), 22: (6, 10, 12), 23: (6, 10, 12),
    24: (6, 11, 13), 25: (6, 11, 13), 26: (7, 11, 14), 27: (7, 12, 14), 28: (7, 12, 14),
    29: (8, 13, 15), 30: (8, 13, 15), 31: (8, 13, 16), 32: (8, 14, 16), 33: (9, 14, 17),
    34: (9, 15, 17), 35: (9, 15, 17), 36: (9, 16, 18),
}  # fmt: skip


def test_count_table_r4c() -> None:
    _, rows = boundary_table(0.35, 36)
    got = {r.n: (r.escalate_if_tox_le, r.deescalate_if_tox_ge, r.eliminate_if_tox_ge) for r in rows}
    assert got == R4C


def test_r4a_r4b_elimination_with_and_without_floor() -> None:
    """R4a/R4b: BOIN counts eliminations from 1 DLT, the BOIN12 authors from 3."""
    # φT = 0.25, n = 3: both give 3; φT = 0.25, n = 6: 4.
    assert elimination_count(3, 0.25) == 3
    assert elimination_count(6, 0.25, min_tox=3) == 4
    assert elimination_count(2, 0.30) is None
    # With a low target the floor binds: φT = 0.15, n = 3 eliminates at 2 without the floor.
    assert elimination_count(3, 0.15, min_tox=1) == 2
    assert elimination_count(3, 0.15, min_tox=3) == 3


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_target_outside_unit_interval_is_refused(bad: float) -> None:
    with pytest.raises(InvalidParameter, match=r"target=.*\(0, 1\)"):
        boin_boundaries(bad)
