"""Issue 14 in a real browser (Chromium): an impossible date is refused on the infusion form
with the rule next to the field; an infusion outside every dose level's window is refused, then
recorded by the investigator with a signed protocol deviation, which the participant page and
the deviations page list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from e2e_helpers import sign_in
from playwright.sync_api import Page, expect
from seed import Seeder, deplete, recruit, release, site_date, site_today

from dosewise.store.session import open_database
from dosewise.trial.demo import plan
from pg import PASSWORD

ARM = "new_donor"


def _depleted(seeded: dict[str, Any]) -> tuple[str, float]:
    """A participant of S01 in the new-donor arm with a released DL1 product and its
    lymphodepletion (today); the volume the release says to infuse."""
    db = open_database(seeded["settings"])
    try:
        s = Seeder(db, seeded["settings"], PASSWORD)
        now = datetime.now(UTC).replace(microsecond=0)
        sid = recruit(s, ARM, now, screening=plan.screening_record(site_date(now), 34, "male"))
        product = release(s, sid, now)
        deplete(s, sid, now)
        return sid, float(product.feasibility["volume_ml"])
    finally:
        db.dispose()


def test_impossible_date_then_out_of_window_infusion_recorded_as_a_deviation(
    page: Page, seeded: dict[str, Any]
) -> None:
    sid, volume = _depleted(seeded)
    today = site_today()
    sign_in(page, "inv1")
    page.goto(f"/participants/{sid}")

    # a date in the future at the site (Asia/Shanghai) is refused next to the field
    page.locator("#infused_on").fill((today + timedelta(days=3)).isoformat())
    page.locator("#infused_volume_ml").fill(f"{volume:.1f}")
    page.get_by_role("button", name="Record the infusion").click()
    infusion = page.locator("section#infusion")
    expect(infusion).to_contain_text("is in the future")
    expect(infusion).to_contain_text("Asia/Shanghai")

    # 70% of the planned volume: outside every level's window, refused with the windows named
    page.locator("#infused_on").fill(today.isoformat())
    page.locator("#infused_volume_ml").fill(f"{volume * 0.7:.1f}")
    page.get_by_role("button", name="Record the infusion").click()
    expect(infusion).to_contain_text("outside every dose level's window")
    expect(infusion).to_contain_text("DL1 8e+05-1.2e+06/kg")
    expect(page.locator("#infusion-deviation-fields")).to_have_attribute("open", "")

    # the investigator records it with the reason and the e-signature
    page.locator("#deviation_reason").fill("Part of the bag was lost at thaw")
    page.locator("#deviation_password").fill(PASSWORD)
    page.get_by_role("button", name="Record the infusion").click()
    expect(page.locator("#infusion-deviation")).to_be_visible()
    row = page.locator("#deviation-table .deviation-row")
    expect(row).to_have_attribute("data-category", "dose_outside_windows")
    expect(row).to_contain_text("Part of the bag was lost at thaw")

    page.goto("/deviations")
    listed = page.locator(f"#deviations .deviation-row:has-text('{sid}')")
    expect(listed).to_contain_text("Part of the bag was lost at thaw")
