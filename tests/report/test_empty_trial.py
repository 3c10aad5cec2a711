"""Every export works on a trial that has no participants yet (a fresh database): the
documents say so instead of failing (the API would otherwise answer an allowed user with a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from dosewise.report.exports import EXPORT_KINDS
from dosewise.report.trial_data import TrialData, load_trial_data
from dosewise.store import migrate
from dosewise.store.session import open_database
from dosewise.trial import bootstrap
from dosewise.trial.audit import Actor
from dosewise.trial.uow import UnitOfWork
from pg import make_settings


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialData]:
    path = tmp_path_factory.mktemp("empty-trial") / "trial.db"
    settings = make_settings(f"sqlite:///{path}")
    db = open_database(settings)
    try:
        migrate.upgrade(db.engine)
        with UnitOfWork(db, Actor.system("test-setup")) as uow:
            bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
        with db.sessions() as session:
            yield load_trial_data(session, as_of=date(2026, 1, 1))
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("kind", "suffix"),
    [(k, s) for k, spec in EXPORT_KINDS.items() for s in (spec.suffixes or ("",))],
)
def test_every_export_of_an_empty_trial(
    kind: str, suffix: str, empty: TrialData, tmp_path: Path
) -> None:
    assert empty.participants.empty and len(empty.states) == 3
    spec = EXPORT_KINDS[kind]
    out = tmp_path / f"{kind}{suffix}" if suffix else tmp_path
    if suffix == ".pdf":
        pytest.importorskip("weasyprint")
    detail = spec.load_writer()(empty, out, "en")
    assert detail["format"]
    if spec.folder:
        assert (out / "dm.xpt").is_file() and (out / "define.html").is_file()
        assert "NCT07070323" in (out / "define.html").read_text(encoding="utf-8")
    else:
        assert out.stat().st_size > 0
    if kind in ("ctgov", "dsmb"):
        assert detail.get("treated") == 0
