"""A participant's status: ONE transition table, used to move a participant and to re-derive it.

The services move a participant with :func:`next_status` when an act is recorded (consent,
screening, enrollment, dose assignment, infusion, leaving the study); the read model re-derives
the status at any data cut-off with :func:`status_from_steps`, which folds the participant's
recorded steps, in the order they happened, through the same table. So the stored status and
the status a report shows at the same day cannot disagree.

The table (:data:`TRANSITIONS`): an event moves a participant from the statuses listed to the
status named; from any other status it leaves the status as it is (the services refuse acts out
of order before they get here). A valid consent after a failed screening makes the participant
``consented`` again (they may be screened again); leaving the study is final.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, cast

ParticipantStatus = Literal[
    "registered",
    "consented",
    "eligible",
    "screen_failed",
    "enrolled",
    "dose_assigned",
    "treated",
    "off_study",
]
Event = Literal[
    "consent",
    "screen_eligible",
    "screen_ineligible",
    "enroll",
    "assign_dose",
    "infuse",
    "leave",
]

_BEFORE_ENROLLMENT: frozenset[ParticipantStatus] = frozenset(
    ("registered", "consented", "eligible", "screen_failed")
)
_ON_STUDY: frozenset[ParticipantStatus] = frozenset(
    (*_BEFORE_ENROLLMENT, "enrolled", "dose_assigned", "treated")
)

#: event → (the statuses it moves a participant from, the status it moves them to).
TRANSITIONS: Mapping[Event, tuple[frozenset[ParticipantStatus], ParticipantStatus]] = {
    "consent": (frozenset(("registered", "screen_failed", "consented")), "consented"),
    "screen_eligible": (_BEFORE_ENROLLMENT, "eligible"),
    "screen_ineligible": (_BEFORE_ENROLLMENT, "screen_failed"),
    "enroll": (_BEFORE_ENROLLMENT, "enrolled"),
    "assign_dose": (frozenset(("enrolled", "dose_assigned")), "dose_assigned"),
    "infuse": (frozenset(("enrolled", "dose_assigned", "treated")), "treated"),
    "leave": (_ON_STUDY, "off_study"),
}

#: The order of steps recorded on the same day when their moments do not tell (process order).
_STEP_ORDER: Mapping[Event, int] = {
    "consent": 0,
    "screen_eligible": 0,
    "screen_ineligible": 0,
    "enroll": 1,
    "assign_dose": 2,
    "infuse": 3,
    "leave": 4,
}


def next_status(current: str, event: Event) -> ParticipantStatus:
    """The status after ``event`` for a participant now ``current`` (unchanged when not listed)."""
    sources, target = TRANSITIONS[event]
    if current in sources:
        return target
    return cast(ParticipantStatus, current)


@dataclass(frozen=True, order=True)
class Step:
    """One recorded step of a participant: its clinical day, moment of entry and event.

    Steps of one day are ordered by process order (consent and screening before enrollment ...)
    and, among consents and screenings, by the moment they were entered.
    """

    on: date
    rank: int
    entered: datetime | None
    event: Event

    @classmethod
    def of(cls, event: Event, on: date, entered: datetime | None = None) -> Step:
        return cls(on, _STEP_ORDER[event], entered, event)


def status_from_steps(steps: Iterable[Step]) -> ParticipantStatus:
    """The status a participant has after ``steps`` (folded in the order they happened)."""
    status: ParticipantStatus = "registered"
    for step in sorted(steps, key=_key):
        status = next_status(status, step.event)
    return status


def _key(step: Step) -> tuple[date, int, float]:
    return (step.on, step.rank, step.entered.timestamp() if step.entered is not None else 0.0)


def screening_event(
    eligible: bool | None, criteria: Iterable[Mapping[str, object]]
) -> Event | None:
    """A screening's event: eligible, ineligible (a criterion failed), else none (not assessed)."""
    if eligible:
        return "screen_eligible"
    if any(c.get("verdict") == "fail" for c in criteria):
        return "screen_ineligible"
    return None


def screening_result(
    eligible: bool | None, criteria: Iterable[Mapping[str, object]]
) -> tuple[str, tuple[str, ...]]:
    """A stored screening's answer and the criteria not assessed.

    ``eligible``; ``ineligible`` when a criterion failed; else ``incomplete`` (a criterion not
    assessed never makes a participant ineligible), with the criteria still to assess.
    """
    rows = list(criteria)
    missing = tuple(str(c.get("id")) for c in rows if c.get("verdict") == "unknown")
    if eligible:
        return "eligible", ()
    if any(c.get("verdict") == "fail" for c in rows):
        return "ineligible", missing
    return "incomplete", missing
