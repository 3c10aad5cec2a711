"""The access-control matrix through the API: every role against every endpoint, at its own
site and at another, and without a login — each answer is the expected 2xx, 401, 403 or 404
(another site's participant, named by its study ID, is 404 like an unused ID).

The expectations are written out here by hand from the issue's rules (item 4), not derived from
``dosewise.trial.access.PERMISSIONS``, so that a wrong entry in the matrix fails this test:
administrators manage users and read the whole audit trail; investigators read their own site's
trail; monitors read, verify and export (a site monitor only for its site); coordinators,
statisticians and DSMB members do not see the audit trail; sites and one's own account are
visible to every user.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dosewise.settings import Settings
from dosewise.store.session import Database
from e2e_api import matrix_prep
from pg import FakeClock, backend_params

#: The matrix runs on both back ends.
pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)
API = "/api/v1"
ROLES_BY_USER = {
    "admin1": ("admin", None),
    "inv1": ("investigator", "S01"),
    "inv2": ("investigator", "S02"),
    "coord1": ("coordinator", "S01"),
    "coord2": ("coordinator", "S02"),
    "stat": ("statistician", None),
    "dsmb": ("dsmb", None),
    "mon1": ("monitor", "S01"),
    "monall": ("monitor", None),
    "dm1": ("data_manager", None),
}
ALL_USERS = frozenset(ROLES_BY_USER)
SITE_USERS = frozenset(u for u, (_, site) in ROLES_BY_USER.items() if site)

_n = itertools.count()


def _own(user: str) -> str:
    return ROLES_BY_USER[user][1] or "S01"


def _other(user: str) -> str:
    return "S02" if _own(user) == "S01" else "S01"


# (name, method, path(user, site), body(user, site), users allowed, success status)
# For a site-scoped endpoint, a site user is allowed only at its own site.
Endpoint = tuple[
    str,
    str,
    Callable[[str, str], str],
    Callable[[str, str], object] | None,
    frozenset[str],
    int,
]
ENDPOINTS: list[Endpoint] = [
    ("me", "GET", lambda u, s: "/auth/me", None, ALL_USERS, 200),
    ("users.me", "GET", lambda u, s: "/users/me", None, ALL_USERS, 200),
    (
        "users.me.update",
        "PATCH",
        lambda u, s: "/users/me",
        lambda u, s: {"locale": "zh_CN" if s == "S01" else "en"},
        ALL_USERS,
        200,
    ),
    ("permissions", "GET", lambda u, s: "/auth/permissions", None, ALL_USERS, 200),
    ("sites", "GET", lambda u, s: "/sites", None, ALL_USERS, 200),
    ("users.list", "GET", lambda u, s: "/users", None, frozenset({"admin1"}), 200),
    ("users.get", "GET", lambda u, s: "/users/inv1", None, frozenset({"admin1"}), 200),
    (
        "users.create",
        "POST",
        lambda u, s: "/users",
        lambda u, s: {"username": f"new{next(_n)}", "full_name": "N", "role": "dsmb"},
        frozenset({"admin1"}),
        201,
    ),
    (
        "users.update",
        "PATCH",
        lambda u, s: "/users/coord2",
        lambda u, s: {"full_name": f"Coordinator {next(_n)}", "reason": "name corrected"},
        frozenset({"admin1"}),
        200,
    ),
    (
        "users.unlock",
        "POST",
        lambda u, s: "/users/dsmb/unlock",
        lambda u, s: {"reason": "checked"},
        frozenset({"admin1"}),
        200,
    ),
    (
        "users.reset_password",
        "POST",
        lambda u, s: "/users/spare/reset-password",
        lambda u, s: {"reason": "forgotten"},
        frozenset({"admin1"}),
        200,
    ),
    (
        "audit.read",
        "GET",
        lambda u, s: "/audit?limit=5",
        None,
        frozenset({"admin1", "inv1", "inv2", "mon1", "monall", "dm1"}),
        200,
    ),
    (
        "audit.read.site",
        "GET",
        lambda u, s: f"/audit?limit=5&site_id={s}",
        None,
        frozenset({"admin1", "inv1", "inv2", "mon1", "monall", "dm1"}),
        200,
    ),
    (
        "audit.verify",
        "GET",
        lambda u, s: "/audit/verify",
        None,
        frozenset({"admin1", "mon1", "monall"}),
        200,
    ),
    (
        "audit.export.site",
        "GET",
        lambda u, s: f"/audit/export?format=json&site_id={s}",
        None,
        frozenset({"admin1", "mon1", "monall"}),
        200,
    ),
]
#: The clinical endpoints (issue 6 part B): participants, dosing, outcomes, arms.
ENDPOINTS += matrix_prep.CLINICAL_ENDPOINTS
#: The worklist (issue 17 item 2): every participant reader, site users at their own site.
ENDPOINTS.append(
    ("worklist.site", "GET", lambda u, s: f"/worklist?site_id={s}", None, matrix_prep.READERS, 200)
)
#: Endpoints whose site parameter (or participant) confines site users to their own site.
SITE_SCOPED = {
    "audit.read.site",
    "audit.export.site",
    "worklist.site",
} | matrix_prep.CLINICAL_SITE_SCOPED
ROWS = {row[0]: row for row in ENDPOINTS}


#: Endpoints that name a participant by study ID: another site's participant answers 404, like
#: an unused ID, so that site staff cannot probe other sites' IDs (issue 15). The others name a
#: site (``site_id=``: a listing or summary filtered by site, a registration): another site is 403.
BY_SITE_ID = {
    "participants.register",
    "participants.list.site",
    "queries.list.site",
    "queries.summary.site",
    "worklist.site",
}
BY_STUDY_ID = matrix_prep.CLINICAL_SITE_SCOPED - BY_SITE_ID


def expected(name: str, allowed: frozenset[str], ok: int, user: str, where: str) -> int:
    if user not in allowed:
        return 403
    if name in SITE_SCOPED and user in SITE_USERS and where == "other":
        return 404 if name in BY_STUDY_ID else 403
    return ok


def _expected_at(name: str, user: str, site: str) -> int:
    _, _, _, _, allowed, ok = ROWS[name]
    return expected(name, allowed, ok, user, "own" if site == _own(user) else "other")


def test_every_role_against_every_endpoint_and_site(
    client: TestClient,
    tokens: dict[str, dict[str, str]],
    db: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    matrix_prep.bind(matrix_prep.Preparer(db, settings, clock, _expected_at))
    admin = tokens["admin1"]
    spare = {"username": "spare", "full_name": "Spare", "role": "dsmb"}
    assert client.post(f"{API}/users", json=spare, headers=admin).status_code == 201
    mismatches = []
    tried = 0
    for (name, method, path, body, allowed, ok), user, where in itertools.product(
        ENDPOINTS, ROLES_BY_USER, ("own", "other")
    ):
        site = _own(user) if where == "own" else _other(user)
        client.cookies.clear()
        response = client.request(
            method,
            API + path(user, site),
            json=body(user, site) if body else None,
            headers=tokens[user],
        )
        tried += 1
        want = expected(name, allowed, ok, user, where)
        if response.status_code != want:
            mismatches.append((name, user, where, want, response.status_code, response.text[:120]))
        if response.status_code >= 400:
            assert set(response.json()) == {"error"}, (name, user)
    assert tried == len(ENDPOINTS) * len(ROLES_BY_USER) * 2
    assert mismatches == []


def test_without_a_login_every_endpoint_but_health_and_login_is_401(client: TestClient) -> None:
    client.cookies.clear()
    matrix_prep.bind(None)
    for name, method, path, body, _allowed, _ok in ENDPOINTS:
        response = client.request(
            method, API + path("x", "S01"), json=body("x", "S01") if body else None
        )
        assert response.status_code == 401, name
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "not_authenticated"
    assert client.get(f"{API}/health").status_code == 200


def test_the_openapi_schema_lists_exactly_the_endpoints_tested_here(client: TestClient) -> None:
    """A new endpoint must be added to the matrix above (or to the exempt list) to pass."""
    schema = client.get(f"{API}/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    exempt = {
        ("GET", f"{API}/health"),  # public
        ("POST", f"{API}/auth/login"),  # public
        ("POST", f"{API}/auth/logout"),  # tested in test_api_auth.py
        ("POST", f"{API}/auth/password"),  # tested in test_api_auth.py
    }
    covered = {
        ("GET", f"{API}/auth/me"),
        ("GET", f"{API}/auth/permissions"),
        ("GET", f"{API}/users/me"),
        ("PATCH", f"{API}/users/me"),
        ("GET", f"{API}/sites"),
        ("GET", f"{API}/users"),
        ("POST", f"{API}/users"),
        ("GET", f"{API}/users/{{username}}"),
        ("PATCH", f"{API}/users/{{username}}"),
        ("POST", f"{API}/users/{{username}}/unlock"),
        ("POST", f"{API}/users/{{username}}/reset-password"),
        ("GET", f"{API}/audit"),
        ("GET", f"{API}/audit/verify"),
        ("GET", f"{API}/audit/export"),
        ("GET", f"{API}/worklist"),
    }
    covered |= matrix_prep.CLINICAL_COVERED
    foundation = {r for r in routes if r in exempt | covered}
    assert foundation == exempt | covered
    clinical = {r for r in routes if r[1].startswith((f"{API}/participants", f"{API}/arms"))}
    assert clinical <= covered
