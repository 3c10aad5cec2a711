"""TrialData's tables: one set of rows, read as rows or as frames; the DSMB needs no pandas."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from typing import get_args

import pandas as pd

from demo_trial import DemoTrial
from dosewise.report.dsmb import build_dsmb
from dosewise.report.trial_data import TableName, TrialData


def test_rows_and_frames_hold_the_same_records(trial: TrialData) -> None:
    for name in get_args(TableName):
        frame = getattr(trial, name)
        assert isinstance(frame, pd.DataFrame)
        assert frame.to_dict("records") == list(trial.rows(name)), name
        assert getattr(trial, name) is frame  # built once
    assert trial.treated.to_dict("records") == trial.treated_rows
    assert trial.enrolled.to_dict("records") == trial.enrolled_rows


def test_a_table_given_as_a_frame_is_read_as_that_frame(trial: TrialData) -> None:
    people = trial.participants.copy()
    first = people.index[people["infused_on"].notna()][0]
    people.loc[first, "death_on"] = trial.as_of
    changed = dataclasses.replace(trial, participants=people)
    assert changed.participants is people
    assert changed.rows("participants") == tuple(people.to_dict("records"))
    dead = [d["study_id"] for d in build_dsmb(changed).deaths]
    assert people.loc[first, "study_id"] in dead
    assert len(dead) == len(build_dsmb(trial).deaths) + 1


def test_omitted_tables_are_empty(trial: TrialData) -> None:
    bare = TrialData(
        nct_id=trial.nct_id,
        as_of=trial.as_of,
        protocol=trial.protocol,
        sites=(),
        arms=(),
        participants=(),
        adverse_events=(),
        dlts=(),
        responses=(),
        audit=(),
        states={},
    )
    assert bare.rows("screenings") == ()
    assert list(bare.deviations.columns)[:2] == ["deviation_id", "participant_id"]
    assert bare.deviations.empty


def test_the_dsmb_report_does_not_import_pandas(demo_db: DemoTrial) -> None:
    code = textwrap.dedent(f"""
        import sys
        from dosewise.report.dsmb import build_dsmb, dsmb_html
        from dosewise.report.trial_data import load_trial_data
        from dosewise.settings import Settings
        from dosewise.store.session import open_database
        from datetime import date
        db = open_database(Settings(database_url={demo_db.url!r}))
        with db.sessions() as session:
            data = load_trial_data(session, as_of=date.fromisoformat({str(demo_db.today)!r}))
        html = dsmb_html(build_dsmb(data), "zh")
        db.dispose()
        print(len(data.treated_rows) > 0, "<table" in html, "pandas" in sys.modules)
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert done.stdout.split() == ["True", "True", "False"]
