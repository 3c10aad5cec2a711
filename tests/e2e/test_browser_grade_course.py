"""The grade course in Chromium (issue 17 item 6): an investigator records a grade 3 CRS, the
protocol's DLT rule says DLT; the course entered in the "correct or complete" form (grade 3 on
the onset day, grade 1 two days later) makes it "grade 3 CRS improved to ≤ 2 within 72 h" and
the rule's verdict turns to no DLT; correcting the course back turns it to DLT again."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from e2e_helpers import sign_in
from playwright.sync_api import Page, expect


def _correct(page: Page, points: list[tuple[str, str]], reason: str) -> None:
    row = page.locator("#ae-table tr[data-category='crs']").first
    row.get_by_text("Correct or complete").click()
    for i in range(8):
        on, grade = points[i] if i < len(points) else ("", "")
        row.get_by_label(f"Date {i + 1}", exact=True).fill(on)
        row.get_by_label(f"Grade {i + 1}", exact=True).fill(grade)
    row.get_by_label("Reason for the change").fill(reason)
    row.get_by_role("button", name="Save the change").click()


def test_a_grade_course_changes_the_dlt_rules_verdict(page: Page, seeded: dict[str, Any]) -> None:
    sid = seeded["cohort"][1]
    sign_in(page, "inv1")
    page.goto(f"/participants/{sid}")
    infused = date.fromisoformat(
        page.locator("#infusion-record").get_attribute("data-infused-on") or ""
    )
    onset = infused + timedelta(days=2)
    page.get_by_text("Record an adverse event").click()
    page.get_by_label("Cytokine release syndrome (CRS) — ASTCT").check()
    page.get_by_label("Onset date").fill(onset.isoformat())
    page.get_by_label("Fever ≥ 38.0 °C (no other cause)").check()
    page.get_by_label("Hypotension", exact=True).check()
    page.get_by_label("Vasopressors (number, vasopressin not counted)").fill("1")
    page.get_by_role("button", name="Record the event").click()
    expect(page.locator("#ae-table tr[data-category='crs']")).to_have_attribute("data-grade", "3")
    expect(page.locator("#dlt-rule")).to_have_attribute("data-status", "dlt")

    better = (onset + timedelta(days=2)).isoformat()
    _correct(page, [(onset.isoformat(), "3"), (better, "1")], "course from the ICU notes")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#dlt-rule")).to_have_attribute("data-status", "no_dlt")

    later = (onset + timedelta(days=4)).isoformat()
    _correct(page, [(onset.isoformat(), "3"), (later, "1")], "the improvement came later")
    expect(page.locator("#dlt-rule")).to_have_attribute("data-status", "dlt")

    _correct(page, [(later, "3")], "wrong first date")  # refused: the course starts at onset
    expect(page.locator("#ae-table .course .field-error")).to_contain_text("onset")
