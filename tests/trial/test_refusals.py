"""The services' refusals as data: every code has English and Chinese words with the same
parameters, every raise in the services carries a code, and the rendered words follow the
request's language (issue 16 item 1)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from dosewise.errors import InvalidInput
from dosewise.trial import access, refusals
from dosewise.trial.access import Forbidden
from dosewise.trial.refusals import CHOICES, REFUSALS, refusal, render, subject
from dosewise.trial.services._common import WrongState
from dosewise.trial.state.reasons import STEP_MESSAGES, known_code, reason_text

SERVICES = Path(refusals.__file__).parent / "services"
HAN = re.compile(r"[\u3400-\u9fff]")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_every_refusal_has_both_languages_with_the_same_parameters(code: str) -> None:
    words = REFUSALS[code]
    assert set(words) == {"en", "zh"}
    assert _fields(words["en"]) == _fields(words["zh"]), code
    assert HAN.search(words["zh"]), f"{code}: no Chinese in {words['zh']!r}"
    assert known_code(code)


def test_refusal_codes_are_not_step_or_design_codes() -> None:
    assert not set(REFUSALS) & set(STEP_MESSAGES)
    assert not any(known_code(c) and c in STEP_MESSAGES for c in REFUSALS)


def test_every_choice_has_chinese_words() -> None:
    for kind, values in CHOICES.items():
        for value, words in values.items():
            assert set(words) == {"en", "zh"}, (kind, value)
            abbreviation = re.fullmatch(r"[A-Z]+", words["zh"])  # CRS, ICANS, DLT
            assert not words["en"] or HAN.search(words["zh"]) or abbreviation, (kind, value)


def test_every_action_of_the_permission_matrix_has_chinese_words() -> None:
    assert set(access.ACTIONS) == set(CHOICES["action"])
    assert set(access.PERMISSIONS) == set(access.ACTIONS)


def test_a_refusal_keeps_its_english_rule_and_carries_its_code() -> None:
    exc = refusal(WrongState, "study_id", "S01-0001", "off_study_since", date="2026-05-01")
    assert exc.rule == "is already off study since 2026-05-01"
    assert exc.message == "study_id='S01-0001': is already off study since 2026-05-01"
    assert exc.reason_code == "off_study_since"
    assert exc.reason_params == {"date": "2026-05-01"}
    assert reason_text(exc.reason_code, exc.reason_params, "zh") == "已于 2026-05-01 退出研究"


def test_codes_in_parameters_are_shown_in_words() -> None:
    exc = refusal(
        Forbidden,
        "action",
        "dose.confirm",
        "role_may_not",
        role="coordinator",
        action="dose.confirm",
    )
    assert exc.rule == "role coordinator may not confirm a dose decision (e-signature)"
    assert (
        render("role_may_not", exc.reason_params, "zh")
        == "角色“研究协调员”无权确认剂量决策（电子签名）"
    )
    listed = refusal(InvalidInput, "sort", "x", "one_of", choices=("a", "b"))
    assert listed.rule == "must be one of a, b"
    assert render("one_of", listed.reason_params, "zh") == "须为以下之一：a、b"


def test_a_step_parameter_is_rendered_in_the_language_asked() -> None:
    step = {"reason_code": "closed", "reason_params": {}, "reason": "The arm is closed."}
    exc = refusal(WrongState, "arm_id", "autologous", "dose_finding_ended", step=step)
    assert exc.rule == "dose finding has ended: The arm is closed."
    assert (
        reason_text("dose_finding_ended", exc.reason_params, "zh") == "剂量探索已结束：该组已关闭。"
    )


def test_the_subject_of_an_error_reads_in_the_pages_language() -> None:
    assert subject("study_id", "S01-0001", "en") == "study_id='S01-0001'"
    assert subject("study_id", "S01-0001", "zh") == "研究编号「S01-0001」"
    assert subject("study_id", None, "zh") == "研究编号"
    assert subject("no_such_field", None, "zh") == ""


def _raises_without_code(path: Path) -> list[str]:
    """``raise SomeError("field", value, "English rule")`` with no reason code."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        call = node.exc
        if isinstance(call.func, ast.Name) and call.func.id == "refusal":
            continue
        if len(call.args) < 3 or any(k.arg == "reason_code" for k in call.keywords):
            continue
        found.append(f"{path.name}:{node.lineno}")
    return found


def test_every_refusal_of_the_services_carries_a_code() -> None:
    """A new refusal in the services must be written with :func:`refusal` (or carry the
    code of the arm state's step it passes on), so that it reads in Chinese too."""
    found = [hit for path in sorted(SERVICES.glob("*.py")) for hit in _raises_without_code(path)]
    assert not found, f"refusals without a code: {found}"


def test_the_scan_finds_a_refusal_without_a_code(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('def f():\n    raise WrongState("study_id", 1, "is off study")\n')
    assert _raises_without_code(sample) == ["sample.py:2"]


def test_allowed_values_read_in_words_where_a_catalog_has_them() -> None:
    """Issue 16 item 3: "must be one of …" lists the values in words in Chinese (the codes one
    types stay in English); without a catalog the codes are shown."""
    exc = refusal(
        InvalidInput, "kind", "x", "one_of", choices=("answer", "close"), choice_of="kind"
    )
    assert exc.rule == "must be one of answer, close"
    assert render("one_of", exc.reason_params, "zh") == "须为以下之一：回复、关闭"
    status = refusal(
        InvalidInput, "status", "x", "one_of", choices=("open", "unresolved"), choice_of="status"
    )
    assert "未解决、未关闭" in render("one_of", status.reason_params, "zh")


def test_a_reopened_adjudication_gives_its_reason_as_a_code() -> None:
    """Issue 16 item 3: the reason a final adjudication is reopened reads in Chinese, with the
    AE term in Chinese words; the English text is as before."""
    from dosewise.trial.state.adjudication import Reopening

    event = {"id": 7, "term": "Cytokine release syndrome", "grade": 3, "onset_day": 5}
    reopened = Reopening(1, ({**event, "status": "dlt"},))
    assert reopened.reason == (
        "needs re-adjudication: Cytokine release syndrome grade 3 (day 5, rule: dlt) "
        "recorded or corrected after adjudication"
    )
    assert reopened.to_dict()["reason_code"] == "reopened"
    zh = reason_text("reopened", reopened.reason_params, "zh")
    assert zh == "需重新判定：判定后录入或更正了 细胞因子释放综合征 3 级（第 5 天，规则判定：DLT）"
    # Passed on inside a refusal, it is rendered in the refusal's language.
    exc = refusal(
        WrongState,
        "study_id",
        "S01-0001",
        "needs_readjudication",
        names=["S01-0001"],
        others=0,
        why=reopened.as_reason(),
    )
    assert "needs re-adjudication: Cytokine" in exc.rule
    assert "细胞因子释放综合征" in reason_text(exc.reason_code or "", exc.reason_params, "zh")
