"""The site's calendar: at 07:30 in Shanghai (23:30 UTC the day before) "today" is the Shanghai
date, for the default registration date and for the "not in the future" rule; storage stays UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from svc_helpers import Acts

from dosewise.errors import InvalidInput
from dosewise.trial.calendar import local_today, site_zone
from dosewise.trial.services import participants

LATE_UTC = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2026-03-02 07:30 in Shanghai


def test_today_is_the_sites_date_not_the_utc_date(acts: Acts) -> None:
    acts.clock.moment = LATE_UTC
    with acts.uow("coord1", readonly=True) as uow:
        assert str(site_zone(uow.session, "S01")) == "Asia/Shanghai"
        assert local_today(uow, "S01") == date(2026, 3, 2)
        assert local_today(uow) == date(2026, 3, 2)  # the trial's zone: the first site's
        assert local_today(uow, "no-such-site") == date(2026, 3, 2)


def test_registration_defaults_to_and_accepts_the_sites_today(acts: Acts) -> None:
    acts.clock.moment = LATE_UTC
    default = acts.run("coord1", participants.register_participant, "S01")
    assert default.registered_on == date(2026, 3, 2)
    same_day = acts.run(
        "coord1", participants.register_participant, "S01", registered_on=date(2026, 3, 2)
    )
    assert same_day.registered_on == date(2026, 3, 2)
    with pytest.raises(
        InvalidInput, match=r"is in the future \(today is 2026-03-02 in Asia/Shanghai\)"
    ):
        acts.run("coord1", participants.register_participant, "S01", registered_on=date(2026, 3, 3))
