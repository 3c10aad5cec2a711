"""What is due on a given date in a visit schedule around a CAR-T infusion.

Days count from the infusion (study day 0); a window is the closed interval [day − before,
day + after]. The schedule itself (each visit's day, window, assessments and why) is protocol
data, the protocol file's ``visits:`` (``Protocol.visit_schedule()``): for NCT07070323 the
registry fixes only the month-3 response visit, 3 months ± 1 week (clinical.md §3.3); the other
windows are assumptions marked in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from dosewise.errors import InvalidInput, InvalidParameter

Status = Literal["upcoming", "due", "overdue", "done", "out_of_window"]


@dataclass(frozen=True)
class Visit:
    """A scheduled visit: target study day, window and the assessments it carries."""

    name: str
    label: str
    day: int
    before: int
    after: int
    assessments: tuple[str, ...]
    assumption: str = ""
    #: The visit's name in Chinese (shown on Chinese pages and reports).
    zh: str = ""

    def label_in(self, lang: str | None) -> str:
        """The visit's name in ``lang`` (``zh``/``zh_CN`` → Chinese when known, else English)."""
        return self.zh if self.zh and lang and lang.lower().startswith("zh") else self.label

    def __post_init__(self) -> None:
        if self.before < 0 or self.after < 0:
            raise InvalidParameter(f"{self.name}.window", (self.before, self.after), "must be >= 0")
        if not self.assessments:
            raise InvalidParameter(f"{self.name}.assessments", (), "a visit needs assessments")

    @property
    def first_day(self) -> int:
        return self.day - self.before

    @property
    def last_day(self) -> int:
        return self.day + self.after


@dataclass(frozen=True)
class AssessmentStatus:
    """One assessment of one visit on a given date."""

    visit: str
    assessment: str
    status: Status
    done_on: date | None


@dataclass(frozen=True)
class VisitStatus:
    """Where one visit stands on a given date."""

    visit: Visit
    target: date
    window_start: date
    window_end: date
    status: Status
    done_on: date | None
    assessments: tuple[AssessmentStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "visit": self.visit.name,
            "label": self.visit.label,
            "study_day": self.visit.day,
            "target_date": self.target.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "status": self.status,
            "done_on": None if self.done_on is None else self.done_on.isoformat(),
            "assumption": self.visit.assumption or None,
            "assessments": [
                {
                    "assessment": a.assessment,
                    "status": a.status,
                    "done_on": None if a.done_on is None else a.done_on.isoformat(),
                }
                for a in self.assessments
            ],
        }


def _status(done_on: date | None, on: date, start: date, end: date) -> Status:
    if done_on is not None:
        return "done" if start <= done_on <= end else "out_of_window"
    if on < start:
        return "upcoming"
    return "due" if on <= end else "overdue"


def visit_status(
    infusion_date: date,
    on: date,
    done: Mapping[str, date] | None,
    schedule: tuple[Visit, ...],
) -> tuple[VisitStatus, ...]:
    """Status of every visit and assessment of ``schedule`` on date ``on`` (the protocol's
    schedule: ``Protocol.visit_schedule()``).

    ``done`` maps a visit name (the whole visit) or ``"visit.assessment"`` to the date it was
    done. Done inside the window is ``done``, outside it ``out_of_window``; not done is
    ``upcoming`` before the window, ``due`` inside it and ``overdue`` after it. A record done
    after ``on`` or for an unknown visit is an error.
    """
    done = dict(done or {})
    names = {v.name: v for v in schedule}
    for key, when in done.items():
        visit_name, _, assessment = key.partition(".")
        visit = names.get(visit_name)
        if visit is None or (assessment and assessment not in visit.assessments):
            raise InvalidInput(f"done.{key}", when.isoformat(), "unknown visit or assessment")
        if when > on:
            raise InvalidInput(f"done.{key}", when.isoformat(), f"after the status date {on}")
    out = []
    for visit in schedule:
        target = infusion_date + timedelta(days=visit.day)
        start = infusion_date + timedelta(days=visit.first_day)
        end = infusion_date + timedelta(days=visit.last_day)
        rows = []
        for assessment in visit.assessments:
            done_on: date | None = done.get(f"{visit.name}.{assessment}", done.get(visit.name))
            rows.append(
                AssessmentStatus(visit.name, assessment, _status(done_on, on, start, end), done_on)
            )
        visit_done = done.get(visit.name)
        if visit_done is None and all(r.done_on is not None for r in rows):
            visit_done = max(r.done_on for r in rows if r.done_on is not None)
        status = _status(visit_done, on, start, end)
        if visit_done is not None and any(r.status == "out_of_window" for r in rows):
            status = "out_of_window"
        out.append(VisitStatus(visit, target, start, end, status, visit_done, tuple(rows)))
    return tuple(out)


def study_day(infusion_date: date, on: date) -> int:
    """Study day of ``on`` (day 0 = infusion; the day before is −1, there is no day zero gap)."""
    return (on - infusion_date).days
