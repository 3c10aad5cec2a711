"""A process killed (SIGKILL) in the middle of a write loop on SQLite loses nothing committed and
leaves nothing half-written: every act it reported as committed is there, every act is whole
(participant, screening and three audit records), and the audit chain verifies."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text

from dosewise.store.session import open_database
from dosewise.store.tables import AuditHead, AuditRecord, Participant, Screening
from dosewise.trial import audit
from pg import make_settings, sqlite_template

WRITER = Path(__file__).with_name("crash_writer.py")


def _run_and_kill(url: str, round_: int, at_least: int) -> int:
    """Start the writer, let it commit ``at_least`` acts, SIGKILL it; the last act it reported."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), url, f"R{round_}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    last = 0
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        while last < at_least and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            last = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert last >= at_least, proc.stderr.read() if proc.stderr else ""
    return last


def test_sigkill_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    rounds = 3
    path = tmp_path / "crash.db"
    shutil.copyfile(sqlite_template(), path)
    url = f"sqlite:///{path}"
    with open_database(make_settings(url)).engine.connect() as c:
        base_records = c.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    reported = 0
    for round_ in range(rounds):  # each round goes on from what the last kill left behind
        reported_now = _run_and_kill(url, round_, at_least=15)
        db = open_database(make_settings(url))
        try:
            with db.engine.connect() as c:
                assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                participants = c.execute(select(func.count()).select_from(Participant)).scalar()
                screenings = c.execute(select(func.count()).select_from(Screening)).scalar()
                records = c.execute(select(func.count()).select_from(AuditRecord)).scalar()
                head = c.execute(select(AuditHead.last_seq)).scalar()
                orphans = c.execute(
                    text(
                        "SELECT count(*) FROM participants p WHERE NOT EXISTS "
                        "(SELECT 1 FROM screenings s WHERE s.participant_id = p.id)"
                    )
                ).scalar()
            session = db.sessions()
            report = audit.verify_chain(session)
            session.close()
        finally:
            db.dispose()
        reported += reported_now
        # Nothing committed was lost: every act the writers reported is there (one more may
        # have committed between its commit and its print).
        assert participants is not None and participants >= reported
        # Nothing half-written: every act is whole.
        assert screenings == participants
        assert orphans == 0
        assert records == base_records + 3 * participants
        assert head == records
        assert report.ok, report.problems
