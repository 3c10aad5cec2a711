"""Service fixtures: a fresh database per test (see tests/pg.py) and a helper that acts as the
template users through the service functions."""

from __future__ import annotations

import pytest
from svc_helpers import Acts

from dosewise.settings import Settings
from dosewise.store.session import Database
from pg import (  # noqa: F401
    FakeClock,
    clock,
    db,
    db_url,
    passwords,
    pg_url,
    settings,
)


@pytest.fixture
def acts(db: Database, settings: Settings, clock: FakeClock) -> Acts:  # noqa: F811
    return Acts(db, settings, clock)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Service tests run on SQLite; a module adds PostgreSQL with
    ``pytest.mark.parametrize("backend", backend_params(), indirect=True)``."""
    return str(request.param)
