"""Finding people in Chromium (issue 17 item 3): a coordinator types part of a study ID into
the participant list's search and finds that participant, then opens the page at its steps
(photographed into ``docs/screenshots/participant-steps.png``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2e_helpers import sign_in
from playwright.sync_api import Page, expect


def test_search_finds_a_participant(page: Page, seeded: dict[str, Any]) -> None:
    sid = seeded["cohort"][2]
    sign_in(page, "coord1")
    page.goto("/participants")
    page.get_by_label("Study ID").fill(sid.lower()[-6:])
    page.get_by_role("button", name="Show").click()
    rows = page.locator("#participants tbody tr[data-study-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-study-id", sid)
    rows.first.get_by_role("link", name=sid).click()
    expect(page.locator("#stepper")).to_be_visible()
    expect(page.locator('#stepper [data-step="infusion"]')).to_have_attribute("data-state", "done")
    expect(page.locator("#stepper li")).to_have_count(10)
    page.set_viewport_size({"width": 1366, "height": 700})
    shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    page.screenshot(path=str(shots / "participant-steps.png"))
