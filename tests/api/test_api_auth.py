"""Login, sessions and passwords through the API: cookie sessions need the CSRF token, sessions
expire (an injected clock moves time), repeated failures lock the account (423)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dosewise.settings import Settings
from pg import PASSWORD, FakeClock

API = "/api/v1"


def test_login_gives_a_bearer_token_a_cookie_and_a_csrf_token(client: TestClient) -> None:
    response = client.post(f"{API}/auth/login", json={"username": "inv1", "password": PASSWORD})
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    assert body["user"] == {
        "username": "inv1",
        "full_name": "Test inv1",
        "role": "investigator",
        "site_id": "S01",
        "active": True,
        "locked": False,
        "failed_logins": 0,
        "last_login_at": "2026-01-05T09:00:00Z",
        "locale": None,
        "must_change_password": False,
    }
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    # The cookie alone authenticates reads ...
    assert client.get(f"{API}/auth/me").json()["username"] == "inv1"
    # ... but a cookie-authenticated write needs the CSRF token.
    refused = client.post(f"{API}/auth/logout")
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "X-CSRF-Token"
    accepted = client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert accepted.status_code == 204
    client.cookies.clear()
    gone = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert gone.status_code == 401


def test_bearer_requests_need_no_csrf_token(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    headers = login_as("stat")
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 401


def test_an_idle_session_expires(
    client: TestClient, clock: FakeClock, settings: Settings, login_as
) -> None:  # type: ignore[no-untyped-def]
    headers = login_as("dsmb")
    clock.advance(minutes=settings.session_idle_minutes - 1)
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 200
    clock.advance(minutes=settings.session_idle_minutes + 1)
    response = client.get(f"{API}/auth/me", headers=headers)
    assert response.status_code == 401
    assert "unused" in response.json()["error"]["message"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_repeated_failures_lock_the_account_until_an_admin_unlocks_it(
    client: TestClient, settings: Settings, login_as
) -> None:  # type: ignore[no-untyped-def]
    wrong = {"username": "coord2", "password": "not the password"}
    codes = [client.post(f"{API}/auth/login", json=wrong).status_code for _ in range(6)]
    n = settings.lockout_threshold
    assert codes == [401] * 6  # locking changes nothing a caller can see (issue 15)
    right = {"username": "coord2", "password": PASSWORD}
    locked = client.post(f"{API}/auth/login", json=right)
    unknown = client.post(f"{API}/auth/login", json={"username": "no.such.user", "password": "x"})
    assert locked.status_code == unknown.status_code == 401  # 423 against 401 before
    assert locked.json() == unknown.json()
    admin = login_as("admin1")
    listed = client.get(f"{API}/users/coord2", headers=admin).json()
    assert listed["locked"] is True and listed["failed_logins"] == n
    unlock = client.post(
        f"{API}/users/coord2/unlock", json={"reason": "identity checked"}, headers=admin
    )
    assert unlock.status_code == 200 and unlock.json()["locked"] is False
    assert client.post(f"{API}/auth/login", json=right).status_code == 200


def test_changing_ones_password(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    headers = login_as("inv2")
    url = f"{API}/auth/password"
    bad = client.post(
        url, json={"current_password": "x", "new_password": "y" * 20}, headers=headers
    )
    assert bad.status_code == 401 and bad.json()["error"]["field"] == "current_password"
    weak = client.post(
        url, json={"current_password": PASSWORD, "new_password": "short"}, headers=headers
    )
    assert weak.status_code == 422 and weak.json()["error"]["field"] == "password"
    new = "a brand new pass phrase"
    done = client.post(
        url, json={"current_password": PASSWORD, "new_password": new}, headers=headers
    )
    assert done.status_code == 204
    client.cookies.clear()
    old = client.post(f"{API}/auth/login", json={"username": "inv2", "password": PASSWORD})
    assert old.status_code == 401
    assert login_as("inv2", new)


def test_reset_password_issues_a_new_one_and_ends_sessions(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    victim = login_as("mon1")
    admin = login_as("admin1")
    reset = client.post(
        f"{API}/users/mon1/reset-password", json={"reason": "forgotten"}, headers=admin
    )
    assert reset.status_code == 200
    assert client.get(f"{API}/auth/me", headers=victim).status_code == 401
    assert login_as("mon1", reset.json()["generated_password"])
