"""A user's own interface language through the API: ``GET /users/me`` and ``/auth/me`` show it,
``PATCH /users/me`` sets it for any role (audited as ``user.set_locale``, no reason needed), and
anything but the shipped languages is a 422 naming ``locale``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from dosewise.errors import InvalidInput
from dosewise.store.session import Database
from dosewise.store.tables import User
from dosewise.trial import access
from dosewise.trial.audit import Actor
from dosewise.trial.uow import UnitOfWork
from pg import PASSWORD

API = "/api/v1"


def _audit(client: TestClient, admin: dict[str, str], action: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit", params={"action": action}, headers=admin)
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


def test_a_coordinator_sets_their_language_and_every_read_shows_it(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    coord = tokens["coord1"]
    before = client.get(f"{API}/users/me", headers=coord).json()
    assert before["username"] == "coord1" and before["locale"] is None

    response = client.patch(f"{API}/users/me", json={"locale": "zh_CN"}, headers=coord)
    assert response.status_code == 200, response.text
    assert response.json()["locale"] == "zh_CN" and response.json()["role"] == "coordinator"
    assert client.get(f"{API}/users/me", headers=coord).json()["locale"] == "zh_CN"
    assert client.get(f"{API}/auth/me", headers=coord).json()["locale"] == "zh_CN"
    listed = client.get(f"{API}/users/coord1", headers=tokens["admin1"]).json()
    assert listed["locale"] == "zh_CN"
    # Other accounts are untouched.
    assert client.get(f"{API}/users/me", headers=tokens["coord2"]).json()["locale"] is None

    [record] = _audit(client, tokens["admin1"], "user.set_locale")
    assert record["username"] == "coord1" and record["site_id"] == "S01"
    assert record["entity"] == "users" and record["operation"] == "update"
    assert record["before"] == {"locale": None} and record["after"] == {"locale": "zh_CN"}
    assert record["reason"] is None


def test_changing_and_clearing_needs_no_reason_and_a_repeat_writes_nothing(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    stat = tokens["stat"]
    for value in ("en", "en", "zh_CN", None):
        response = client.patch(f"{API}/users/me", json={"locale": value}, headers=stat)
        assert response.status_code == 200, response.text
        assert response.json()["locale"] == value
    records = _audit(client, tokens["admin1"], "user.set_locale")
    assert [(r["before"]["locale"], r["after"]["locale"]) for r in records] == [
        (None, "en"),
        ("en", "zh_CN"),
        ("zh_CN", None),
    ]


@pytest.mark.parametrize("value", ["fr", "zh-CN", "ZH_CN", "", 7])
def test_a_language_the_app_does_not_ship_is_a_422_naming_the_field(
    client: TestClient, tokens: dict[str, dict[str, str]], value: object
) -> None:
    inv = tokens["inv1"]
    response = client.patch(f"{API}/users/me", json={"locale": value}, headers=inv)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "locale"
    assert "'zh_CN'" in error["message"] and "'en'" in error["message"]
    assert client.get(f"{API}/users/me", headers=inv).json()["locale"] is None


def test_the_body_must_name_the_locale_and_nothing_else(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    dsmb = tokens["dsmb"]
    missing = client.patch(f"{API}/users/me", json={}, headers=dsmb)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "locale"
    sneaky = client.patch(f"{API}/users/me", json={"locale": "en", "role": "admin"}, headers=dsmb)
    assert sneaky.status_code == 422 and sneaky.json()["error"]["field"] == "role"
    me = client.get(f"{API}/users/me", headers=dsmb).json()
    assert me["role"] == "dsmb" and me["locale"] is None


def test_a_cookie_session_needs_the_csrf_token_to_set_it(client: TestClient) -> None:
    login = client.post(f"{API}/auth/login", json={"username": "mon1", "password": PASSWORD})
    csrf = login.json()["csrf_token"]
    refused = client.patch(f"{API}/users/me", json={"locale": "zh_CN"})
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "X-CSRF-Token"
    accepted = client.patch(
        f"{API}/users/me", json={"locale": "zh_CN"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 200 and accepted.json()["locale"] == "zh_CN"


def test_the_service_refuses_an_unknown_language_and_a_userless_actor(db: Database) -> None:
    """The rule lives in the service, so the web pages and the CLI get it too."""
    coord = Actor.of(_user(db, "coord2"))
    with UnitOfWork(db, coord) as uow, pytest.raises(InvalidInput) as info:
        access.set_own_locale(uow, "de")
    assert info.value.field == "locale" and "zh_CN, en" in info.value.rule
    with (
        UnitOfWork(db, Actor.system("script")) as uow,
        pytest.raises(access.NotAuthenticated),
    ):
        access.set_own_locale(uow, "en")


def _user(db: Database, username: str) -> User:
    with UnitOfWork(db, Actor.system("test"), readonly=True) as uow:
        return access.find_user(uow, username)
