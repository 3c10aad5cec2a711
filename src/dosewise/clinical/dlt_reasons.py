"""The DLT rule's reasons as data: a code, its parameters, words in English and Chinese.

:mod:`dosewise.clinical.dlt` says why an event is (not) a DLT under one rule, and why a
participant's DLT status is what it is, as a :data:`Why` — ``(code, params)`` — and keeps the
English text it always had (``reason``, rendered here). Pages render the same codes in the
reader's language with :func:`render`; the adverse-event terms and the rules' names are
given in words by the caller (``term`` and ``rule`` callables), since the core does not know
the protocol's texts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal

Lang = Literal["en", "zh"]
#: A reason as data: its code and parameters.
Why = tuple[str, dict[str, Any]]
Words = Callable[[str], str]

#: One template per reason code, in each language. ``{grades}`` is the rule's grade range in
#: words (from ``min_grade`` / ``max_grade``).
REASONS: Final[dict[str, dict[Lang, str]]] = {
    # -- one rule against one event ----------------------------------------------------------
    "below_grade": {"en": "grade {grade} is below {grades}", "zh": "{grade} 级，低于{grades}"},
    "excepted": {"en": "excepted ({exception})", "zh": "属规则的例外（{exception}）"},
    "outside_window": {
        "en": "reached grade {min_grade} on study day {day}, outside the window",
        "zh": "于研究第 {day} 天达到 {min_grade} 级，在观察期之外",
    },
    "not_related": {
        "en": "attribution {attribution}: not related to the product",
        "zh": "相关性为“{attribution}”：与产品无关",
    },
    "at_baseline": {"en": "present before lymphodepletion", "zh": "清淋前已存在"},
    "disease": {"en": "explained by the disease", "zh": "可由原发疾病解释"},
    "on_day": {"en": "{grades} on study day {day}", "zh": "研究第 {day} 天{grades}"},
    "scale": {
        "en": " (graded by {scale}; the rule expects {rule_scale})",
        "zh": "（按 {scale} 分级；规则要求 {rule_scale}）",
    },
    "improved_in_time": {
        "en": "improved to grade <= {to_grade} in {hours} h (<= {limit} h)",
        "zh": "{hours} 小时内改善至 ≤ {to_grade} 级（≤ {limit} 小时）",
    },
    "improved_late": {
        "en": "improved to grade <= {to_grade} only after {hours} h (> {limit} h)",
        "zh": "{hours} 小时后才改善至 ≤ {to_grade} 级（> {limit} 小时）",
    },
    "not_improved": {
        "en": "not improved to grade <= {to_grade} within {limit} h",
        "zh": "{limit} 小时内未改善至 ≤ {to_grade} 级",
    },
    "pending_improvement": {
        "en": "a DLT unless it improves to grade <= {to_grade} by {last}",
        "zh": "除非在 {last} 前改善至 ≤ {to_grade} 级，否则为 DLT",
    },
    "ended_before_limit": {
        "en": "observation ended before the {limit} h limit",
        "zh": "观察在 {limit} 小时时限前结束",
    },
    "persisting": {
        "en": "grade >= {min_grade} persisting beyond study day {day}",
        "zh": "≥ {min_grade} 级持续超过研究第 {day} 天",
    },
    "recovered_by": {
        "en": "recovered below grade {min_grade} by day {day}",
        "zh": "第 {day} 天前已恢复至 {min_grade} 级以下",
    },
    "recovered": {"en": "recovered below grade {min_grade}", "zh": "已恢复至 {min_grade} 级以下"},
    "pending_persistence": {
        "en": "a DLT if grade >= {min_grade} persists beyond study day {day}",
        "zh": "若 ≥ {min_grade} 级持续超过研究第 {day} 天则为 DLT",
    },
    "ended_before_day": {
        "en": "observation ended before day {day}",
        "zh": "观察在第 {day} 天前结束",
    },
    "no_rule": {
        "en": "no DLT rule covers {term} grade {grade}",
        "zh": "没有 DLT 规则适用于 {term} {grade} 级",
    },
    # -- a participant -----------------------------------------------------------------------
    "dlt": {"en": "DLT: {events}", "zh": "DLT：{events}"},
    "_event": {"en": "{term} grade {grade} (day {day})", "zh": "{term} {grade} 级（第 {day} 天）"},
    "pending_event": {"en": "pending: {term}: {event}", "zh": "待定：{term}：{event}"},
    "unknown_event": {
        "en": "DLT status unknown: {term}: {event}",
        "zh": "DLT 状态未知：{term}：{event}",
    },
    "dlt_in_follow_up": {
        "en": "DLT recorded; follow-up day {days} of {need}",
        "zh": "已记录 DLT；随访第 {days}/{need} 天",
    },
    "dlt_follow_up_ended": {
        "en": "DLT recorded but follow-up ended on day {days} of {need}",
        "zh": "已记录 DLT，但随访于第 {days}/{need} 天结束",
    },
    "no_dlt": {
        "en": "no DLT through study day {need} (followed to day {days})",
        "zh": "至研究第 {need} 天无 DLT（随访至第 {days} 天）",
    },
    "no_dlt_so_far": {
        "en": "no DLT so far; in follow-up, day {days} of {need}",
        "zh": "目前无 DLT；随访中，第 {days}/{need} 天",
    },
    "died_early": {
        "en": "died on study day {days}, before day {need}, without a DLT",
        "zh": "于研究第 {days} 天死亡，早于第 {need} 天，无 DLT",
    },
    "off_study_early": {
        "en": "off study on study day {days}, before day {need}, without a DLT",
        "zh": "于研究第 {days} 天退出研究，早于第 {need} 天，无 DLT",
    },
}

_GRADES: Final[dict[str, dict[Lang, str]]] = {
    "one": {"en": "grade {min}", "zh": "{min} 级"},
    "from": {"en": "grade >= {min}", "zh": "≥ {min} 级"},
    "range": {"en": "grade {min}-{max}", "zh": "{min}–{max} 级"},
}
_SEPARATOR: Final[dict[Lang, tuple[str, str, str]]] = {
    "en": (": ", "; ", ", "),
    "zh": ("：", "；", "、"),
}


def grades(min_grade: int, max_grade: int | None, lang: Lang = "en") -> str:
    """A rule's grade range in words: ``grade >= 3``, ``grade 3`` or ``grade 3-4``."""
    kind = "one" if max_grade == min_grade else "from" if max_grade is None else "range"
    return _GRADES[kind][lang].format(min=min_grade, max=max_grade)


