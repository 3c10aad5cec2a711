"""Data queries in Chromium (issue 17 item 1): a monitor raises a query on the product
certificate's volume of a seeded participant, the site's coordinator answers it, the monitor
re-opens it, the coordinator answers again and the monitor closes it; the flag by the product
section and the count in the participant list follow. The thread is photographed into
``docs/screenshots/query-thread.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2e_helpers import sign_in, sign_out
from playwright.sync_api import Page, expect

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_raise_answer_reopen_and_close_a_query(page: Page, seeded: dict[str, Any]) -> None:
    sid = seeded["cohort"][0]
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "mon1")
    page.goto(f"/participants/{sid}#queries")
    raise_form = page.locator("#raise-query")
    raise_form.locator("summary").click()
    product = page.locator('#record option[value^="products:"]').first.get_attribute("value")
    assert product
    page.locator("#record").select_option(product)
    page.get_by_label("Field").fill("certificate.volume_ml")
    page.get_by_label("Question").fill(
        "The certificate says 52 mL; the release form 50 mL. Which is right?"
    )
    page.get_by_role("button", name="Raise the query").click()
    query = page.locator("article.query").first
    expect(query).to_have_attribute("data-status", "open")
    expect(page.locator("#release .query-flag")).to_contain_text("Open queries: 1")
    sign_out(page)

    sign_in(page, "coord1")
    page.goto("/participants")
    expect(page.locator(f'tr:has(a[href="/participants/{sid}"]) [data-open-queries]')).to_have_text(
        "1"
    )
    page.goto(f"/participants/{sid}#queries")
    query = page.locator("article.query").first
    query.locator("textarea").fill("50 mL: the certificate was mistyped; corrected copy filed.")
    query.get_by_role("button", name="Send the answer").click()
    expect(page.locator("article.query").first).to_have_attribute("data-status", "answered")
    sign_out(page)

    sign_in(page, "mon1")
    page.goto(f"/participants/{sid}#queries")
    query = page.locator("article.query").first
    query.locator("textarea").fill("Please upload the corrected certificate.")
    query.get_by_role("button", name="Re-open the query").click()
    expect(page.locator("article.query").first).to_have_attribute("data-status", "open")
    sign_out(page)

    sign_in(page, "coord1")
    page.goto(f"/participants/{sid}#queries")
    query = page.locator("article.query").first
    query.locator("textarea").fill("Uploaded to the site file, page 14.")
    query.get_by_role("button", name="Send the answer").click()
    expect(page.locator("article.query").first).to_have_attribute("data-status", "answered")
    sign_out(page)

    sign_in(page, "mon1")
    page.goto(f"/participants/{sid}#queries")
    page.locator("#queries").screenshot(path=str(SHOTS / "query-thread.png"))
    query = page.locator("article.query").first
    query.get_by_role("button", name="Close the query").click()
    closed = page.locator("article.query").first
    expect(closed).to_have_attribute("data-status", "closed")
    expect(closed.locator(".thread li")).to_have_count(5)
    expect(page.locator("#release .query-flag")).to_have_count(0)
