"""The trial's calendar: "today" is a site's own date, not the UTC date.

Moments are stored in UTC; dates a person writes down (screening, infusion, onset …) are the
site's calendar dates. So "today", the default of a date field and the "not in the future" check
use the site's time zone (``sites.timezone``, loaded from the protocol file): at 07:00 in
Shanghai (23:00 UTC the day before) today is already the Shanghai date. A question that is not
about one site (an arm's state, the DSMB's cut-off) uses the trial's zone: the first site's,
which for NCT07070323 is every site's (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise.store.tables import Site
from dosewise.trial.state.cache import records_cache
from dosewise.trial.uow import UnitOfWork

#: Used only when the database has no site yet.
FALLBACK_TIMEZONE = "UTC"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or FALLBACK_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_TIMEZONE)


def site_zone(session: Session, site_id: str | None = None) -> ZoneInfo:
    """The time zone of ``site_id``, or the trial's (the first site's) when None or unknown
    (remembered until the records change: :mod:`dosewise.trial.state.cache`)."""
    return _zone(
        records_cache(session).get(
            session, ("site_zone", site_id), lambda: _zone_name(session, site_id)
        )
    )


def _zone_name(session: Session, site_id: str | None) -> str | None:
    name = session.scalar(select(Site.timezone).where(Site.id == site_id)) if site_id else None
    if name is None:
        name = session.scalar(select(Site.timezone).order_by(Site.id).limit(1))
    return name


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar date of a UTC moment (naive = UTC) in ``zone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def local_today(uow: UnitOfWork, site_id: str | None = None) -> date:
    """Today at the site (or in the trial's zone), by the unit of work's clock."""
    return local_date(uow.now(), site_zone(uow.session, site_id))
