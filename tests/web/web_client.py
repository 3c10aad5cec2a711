"""Signing in through the pages as a person would, for the page tests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from pg import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The hidden CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; the CSRF token of the signed-in session."""
    client.cookies.clear()
    page = client.get("/login")
    token = csrf_of(page.text)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    landing = client.get(response.headers["location"], follow_redirects=True)
    assert landing.status_code == 200, landing.text
    return csrf_of(landing.text)
