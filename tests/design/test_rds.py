"""The BOIN12 RDS table against Lin et al. 2020 Table 3 (boin12_tables.md R1, R11)."""

import re
from pathlib import Path

import pytest

from dosewise.design.params import Boin12Params
from dosewise.design.tables import rds_table
from dosewise.design.utility import benchmark_utility
from dosewise.errors import InvalidParameter

TABLE3 = Boin12Params(phi_t=0.35, phi_e=0.25, u11=60, u00=40, c_t=0.95, c_e=0.90)

# R1: the cells of Table 3 quoted by escalation's tests ("Recreate Table 3 of Lin et al. 2020").
R1 = {
    (0, 0, 0): 60, (3, 0, 3): 91, (6, 1, 5): 87, (6, 5, 1): None, (9, 0, 8): 99,
    (9, 2, 3): 32.5, (9, 5, 5): 32.5, (9, 3, 1): 7, (9, 4, 0): None, (9, 6, 9): None,
}  # fmt: skip


def _cells() -> dict[tuple[int, int, int], float | None]:
    table = rds_table(TABLE3, [0, 3, 6, 9])
    return {(r.n, r.tox, r.eff): r.rds for r in table.rows}


def test_published_table3_cells() -> None:
    cells = _cells()
    for key, expected in R1.items():
        assert cells[key] == expected, key


def test_102_admissible_of_166() -> None:
    table = rds_table(TABLE3, [0, 3, 6, 9])
    assert len(table.rows) == 166
    assert sum(r.admissible for r in table.rows) == 102
    assert max(r.rds for r in table.rows if r.rds is not None) == 102


def _r11_from_reference() -> dict[tuple[int, int, int], float | None]:
    """Parse the full derived table R11 from the shared reference file."""
    path = Path(__file__).parents[3] / "shared/reference/boin12_tables.md"
    if not path.exists():
        return {}
    text = path.read_text()
    section = text.split("## R11.")[1].split("## R12.")[0]
    out: dict[tuple[int, int, int], float | None] = {}
    for block in re.split(r"\nn = ", section)[1:]:
        n = int(block.split()[0])
        for line in block.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == n + 2 and cells[0].isdigit():
                tox = int(cells[0])
                for eff, value in enumerate(cells[1:]):
                    out[(n, tox, eff)] = None if value == "E" else float(value)
    return out


def test_full_r11_table() -> None:
    reference = _r11_from_reference()
    if not reference:
        pytest.skip("shared/reference/boin12_tables.md not beside the repo")
    assert len(reference) == 166
    assert _cells() == reference


@pytest.mark.parametrize(
    ("phi_t", "phi_e", "u11", "u00", "u_b"),
    [
        (0.35, 0.25, 60, 40, 70.5),
        (0.3, 0.3, 60, 40, 73.0),
        (0.3, 0.4, 60, 40, 76.0),
        (0.25, 0.35, 65, 35, 74.5),
        (0.35, 0.25, 50, 30, 67.625),
        (0.15, 0.4, 30, 50, 80.65),
        (0.3, 0.5, 60, 40, 79.0),
        (0.2, 0.3, 60, 40, 75.0),
    ],
)
def test_benchmark_utility_r6(
    phi_t: float, phi_e: float, u11: float, u00: float, u_b: float
) -> None:
    params = Boin12Params(phi_t=phi_t, phi_e=phi_e, u11=u11, u00=u00)
    assert benchmark_utility(params) == pytest.approx(u_b, abs=1e-9)


def test_non_additive_utilities_tabulate_by_joint_counts() -> None:
    """§3.3: with u11 + u00 != 100 utility depends on joint counts, so rows carry `both`."""
    params = Boin12Params(u11=50, u00=30)
    table = rds_table(params, [3])
    assert table.joint
    rows = {(r.tox, r.eff, r.both): r for r in table.rows}
    # 1 DLT and 1 response at n=3: as one patient with both (B N N) or two (T E N) differ.
    assert rows[(1, 1, 1)].desirability != rows[(1, 1, 0)].desirability
    with pytest.raises(InvalidParameter, match="joint counts"):
        rds_table(params, [3], joint=False)


def test_exact_ties_from_integer_scores() -> None:
    """(9, 2, 3) and (9, 5, 5) both have 4.6 quasi-events: identical desirability (§3.3)."""
    table = rds_table(TABLE3, [9])
    rows = {(r.tox, r.eff): r.desirability for r in table.rows}
    assert rows[(2, 3)] == rows[(5, 5)]
