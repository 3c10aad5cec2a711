"""The pages under the Content-Security-Policy in a real browser (issue 15 item 7), and a
one-time password in the browser (item 5).

Every page, the htmx live calculators and the API docs work with scripts and styles from this
origin only: Chromium reports no CSP violation, the docs page loads nothing from elsewhere, and
Enter in a calculator does not post the form (the handler is a script file, not inline).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
from e2e_helpers import sign_in, sign_out
from playwright.sync_api import ConsoleMessage, Page, expect

from pg import PASSWORD

PAGES = ["/trial", "/participants", "/protocol", "/tools", "/reports", "/account/password"]


def _violations(page: Page) -> list[str]:
    found: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            found.append(text)

    page.on("console", seen)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    return found


def test_the_pages_and_live_calculators_run_under_the_policy(page: Page) -> None:
    violations = _violations(page)
    sign_in(page, "inv1")
    for path in PAGES:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
    page.goto("/tools")
    weight = page.locator("#weight_kg")
    weight.fill("60")
    page.locator("#tnc").fill("2.0e8")
    page.locator("#viability").fill("90")
    page.locator("#cd3").fill("80")
    page.locator("#car").fill("40")
    expect(page.locator("#dose-plan")).not_to_be_empty()
    weight.press("Enter")  # must not post the calculator form (data-no-submit, app.js)
    expect(page).to_have_url(re.compile(r"/tools$"))
    sign_out(page)
    assert violations == []


def test_the_api_docs_render_from_this_server_only(page: Page, live_server: str) -> None:
    violations = _violations(page)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("dosewise trial service")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    assert hosts == {urlsplit(live_server).netloc}
    assert violations == []


def test_a_reset_password_sends_the_user_to_choose_their_own(page: Page, live_server: str) -> None:
    api = f"{live_server}/api/v1"
    login = httpx.post(f"{api}/auth/login", json={"username": "admin1", "password": PASSWORD})
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    reset = httpx.post(
        f"{api}/users/dsmb/reset-password", json={"reason": "browser test"}, headers=admin
    )
    issued = reset.json()["generated_password"]
    page.goto("/login")
    page.get_by_label("User name").fill("dsmb")
    page.get_by_label("Password").fill(issued)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.locator("#must-change")).to_be_visible()
    page.goto("/trial")  # any other page leads back to the form
    expect(page).to_have_url(re.compile(r"/account/password$"))
    page.locator("#current_password").fill(issued)
    page.locator("#new_password").fill(PASSWORD)
    page.locator("#confirm_password").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#must-change")).to_have_count(0)
    page.goto("/trial")
    expect(page).to_have_url(re.compile(r"/trial$"))
    sign_out(page)
