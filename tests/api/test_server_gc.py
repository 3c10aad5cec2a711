"""``dosewise serve`` moves what the app built at start-up out of the garbage collector's way
(:func:`gc.freeze`); an app made by a test or a notebook does not."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from dosewise.server import create_app
from dosewise.settings import Settings
from dosewise.store.session import Database


def test_a_served_app_freezes_what_it_built_at_start(settings: Settings, db: Database) -> None:
    gc.unfreeze()
    try:
        with TestClient(create_app(settings, db=db, freeze_at_start=True)) as client:
            assert gc.get_freeze_count() > 0
            assert client.get("/api/v1/health").status_code == 200
    finally:
        gc.unfreeze()
    with TestClient(create_app(settings, db=db)) as client:
        assert gc.get_freeze_count() == 0
        assert client.get("/api/v1/health").status_code == 200
