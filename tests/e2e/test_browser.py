"""The pages in a real browser (Chromium): every role signs in; the interface switches to
Chinese and back; a coordinator screens and enrolls a participant, an investigator confirms the
dose and releases a product that falls back to DL-1, with the dose calculator updating live; a
grade 3 CRS graded live from its ASTCT components becomes a DLT and the arm's next decision
changes; a site coordinator cannot open another site's participant."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from e2e_helpers import sign_in, sign_out
from playwright.sync_api import Page, expect
from seed import ARM, site_today
from web_forms import FALLBACK_PRODUCT, screening_form

from dosewise.store.session import open_database
from dosewise.trial import Actor, UnitOfWork
from dosewise.trial.arm_state import arm_state
from pg import PASSWORD, USERS

ROLE_LABELS = {
    "admin": "Administrator",
    "investigator": "Investigator",
    "coordinator": "Study coordinator",
    "statistician": "Statistician",
    "dsmb": "DSMB member",
    "monitor": "Monitor",
    "data_manager": "Data manager",
}
#: Where each role lands after signing in: the worklist for everyone who reads participants
#: (issue 17 item 2), the users page for the administrator.
LANDING = {"admin": "/admin/users"}


def today() -> str:
    return site_today().isoformat()


@pytest.mark.parametrize("username", ["admin1", "inv1", "coord1", "stat", "dsmb", "mon1", "dm1"])
def test_sign_in_as_each_role(page: Page, username: str) -> None:
    role, site = USERS[username]
    sign_in(page, username)
    expect(page).to_have_url(re.compile(LANDING.get(role, "/worklist") + "$"))
    who = page.locator("#who")
    expect(who).to_contain_text(f"Test {username}")
    expect(who).to_contain_text(ROLE_LABELS[role])
    expect(who).to_contain_text(site or "All sites")
    sign_out(page)


def test_switch_the_interface_to_chinese_and_back(page: Page) -> None:
    sign_in(page, "stat")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("navigation", name="主菜单")).to_contain_text("试验概览")
    expect(page.locator("#who")).to_contain_text("统计师")
    page.goto("/protocol")  # the choice is kept from page to page
    expect(page.get_by_role("heading", level=1)).to_contain_text("方案")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Protocol")


def _fill_consent(page: Page) -> None:
    on = (site_today() - timedelta(days=2)).isoformat()
    page.get_by_label("Consent date").fill(on)
    page.get_by_label("Age at consent (completed years)").fill("34")
    page.get_by_label("Patient able to sign").select_option("yes")
    page.locator("#sig__treatment__patient").check()
    page.locator("#sig__voluntary__patient").check()
    # the age band's requirements are checked live as the boxes are ticked
    expect(page.locator("#consent-check")).to_contain_text("Complete")
    page.get_by_role("button", name="Record consent").click()


def _fill_screening(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f"[name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Screen", exact=True).click()


def test_screen_enroll_confirm_and_release_a_product_that_falls_back(page: Page) -> None:
    sign_in(page, "coord1")
    page.goto("/participants")
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/participants/S01-\d{4}"))
    study_id = page.url.split("/participants/")[1].split("?")[0]

    _fill_consent(page)
    expect(page.locator("#done")).to_be_visible()
    values = screening_form(site_today())
    _fill_screening(page, values)
    expect(page.locator("#screening-result")).to_have_attribute("data-eligible", "true")
    page.get_by_role("button", name="Enroll").click()
    expect(page.locator("#enrollment")).to_contain_text("Autologous CD5 CAR T-cells")
    page.get_by_role("button", name="Assign the dose the design gives now").click()
    expect(page.locator("#assignment")).to_have_attribute("data-status", "proposed")
    expect(page.locator("#assignment")).to_have_attribute("data-level", "DL1")
    sign_out(page)

    sign_in(page, "inv1")
    page.goto(f"/participants/{study_id}")
    page.locator("#confirm_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and confirm").click()
    expect(page.locator("#assignment")).to_have_attribute("data-status", "confirmed")

    page.get_by_label("Lot number").fill("LOT-E2E-1")
    page.get_by_label("Release date").fill(today())
    for name, value in FALLBACK_PRODUCT.items():
        page.locator(f"#{name}").fill(value)
    # the dose calculator answers as the values are typed: DL1 is not feasible, DL-1 is given
    expect(page.locator("#assigned-level")).to_have_attribute("data-level", "DL-1")
    expect(page.locator("#assigned-level")).to_contain_text("Fallback from DL1")
    page.locator("#release_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and release").click()
    product = page.locator(".product")
    expect(product).to_have_attribute("data-assigned", "DL-1")
    expect(product).to_have_attribute("data-fallback", "true")


def test_grade_3_crs_becomes_a_dlt_and_changes_the_next_decision(
    page: Page, seeded: dict[str, Any]
) -> None:
    third = seeded["cohort"][2]
    sign_in(page, "inv1")
    page.goto("/trial")
    card = page.locator(f"section.arm[data-arm='{ARM}'] .next")
    expect(card).to_have_attribute("data-action", "wait")

    page.goto(f"/participants/{third}")
    page.get_by_text("Record an adverse event").click()
    page.get_by_label("Cytokine release syndrome (CRS) — ASTCT").check()
    infused = page.locator("#infusion-record").inner_text()
    assert infused  # the onset is two days after the infusion
    onset = (site_today() - timedelta(days=38)).isoformat()
    page.get_by_label("Onset date").fill(onset)
    page.get_by_label("Fever ≥ 38.0 °C (no other cause)").check()
    page.get_by_label("Hypotension", exact=True).check()
    page.get_by_label("Vasopressors (number, vasopressin not counted)").fill("1")
    grade = page.locator("#crs-grade .grade")
    expect(grade).to_have_attribute("data-grade", "3")  # graded live, before saving
    expect(page.locator("#crs-grade")).to_contain_text("Set by: Hypotension")
    page.get_by_role("button", name="Record the event").click()
    expect(page.locator("#ae-table tr[data-category='crs']")).to_have_attribute("data-grade", "3")

    # the protocol's rule: grade 3 CRS not improving to ≤ 2 within 72 h is a DLT
    page.get_by_role("button", name="Record the adjudication").click()
    expect(page.locator(".adjudication").first).to_have_attribute("data-dlt", "true")

    page.goto("/trial")
    expect(card).to_have_attribute("data-action", "assign")
    db = open_database(seeded["settings"])
    try:
        with UnitOfWork(db, Actor.system("e2e"), readonly=True) as uow:
            state = arm_state(uow.session, ARM, as_of=site_today())
    finally:
        db.dispose()
    # the third participant now has a DLT and a response; DL1 is design dose 1 (safety_only)
    assert state.outcomes == "1EEB"
    expect(card).to_have_attribute("data-dose", str(state.next.dose))


def test_site_coordinator_cannot_open_another_sites_participant(
    page: Page, seeded: dict[str, Any]
) -> None:
    other = seeded["cohort"][0]  # a participant of site S01
    sign_in(page, "coord2")  # site S02
    response = page.goto(f"/participants/{other}")
    # Another site's participant reads like an unused study ID (issue 15): nothing to probe.
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    page.goto("/participants")
    expect(page.locator("#participants")).not_to_contain_text(other)
