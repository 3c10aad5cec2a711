"""The protocol's visit schedule as the clinical rule's visits (windows from the protocol file),
and where each infused participant's visits stand on a day.

dosewise records lymphodepletion, the infusion and the response assessments, so those visits are
done or overdue by the records. For the other visits (day 7, 14 …) only the window is known: a
past window of one of them is *passed*, not overdue. The participant page and the worklists both
read :func:`participant_visits`, so a visit cannot be overdue on one and not on the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise.clinical.schedule import Visit, VisitStatus, visit_status
from dosewise.errors import DosewiseError
from dosewise.protocol import Protocol
from dosewise.store.tables import Lymphodepletion, ResponseAssessment


def visit_schedule(protocol: Protocol) -> tuple[Visit, ...]:
    """Every visit of ``protocol.visits`` with its window, for ``clinical.visit_status``."""
    return protocol.visit_schedule()


@dataclass(frozen=True)
class VisitRecords:
    """What a participant's records say about their visits (besides the infusion)."""

    lymphodepleted_on: date | None = None
    #: (assessed on, timepoint) of every response assessment.
    responses: tuple[tuple[date, str | None], ...] = ()


def recorded_visits(
    session: Session, participant_ids: Iterable[int] | None = None
) -> dict[int, VisitRecords]:
    """Each participant's lymphodepletion start and response assessments (one query each)."""
    ids = None if participant_ids is None else list(participant_ids)
    ld = select(Lymphodepletion.participant_id, Lymphodepletion.start_on).order_by(
        Lymphodepletion.id
    )
    ra = select(
        ResponseAssessment.participant_id,
        ResponseAssessment.assessed_on,
        ResponseAssessment.timepoint,
    ).order_by(ResponseAssessment.assessed_on, ResponseAssessment.id)
    if ids is not None:
        ld = ld.where(Lymphodepletion.participant_id.in_(ids))
        ra = ra.where(ResponseAssessment.participant_id.in_(ids))
    started: dict[int, date] = {}
    for pid, start_on in session.execute(ld):
        started[pid] = start_on  # the latest record, as the participant page shows
    responses: dict[int, list[tuple[date, str | None]]] = {}
    for pid, assessed_on, timepoint in session.execute(ra):
        responses.setdefault(pid, []).append((assessed_on, timepoint))
    return {
        pid: VisitRecords(started.get(pid), tuple(responses.get(pid, ())))
        for pid in set(started) | set(responses)
    }


def participant_visits(
    protocol: Protocol, infused_on: date, on: date, records: VisitRecords
) -> tuple[tuple[VisitStatus, str], ...]:
    """Every visit's window and status on ``on``, and the status to show.

    The shown status is the rule's (``upcoming``, ``due``, ``overdue``, ``done``,
    ``out_of_window``), except that a visit dosewise does not record is ``passed`` after its
    window instead of ``overdue`` (see the module doc).
    """
    done: dict[str, date] = {"infusion": infused_on}
    if records.lymphodepleted_on is not None:
        done["lymphodepletion"] = records.lymphodepleted_on
    schedule = visit_schedule(protocol)
    response_visits = [v for v in schedule if "response" in v.assessments]
    for assessed, timepoint in sorted(records.responses, key=lambda r: r[0]):
        if assessed > on:
            continue
        day = (assessed - infused_on).days
        for visit in response_visits:
            if timepoint == visit.name or visit.first_day <= day <= visit.last_day:
                done.setdefault(visit.name, assessed)
    at = max(on, infused_on)
    try:
        statuses = visit_status(infused_on, at, done, schedule)
    except DosewiseError:  # a record dated after ``on`` (a cut-off): only the infusion counts
        statuses = visit_status(infused_on, at, {"infusion": infused_on}, schedule)
    recorded = _recorded(response_visits)
    return tuple(
        (vs, "passed" if vs.status == "overdue" and vs.visit.name not in recorded else vs.status)
        for vs in statuses
    )


def _recorded(response_visits: Sequence[Visit]) -> frozenset[str]:
    return frozenset({"lymphodepletion", "infusion", *(v.name for v in response_visits)})
