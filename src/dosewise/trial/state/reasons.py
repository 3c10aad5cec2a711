"""The arm state's reasons as data: a stable code, its parameters, words in English and Chinese.

The design answers with a :class:`~dosewise.design.reasons.Why` (code + parameters, doses
1-based); the arm state adds its own steps around it (join the open cohort, wait for pending
outcomes, close phase 1, phase 2, a closed arm). Each step carries ``reason_code`` and
``reason_params``; a step that wraps a design decision keeps that decision's ``reason_code`` /
``reason_params`` / ``reason`` under the parameter ``decision``. :func:`reason_text` renders any
of these codes in ``en`` or ``zh``; :func:`decision_text` renders a stored decision dict and
falls back to its English ``reason`` when the row predates codes (or the code is unknown).

The templates are ``str.format`` strings, like the design's catalog. Steps name doses by their
protocol level (DL-1, DL1, DL2); only the design's own reason (the statistician's detail) uses
the design's 1-based index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from dosewise.clinical.ctcae_zh import term_name
from dosewise.design.outcomes import parse_outcomes
from dosewise.design.reason_catalog import Lang
from dosewise.design.reasons import ReasonCode, check_lang
from dosewise.design.reasons import render as design_render
from dosewise.errors import DosewiseError
from dosewise.trial import refusals

#: One template per step code, in each language.
STEP_MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    "join_cohort": {
        "en": (
            "Cohort {cohort} at {level} has {filled} of {size} places filled: the next patient "
            "joins it. The design's decision for it: {decision}"
        ),
        "zh": (
            "第 {cohort} 队列（{level}）已入组 {filled}/{size} 例：下一位受试者加入该队列。"
            "设计对该队列的决策：{decision}"
        ),
    },
    "wait_pending": {
        "en": (
            "The next patient must wait {when}: BOIN12 decides cohort {cohort}'s dose only when "
            "every outcome so far is known; {count} pending: {pending}."
        ),
        "zh": (
            "下一位受试者须等待{when}：BOIN12 仅在已有结局全部已知时才决定第 {cohort} 队列的"
            "剂量；待定 {count} 例：{pending}。"
        ),
    },
    "tite_accrual_pending": {
        "en": (
            "Accrual complete, awaiting follow-up: {decision} The OBD is selected once every "
            "outcome is entered and adjudicated; {count} pending."
        ),
        "zh": ("入组已完成，等待随访：{decision} 所有结局录入并判定后选择 OBD；待定 {count} 例。"),
    },
    "close_obd": {
        "en": "{decision} Close phase 1 (OBD and RP2D, e-signed).",
        "zh": "{decision} 关闭第一阶段（确定 OBD 与 RP2D，电子签名）。",
    },
    "close_no_obd": {
        "en": "{decision} Close phase 1 (no OBD).",
        "zh": "{decision} 关闭第一阶段（无 OBD）。",
    },
    "closed": {"en": "The arm is closed.", "zh": "该组已关闭。"},
    "closed_after_look": {
        "en": "The arm is closed (BOP2 look {look}: {look_decision}).",
        "zh": "该组已关闭（第 {look} 次 BOP2 分析：{look_decision}）。",
    },
    "closed_no_obd": {
        "en": "The arm is closed (phase 1 ended with no OBD).",
        "zh": "该组已关闭（第一阶段结束，无 OBD）。",
    },
    "bop2_stopped": {
        "en": "BOP2 look {look} stopped the arm.",
        "zh": "第 {look} 次 BOP2 分析终止了该组。",
    },
    "phase2_expansion": {
        "en": (
            "Phase 2 expansion at the RP2D {level}: {assigned} of {expansion} assigned, "
            "{enrolled} enrolled."
        ),
        "zh": (
            "第二阶段在 RP2D {level} 扩展：已分配 {assigned}/{expansion} 例，已入组 {enrolled} 例。"
        ),
    },
    "phase2_full": {
        "en": (
            "Phase 2 expansion at the RP2D {level}: {assigned} of {expansion} assigned, "
            "{enrolled} enrolled. The expansion is full."
        ),
        "zh": (
            "第二阶段在 RP2D {level} 扩展：已分配 {assigned}/{expansion} 例，已入组 {enrolled} 例。"
            "扩展已满。"
        ),
    },
    "phase2_rp2d": {
        "en": "Phase 2: every patient receives the RP2D {level}.",
        "zh": "第二阶段：每位受试者接受 RP2D {level}。",
    },
    # -- the arm state's notes (ArmState.note_codes) ------------------------------------------
    "note_fallback_safety_only": {
        "en": (
            "A fallback product ({level}) is outside the dose finding (fallback_policy "
            "safety_only): the participant is followed for safety only and replaced in the design."
        ),
        "zh": (
            "后备产品（{level}）不参与剂量探索（后备策略：仅安全性）：该受试者仅随访安全性，"
            "并在设计中被替换。"
        ),
    },
    "note_fallback_actual": {
        "en": (
            "A fallback product is analysed at its actual level ({level} = design dose "
            "{design_dose}, fallback_policy analyse_at_actual)."
        ),
        "zh": (
            "后备产品按其实际剂量水平分析（{level} = 设计剂量 {design_dose}，"
            "后备策略：按实际剂量分析）。"
        ),
    },
    "note_no_fallback": {
        "en": "The protocol has no fallback level.",
        "zh": "方案没有后备剂量水平。",
    },
    "note_calendar": {
        "en": (
            "The calendar day is the date in the trial's time zone ({zone}); times are stored "
            "in UTC."
        ),
        "zh": "日历日期为试验时区（{zone}）的日期；时间以 UTC 存储。",
    },
    # -- a final adjudication reopened (adjudication.Reopening) -----------------------------
    "reopened": {
        "en": "needs re-adjudication: {items} recorded or corrected after adjudication",
        "zh": "需重新判定：判定后录入或更正了 {items}",
    },
    # -- fragments ----------------------------------------------------------------------------
    "_reopened_event": {
        "en": "{term} grade {grade} (day {onset_day}, rule: {status})",
        "zh": "{term} {grade} 级（第 {onset_day} 天，规则判定：{status}）",
    },
    "_until": {
        "en": (
            "until {until} at the earliest (the last window closes then), and until every "
            "outcome is entered and adjudicated"
        ),
        "zh": "至少到 {until}（最后一个观察窗届时结束），且直到所有结局均已录入并判定",
    },
    "_until_infused": {
        "en": "until the pending patients are infused and followed through their windows",
        "zh": "直到待定受试者完成回输并完成各观察窗的随访",
    },
    "_pending": {"en": "{study_id} ({waiting})", "zh": "{study_id}（{waiting}）"},
    "_pending_by": {
        "en": "{study_id} ({waiting}, by {known_by})",
        "zh": "{study_id}（{waiting}，预计 {known_by} 前）",
    },
}

#: The words of parameters whose value is a word.
STEP_CHOICES: Final[dict[str, dict[str, dict[Lang, str]]]] = {
    "waiting": {
        "infusion": {"en": "infusion", "zh": "回输"},
        "dlt_window": {"en": "dlt_window", "zh": "DLT 观察窗"},
        "dlt_adjudication": {"en": "dlt_adjudication", "zh": "DLT 判定"},
        "response_assessment": {"en": "response_assessment", "zh": "疗效评估"},
    },
    "rule_status": {
        "dlt": {"en": "dlt", "zh": "DLT"},
        "possible_dlt": {"en": "possible_dlt", "zh": "可能为 DLT"},
        "not_dlt": {"en": "not_dlt", "zh": "非 DLT"},
        "indeterminate": {"en": "indeterminate", "zh": "无法判定"},
    },
    "look_decision": {
        "continue": {"en": "continue", "zh": "继续"},
        "stop": {"en": "stop", "zh": "终止"},
        "promising": {"en": "promising", "zh": "有前景"},
        "not_promising": {"en": "not_promising", "zh": "无前景"},
    },
}

_SEPARATORS: Final[dict[Lang, tuple[str, str]]] = {"en": (", ", "; "), "zh": ("、", "；")}
_DESIGN_CODES: Final[frozenset[str]] = frozenset(str(c) for c in ReasonCode)


def known_code(code: object) -> bool:
    """Whether ``code`` has words in a catalog (a step code, a design reason code or a
    service's refusal code, :mod:`dosewise.trial.refusals`)."""
    return isinstance(code, str) and (
        code in STEP_MESSAGES or code in _DESIGN_CODES or refusals.known_refusal(code)
    )


def _word(kind: str, value: Any, lang: Lang) -> str:
    words = STEP_CHOICES[kind].get(str(value))
    return str(value) if words is None else words[lang]


def _tuples(params: Mapping[str, Any]) -> dict[str, Any]:
    """JSON lists back to the tuples the design's renderer expects."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def _pending_text(items: Sequence[Mapping[str, Any]], lang: Lang) -> str:
    inner, outer = _SEPARATORS[lang]
    parts = []
    for item in items:
        waiting = inner.join(_word("waiting", w, lang) for w in item.get("waiting_for", []))
        key = "_pending_by" if item.get("known_by") else "_pending"
        parts.append(STEP_MESSAGES[key][lang].format(**{**item, "waiting": waiting}))
    return outer.join(parts)


def _reopened_items(events: Sequence[Mapping[str, Any]], lang: Lang) -> str:
    """The new or changed events of a reopened adjudication, in words (AE terms in Chinese
    where the term list has them)."""
    template = STEP_MESSAGES["_reopened_event"][lang]
    return _SEPARATORS[lang][0].join(
        template.format(
            term=term_name(str(e.get("term", "")), lang).text,
            grade=e.get("grade"),
            onset_day=e.get("onset_day"),
            status=_word("rule_status", e.get("status"), lang),
        )
        for e in events
    )


def reason_text(code: str, params: Mapping[str, Any], lang: str = "en") -> str:
    """The words of a step or design reason ``code`` with ``params``, in ``lang``.

    Raises ``KeyError`` for a code no catalog has (callers with stored rows use
    :func:`decision_text`, which falls back to the stored English text).
    """
    chosen = check_lang(lang)
    if code in _DESIGN_CODES:
        return design_render(code, _tuples(params), chosen)
    if refusals.known_refusal(code):
        steps = {k: decision_text(v, chosen) for k, v in params.items() if isinstance(v, Mapping)}
        return refusals.render(code, {**params, **steps}, chosen)
    template = STEP_MESSAGES[code][chosen]  # KeyError for an unknown code
    context: dict[str, Any] = dict(params)
    if "decision" in params:
        nested = params["decision"]
        context["decision"] = decision_text(nested if isinstance(nested, Mapping) else {}, chosen)
    if "look_decision" in params:
        context["look_decision"] = _word("look_decision", params["look_decision"], chosen)
    if code == "reopened":
        context["items"] = _reopened_items(params.get("events", []), chosen)
    if code == "wait_pending":
        until = params.get("until")
        context["when"] = (
            STEP_MESSAGES["_until"][chosen].format(until=until)
            if until
            else STEP_MESSAGES["_until_infused"][chosen]
        )
        context["pending"] = _pending_text(params.get("pending", []), chosen)
    return template.format(**context)


def error_reason(exc: DosewiseError, lang: str = "en") -> str | None:
    """The rule of a service error in ``lang`` when it carries a code of a catalog, else None.

    The one renderer of refusals the API (``reason``), the web pages and the CLI share; an
    error without a code (or whose parameters no longer fit its template) gives None and the
    caller shows the English ``rule``.
    """
    if not (exc.reason_code and known_code(exc.reason_code)):
        return None
    try:
        return reason_text(exc.reason_code, exc.reason_params, lang)
    except (KeyError, IndexError, ValueError, TypeError):
        return None


def error_line(exc: DosewiseError, lang: str = "en") -> str:
    """A service error as one line in ``lang``: what it is about, then its rule.

    English reads as the error's own message (``field=value: rule``); Chinese names the field
    in words (``研究编号「S01-0001」：已入组``) and falls back to the English rule when the
    error has no code.
    """
    chosen = check_lang(lang)
    if chosen == "en":
        return exc.message
    rule = error_reason(exc, chosen) or exc.rule
    return refusals.headed(refusals.subject(exc.field, exc.value, chosen), rule, chosen)


def decision_text(decision: Mapping[str, Any] | None, lang: str = "en") -> str:
    """A decision's (or a history item's) reason in ``lang``.

    A dict with a known ``reason_code`` and its ``reason_params`` is rendered from the catalogs;
    an older row without a code (or one whose parameters no longer fit) shows its stored
    English ``reason``.
    """
    if not decision:
        return ""
    code = decision.get("reason_code")
    params = decision.get("reason_params")
    if known_code(code) and isinstance(params, Mapping):
        try:
            return reason_text(str(code), params, lang)
        except (KeyError, IndexError, ValueError, TypeError, AssertionError):
            pass
    return str(decision.get("reason") or "")


def assignment_text(decision: Mapping[str, Any] | None, lang: str = "en") -> str:
    """Why a stored dose assignment was made, in ``lang``: the step that made it (``step_*``
    keys) if stored, else the design decision's reason; old rows show their English text."""
    if not decision:
        return ""
    if decision.get("step_reason_code"):
        step = {
            "reason_code": decision.get("step_reason_code"),
            "reason_params": decision.get("step_reason_params"),
            "reason": decision.get("step_reason"),
        }
        return decision_text(step, lang)
    if decision.get("step_reason"):
        return str(decision["step_reason"])
    return decision_text(decision, lang)