def _same(text: str) -> str:
    return text


def render(
    why: Why | Sequence[Why],
    lang: Lang = "en",
    *,
    term: Words = _same,
    rule: Words = _same,
) -> str:
    """The words of a reason (or of reasons written one after the other) in ``lang``."""
    whys: Sequence[Any] = [why] if why and isinstance(why[0], str) else why
    return "".join(_one(str(code), params, lang, term, rule) for code, params in whys)


def event_text(
    parts: Sequence[tuple[str, Sequence[Why]]],
    lang: Lang = "en",
    *,
    term: Words = _same,
    rule: Words = _same,
) -> str:
    """An event's reasons, one per rule: ``rule: why; rule: why``."""
    colon, semicolon, _ = _SEPARATOR[lang]
    return semicolon.join(
        f"{rule(rid)}{colon}{render(whys, lang, term=term, rule=rule)}" for rid, whys in parts
    )


def _one(code: str, params: Mapping[str, Any], lang: Lang, term: Words, rule: Words) -> str:
    context = dict(params)
    if "min_grade" in params:
        context["grades"] = grades(int(params["min_grade"]), params.get("max_grade"), lang)
    if "term" in params:
        context["term"] = term(str(params["term"]))
    if "events" in params:
        _, _, comma = _SEPARATOR[lang]
        context["events"] = comma.join(
            REASONS["_event"][lang].format(**{**e, "term": term(str(e["term"]))})
            for e in params["events"]
        )
    if "event" in params:
        context["event"] = event_text(stored_parts(params["event"]), lang, term=term, rule=rule)
    return REASONS[code][lang].format(**context)


def stored_parts(value: Any) -> list[tuple[str, list[Why]]]:
    """Stored parts (JSON lists) back to ``(rule id, [(code, params), ...])``."""
    return [(str(rid), [(str(c), dict(p)) for c, p in whys]) for rid, whys in value]


__all__ = ["REASONS", "Lang", "Why", "event_text", "grades", "render", "stored_parts"]
