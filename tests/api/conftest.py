"""API fixtures: the app on a fresh database of each backend, a client, a token per user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database
from pg import (  # noqa: F401
    PASSWORD,
    USERS,
    FakeClock,
    clock,
    db,
    db_url,
    empty_db_url,
    passwords,
    pg_url,
    settings,
)

API = "/api/v1"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """API tests run on SQLite; a module parametrizes ``backend`` indirectly to add PostgreSQL
    (the store, unit-of-work and audit tests run on both)."""
    return str(request.param)


@pytest.fixture
def app(settings: Settings, db: Database, clock: FakeClock) -> FastAPI:  # noqa: F811
    return create_app(settings, clock=clock, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers for ``username`` (the client's cookie jar is left empty)."""
    response = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class Tokens(dict[str, dict[str, str]]):
    """Bearer headers per username, logging in on first use."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def __missing__(self, username: str) -> dict[str, str]:
        headers = login(self.client, username)
        self[username] = headers
        return headers


@pytest.fixture
def tokens(client: TestClient) -> Tokens:
    """Bearer headers for the test users (see ``pg.USERS``), logged in on first use."""
    return Tokens(client)


@pytest.fixture
def login_as(client: TestClient):  # type: ignore[no-untyped-def]
    """``login_as(username, password=PASSWORD)`` → bearer headers."""

    def _login(username: str, password: str = PASSWORD) -> dict[str, str]:
        return login(client, username, password)

    return _login
