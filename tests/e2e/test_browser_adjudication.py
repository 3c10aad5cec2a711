"""In Chromium (issue 14 items 1 and 7): inside the DLT window "No DLT" is recorded as provisional;
a grade 3 CRS recorded after a final "no DLT" reopens it, the participant and arm pages say
"needs re-adjudication" until the investigator signs a new adjudication; a BOR with only the
day-28 assessment is shown as not final."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from e2e_helpers import sign_in, sign_out
from playwright.sync_api import Page, expect
from seed import ARM, Seeder, deplete, infuse, recruit, release, site_today

from dosewise.store.session import open_database
from pg import PASSWORD

OTHER_ARM = "autologous"


def _infused_days_ago(seeded: dict[str, Any], days: int) -> str:
    """An autologous participant infused ``days`` ago (through the services); the study ID."""
    db = open_database(seeded["settings"])
    try:
        s = Seeder(db, seeded["settings"], PASSWORD)
        now = datetime.now(UTC).replace(microsecond=0)
        start = now - timedelta(days=days + 5)
        sid = recruit(s, OTHER_ARM, start)
        release(s, sid, start)
        deplete(s, sid, start + timedelta(days=2))
        infuse(s, sid, now - timedelta(days=days))
        return sid
    finally:
        db.dispose()


def test_provisional_no_dlt_reopening_and_bor_not_final(page: Page, seeded: dict[str, Any]) -> None:
    # Day 5 of the DLT window: "No DLT" becomes "no DLT so far (provisional)".
    early = _infused_days_ago(seeded, 5)
    sign_in(page, "inv1")
    page.goto(f"/participants/{early}")
    page.get_by_label("Decision").select_option("no_dlt")
    page.get_by_role("button", name="Record the adjudication").click()
    adjudication = page.locator(".adjudication").first
    expect(adjudication).to_have_attribute("data-status", "provisional")
    expect(adjudication).to_contain_text("No DLT so far (provisional)")

    # The first seeded participant has a final "no DLT"; a grade 3 CRS on day 2 reopens it.
    first = seeded["cohort"][0]
    page.goto(f"/participants/{first}")
    expect(page.locator("#bor-final")).to_have_attribute("data-final", "false")  # day 28 only
    expect(page.locator("#needs-readjudication")).to_have_count(0)
    page.get_by_text("Record an adverse event").click()
    page.get_by_label("Cytokine release syndrome (CRS) — ASTCT").check()
    onset = (site_today() - timedelta(days=38)).isoformat()
    page.get_by_label("Onset date").fill(onset)
    page.get_by_label("Fever ≥ 38.0 °C (no other cause)").check()
    page.get_by_label("Hypotension", exact=True).check()
    page.get_by_label("Vasopressors (number, vasopressin not counted)").fill("1")
    page.get_by_role("button", name="Record the event").click()
    expect(page.locator("#needs-readjudication")).to_be_visible()

    page.goto(f"/trial/arms/{ARM}")
    banner = page.locator(".next .needs-readjudication")
    expect(banner).to_have_attribute("data-study-ids", first)
    expect(page.locator("td .needs-readjudication")).to_have_count(1)
    # The DSMB page goes to the roles over every site (issue 15): the statistician sees it.
    sign_out(page)
    sign_in(page, "stat")
    page.goto("/dsmb")
    expect(page.locator(f"[data-study-ids='{first}']")).to_be_visible()
    sign_out(page)
    sign_in(page, "inv1")

    # The investigator re-adjudicates, signing with the password.
    page.goto(f"/participants/{first}")
    page.get_by_label("Rationale").fill("Grade 3 CRS on day 2, recorded after the adjudication")
    page.get_by_label("Password, to sign the adjudication (optional)").fill(PASSWORD)
    page.get_by_role("button", name="Record the adjudication").click()
    expect(page.locator("#needs-readjudication")).to_have_count(0)
    expect(page.locator(".adjudication[data-status='final']")).to_have_attribute("data-dlt", "true")
    page.goto(f"/trial/arms/{ARM}")
    expect(page.locator(".next .needs-readjudication")).to_have_count(0)
