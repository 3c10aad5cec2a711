"""Web fixtures: the app on a fresh SQLite database (tests/pg.py), a browser-like client, and
``signed_in(username)`` that goes through the sign-in form as a person would."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_client import sign_in

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
    passwords,
    settings,
)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The pages run on SQLite (the services below them are tested on both back ends)."""
    return str(request.param)


@pytest.fixture
def app(settings: Settings, db: Database, clock: FakeClock) -> FastAPI:  # noqa: F811
    return create_app(settings, clock=clock, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def signed_in(client: TestClient) -> Callable[[str], str]:
    """``signed_in("inv1")`` → the session's CSRF token."""

    def _sign_in(username: str, password: str = PASSWORD) -> str:
        return sign_in(client, username, password)

    return _sign_in
