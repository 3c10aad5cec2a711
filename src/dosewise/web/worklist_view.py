"""The worklist page's words and rows: each item of :mod:`dosewise.trial.services.worklist`
with its kind in words, what to do in a line, and the page where it is done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from dosewise.trial.services.worklist import KINDS, WorkItem
from dosewise.web.i18n import N_

#: Each kind of item in words (one list, in the service's order).
KIND_LABELS: dict[str, str] = {
    "readjudication": N_("Needs re-adjudication"),
    "dlt_adjudication": N_("DLT adjudication due"),
    "signature": N_("Dose confirmation to sign"),
    "dose_decision": N_("Waiting for a dose decision"),
    "visit": N_("Visit"),
    "bor_assessment": N_("BOR assessment due"),
    "query": N_("Open data query"),
}
assert tuple(KIND_LABELS) == KINDS


@dataclass(frozen=True)
class Row:
    """One line of the worklist table."""

    item: WorkItem
    href: str
    #: (message id, parameters) of what the item is about, translated by the template.
    what: tuple[str, dict[str, Any]]


def _what(item: WorkItem, lang: str) -> tuple[str, dict[str, Any]]:
    d = item.detail
    if item.kind == "visit":
        zh = lang.lower().startswith("zh") and d.get("label_zh")
        return N_("%(visit)s, window %(start)s – %(end)s"), {
            "visit": zh or d["label"],
            "start": d["window_start"],
            "end": d["window_end"],
        }
    if item.kind in ("dlt_adjudication", "readjudication"):
        return N_("DLT window closes %(end)s"), {"end": d["window_end"]}
    if item.kind == "bor_assessment":
        return N_("BOR window %(start)s – %(end)s"), {
            "start": d["window_start"],
            "end": d["window_end"],
        }
    if item.kind == "signature":
        return N_("%(level)s proposed: the investigator or statistician confirms it"), {
            "level": d["level"]
        }
    if item.kind == "dose_decision":
        if d["arm_action"] == "assign":
            return N_("The design can assign a dose now"), {}
        if d["arm_action"] == "wait":
            if d.get("wait_until"):
                return N_("The design waits until %(day)s"), {"day": item.due_on}
            return N_("The design waits for outcomes still pending"), {}
        return N_("The arm gives no dose now"), {}
    return N_("%(days)s days open"), {"days": d["age_days"]}


def rows(items: tuple[WorkItem, ...], lang: str, fmt_date: Callable[[date], str]) -> list[Row]:
    """The items as table rows, each linking to the participant page's section for it (the
    dates of the line written in the page's language)."""
    out = []
    for i in items:
        msgid, params = _what(i, lang)
        shown = {k: fmt_date(v) if isinstance(v, date) else v for k, v in params.items()}
        out.append(Row(i, f"/participants/{i.study_id}#{i.anchor}", (msgid, shown)))
    return out
