"""A cohort part-way through its DLT window, made through the services (as the sites would),
for the browser tests: three participants of site S01 in the prior_sct_donor arm, infused
40 days ago at DL1, with day-28 responses; two adjudicated "no DLT", the third not yet — so the
arm's design waits for that adjudication."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.store.tables import User
from dosewise.trial import Actor, UnitOfWork
from dosewise.trial.access import Passwords
from dosewise.trial.calendar import local_date
from dosewise.trial.esign import Signing
from dosewise.trial.services import dlt, dosing, participants, products, responses

ARM = "prior_sct_donor"
#: The sites' time zone (the protocol's sites are in China): a clinical date is the site's
#: calendar day, which from 16:00 UTC on is a day ahead of the UTC date.
SITE_ZONE = ZoneInfo("Asia/Shanghai")


def site_date(on: datetime) -> date:
    """The calendar day at the sites at the moment ``on``."""
    return local_date(on, SITE_ZONE)


def site_today() -> date:
    """Today at the sites (what the service checks a date against)."""
    return site_date(datetime.now(UTC))


#: The coordinator of each site among the test users (tests/pg.py).
COORD = {"S01": "coord1", "S02": "coord2"}
#: A 70 kg adult's product with 6.84×10⁷ CAR+ viable T cells: DL1 is feasible (≥ 5.6×10⁷).
CERTIFICATE = {"tnc": 2.0e8, "viability": 0.9, "cd3": 0.95, "car": 0.4, "volume_ml": 50.0}


def _screening(on: date) -> dict[str, object]:
    import json
    from pathlib import Path

    example = Path(__file__).parents[2] / "examples" / "screening" / "eligible_autologous.json"
    record = json.loads(example.read_text(encoding="utf-8"))
    for key in ("subject_id", "date_of_birth", "consent"):
        record.pop(key, None)
    record["age_years"] = 34
    # The prior-SCT-donor arm needs a prior allogeneic SCT with the donor available.
    findings = dict(record.get("findings") or {})  # type: ignore[call-overload]
    findings.update(prior_allogeneic_sct=True, prior_sct_donor_available=True)
    record["findings"] = findings
    record["screening_date"] = on.isoformat()
    record["last_antineoplastic_therapy_date"] = (on - timedelta(days=30)).isoformat()
    return record


def _consent(on: date) -> dict[str, object]:
    return {
        "consent_date": on.isoformat(),
        "age_years": 34,
        "patient_able_to_sign": True,
        "signatures": [
            {"form": "treatment", "signer": "patient"},
            {"form": "voluntary", "signer": "patient"},
        ],
    }


class Seeder:
    def __init__(self, db: Database, settings: Settings, password: str) -> None:
        self.db, self.settings, self.password = db, settings, password
        self.passwords = Passwords(settings)

    def actor(self, username: str) -> Actor:
        with UnitOfWork(self.db, Actor.system("seed"), readonly=True) as uow:
            user = uow.session.scalar(select(User).where(User.username == username))
            assert user is not None
            return Actor.of(user)

    def act(self, username: str, on: datetime, fn: Callable[[UnitOfWork], object]) -> object:
        with UnitOfWork(self.db, self.actor(username), clock=lambda: on) as uow:
            return fn(uow)

    def signing(self) -> Signing:
        return Signing(self.passwords, self.settings, self.password)


def recruit(
    s: Seeder,
    arm: str,
    on: datetime,
    *,
    screening: dict[str, object] | None = None,
    until: str = "assign",
    site: str = "S01",
) -> str:
    """Register, consent and screen (eligible for ``arm``) a participant of ``site``; then, as
    far as ``until`` says (``screen``, ``enroll`` or ``assign``), enroll it and have the
    design's dose assigned and confirmed by the statistician. The study ID."""
    day = site_date(on)
    p: Any = s.act(COORD[site], on, lambda u: participants.register_participant(u, site))
    sid: str = p.study_id
    record = _screening(day) if screening is None else screening
    coord = COORD[site]
    s.act(
        coord,
        on,
        lambda u: participants.record_consent(u, sid, _consent(day), consent_version="1.0"),
    )
    s.act(coord, on, lambda u: participants.screen(u, sid, arm, record))
    if until == "screen":
        return sid
    s.act(coord, on, lambda u: participants.enroll(u, sid, arm))
    if until == "assign":
        s.act(coord, on, lambda u: dosing.assign_dose(u, sid))
        s.act("stat", on, lambda u: dosing.confirm_dose(u, s.signing(), sid))
    return sid


def release(s: Seeder, sid: str, on: datetime, lot: str | None = None) -> Any:
    """The product of :data:`CERTIFICATE` released for the confirmed dose; the product row."""
    return s.act(
        "coord1",
        on,
        lambda u: products.release_product(
            u,
            sid,
            lot=lot or f"LOT-{sid}",
            certificate=CERTIFICATE,
            weight_kg=70.0,
            released_on=site_date(on),
        ),
    )


def deplete(s: Seeder, sid: str, on: datetime) -> None:
    """Flu/Cy lymphodepletion on one day."""
    s.act(
        "coord1",
        on,
        lambda u: products.record_lymphodepletion(
            u, sid, regimen="Flu/Cy", agents=[], start_on=site_date(on), end_on=site_date(on)
        ),
    )


def infuse(s: Seeder, sid: str, on: datetime, volume_ml: float = 50.0) -> None:
    """The infusion of ``volume_ml`` of the released product (the whole bag: DL1)."""
    s.act(
        "coord1",
        on,
        lambda u: products.record_infusion(
            u, sid, infused_on=site_date(on), infused_volume_ml=volume_ml
        ),
    )


def waiting_cohort(db: Database, settings: Settings, password: str) -> list[str]:
    """The three participants (study IDs); the third still needs its DLT adjudication."""
    s = Seeder(db, settings, password)
    # 04:00 UTC of a past day is the same calendar day in UTC and at the sites (Asia/Shanghai,
    # UTC+8): a moment after 16:00 UTC would be the next day at the site and the acts' dates
    # (the UTC date) would fall before the site's registration date.
    earlier = datetime.now(UTC) - timedelta(hours=4)
    now = earlier.replace(hour=4, minute=0, second=0, microsecond=0)
    start = now - timedelta(days=45)
    ids = []
    for _ in range(3):
        sid = recruit(s, ARM, start)
        release(s, sid, start)
        ids.append(sid)
    for sid in ids:
        deplete(s, sid, start + timedelta(days=2))
        infuse(s, sid, start + timedelta(days=5))
    assessed = start + timedelta(days=5 + 28)
    marrow = {"blasts_pct": 2, "anc": 1.5, "platelets": 120}
    for sid in ids:
        s.act(
            "coord1",
            assessed,
            lambda u, sid=sid: responses.record_response(
                u, sid, assessed_on=site_date(assessed), marrow=marrow, timepoint="day_28"
            ),
        )
    for sid in ids[:2]:
        s.act("inv1", now, lambda u, sid=sid: dlt.adjudicate_dlt(u, sid))
    return ids
