"""The arm state's reasons as data: every step code renders in English and Chinese from its
parameters, a step wrapping a design decision renders that decision too, and a stored row
without a code shows its English text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dosewise.trial.state.later import NextStep
from dosewise.trial.state.reasons import (
    STEP_MESSAGES,
    assignment_text,
    decision_text,
    known_code,
    plain_step,
    plain_summary,
    reason_text,
)

HAN = re.compile(r"[\u4e00-\u9fff]")

DESIGN = {
    "reason": "No patient yet: start at dose 2.",
    "reason_code": "start",
    "reason_params": {"dose": 2},
}

SAMPLES: dict[str, dict[str, Any]] = {
    "join_cohort": {
        "cohort": 2,
        "dose": 2,
        "level": "DL1",
        "filled": 1,
        "size": 3,
        "decision": DESIGN,
    },
    "wait_pending": {
        "cohort": 3,
        "until": "2026-03-08",
        "count": 2,
        "pending": [
            {
                "study_id": "S01-0001",
                "waiting_for": ["dlt_window", "response_assessment"],
                "known_by": "2026-03-08",
            },
            {"study_id": "S02-0002", "waiting_for": ["infusion"], "known_by": None},
        ],
    },
    "tite_accrual_pending": {"decision": DESIGN, "count": 2},
    "close_obd": {"decision": DESIGN},
    "close_no_obd": {"decision": DESIGN},
    "closed": {},
    "closed_after_look": {"look": 2, "look_decision": "not_promising"},
    "closed_no_obd": {},
    "bop2_stopped": {"look": 1},
    "phase2_expansion": {"level": "DL1", "dose": 2, "assigned": 3, "expansion": 12, "enrolled": 4},
    "phase2_full": {"level": "DL1", "dose": 2, "assigned": 12, "expansion": 12, "enrolled": 12},
    "phase2_rp2d": {"level": "DL1"},
    "note_fallback_safety_only": {"level": "DL-1"},
    "note_fallback_actual": {"level": "DL-1", "design_dose": 1},
    "note_no_fallback": {},
    "note_calendar": {"zone": "Asia/Shanghai"},
    "reopened": {
        "events": [
            {"term": "Cytokine release syndrome", "grade": 3, "onset_day": 5, "status": "dlt"}
        ]
    },
}


def test_every_step_code_has_a_sample() -> None:
    assert set(SAMPLES) == {c for c in STEP_MESSAGES if not c.startswith("_")}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_each_step_renders_in_both_languages(code: str) -> None:
    english = reason_text(code, SAMPLES[code], "en")
    chinese = reason_text(code, SAMPLES[code], "zh")
    assert english and not HAN.search(english)
    assert HAN.search(chinese)
    assert "{" not in english + chinese
    # Steps name doses by the protocol's level, never "dose 2 (DL1)".
    assert "(dose" not in english and "(DL1)" not in english


def test_a_wrapped_design_decision_is_rendered_in_the_language_too() -> None:
    zh = reason_text("close_obd", SAMPLES["close_obd"], "zh")
    assert "尚无受试者" in zh and "关闭第一阶段" in zh
    wait = reason_text("wait_pending", SAMPLES["wait_pending"], "zh")
    assert "DLT 观察窗" in wait and "疗效评估" in wait and "S01-0001" in wait and "回输" in wait


def test_next_step_keeps_english_and_renders_chinese() -> None:
    step = NextStep.of("closed", "bop2_stopped", {"look": 1})
    assert step.reason == "BOP2 look 1 stopped the arm."
    assert step.text("zh") == "第 1 次 BOP2 分析终止了该组。"
    data = step.to_dict("zh")
    assert data["reason"] == step.text("zh") and data["reason_code"] == "bop2_stopped"
    assert data["reason_params"] == {"look": 1}
    # A step without a code (built the old way) shows its text in every language.
    assert NextStep("wait", "old text").text("zh") == "old text"


def test_stored_rows_without_a_code_show_their_english_reason() -> None:
    assert decision_text({"reason": "Escalate to dose 3."}, "zh") == "Escalate to dose 3."
    assert decision_text({"reason": "x", "reason_code": "nope", "reason_params": {}}, "zh") == "x"
    assert decision_text(None, "zh") == ""
    assert decision_text(DESIGN, "zh") == "尚无受试者：从剂量 2 开始。"
    # An assignment shows the step that made it, else its decision, else the old English step.
    stored = {**DESIGN, "step_reason": "Cohort ...", "step_reason_code": "join_cohort"}
    stored["step_reason_params"] = SAMPLES["join_cohort"]
    assert assignment_text(stored, "zh").startswith("第 2 队列（DL1）")
    assert assignment_text({**DESIGN, "step_reason": "Old English."}, "zh") == "Old English."
    assert assignment_text(DESIGN, "zh") == "尚无受试者：从剂量 2 开始。"
    assert known_code("start") and known_code("wait_pending") and not known_code(None)


LEVELS = {1: ("DL-1", "5×10⁵"), 2: ("DL1", "1×10⁶"), 3: ("DL2", "2×10⁶")}


def test_the_plain_summary_names_the_protocol_level_and_the_counts() -> None:
    decision = {
        "reason_code": "highest_desirability",
        "reason_params": {},
        "next_dose": 2,
        "current_dose": 2,
        "outcomes": "2NEE",
        "stop": False,
        "select_obd": False,
    }
    assert plain_summary(decision, LEVELS, "en") == (
        "Next cohort: DL1 (1×10⁶/kg). Basis: 0 DLTs and 2 responses in 3 participants at DL1."
    )
    assert plain_summary(decision, LEVELS, "zh") == (
        "下一队列：DL1（1×10⁶/kg）。依据：DL1 的 3 例中 0 例 DLT，2 例缓解。"
    )
    escalate = {**decision, "outcomes": "2NEE 2TNE", "next_dose": 1}
    assert plain_summary(escalate, LEVELS, "en") == (
        "Next cohort: DL-1 (5×10⁵/kg). Basis: 1 DLT and 3 responses in 6 participants at DL1."
    )
    start = {"reason_code": "start", "reason_params": {"dose": 2}, "next_dose": 2}
    assert plain_summary(start, LEVELS, "zh").startswith("下一队列：DL1（1×10⁶/kg）。依据：尚无")
    obd = {**decision, "select_obd": True, "next_dose": None}
    assert plain_summary(obd, LEVELS, "en").startswith("Dose finding is over: select the OBD.")
    # The design's 1-based index never shows in the summary.
    for d in (decision, escalate, start, obd):
        for lang in ("en", "zh"):
            assert "dose 2" not in plain_summary(d, LEVELS, lang)
    # Not a design decision (phase 2's fixed RP2D, an old row): no summary.
    assert plain_summary({"reason_code": "phase2_rp2d"}, LEVELS, "en") == ""
    assert plain_summary({"reason": "old"}, LEVELS, "en") == ""


def test_a_waiting_step_says_how_many_outcomes_are_pending() -> None:
    step = NextStep.of("wait", "wait_pending", SAMPLES["wait_pending"], phase=1)
    assert plain_step(step, LEVELS, "zh") == "下一位受试者需等待：仍有 2 例结局待定。"


def test_a_phase1_closure_has_a_plain_summary_too() -> None:
    closure = {
        "kind": "phase1_closure",
        "obd_level": "DL1",
        "rp2d_level": "DL1",
        "reason_code": "trial_end_max_n",
        "outcomes": "2NEN 2EBT 2EEE",
    }
    assert plain_summary(closure, LEVELS, "en") == (
        "Phase 1 closed: the OBD is DL1 (1×10⁶/kg); the phase 2 dose (RP2D) is DL1. "
        "Basis: 2 DLTs and 6 responses in 9 participants at DL1."
    )
    assert plain_summary(closure, LEVELS, "zh") == (
        "第一阶段已关闭：OBD 为 DL1（1×10⁶/kg），II 期推荐剂量 (RP2D) 为 DL1。"
        "依据：DL1 的 9 例中 2 例 DLT，6 例缓解。"
    )
    none = {"kind": "phase1_closure", "obd_level": None, "rp2d_level": None}
    assert plain_summary(none, LEVELS, "zh") == "第一阶段已关闭，无 OBD。"
