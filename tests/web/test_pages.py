"""The pages through a browser-like client: sign-in, the header on every page, the language
switch, times in the site's zone, user management, the audit page, CSRF and access control."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from web_client import csrf_of, sign_in
from web_forms import consent_form

from pg import PASSWORD, USERS

PAGES_BY_ROLE = {
    "admin1": ["/admin/users", "/audit", "/protocol", "/tools"],
    "inv1": ["/trial", "/trial/arms/autologous", "/participants", "/audit", "/protocol"],
    "coord1": ["/trial", "/participants", "/protocol", "/tools"],
    "stat": ["/trial", "/trial/arms/new_donor", "/participants", "/dsmb", "/protocol"],
    "dsmb": ["/trial", "/dsmb", "/participants"],
    "mon1": ["/trial", "/participants", "/audit"],
}
ROLE_NAMES = {
    "admin": ("Administrator", "管理员"),
    "investigator": ("Investigator", "研究者"),
    "coordinator": ("Study coordinator", "研究协调员"),
    "statistician": ("Statistician", "统计师"),
    "dsmb": ("DSMB member", "数据安全监查委员会 (DSMB) 成员"),
    "monitor": ("Monitor", "监查员"),
}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("username", sorted(PAGES_BY_ROLE))
def test_every_page_shows_who_role_site_and_the_language_switch(
    client: TestClient, username: str
) -> None:
    sign_in(client, username)
    role, site = USERS[username]
    for path in PAGES_BY_ROLE[username]:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert f"Test {username}" in page.text and f"({username})" in page.text
        assert f'data-role="{role}"' in page.text and ROLE_NAMES[role][0] in page.text
        assert f'data-site="{site or ""}"' in page.text
        assert "All sites" in page.text if site is None else f"{site} · " in page.text
        assert 'href="/lang/zh_CN?next=' in page.text  # switch to Chinese on every page


def test_language_switch_is_kept_and_translates_every_page(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("inv1")
    r = client.get("/lang/zh_CN", params={"next": "/trial"})
    assert r.status_code == 303 and r.headers["location"] == "/trial"
    for path in ("/trial", "/participants", "/protocol", "/tools", "/audit"):
        page = client.get(path)
        assert page.status_code == 200
        assert '<html lang="zh-CN">' in page.text
        assert "试验概览" in page.text and "研究者" in page.text  # menu and role in Chinese
        assert 'href="/lang/en?next=' in page.text
    client.get("/lang/en", params={"next": "/trial"})
    assert '<html lang="en">' in client.get("/trial").text


def test_language_switch_never_redirects_to_another_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example", "javascript:alert(1)"):
        r = client.get("/lang/zh_CN", params={"next": target})
        assert r.headers["location"] == "/"


def test_browser_language_is_the_default_before_any_choice(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in page.text and "登录" in page.text


def test_times_are_shown_in_the_sites_zone_in_the_chosen_locale(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    """The login at 09:00 UTC (FakeClock) is 17:00 in Asia/Shanghai (UTC+8)."""
    signed_in("admin1")
    page = client.get("/audit", params={"action": "auth.login"})
    assert (
        "Jan 5, 2026, 5:00:00\u202fPM UTC+8" in page.text
        or "Jan 5, 2026, 5:00:00 PM UTC+8" in page.text
    )
    client.get("/lang/zh_CN")
    page = client.get("/audit", params={"action": "auth.login"})
    assert "2026年1月5日 17:00:00 UTC+8" in page.text


def test_sign_in_failure_says_why_and_keeps_the_user_name(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "inv1", "password": "nope", "csrf_token": token})
    assert r.status_code == 401
    assert "Invalid username or password, or the account is locked or inactive." in r.text
    assert 'name="username" type="text" value="inv1"' in r.text
    client.get("/lang/zh_CN")
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "ghost", "password": "nope", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码错误，或账户已被锁定或停用。" in r.text


def test_login_form_needs_its_token(client: TestClient) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "inv1", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403


def test_pages_need_a_session_and_return_after_sign_in(client: TestClient) -> None:
    r = client.get("/trial/arms/autologous")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/trial/arms/autologous"
    token = csrf_of(client.get(r.headers["location"]).text)
    r = client.post(
        "/login",
        data={
            "username": "stat",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/trial/arms/autologous",
        },
    )
    assert r.headers["location"] == "/trial/arms/autologous"


def test_sign_out_ends_the_session(client: TestClient, signed_in: Callable[[str], str]) -> None:
    csrf = signed_in("inv1")
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/trial").status_code == 303


def test_forms_without_the_csrf_token_are_refused(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("coord1")
    r = client.post("/participants", data={"site_id": "S01"})
    assert r.status_code == 403 and "form is out of date" in r.text


def test_change_password(client: TestClient, signed_in: Callable[[str], str]) -> None:
    csrf = signed_in("coord1")
    new = "a much longer new password"
    r = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "wrong",
            "new_password": new,
            "confirm_password": new,
        },
    )
    assert r.status_code == 401 and 'id="current_password-error"' in r.text
    r = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert r.status_code == 422 and "must be at least 12 characters" in r.text
    r = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": new,
            "confirm_password": new,
        },
    )
    assert r.status_code == 200 and "Your password has been changed." in r.text
    sign_in(client, "coord1", new)


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("coord1", "/admin/users"),
        ("coord1", "/audit"),
        ("coord1", "/dsmb"),
        ("inv1", "/dsmb"),  # every site's participants are on it (issue 15)
        ("mon1", "/dsmb"),
        ("admin1", "/trial"),
        ("admin1", "/participants"),
        ("dsmb", "/audit"),
    ],
)
def test_pages_outside_the_role_are_refused(client: TestClient, username: str, path: str) -> None:
    sign_in(client, username)
    r = client.get(path)
    assert r.status_code == 403 and "Your role or site does not allow this." in r.text


def test_admin_creates_a_user_and_sees_the_password_once(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    csrf = signed_in("admin1")
    data = {
        "csrf_token": csrf,
        "username": "inv.chengdu",
        "full_name": "Dr Zhang",
        "role": "investigator",
        "site_id": "",
    }
    r = client.post("/admin/users", data=data)
    assert r.status_code == 422
    assert re.search(r'id="site_id-error"[^>]*>a investigator must belong to a site', r.text)
    assert 'value="Dr Zhang"' in r.text  # kept
    r = client.post("/admin/users", data={**data, "site_id": "S04"})
    assert r.status_code == 200
    password = re.search(r'id="generated-password">([^<]+)<', r.text)
    assert password and 'data-must-change="true"' in r.text  # the listing shows it pending
    # The password works once: every page leads to the change form until they choose their own.
    csrf = sign_in(client, "inv.chengdu", password.group(1))
    for path in ("/trial", "/participants", "/tools", "/"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/account/password", path
    form = client.get("/account/password")
    assert 'id="must-change"' in form.text
    mine = "Tq7-vLm2#pWx9 mine"
    change = {"current_password": password.group(1), "new_password": mine}
    r = client.post(
        "/account/password", data={**change, "confirm_password": mine, "csrf_token": csrf}
    )
    assert r.status_code == 200 and 'id="must-change"' not in r.text
    assert "S04 · " in client.get("/trial").text


def test_changing_a_user_needs_a_reason(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    csrf = signed_in("admin1")
    data = {
        "csrf_token": csrf,
        "full_name": "Test coord1 renamed",
        "role": "coordinator",
        "site_id": "S01",
        "active": "yes",
        "reason": "",
    }
    r = client.post("/admin/users/coord1", data=data)
    assert r.status_code == 422 and 'id="reason-error"' in r.text
    r = client.post("/admin/users/coord1", data={**data, "reason": "name corrected"})
    assert r.status_code == 303
    page = client.get("/audit", params={"action": "user.update"})
    assert "name corrected" in page.text and "Test coord1 renamed" in page.text


def test_audit_page_shows_chain_status_and_is_site_scoped(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("admin1")
    page = client.get("/audit")
    assert 'id="chain-status" data-ok="true"' in page.text
    signed_in("inv1")  # investigators read their site's trail, without the chain check
    page = client.get("/audit")
    assert "You see the records of site S01." in text(page.text)
    assert "chain-status" not in page.text
    assert client.get("/audit", params={"site_id": "S02"}).status_code == 403


def test_dsmb_and_monitors_read_without_forms(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    csrf = signed_in("coord1")
    r = client.post("/participants", data={"csrf_token": csrf, "site_id": "S01"})
    sid = r.headers["location"].split("/")[2].split("?")[0]
    for reader in ("dsmb", "mon1", "stat"):
        signed_in(reader)
        page = client.get(f"/participants/{sid}").text
        actions = set(re.findall(r'<form method="post" action="([^"]+)"', page))
        # Monitors and the statistician enter no clinical data; they only raise data queries.
        queries = set() if reader == "dsmb" else {f"/participants/{sid}/queries"}
        assert actions == {"/logout"} | queries, (reader, actions)
    data = {"csrf_token": csrf_of(page), **consent_form(datetime(2026, 1, 5).date())}
    r = client.post(f"/participants/{sid}/consent", data=data)  # as the statistician
    assert r.status_code == 403, r.text
    assert "may not register, screen, consent" in r.text, r.text[-2500:]


def test_the_favicon_is_served(client: TestClient) -> None:
    """Browsers ask for /favicon.ico on every site: an icon, not a 404 in the console."""
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.content.startswith(b"<svg")
    assert client.get("/static/favicon.svg").status_code == 200
    assert 'rel="icon"' in client.get("/login").text
