"""An arm whose dose finding has ended, for the browser tests of the statistician's views and of
the forms that follow (issue 17 items 3 and 7): a database of its own where the new-donor arm ran
cohorts of "N E B" (no event, response, DLT with response) at the design's doses until the design
selected an OBD, every participant with a month-3 assessment, all through the services with a
clock that starts 200 days ago (the page tests' ``Acts``, tests/services/svc_helpers.py)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dosewise.settings import Settings
from dosewise.store.session import open_database
from dosewise.trial.arm_state import arm_state
from dosewise.trial.demo import plan
from dosewise.trial.services import responses
from pg import FakeClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from svc_helpers import COORD, Acts, outcome

ARM = "new_donor"
LETTERS = "NEB"


def end_of_phase_1(settings: Settings) -> list[tuple[str, str]]:
    """Run the arm to the design's OBD selection; (study ID, site) of each participant."""
    db = open_database(settings)
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    acts = Acts(db, settings, FakeClock(start - timedelta(days=200)))
    everyone: list[tuple[str, str, object, str]] = []
    try:
        for _ in range(6):
            with acts.uow("stat", readonly=True) as uow:
                state = arm_state(uow.session, ARM, as_of=acts.today)
            if state.next.action != "assign":
                break
            cohort = []
            for k, letter in enumerate(LETTERS):
                site = ("S01", "S02")[k % 2]
                sid = acts.recruit(site, ARM)
                cohort.append((sid, site, acts.treat(sid, site).infused_on, letter))
            acts.advance(31)
            for sid, site, day0, letter in cohort:
                outcome(acts, sid, letter, day0, site)
            everyone += cohort
        assert state.next.action == "select_obd", state.next
        acts.advance(100)  # past every participant's month-3 assessment
        for sid, site, day0, letter in everyone:
            acts.run(
                COORD[site],
                responses.record_response,
                sid,
                assessed_on=day0 + timedelta(days=90),  # type: ignore[operator]
                marrow=plan.marrow(letter in "EB", 0),
            )
    finally:
        db.dispose()
    return [(sid, site) for sid, site, *_ in everyone]
