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
    # Imported here: the read model's package imports this module (arm.py), so a module-level
    # import broke whoever imported the calendar first (``dosewise report casebook``).
    from dosewise.trial.state.cache import records_cache

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


def utc_offset(moment: datetime, zone: ZoneInfo) -> str:
    """``UTC+8``, ``UTC-3:30``: the offset of ``zone`` at ``moment``."""
    offset = moment.astimezone(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_moment(moment: datetime | str, zone: ZoneInfo) -> str:
    """A stored UTC moment (a datetime, naive = UTC, or ISO text ``...Z``) as local time in
    ``zone`` with its offset: ``2026-01-05 17:00:00 UTC+8``. For printouts, where the reader
    must know which clock a signature or a change was made by."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {utc_offset(moment, zone)}"
