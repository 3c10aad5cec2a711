"""The security test's findings on the API (issue 15 items 4-7), each shown fixed.

Bounded bodies (413 before the body is read), one-time passwords set by an administrator,
other sessions ended by a password change, security headers and ``no-store`` on every answer,
the API docs served from the package, anonymous health without the database location, CSV
cells that cannot run as formulas, and ``as_of`` past today refused naming the field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database
from pg import PASSWORD, FakeClock

API = "/api/v1"
LIMIT = 4096
NEW = "Tq7-vLm2#pWx9 mine"


@pytest.fixture
def small_client(settings: Settings, db: Database, clock: FakeClock) -> Iterator[TestClient]:
    """The app with a 4 KiB body limit."""
    app = create_app(settings.replace(max_body_bytes=LIMIT), clock=clock, db=db)
    with TestClient(app) as c:
        yield c


# --------------------------------------------------------------------------- item 4


def test_a_body_over_the_limit_is_refused_by_its_length_before_it_is_read(
    small_client: TestClient,
) -> None:
    big = b'{"username": "' + b"a" * (2 * LIMIT) + b'", "password": "x"}'
    r = small_client.post(
        f"{API}/auth/login", content=big, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["error"] == {
        "code": "too_large",
        "field": "body",
        "message": f"body: the request body is larger than {LIMIT} bytes (DOSEWISE_MAX_BODY_BYTES)",
    }
    assert (
        r.headers["cache-control"] == "no-store"
        and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    )


def test_a_streamed_body_is_cut_off_as_soon_as_it_passes_the_limit(
    small_client: TestClient,
) -> None:
    def chunks() -> Iterator[bytes]:  # chunked: no Content-Length to judge by
        yield b'{"username": "'
        for _ in range(64):
            yield b"a" * 1024
        yield b'", "password": "x"}'

    r = small_client.post(
        f"{API}/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_web_forms_are_bounded_too_and_small_bodies_pass(small_client: TestClient) -> None:
    r = small_client.post(
        "/login",
        content=b"username=" + b"a" * (2 * LIMIT),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    ok = small_client.post(f"{API}/auth/login", json={"username": "inv1", "password": PASSWORD})
    assert ok.status_code == 200


def test_the_limit_is_a_setting_with_a_checked_value() -> None:
    assert Settings().max_body_bytes == 1_048_576
    assert Settings.from_env({"DOSEWISE_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048
    with pytest.raises(Exception, match="DOSEWISE_MAX_BODY_BYTES"):
        Settings.from_env({"DOSEWISE_MAX_BODY_BYTES": "0"})


# --------------------------------------------------------------------------- item 5


def test_a_reset_password_only_lets_the_user_choose_their_own(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    admin = login_as("admin1")
    reset = client.post(f"{API}/users/inv1/reset-password", json={"reason": "x"}, headers=admin)
    assert reset.status_code == 200 and reset.json()["user"]["must_change_password"] is True
    issued = reset.json()["generated_password"]
    # The administrator signs in with it, as the investigator, and tries to act: refused.
    login = client.post(f"{API}/auth/login", json={"username": "inv1", "password": issued})
    assert login.status_code == 200 and login.json()["user"]["must_change_password"] is True
    client.cookies.clear()
    acting = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for method, path in [
        ("GET", "/arms"),
        ("GET", "/participants"),
        ("GET", "/reports"),
        ("PATCH", "/users/me"),
        ("GET", "/auth/permissions"),
    ]:
        r = client.request(method, f"{API}{path}", headers=acting, json={"locale": "en"})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["code"] == "password_change_required"
    assert client.get(f"{API}/auth/me", headers=acting).json()["must_change_password"] is True
    changed = client.post(
        f"{API}/auth/password",
        json={"current_password": issued, "new_password": NEW},
        headers=acting,
    )
    assert changed.status_code == 204
    assert client.get(f"{API}/arms", headers=acting).status_code == 200
    assert client.get(f"{API}/auth/me", headers=acting).json()["must_change_password"] is False
    # What the administrator saw is no longer a password.
    again = client.post(f"{API}/auth/login", json={"username": "inv1", "password": issued})
    assert again.status_code == 401


def test_a_password_the_administrator_chose_is_one_time_too(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    admin = login_as("admin1")
    body = {
        "username": "inv.new",
        "full_name": "New Investigator",
        "role": "investigator",
        "site_id": "S01",
        "password": "Chosen-by-the-admin-77",
    }
    created = client.post(f"{API}/users", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["user"]["must_change_password"] is True
    acting = login_as("inv.new", "Chosen-by-the-admin-77")
    r = client.get(f"{API}/participants", headers=acting)
    assert r.status_code == 403 and r.json()["error"]["code"] == "password_change_required"


# --------------------------------------------------------------------------- item 6


def test_changing_a_password_ends_the_other_sessions(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    laptop, phone = login_as("coord1"), login_as("coord1")
    r = client.post(
        f"{API}/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=phone,
    )
    assert r.status_code == 204
    assert client.get(f"{API}/auth/me", headers=laptop).status_code == 401
    assert client.get(f"{API}/auth/me", headers=phone).status_code == 200


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "password1234", "coord1coord1coord1"])
def test_weak_new_passwords_are_refused(client: TestClient, login_as, weak: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        f"{API}/auth/password",
        json={"current_password": PASSWORD, "new_password": weak},
        headers=login_as("coord1"),
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"
    assert weak not in r.text


# --------------------------------------------------------------------------- item 7


def test_every_answer_carries_the_security_headers(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    headers = login_as("inv1")
    for path, auth in [
        (f"{API}/participants", headers),
        (f"{API}/health", {}),
        (f"{API}/nowhere", {}),
        ("/login", {}),
        (f"{API}/docs", {}),
    ]:
        r = client.get(path, headers=auth)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store", path
    static = client.get("/static/style.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def test_the_api_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get(f"{API}/docs")
    assert page.status_code == 200
    html = page.text
    assert "http://" not in html and "https://" not in html
    assert "<script>" not in html  # no inline script: the CSP allows files only
    sources = [part.split('"')[0] for part in html.split('src="')[1:]]
    links = [part.split('"')[0] for part in html.split('href="')[1:]]
    assert sources and links
    for url in sources + links:
        assert url.startswith(f"{API}/docs/"), url
        assert client.get(url).status_code == 200, url
    bundle = client.get(f"{API}/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    assert client.get(f"{API}/openapi.json").json()["openapi"].startswith("3.1")


def test_anonymous_health_does_not_say_where_the_database_is(
    client: TestClient, settings: Settings
) -> None:
    r = client.get(f"{API}/health")
    assert r.status_code == 200
    body = r.json()
    assert body["database"] == "sqlite"
    assert "dosewise.db" not in r.text and "/tmp" not in r.text and "sqlite:" not in r.text


def test_the_audit_csv_neutralises_formula_cells(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    admin = login_as("admin1")
    reasons = ('=HYPERLINK("http://evil.example","x")', "+1+cmd", "-2+3", "@SUM(A1)")
    for n, reason in enumerate(reasons):
        body = {"full_name": f"Mon {n}", "reason": reason}
        r = client.patch(f"{API}/users/mon1", json=body, headers=admin)
        assert r.status_code == 200, r.text
    export = client.get(f"{API}/audit/export", params={"format": "csv"}, headers=admin)
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    reasons = [row["reason"] for row in rows if row["reason"]]
    assert '\'=HYPERLINK("http://evil.example","x")' in reasons
    assert {"'+1+cmd", "'-2+3", "'@SUM(A1)"} <= set(reasons)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


@pytest.mark.parametrize("as_of", ["9999-12-31", "2026-01-07", "1899-12-31"])
def test_an_as_of_outside_the_supported_range_is_a_422_naming_it(
    client: TestClient, login_as, as_of: str
) -> None:  # type: ignore[no-untyped-def]
    # The clock says 2026-01-05; the ODM export needs the audit trail: an all-site monitor's.
    for kind, user in [("dsmb", "stat"), ("ctgov", "stat"), ("sdtm", "stat"), ("odm", "monall")]:
        r = client.get(f"{API}/reports/{kind}", params={"as_of": as_of}, headers=login_as(user))
        assert r.status_code == 422, (kind, r.text)
        assert r.json()["error"]["field"] == "as_of"


# --------------------------------------------------------------------------- item 1 (IDs)


def test_another_sites_study_id_answers_like_an_unused_one(client: TestClient, login_as) -> None:  # type: ignore[no-untyped-def]
    registered = client.post(
        f"{API}/participants", json={"site_id": "S02"}, headers=login_as("coord2")
    )
    assert registered.status_code == 201, registered.text
    taken = registered.json()["study_id"]
    unused = taken[:-4] + "9999"
    inv1 = login_as("inv1")
    off_study = {"off_study_on": "2026-01-05", "reason_code": "withdrawal", "reason": "probe"}
    for tail, method, body in [
        ("", "GET", None),
        ("/off-study", "POST", off_study),
        ("/best-response", "POST", None),
    ]:
        answers = [
            client.request(method, f"{API}/participants/{sid}{tail}", json=body, headers=inv1)
            for sid in (taken, unused)
        ]
        assert [a.status_code for a in answers] == [404, 404], tail
        first, second = (a.json()["error"] for a in answers)
        assert first["message"].replace(taken, "ID") == second["message"].replace(unused, "ID")
    # A role that may not write anywhere is refused before the ID is looked up: 403 for both.
    dsmb = login_as("dsmb")
    for sid in (taken, unused):
        r = client.post(f"{API}/participants/{sid}/off-study", json=off_study, headers=dsmb)
        assert r.status_code == 403, r.text
