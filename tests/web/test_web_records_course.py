"""The grade-course table of the AE forms read into the event's course (issue 17 item 6):
filled rows in order, empty rows skipped, a half-filled row refused naming its place."""

from __future__ import annotations

import pytest

from dosewise.errors import InvalidInput
from dosewise.web import records
from dosewise.web.render import Form


def _form(**values: str) -> Form:
    return Form({k: [v] for k, v in values.items()})


def test_rows_become_the_course() -> None:
    form = _form(
        course_date_0="2026-01-07",
        course_grade_0="3",
        course_date_2="2026-01-09",
        course_grade_2="1",
    )
    assert records.grade_course(form) == [
        {"date": "2026-01-07", "grade": 3},
        {"date": "2026-01-09", "grade": 1},
    ]
    assert records.grade_course(_form()) == []


def test_a_half_filled_row_names_its_place() -> None:
    with pytest.raises(InvalidInput) as info:
        records.grade_course(
            _form(course_date_0="2026-01-07", course_grade_0="3", course_date_1="2026-01-09")
        )
    assert info.value.field == "course[1].grade"
    with pytest.raises(InvalidInput) as info:
        records.grade_course(_form(course_grade_0="2"))
    assert info.value.field == "course[0].date"


def test_the_new_event_form_carries_the_course() -> None:
    form = _form(
        ae_kind="ctcae",
        onset_on="2026-01-07",
        term="Nausea",
        grade="3",
        course_date_0="2026-01-07",
        course_grade_0="3",
    )
    assert records.adverse_event(form)["course"] == [{"date": "2026-01-07", "grade": 3}]
