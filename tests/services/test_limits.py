"""The trial's total enrolment (54, ``design.total_enrollment``) is a limit of its own: with the
arms' own limits out of the way, the 55th enrolment is refused with 409 ``limit_reached`` naming
it (issue 14 item 4; the arms' limits under 20 concurrent requests are in
tests/e2e_api/test_api_enforce.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from svc_helpers import Acts

from dosewise.trial.demo import plan
from dosewise.trial.services import participants
from dosewise.trial.services._common import LimitReached


def test_the_trials_total_enrolment_is_a_limit(acts: Acts) -> None:
    with acts.db.engine.begin() as c:
        c.execute(text("UPDATE arms SET phase1_max_n = 100"))
    for i in range(54):
        acts.recruit("S01" if i % 2 else "S02", arm=("autologous", "new_donor")[i % 2])
    sid = acts.register("S01")
    record = plan.screening_record(acts.today, 34, "male")
    assert acts.run("coord1", participants.screen, sid, "autologous", record).eligible
    with pytest.raises(LimitReached) as refused:
        acts.run("coord1", participants.enroll, sid, "autologous")
    assert refused.value.http_status == 409
    assert "total enrolment is reached (54 of 54" in refused.value.rule
