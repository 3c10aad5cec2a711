"""The interface language follows the user, not the browser: 中文 chosen in one browser is what a
second, fresh browser (its own cookies, an English ``Accept-Language``) shows after signing in."""

from __future__ import annotations

from e2e_helpers import sign_in
from playwright.sync_api import Browser, Page, expect


def test_chinese_chosen_in_one_browser_is_shown_in_another_after_sign_in(
    page: Page, browser: Browser, base_url: str
) -> None:
    sign_in(page, "monall")  # no other browser test uses this account
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    other = browser.new_context(base_url=base_url, locale="en-US")
    try:
        second = other.new_page()
        second.goto("/login")
        expect(second.locator("html")).to_have_attribute("lang", "en")
        sign_in(second, "monall")
        expect(second.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(second.locator("#who")).to_contain_text("监查员")
        second.get_by_role("link", name="English").click()  # and back, for everyone
        expect(second.locator("html")).to_have_attribute("lang", "en")
    finally:
        other.close()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
