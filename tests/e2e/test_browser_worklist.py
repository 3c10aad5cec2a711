"""The worklist in Chromium (issue 17 item 2): signing in lands on the worklist; a participant
infused 70 days ago without the day-28 response assessment shows an overdue visit, and its link
opens the participant page at the visit timeline; the Chinese page shows no Latin words but the
allowed names (the language crawler's rule).

The participant is added to the session's database by this module (this file runs after the
other browser tests, by name; the added participant is in the autologous arm, which the shared
seed leaves empty)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import sign_in
from playwright.sync_api import Page, expect
from seed import CERTIFICATE, Seeder, _consent, site_date
from test_browser_language import TEXT_JS, latin_words

from dosewise.store.session import open_database
from dosewise.trial.services import dosing, participants, products
from pg import PASSWORD

ARM = "autologous"


def _screening(on: datetime) -> dict[str, object]:
    example = Path(__file__).parents[2] / "examples" / "screening" / "eligible_autologous.json"
    record = json.loads(example.read_text(encoding="utf-8"))
    for key in ("subject_id", "date_of_birth", "consent"):
        record.pop(key, None)
    record["age_years"] = 34
    record["screening_date"] = site_date(on).isoformat()
    record["last_antineoplastic_therapy_date"] = (site_date(on) - timedelta(days=30)).isoformat()
    return record


@pytest.fixture(scope="module")
def late(seeded: dict[str, Any]) -> str:
    """A participant of S01 infused 70 days ago with no response assessment recorded."""
    db = open_database(seeded["settings"])
    try:
        s = Seeder(db, seeded["settings"], PASSWORD)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=75)
        day = site_date(start)
        p = s.act("coord1", start, lambda u: participants.register_participant(u, "S01"))
        sid = str(p.study_id)  # type: ignore[attr-defined]
        s.act(
            "coord1",
            start,
            lambda u: participants.record_consent(u, sid, _consent(day), consent_version="1.0"),
        )
        s.act("coord1", start, lambda u: participants.screen(u, sid, ARM, _screening(start)))
        s.act("coord1", start, lambda u: participants.enroll(u, sid, ARM))
        s.act("coord1", start, lambda u: dosing.assign_dose(u, sid))
        s.act("stat", start, lambda u: dosing.confirm_dose(u, s.signing(), sid))
        s.act(
            "coord1",
            start,
            lambda u: products.release_product(
                u, sid, lot=f"LOT-{sid}", certificate=CERTIFICATE, weight_kg=70.0, released_on=day
            ),
        )
        ld = start + timedelta(days=2)
        s.act(
            "coord1",
            ld,
            lambda u: products.record_lymphodepletion(
                u, sid, regimen="Flu/Cy", agents=[], start_on=site_date(ld), end_on=site_date(ld)
            ),
        )
        infused = start + timedelta(days=5)
        s.act(
            "coord1",
            infused,
            lambda u: products.record_infusion(
                u, sid, infused_on=site_date(infused), infused_volume_ml=50.0
            ),
        )
        return sid
    finally:
        db.dispose()


def test_sign_in_lands_on_the_worklist_and_an_overdue_visit_links_to_its_page(
    page: Page, late: str
) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "coord1")
    expect(page).to_have_url(re.compile(r".*/worklist$"))
    expect(page.locator("h1")).to_have_text("Worklist")
    row = page.locator(f'tr[data-kind="visit"][data-study="{late}"][data-overdue="yes"]').first
    expect(row).to_be_visible()
    expect(row.locator(".status.overdue")).to_contain_text("Days overdue:")
    expect(row).to_contain_text("Day 28")
    # nobody adjudicated the DLT window that closed 42 days ago: overdue too
    adjudication = f'tr[data-kind="dlt_adjudication"][data-overdue="yes"][data-study="{late}"]'
    expect(page.locator(adjudication)).to_have_count(1)
    row.locator("a.work-link").click()
    expect(page).to_have_url(re.compile(rf".*/participants/{late}#visits$"))
    expect(page.locator("#visits")).to_be_visible()
    expect(page.locator("#visits .status.overdue").first).to_be_visible()


def test_the_worklist_in_chinese_has_only_allowed_latin_words(page: Page, late: str) -> None:
    sign_in(page, "inv1")
    page.goto("/lang/zh_CN?next=/worklist")
    expect(page.locator("h1")).to_have_text("待办事项")
    texts = page.evaluate(TEXT_JS)
    assert latin_words(texts) == []
    page.goto("/lang/en?next=/worklist")


def test_the_statistician_reaches_the_overview_in_one_click(page: Page, late: str) -> None:
    sign_in(page, "stat")
    expect(page).to_have_url(re.compile(r".*/worklist$"))
    page.locator("#site").select_option("S01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(f'tr[data-study="{late}"]').first).to_be_visible()
    page.locator("#overview-link").click()
    expect(page).to_have_url(re.compile(r".*/trial$"))
