"""The scripted NCT07070323 whole-trial run, loaded once per test session for the data reports.

``load_demo_trial`` plays 54 participants through the API (about 40 s on SQLite), so the
database file is made once per test process (the fixtures are registered once, in
``tests/conftest.py``) and every DSMB / ClinicalTrials.gov / SDTM / ODM / report-API test reads
it. Test modules request ``demo_db`` or ``trial`` and import :class:`DemoTrial` for its type.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from dosewise.report.trial_data import TrialData, load_trial_data
from dosewise.settings import Settings
from dosewise.store import migrate
from dosewise.store.session import Database, open_database
from dosewise.trial import bootstrap
from dosewise.trial.audit import Actor
from dosewise.trial.demo import DemoClock, DemoResult, load_demo_trial
from dosewise.trial.uow import UnitOfWork
from pg import make_settings


@dataclass(frozen=True)
class DemoTrial:
    """The loaded database, what the script did, and the day the run ended."""

    url: str
    settings: Settings
    db: Database
    result: DemoResult
    today: date


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTrial]:
    path = tmp_path_factory.mktemp("demo-trial") / "trial.db"
    url = f"sqlite:///{path}"
    settings = make_settings(url)
    db = open_database(settings)
    migrate.upgrade(db.engine)
    with UnitOfWork(db, Actor.system("test-setup")) as uow:
        bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
    clock = DemoClock()
    result = load_demo_trial(db, settings, clock)
    try:
        yield DemoTrial(url, settings, db, result, clock().date())
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def trial(demo_db: DemoTrial) -> TrialData:
    with demo_db.db.sessions() as session:
        return load_trial_data(session, as_of=demo_db.today)


def run_cli(args: list[str]) -> int:
    """Exit code of ``dosewise <args>`` run in-process."""
    from dosewise.cli.app import main

    try:
        main(args)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0
