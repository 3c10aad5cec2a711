"""One check for every clinical date: does it fit on this participant's timeline?

A participant's timeline runs birth → registration → consent → screening → enrolment →
lymphodepletion → infusion (study day 0) → follow-up. Each act names which earlier points its
date may not precede (``after``), and every date is refused when it lies in the future in the
*site's* time zone (a site in Asia/Shanghai is a day ahead of UTC for eight hours a day, so the
UTC calendar would refuse a same-day record entered in the morning). Points the participant has
not reached yet are skipped. Errors are :class:`~dosewise.errors.InvalidInput` (422) naming the
field and the rule, e.g. ``onset_on: is before the participant's consent (2026-03-02)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Literal

from sqlalchemy import select

from dosewise.errors import InvalidInput
from dosewise.store.tables import (
    Consent,
    Enrollment,
    Infusion,
    Lymphodepletion,
    Participant,
    Screening,
)
from dosewise.trial.calendar import local_today, site_zone
from dosewise.trial.refusals import CHOICES, refusal
from dosewise.trial.uow import UnitOfWork

#: The points of a participant's timeline a date can be checked against.
Point = Literal[
    "birth", "registration", "consent", "screening", "enrollment", "lymphodepletion", "infusion"
]

#: How each point reads in an error message (the words are in the refusals' catalog).
POINT_LABELS: dict[str, str] = {k: v["en"] for k, v in CHOICES["point"].items()}


def site_today(uow: UnitOfWork, site_id: str | None) -> tuple[date, str]:
    """Today's calendar date at the site (its time zone, :mod:`dosewise.trial.calendar`) and
    the zone's name."""
    zone = site_zone(uow.session, site_id)
    return local_today(uow, site_id), str(zone.key)


def not_in_future(uow: UnitOfWork, site_id: str | None, field: str, value: date) -> date:
    """``value`` unless it is after today at the site."""
    today, zone = site_today(uow, site_id)
    if value > today:
        raise refusal(
            InvalidInput,
            field,
            value.isoformat(),
            "in_future_at",
            today=today.isoformat(),
            zone=zone,
        )
    return value


def point_date(uow: UnitOfWork, p: Participant, point: str) -> date | None:
    """The date of ``point`` on the participant's timeline, or ``None`` if not reached."""
    return _POINTS[point](uow, p)


def check_date(
    uow: UnitOfWork,
    p: Participant,
    field: str,
    value: date,
    *,
    after: Iterable[str] = ("birth",),
) -> date:
    """``value`` if it is not in the future at the participant's site and not before any of
    the timeline points in ``after`` that the participant has reached; otherwise a 422 naming
    ``field`` and the point it precedes."""
    not_in_future(uow, p.site_id, field, value)
    for point in after:
        anchor = point_date(uow, p, point)
        if anchor is not None and value < anchor:
            shown = str(anchor.year) if point == "birth" else anchor.isoformat()
            raise refusal(
                InvalidInput, field, value.isoformat(), "before_point", point=point, date=shown
            )
    return value


def _birth(_uow: UnitOfWork, p: Participant) -> date | None:
    return None if p.year_of_birth is None else date(p.year_of_birth, 1, 1)


def _registration(_uow: UnitOfWork, p: Participant) -> date | None:
    return p.registered_on


def _consent(uow: UnitOfWork, p: Participant) -> date | None:
    return uow.session.scalar(
        select(Consent.consent_on)
        .where(Consent.participant_id == p.id, Consent.valid.is_(True))
        .order_by(Consent.consent_on)
        .limit(1)
    )


def _screening(uow: UnitOfWork, p: Participant) -> date | None:
    return uow.session.scalar(
        select(Screening.screened_on)
        .where(Screening.participant_id == p.id)
        .order_by(Screening.screened_on)
        .limit(1)
    )


def _enrollment(uow: UnitOfWork, p: Participant) -> date | None:
    return uow.session.scalar(
        select(Enrollment.enrolled_on).where(Enrollment.participant_id == p.id)
    )


def _lymphodepletion(uow: UnitOfWork, p: Participant) -> date | None:
    ld = uow.session.scalar(select(Lymphodepletion).where(Lymphodepletion.participant_id == p.id))
    return None if ld is None else (ld.end_on or ld.start_on)


def _infusion(uow: UnitOfWork, p: Participant) -> date | None:
    return uow.session.scalar(select(Infusion.infused_on).where(Infusion.participant_id == p.id))


_POINTS: dict[str, Callable[[UnitOfWork, Participant], date | None]] = {
    "birth": _birth,
    "registration": _registration,
    "consent": _consent,
    "screening": _screening,
    "enrollment": _enrollment,
    "lymphodepletion": _lymphodepletion,
    "infusion": _infusion,
}
