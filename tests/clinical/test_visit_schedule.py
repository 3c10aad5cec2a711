"""Visit windows at their edges (study day 0 = infusion; month 3 = day 90 ± 7, clinical.md §3.3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dosewise.clinical.schedule import study_day, visit_status
from dosewise.errors import InvalidInput
from dosewise.protocol import default_protocol

DAY0 = date(2025, 8, 1)
#: The embedded protocol's schedule (``visits:``), the only one.
SCHEDULE = default_protocol().visit_schedule()


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def status_of(name: str, on: int, done: dict[str, date] | None = None) -> str:
    rows = {r.visit.name: r for r in visit_status(DAY0, day(on), done, SCHEDULE)}
    return rows[name].status


def test_the_schedule_is_the_protocols_visits() -> None:
    """One schedule: the protocol file's ``visits:`` with their labels, zh labels and whys."""
    visits = default_protocol().visits
    assert [v.name for v in SCHEDULE] == [v.name for v in visits]
    month_2 = next(v for v in SCHEDULE if v.name == "month_2")
    assert (month_2.label, month_2.label_in("zh_CN")) == ("Month 2", "第 2 个月")
    assert next(v for v in SCHEDULE if v.name == "day_7").assumption.startswith("The registry")


def test_schedule_days_and_windows() -> None:
    windows = {v.name: (v.first_day, v.day, v.last_day) for v in SCHEDULE}
    assert windows["lymphodepletion"] == (-7, -5, -3)
    assert windows["infusion"] == (0, 0, 0)
    assert windows["day_7"] == (6, 7, 8)
    assert windows["day_28"] == (26, 28, 30)
    assert windows["month_3"] == (83, 90, 97)  # "3 months (± 1 week)"
    assumed = [v.name for v in SCHEDULE if v.assumption]
    assert "month_3" not in assumed and "day_7" in assumed


@pytest.mark.parametrize(
    ("on", "expected"),
    [(5, "upcoming"), (6, "due"), (7, "due"), (8, "due"), (9, "overdue")],
)
def test_day_7_not_done(on: int, expected: str) -> None:
    assert status_of("day_7", on) == expected


@pytest.mark.parametrize(
    ("done_day", "expected"),
    [(82, "out_of_window"), (83, "done"), (90, "done"), (97, "done"), (98, "out_of_window")],
)
def test_month_3_done_at_window_edges(done_day: int, expected: str) -> None:
    assert status_of("month_3", 100, {"month_3": day(done_day)}) == expected


def test_month_3_due_and_overdue_edges() -> None:
    assert status_of("month_3", 82) == "upcoming"
    assert status_of("month_3", 83) == "due"
    assert status_of("month_3", 97) == "due"
    assert status_of("month_3", 98) == "overdue"


def test_lymphodepletion_before_infusion() -> None:
    assert status_of("lymphodepletion", -8) == "upcoming"
    assert status_of("lymphodepletion", -3) == "due"
    assert status_of("lymphodepletion", -2) == "overdue"
    assert status_of("lymphodepletion", 0, {"lymphodepletion": day(-5)}) == "done"


def test_assessment_level_records() -> None:
    rows = {
        r.visit.name: r
        for r in visit_status(
            DAY0,
            day(29),
            {"day_28.bone_marrow_mrd": day(27), "day_28.response": day(27)},
            SCHEDULE,
        )
    }
    d28 = rows["day_28"]
    by_name = {a.assessment: a.status for a in d28.assessments}
    assert by_name["bone_marrow_mrd"] == "done"
    assert by_name["blood_counts"] == "due"
    assert d28.status == "due"  # not every assessment done yet


def test_all_assessments_done_makes_the_visit_done() -> None:
    visit = next(v for v in SCHEDULE if v.name == "day_14")
    done = {f"day_14.{a}": day(14) for a in visit.assessments}
    rows = {r.visit.name: r for r in visit_status(DAY0, day(20), done, SCHEDULE)}
    assert rows["day_14"].status == "done"
    assert rows["day_14"].done_on == day(14)


def test_bad_records() -> None:
    with pytest.raises(InvalidInput, match="unknown visit"):
        visit_status(DAY0, day(10), {"day_8": day(8)}, SCHEDULE)
    with pytest.raises(InvalidInput, match="unknown visit"):
        visit_status(DAY0, day(10), {"day_7.karaoke": day(7)}, SCHEDULE)
    with pytest.raises(InvalidInput, match="after the status date"):
        visit_status(DAY0, day(10), {"day_7": day(12)}, SCHEDULE)


def test_study_day() -> None:
    assert study_day(DAY0, DAY0) == 0
    assert study_day(DAY0, day(-1)) == -1
    assert study_day(DAY0, day(90)) == 90
