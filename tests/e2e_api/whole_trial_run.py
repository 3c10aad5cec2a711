"""The demonstration trial on a fresh database, for the whole-trial test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from dosewise.trial.demo import DemoResult, load_demo_trial
from pg import FakeClock, fresh_url, make_settings


@dataclass
class Trial:
    """A database holding the whole scripted trial, and what the script did."""

    backend: str
    db: Database
    settings: Settings
    clock: FakeClock
    result: DemoResult


@contextmanager
def run_trial(backend: str, tmp: Path) -> Iterator[Trial]:
    """The whole NCT07070323 trial run through the API on a fresh database of ``backend``."""
    urls = fresh_url(backend, tmp)
    url = next(urls)
    # A year of simulated time passes between requests: sessions that outlive the idle timeout
    # spare the script a login after every jump (the timeouts have their own tests), and the
    # SQLite file need not survive a power loss (crash safety has its own tests).
    settings = make_settings(url).replace(
        session_idle_minutes=60 * 24 * 400,
        session_minutes=60 * 24 * 400,
        sqlite_synchronous="NORMAL",
    )
    db = open_database(settings)
    clock = FakeClock()
    try:
        result = load_demo_trial(db, settings, clock, password="demo trial password")
        yield Trial(backend, db, settings, clock, result)
    finally:
        db.dispose()
        urls.close()
