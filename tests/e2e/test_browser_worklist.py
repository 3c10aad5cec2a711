"""The worklist in Chromium (issue 17 item 2): signing in lands on the worklist; a participant
infused 70 days ago without the day-28 response assessment shows an overdue visit, and its link
opens the participant page at the visit timeline; the Chinese page shows no Latin words but the
allowed names (the language crawler's rule).

The participant is added to the session's database by this module (this file runs after the
other browser tests, by name; the added participant is in the autologous arm, which the shared
seed leaves empty)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_helpers import sign_in
from playwright.sync_api import Page, expect
from seed import Seeder, deplete, infuse, recruit, release
from test_browser_language import TEXT_JS, latin_words

from dosewise.store.session import open_database
from pg import PASSWORD

ARM = "autologous"


@pytest.fixture(scope="module")
def late(seeded: dict[str, Any]) -> str:
    """A participant of S01 infused 70 days ago with no response assessment recorded."""
    db = open_database(seeded["settings"])
    try:
        s = Seeder(db, seeded["settings"], PASSWORD)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=75)
        sid = recruit(s, ARM, start)
        release(s, sid, start)
        deplete(s, sid, start + timedelta(days=2))
        infuse(s, sid, start + timedelta(days=5))
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
