"""What a worklist is made of: the kinds of items, one item, the list with its counts, and
the filter (:mod:`dosewise.trial.services.worklist` derives them from the read model).

Values only, so the pages, the API and the CLI share one shape: ``WorkItem.to_dict`` and
``Worklist.to_dict`` are the API's and ``dosewise worklist --json``'s fields.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: The kinds of items, in the order a list shows them when they are due on the same day.
KINDS = (
    "readjudication",
    "dlt_adjudication",
    "signature",
    "dose_decision",
    "visit",
    "bor_assessment",
    "query",
)
#: A DLT window closing within this many days puts its adjudication on the list.
HORIZON_DAYS = 7
#: A query is due this many days after it was raised (the end of its first age band, ``lt7``).
QUERY_DUE_DAYS = 7

#: Each kind: the permission that acts on it, and the participant page's section for it.
ACTS: dict[str, tuple[str, str]] = {
    "readjudication": ("dlt.adjudicate", "dlt"),
    "dlt_adjudication": ("dlt.adjudicate", "dlt"),
    "signature": ("dose.confirm", "assign"),
    "dose_decision": ("dose.assign", "assign"),
    "visit": ("participant.write", "visits"),
    "bor_assessment": ("participant.write", "response"),
    "query": ("query.answer", "queries"),
}


@dataclass(frozen=True)
class WorklistFilter:
    """Which items: one site, one kind, only overdue (or only not overdue), only the user's."""

    site_id: str | None = None
    kind: str | None = None
    overdue: bool | None = None
    mine: bool = False


@dataclass(frozen=True)
class WorkItem:
    """One thing to do for one participant, due on ``due_on`` (the site's calendar)."""

    kind: str
    site_id: str
    study_id: str
    arm_id: str | None
    due_on: date
    today: date
    #: The permission that acts on it and the participant page's section where it is done.
    action: str
    section: str
    mine: bool
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def overdue(self) -> bool:
        return self.due_on < self.today

    @property
    def days_overdue(self) -> int:
        return max(0, (self.today - self.due_on).days)

    @property
    def anchor(self) -> str:
        """The element of the participant page the item is acted on."""
        if self.kind == "query":
            return f"query-{self.detail['query_id']}"
        return self.section

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "site_id": self.site_id,
            "study_id": self.study_id,
            "arm_id": self.arm_id,
            "due_on": self.due_on.isoformat(),
            "overdue": self.overdue,
            "days_overdue": self.days_overdue,
            "action": self.action,
            "section": self.section,
            "anchor": self.anchor,
            "mine": self.mine,
            "detail": {
                k: v.isoformat() if isinstance(v, date) else v for k, v in self.detail.items()
            },
        }


@dataclass(frozen=True)
class Worklist:
    """The items the actor may see, overdue first, then by due date; and their counts."""

    as_of: date
    sites: tuple[str, ...]
    items: tuple[WorkItem, ...]

    @property
    def counts(self) -> dict[str, Any]:
        kinds = Counter(i.kind for i in self.items)
        return {
            "total": len(self.items),
            "overdue": sum(1 for i in self.items if i.overdue),
            "mine": sum(1 for i in self.items if i.mine),
            "by_kind": {k: kinds.get(k, 0) for k in KINDS},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "sites": list(self.sites),
            "counts": self.counts,
            "items": [i.to_dict() for i in self.items],
        }


def narrow(found: Worklist, flt: WorklistFilter) -> Worklist:
    """``found`` with only the items of ``flt``'s kind, overdue flag and "mine" (its site is
    applied by :func:`worklist`): a page shows one list and counts the whole without reading
    the records twice."""
    items = [
        i
        for i in found.items
        if (flt.kind is None or i.kind == flt.kind)
        and (flt.overdue is None or i.overdue is flt.overdue)
        and (not flt.mine or i.mine)
    ]
    return Worklist(found.as_of, found.sites, tuple(items))
