"""The dose a participant is analysed at: one rule, read from the protocol's dose windows."""

from __future__ import annotations

from dosewise.protocol import OUTSIDE_DESIGN, default_protocol
from dosewise.trial.state import dose_received, level_for_cells

PROTOCOL = default_protocol()  # fallback_policy safety_only: DL1 = 1, DL2 = 2, DL-1 outside
ACTUAL = PROTOCOL.with_fallback_policy("analyse_at_actual")  # DL-1 = 1, DL1 = 2, DL2 = 3


def test_an_infusion_counts_at_the_level_whose_window_holds_it() -> None:
    got = dose_received(PROTOCOL, assigned=2, product=1, infused_cells_per_kg=1.19e6)
    assert (got.dose, got.level, got.basis, got.in_window, got.in_design) == (
        1,
        "DL1",
        "infused",
        True,
        True,
    )


def test_a_fallback_infusion_is_outside_the_design_under_safety_only() -> None:
    fallback = dose_received(PROTOCOL, assigned=1, product=0, infused_cells_per_kg=4.1e5)
    assert (fallback.dose, fallback.level, fallback.in_window) == (OUTSIDE_DESIGN, "DL-1", True)
    assert not fallback.in_design
    assert level_for_cells(PROTOCOL, 5e5) == OUTSIDE_DESIGN


def test_a_fallback_infusion_counts_at_design_dose_1_when_analysed_at_actual() -> None:
    fallback = dose_received(ACTUAL, assigned=2, product=1, infused_cells_per_kg=4.1e5)
    assert (fallback.dose, fallback.level, fallback.in_window) == (1, "DL-1", True)
    assert fallback.in_design


def test_an_infusion_outside_every_window_counts_at_the_products_level_and_says_so() -> None:
    got = dose_received(PROTOCOL, assigned=1, product=1, infused_cells_per_kg=1.22e6)
    assert (got.dose, got.level, got.basis, got.in_window) == (
        1,
        "DL1",
        "infused_outside_windows",
        False,
    )
    assert got.reason is not None and "outside every level's window" in got.reason
    assert level_for_cells(PROTOCOL, 1.22e6) is None
    assert level_for_cells(PROTOCOL, 1.2e6) == 1  # the window is closed at its edges


def test_before_infusion_the_product_then_the_assignment_is_planned() -> None:
    product = dose_received(PROTOCOL, assigned=2, product=0, infused_cells_per_kg=None)
    assert (product.dose, product.basis, product.in_window, product.in_design) == (
        0,
        "product",
        None,
        False,
    )
    assigned = dose_received(PROTOCOL, assigned=2, product=None, infused_cells_per_kg=None)
    assert (assigned.dose, assigned.level, assigned.basis) == (2, "DL2", "assigned")
