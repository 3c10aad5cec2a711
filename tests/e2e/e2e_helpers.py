"""Signing in and out through the pages, for the browser tests (the server: e2e_server.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pg import PASSWORD

if TYPE_CHECKING:  # the conftest imports this module even where Playwright is missing
    from playwright.sync_api import Page


def sign_in(page: Page, username: str, password: str = PASSWORD, base: str = "") -> None:
    """Sign in through the form, as a person would (``base``: another server's URL)."""
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
