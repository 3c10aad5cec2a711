"""Issue 14 in Chromium, on SQLite and PostgreSQL (a server of its own per database, so the
arm filled to its cap is nobody else's): the enrolment form refuses a participant past the
arm's phase 1 maximum with a message naming the limit; a second consent, release,
lymphodepletion or infusion (posted from a page opened before another user saved the first) is
refused and then saved as an explicit correction with a reason; an adverse event dated in year 1
is refused next to its date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from e2e_helpers import sign_in
from e2e_server import serve
from playwright.sync_api import Browser, Page, expect
from seed import Seeder, deplete, infuse, recruit, release, site_date

from dosewise.store.session import open_database
from pg import PASSWORD, backend_params, fresh_url, make_settings

ARM = "autologous"
PHASE1_MAX = 12  # the arm's phase 1 maximum in the embedded protocol


@pytest.fixture(scope="module", params=backend_params())
def own(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh database of the backend, a Seeder on it, and its server's base URL."""
    urls = fresh_url(str(request.param), tmp_path_factory.mktemp("limits"))
    url = next(urls)
    settings = make_settings(url)
    db = open_database(settings)
    try:
        with serve(url) as base:
            yield Seeder(db, settings, PASSWORD), base
    finally:
        db.dispose()
        urls.close()  # drops a PostgreSQL database


@pytest.fixture
def own_page(browser: Browser, own: Any) -> Iterator[Page]:
    """A page on the module's own server."""
    context = browser.new_context(base_url=own[1])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(15_000)
    yield page
    context.close()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_enrolment_past_the_phase1_maximum_is_refused_naming_the_limit(
    own_page: Page, own: Any
) -> None:
    s, _base = own
    now = _now()
    for _ in range(PHASE1_MAX):
        recruit(s, ARM, now, until="enroll")
    late = recruit(s, ARM, now, until="screen")
    page = own_page
    sign_in(page, "coord1")
    page.goto(f"/participants/{late}")
    page.locator("#enroll_arm_id").select_option(ARM)
    page.get_by_role("button", name="Enroll").click()
    enroll = page.locator("section#enroll")
    expect(enroll).to_contain_text("phase 1 maximum")
    expect(enroll).to_contain_text(f"{PHASE1_MAX} of {PHASE1_MAX}")
    expect(page.locator("#enrollment")).to_have_count(0)

    # the same participant's consent, recorded twice, is refused; with a reason it is corrected
    page.get_by_label("Consent date").fill(site_date(now).isoformat())
    page.get_by_label("Age at consent (completed years)").fill("35")
    page.locator("#sig__treatment__patient").check()
    page.locator("#sig__voluntary__patient").check()
    page.get_by_role("button", name="Record consent").click()
    consent = page.locator("section#consent")
    refusal = page.locator("#consent_version-error")
    expect(refusal).to_contain_text("already has consent version 1.0")
    expect(page.locator("#consent-correction")).to_have_attribute("open", "")
    page.get_by_label("Reason for the correction").fill("Age at consent mistyped")
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("#done")).to_contain_text("Saved.")
    expect(consent.locator(".consent-row")).to_have_count(1)
    expect(consent.locator(".consent-row td.num")).to_have_text("35")


def test_second_records_are_refused_then_corrected_with_a_reason(own_page: Page, own: Any) -> None:
    s, _base = own
    now = _now()
    today = site_date(now).isoformat()
    sid = recruit(s, "new_donor", now, screening=_new_donor_screening(now))
    page = own_page
    sign_in(page, "inv1")

    # release: the page is open with the form when another user releases the product
    page.goto(f"/participants/{sid}")
    form = {
        "lot": "LOT-WEB",
        "released_on": today,
        "weight_kg": "70",
        "tnc": "2e8",
        "viability": "90",
        "cd3": "95",
        "car": "40",
        "volume_ml": "50",
    }
    for field, value in form.items():
        page.locator(f"#{field}").fill(value)
    page.locator("#release_password").fill(PASSWORD)
    release(s, sid, now, lot="LOT-OTHER")
    page.get_by_role("button", name="Sign and release").click()
    fix = page.locator("#release_correct")
    expect(fix).to_have_attribute("open", "")
    expect(fix).to_contain_text("already has a released product: correct it with a reason")
    expect(fix.locator("#lot")).to_have_value("LOT-WEB")  # what was typed is kept
    fix.locator("#release_correction_reason").fill("The other lot was entered by mistake")
    fix.locator("#release_password").fill(PASSWORD)
    fix.get_by_role("button", name="Sign and correct the release").click()
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator(".product")).to_have_count(1)
    expect(page.locator(".product")).to_contain_text("Lot LOT-WEB")

    # lymphodepletion: the same race, the same way out
    page.goto(f"/participants/{sid}")
    page.locator("#regimen").fill("Flu/Cy 30/300")
    page.locator("#ld_start_on").fill(today)
    deplete(s, sid, now)
    page.get_by_role("button", name="Record lymphodepletion").click()
    fix = page.locator("#lymphodepletion_correct")
    expect(fix).to_have_attribute("open", "")
    expect(fix).to_contain_text("correct that record with a reason")
    fix.locator("#lymphodepletion_correction_reason").fill("Regimen doses were entered late")
    fix.get_by_role("button", name="Correct the lymphodepletion").click()
    expect(page.locator("section#lymphodepletion")).to_contain_text("Flu/Cy 30/300")

    # infusion
    page.goto(f"/participants/{sid}")
    page.locator("#infused_on").fill(today)
    page.locator("#infused_volume_ml").fill("48")
    infuse(s, sid, now)
    page.get_by_role("button", name="Record the infusion").click()
    fix = page.locator("#infusion_correct")
    expect(fix).to_have_attribute("open", "")
    expect(fix).to_contain_text("already infused: correct it with a reason")
    fix.locator("#infusion_correction_reason").fill("Volume from the pump log")
    fix.get_by_role("button", name="Correct the infusion").click()
    expect(page.locator("#infusion-record")).to_contain_text("48")

    # an adverse event in year 1 is refused next to its date
    page.get_by_text("Record an adverse event").click()
    page.get_by_label("Other event — CTCAE v5.0").check()
    page.get_by_label("Term", exact=True).fill("Nausea")
    page.get_by_label("CTCAE v5.0 grade").select_option("1")
    page.get_by_label("Onset date").fill("0001-01-01")
    page.get_by_role("button", name="Record the event").click()
    expect(page.locator("#onset_on-error")).to_contain_text("before")


def _new_donor_screening(now: datetime) -> dict[str, object]:
    from dosewise.trial.demo import plan

    return plan.screening_record(site_date(now), 34, "male")
