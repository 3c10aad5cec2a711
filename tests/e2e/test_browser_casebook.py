"""The casebook and report downloads in Chromium (issue 17 items 4 and 6): the casebook downloads
from the participant page while the page says it is being prepared, and its text lists the
participant's records; the Chinese casebook is drawn with a CJK font and keeps no English outside
names, units and abbreviations; the reports page shows that a report is being prepared after the
click, for a link and for the cut-off form."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import sign_in
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dosewise.store.session import open_database
from dosewise.store.tables import AuditRecord, Product, User
from pdf_checks import KEPT_IN_CHINESE, is_cjk_font, pdf_font_rows

POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdffonts") is not None
pytestmark = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")

#: Records a person would look for, by the casebook's English headings.
RECORDS = (
    "Informed consent",
    "Screening of",
    "Enrolment of",
    "Cohort 1",
    "Product lot",
    "Lymphodepletion from",
    "Infusion of",
    "Assessment of",
    "Electronically signed by",
    "Change history",
)


def _watch_busy(page: Page, selector: str) -> None:
    """Remember whether ``selector`` ever showed that work is in progress (it may be quick)."""
    page.evaluate(
        """(selector) => {
          window.__sawBusy = false;
          const el = document.querySelector(selector);
          new MutationObserver(() => {
            if (el.classList.contains("is-busy") && !el.hidden) { window.__sawBusy = true; }
          }).observe(el, {attributes: true});
        }""",
        selector,
    )


def _text(path: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(out.split())


def test_the_casebook_downloads_from_the_participant_page(
    page: Page, seeded: dict[str, Any], tmp_path: Path
) -> None:
    sid = seeded["cohort"][0]
    sign_in(page, "coord1")
    page.goto(f"/participants/{sid}")
    button = page.get_by_role("link", name="Download the casebook (PDF)")
    expect(button).to_be_visible()
    _watch_busy(page, "#casebook-busy")
    with page.expect_download(timeout=60_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"dosewise-casebook-{sid}-en.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert page.evaluate("window.__sawBusy") is True
    expect(page.locator("#casebook-busy")).to_be_hidden()
    text = _text(path)
    assert sid in text
    for words in RECORDS:
        assert words in text, words


def test_the_chinese_casebook_has_a_cjk_font_and_no_stray_english(
    page: Page, seeded: dict[str, Any], tmp_path: Path
) -> None:
    sid = seeded["cohort"][1]
    sign_in(page, "inv1")
    page.goto(f"/participants/{sid}")
    with page.expect_download(timeout=60_000) as info:
        page.locator("#casebook-other").click()
    download = info.value
    assert download.suggested_filename == f"dosewise-casebook-{sid}-zh.pdf"
    path = tmp_path / "zh.pdf"
    download.save_as(path)
    rows = pdf_font_rows(path)
    assert any(is_cjk_font(row[0]) for row in rows), rows
    text = _text(path)
    assert "病例册" in text and "知情同意" in text and "电子签名" in text
    db = open_database(seeded["settings"])
    try:
        with db.sessions() as s:
            names = " ".join(f"{u.username} {u.full_name}" for u in s.scalars(select(User)))
            reasons = " ".join(r or "" for r in s.scalars(select(AuditRecord.reason)))
            lots = " ".join(s.scalars(select(Product.lot)))
    finally:
        db.dispose()
    # names people gave: users, product lots, reasons typed for changes
    allowed = set(re.findall(r"[A-Za-z]+", f"{names} {reasons} {lots}")) | KEPT_IN_CHINESE
    stray = set(re.findall(r"[A-Za-z]{2,}", text)) - allowed
    assert not stray, ", ".join(sorted(stray))


def test_report_downloads_show_progress(page: Page, tmp_path: Path) -> None:
    sign_in(page, "monall")
    page.goto("/reports")
    # every download on the page says where its progress is shown, and that place exists
    for trigger in page.locator("[data-progress]").all():
        target = trigger.get_attribute("data-progress")
        assert target and page.locator(f"#{target}").count() == 1, target
    kinds = {
        k
        for k in page.locator("section[data-kind]").evaluate_all(
            "els => els.map(e => e.dataset.kind)"
        )
    }
    assert {"design", "dsmb", "ctgov", "sdtm", "odm"} <= kinds
    _watch_busy(page, "#busy-dsmb")
    with page.expect_download(timeout=60_000) as info:
        page.locator('#report-dsmb a[data-format="html"][data-lang="en"]').click()
    assert info.value.suggested_filename.startswith("dosewise-dsmb-")
    assert page.evaluate("window.__sawBusy") is True
    expect(page.locator("#busy-dsmb")).to_be_hidden()
    # the cut-off form too
    _watch_busy(page, "#busy-ctgov")
    with page.expect_download(timeout=60_000) as info:
        page.locator("#report-ctgov").get_by_role("button", name="Download").click()
    assert info.value.suggested_filename.startswith("dosewise-ctgov-")
    assert page.evaluate("window.__sawBusy") is True
    # a refused download says so where the progress was shown
    page.evaluate(
        "document.querySelector('#report-dsmb a[data-format]').href = "
        "'/reports/dsmb/download?format=docx'"
    )
    page.locator("#report-dsmb a[data-format]").first.click()
    expect(page.locator("#busy-dsmb")).to_contain_text("The download failed (422)")


def test_the_site_monitor_finds_the_casebook_export_named_in_the_trail(
    page: Page, seeded: dict[str, Any]
) -> None:
    """Issue 17 item 5: an export names the document produced, not a server path."""
    sid = seeded["cohort"][2]
    sign_in(page, "coord1")
    assert page.request.get(f"/participants/{sid}/casebook?format=html&lang=en").ok
    page.context.clear_cookies()
    sign_in(page, "mon1")
    page.goto("/audit")
    page.get_by_label("Action").fill("report.export.casebook")
    page.get_by_role("button", name="Show").click()
    records = page.locator("#audit-records")
    expect(records).to_contain_text(f"dosewise-casebook-{sid}-en.html")
    expect(records).to_contain_text("coord1")
    expect(records).not_to_contain_text("/tmp/")
