"""Every error has the shape ``{"error": {"code", "field", "message"}}`` with a 4xx status, and
bad input never produces a 500 (issue item 5)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


def _error(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"}
    # A refusal whose rule is data adds its code, parameters and words (issue 16).
    extra = set(body["error"]) - {"code", "field", "message"}
    assert {"code", "field", "message"} <= set(body["error"])
    assert extra in (set(), {"reason", "reason_code", "reason_params"}), extra
    return body["error"]  # type: ignore[no-any-return]


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    missing = client.get(f"{API}/no/such/thing")
    assert missing.status_code == 404 and _error(missing)["code"] == "not_found"
    wrong = client.delete(f"{API}/health")
    assert wrong.status_code == 405 and _error(wrong)["code"] == "method_not_allowed"


def test_missing_token(client: TestClient) -> None:
    response = client.get(f"{API}/users")
    assert response.status_code == 401
    assert _error(response) == {
        "code": "not_authenticated",
        "field": "token",
        "message": "token: log in first (Authorization: Bearer <token>)",
    }


def test_forbidden_names_the_action(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/users", headers=tokens["inv1"])
    error = _error(response)
    assert response.status_code == 403
    assert error["code"] == "forbidden" and error["field"] == "action"
    assert "investigator may not list and read user accounts" in str(error["message"])


def test_unknown_user_is_404_and_duplicate_is_409(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin1"]
    missing = client.get(f"{API}/users/nobody", headers=admin)
    assert missing.status_code == 404 and _error(missing)["field"] == "username"
    body = {"username": "inv1", "full_name": "Again", "role": "investigator", "site_id": "S01"}
    duplicate = client.post(f"{API}/users", json=body, headers=admin)
    assert duplicate.status_code == 409 and _error(duplicate)["code"] == "duplicate"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "N", "role": "dsmb"}, "username"),
        ({"username": "abc", "full_name": "N", "role": "nurse"}, "role"),
        ({"username": "abc", "full_name": "N", "role": "dsmb", "extra": 1}, "extra"),
        ({"username": "a\u0000b", "full_name": "N", "role": "dsmb"}, "username"),
        ({"username": "abc", "full_name": "N", "role": "investigator"}, "site_id"),
        ({"username": "abc", "full_name": "N", "role": "coordinator", "site_id": "S99"}, "site_id"),
        ({"username": "abc", "full_name": 5, "role": "dsmb"}, "full_name"),
        ([1, 2], "body"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    client: TestClient, tokens, body: object, field: str
) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"{API}/users", json=body, headers=tokens["admin1"])
    assert response.status_code == 422
    error = _error(response)
    assert error["field"] == field and error["code"] == "invalid"


def test_malformed_json_is_422(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    headers = {**tokens["admin1"], "Content-Type": "application/json"}
    response = client.post(f"{API}/users", content=b'{"username": ', headers=headers)
    assert response.status_code == 422 and _error(response)["field"] == "body"


def test_a_change_without_a_reason_is_refused(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin1"]
    for body in ({"role": "investigator"}, {"role": "investigator", "reason": "   "}):
        response = client.patch(f"{API}/users/coord1", json=body, headers=admin)
        assert response.status_code == 422 and _error(response)["field"] == "reason"


@pytest.mark.parametrize(
    "query",
    [
        "after_seq=-1",
        "after_seq=99999999999999999999",
        "limit=0",
        "limit=abc",
        "site_id=S%2001",
        "entity=" + "x" * 65,
    ],
)
def test_bad_query_parameters_are_422(client: TestClient, tokens, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/audit?{query}", headers=tokens["admin1"])
    assert response.status_code == 422
    assert _error(response)["field"] == query.split("=")[0]


def test_a_token_that_is_not_a_session_is_401(client: TestClient) -> None:
    for token in ("x", "y" * 2000, "%00%ff"):
        response = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
