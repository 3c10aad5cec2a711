"""The audit trail for monitors in Chromium (issue 17 item 5): a site monitor filters the trail
by a participant's study ID and finds that participant's records, newest first, with the people
who entered them named."""

from __future__ import annotations

import re
from typing import Any

from e2e_helpers import sign_in
from playwright.sync_api import Page, expect


def test_filter_the_audit_trail_by_study_id(page: Page, seeded: dict[str, Any]) -> None:
    sid = seeded["cohort"][1]
    sign_in(page, "mon1")
    page.goto("/audit")
    page.get_by_label("Study ID").fill(sid)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"study_id={sid}"))
    rows = page.locator("#audit-records tbody tr[data-seq]")
    expect(rows.first).to_be_visible()
    expect(page.locator("#audit-records")).to_contain_text("participant.register")
    expect(page.locator("#audit-records")).to_contain_text(f"Participant {sid}")
    expect(page.locator("#audit-records")).to_contain_text("infusion")
    seqs = [int(s) for s in rows.evaluate_all("rows => rows.map(r => r.dataset.seq)")]
    assert seqs == sorted(seqs, reverse=True)
    total = int(page.locator("#audit-count").get_attribute("data-total") or 0)
    assert total == len(seqs) or len(seqs) == 50
    changes = page.locator("#audit-records .changes").all_inner_texts()
    assert any("created_by: coord1" in c for c in changes)
