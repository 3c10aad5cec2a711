"""The DLT rule's reasons as data: every code has English and Chinese words with the same
parameters; the English words are the ``reason`` the assessment always had, and the same
code and parameters read in Chinese (issue 16)."""

from __future__ import annotations

import re
import string
from datetime import date, timedelta

import pytest

from dosewise.clinical.ctcae import AdverseEvent, GradePoint
from dosewise.clinical.dlt import DEFAULT_DLT_DEFINITION, classify_dlts
from dosewise.clinical.dlt_reasons import REASONS, event_text, grades, render, stored_parts

DAY0 = date(2025, 8, 1)
HAN = re.compile(r"[\u4e00-\u9fff]")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_has_both_languages_with_the_same_parameters(code: str) -> None:
    words = REASONS[code]
    assert _fields(words["en"]) == _fields(words["zh"])
    assert HAN.search(words["zh"]) or code in ("dlt",), words["zh"]


def test_grades_in_words() -> None:
    assert [grades(3, 3), grades(3, None), grades(3, 4)] == ["grade 3", "grade >= 3", "grade 3-4"]
    assert [grades(3, 3, "zh"), grades(3, None, "zh"), grades(3, 4, "zh")] == [
        "3 级",
        "≥ 3 级",
        "3–4 级",
    ]


def _crs(grade: int, onset: int, resolved: int | None = None) -> AdverseEvent:
    end = None if resolved is None else DAY0 + timedelta(days=resolved)
    course = (GradePoint(DAY0 + timedelta(days=onset), grade),)
    return AdverseEvent(
        "CRS", grade, DAY0 + timedelta(days=onset), end, course=course, attribution="probable"
    )


def test_the_english_reason_is_the_rendered_code() -> None:
    result = classify_dlts(
        [_crs(1, 3, 5)], DEFAULT_DLT_DEFINITION, DAY0, assessed_on=DAY0 + timedelta(days=35)
    )
    assert result.status == "no_dlt"
    assert result.reason == "no DLT through study day 28 (followed to day 35)"
    assert (result.reason_code, result.reason_params) == ("no_dlt", {"days": 35, "need": 28})
    assert (
        render((result.reason_code, result.reason_params), "zh")
        == "至研究第 28 天无 DLT（随访至第 35 天）"
    )
    event = result.events[0].to_dict()
    parts = stored_parts(event["reason_parts"])
    assert event_text(parts) == event["reason"]
    assert "grade 1 is below grade >= 4" in event["reason"]
    chinese = event_text(
        parts, "zh", rule=lambda rid: {"crs_grade_4_or_5": "4–5 级 CRS"}.get(rid, rid)
    )
    assert "4–5 级 CRS：1 级，低于≥ 4 级" in chinese


def test_a_pending_participant_names_the_event_in_the_readers_words() -> None:
    result = classify_dlts(
        [_crs(3, 2)], DEFAULT_DLT_DEFINITION, DAY0, assessed_on=DAY0 + timedelta(days=4)
    )
    assert result.status == "pending" and result.reason_code == "pending_event"
    assert result.reason.startswith("pending: Cytokine release syndrome: ")
    chinese = render(
        (result.reason_code, result.reason_params), "zh", term=lambda t: "细胞因子释放综合征"
    )
    assert chinese.startswith("待定：细胞因子释放综合征：")
    assert "前改善至 ≤ 2 级，否则为 DLT" in chinese
