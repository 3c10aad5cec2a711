"""Fixtures of the API end-to-end tests: the app (api + web) on a fresh database of the
parametrised backend (``db_url`` of tests/pg.py), through a TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from pg import FakeClock, backend, db_url, make_settings  # noqa: F401


@pytest.fixture
def app_db(db_url: str) -> Iterator[tuple[Database, Settings]]:  # noqa: F811
    """The database and its settings (a module may override it, e.g. PostgreSQL only)."""
    settings = make_settings(db_url)
    db = open_database(settings)
    yield db, settings
    db.dispose()


@pytest.fixture
def client(app_db: tuple[Database, Settings]) -> Iterator[TestClient]:
    db, settings = app_db
    with TestClient(create_app(settings, clock=FakeClock(), db=db)) as c:
        yield c