def nested(decision: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a step keeps of a design decision it wraps: code, parameters and English text."""
    d = decision or {}
    return {
        "reason_code": d.get("reason_code"),
        "reason_params": d.get("reason_params"),
        "reason": d.get("reason"),
    }


# --------------------------------------------------------------------------- plain words

#: The one-line summaries for clinicians shown above the statistical reason: what happens
#: next, in the protocol's dose names, and the counts it rests on.
PLAIN_MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    "next": {"en": "Next cohort: {level} ({cells}/kg).", "zh": "下一队列：{level}（{cells}/kg）。"},
    "select_obd": {
        "en": "Dose finding is over: select the OBD.",
        "zh": "剂量探索结束：选择 OBD。",
    },
    "stop": {"en": "Dose finding stops with no OBD.", "zh": "剂量探索终止，无 OBD。"},
    "wait": {"en": "Enrolment waits.", "zh": "暂停入组。"},
    "complete": {
        "en": "Enrolment is complete; awaiting follow-up.",
        "zh": "入组已完成，等待随访。",
    },
    "basis": {
        "en": "Basis: {dlt} DLT{s_dlt} and {responses} response{s_resp} in {n} "
        "participant{s_n} at {level}.",
        "zh": "依据：{level} 的 {n} 例中 {dlt} 例 DLT，{responses} 例缓解。",
    },
    "basis_start": {
        "en": "Basis: no participant yet; the protocol's starting dose.",
        "zh": "依据：尚无受试者，采用方案规定的起始剂量。",
    },
    "closed": {
        "en": "Phase 1 closed: the OBD is {obd} ({cells}/kg); the phase 2 dose (RP2D) is {rp2d}.",
        "zh": "第一阶段已关闭：OBD 为 {obd}（{cells}/kg），II 期推荐剂量 (RP2D) 为 {rp2d}。",
    },
    "closed_no_obd": {
        "en": "Phase 1 closed with no OBD.",
        "zh": "第一阶段已关闭，无 OBD。",
    },
    "wait_pending": {
        "en": "The next participant waits: {count} outcomes still pending.",
        "zh": "下一位受试者需等待：仍有 {count} 例结局待定。",
    },
}

#: A design dose (1-based) → its protocol name and its cells/kg in words (``1×10⁶``).
Levels = Mapping[int, tuple[str, str]]


def level_names(
    dose_levels: Sequence[Mapping[str, Any]], cells: Callable[[float], str]
) -> dict[int, tuple[str, str]]:
    """``{design dose: (level name, cells text)}`` from an arm state's ``dose_levels``."""
    return {int(d["dose"]): (str(d["level"]), cells(float(d["cells_per_kg"]))) for d in dose_levels}


def _counts_at(decision: Mapping[str, Any], dose: int) -> tuple[int, int, int] | None:
    """(participants, DLTs, responses) at ``dose`` in the data the decision saw."""
    outcomes = decision.get("outcomes")
    if isinstance(outcomes, str):
        n = dlt = responses = 0
        try:
            cohorts = parse_outcomes(outcomes) if outcomes.strip() else ()
        except DosewiseError:
            return None
        for cohort in cohorts:
            for patient in cohort.patients:
                if patient.dose == dose:
                    n, dlt, responses = n + 1, dlt + patient.tox, responses + patient.eff
        return n, dlt, responses
    for row in decision.get("doses") or []:
        if isinstance(row, Mapping) and row.get("dose") == dose:
            return int(row["n"]), int(row["dlt_observed"]), int(row["response_observed"])
    return None


def plain_summary(decision: Mapping[str, Any] | None, levels: Levels, lang: str = "en") -> str:
    """The one-line summary of a dose decision for clinicians, in ``lang`` (empty when the
    decision is not a design's dose decision, e.g. phase 2's fixed RP2D).

    "Next cohort: DL1 (1×10⁶/kg). Basis: 0 DLTs and 2 responses in 3 participants at DL1."
    """
    chosen = check_lang(lang)
    if decision and decision.get("kind") == "phase1_closure":
        return _closure_summary(decision, levels, chosen)
    if not decision or str(decision.get("reason_code")) not in _DESIGN_CODES:
        return ""
    words = PLAIN_MESSAGES
    nxt = decision.get("next_dose")
    if decision.get("accrual_complete"):
        head = words["complete"][chosen]
    elif decision.get("wait"):
        head = words["wait"][chosen]
    elif decision.get("select_obd"):
        head = words["select_obd"][chosen]
    elif decision.get("stop") or nxt is None:
        head = words["stop"][chosen]
    else:
        name, cells = levels.get(int(nxt), (f"#{nxt}", "?"))
        head = words["next"][chosen].format(level=name, cells=cells)
    if decision.get("reason_code") == "start":
        return f"{head}{_space(chosen)}{words['basis_start'][chosen]}"
    current = decision.get("current_dose")
    counts = None if current is None else _counts_at(decision, int(current))
    if counts is None:
        return head
    name = levels.get(int(str(current)), (f"#{current}", ""))[0]
    return f"{head}{_space(chosen)}{_basis(counts, name, chosen)}"


def _basis(counts: tuple[int, int, int], level: str, lang: Lang) -> str:
    n, dlt, responses = counts
    plural = {"s_dlt": _s(dlt), "s_resp": _s(responses), "s_n": _s(n)}
    return PLAIN_MESSAGES["basis"][lang].format(
        level=level, n=n, dlt=dlt, responses=responses, **plural
    )


def _closure_summary(closure: Mapping[str, Any], levels: Levels, lang: Lang) -> str:
    """A phase 1 closure in plain words: the OBD and RP2D by name, and the counts at the OBD."""
    obd = closure.get("obd_level")
    if not obd:
        return PLAIN_MESSAGES["closed_no_obd"][lang]
    dose = next((d for d, (name, _) in levels.items() if name == obd), None)
    cells = levels[dose][1] if dose is not None else "?"
    rp2d = closure.get("rp2d_level") or obd
    head = PLAIN_MESSAGES["closed"][lang].format(obd=obd, cells=cells, rp2d=rp2d)
    counts = None if dose is None else _counts_at(closure, dose)
    if not counts or not counts[0]:
        return head
    return f"{head}{_space(lang)}{_basis(counts, str(obd), lang)}"


def plain_step(step: Any, levels: Levels, lang: str = "en") -> str:
    """The one-line summary of an arm's next step (a :class:`NextStep`), in ``lang``."""
    if getattr(step, "reason_code", "") == "wait_pending":
        count = step.reason_params.get("count", 0)
        return PLAIN_MESSAGES["wait_pending"][check_lang(lang)].format(count=count)
    if getattr(step, "phase", None) != 1:
        return ""
    return plain_summary(getattr(step, "decision", None), levels, lang)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _space(lang: Lang) -> str:
    return " " if lang == "en" else ""


__all__ = [
    "PLAIN_MESSAGES",
    "STEP_CHOICES",
    "STEP_MESSAGES",
    "assignment_text",
    "decision_text",
    "error_line",
    "error_reason",
    "known_code",
    "level_names",
    "nested",
    "plain_step",
    "plain_summary",
    "reason_text",
]
