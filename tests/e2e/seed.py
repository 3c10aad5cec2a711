"""A cohort part-way through its DLT window, made through the services (as the sites would),
for the browser tests: three participants of site S01 in the prior_sct_donor arm, infused
40 days ago at DL1, with day-28 responses; two adjudicated "no DLT", the third not yet — so the
arm's design waits for that adjudication."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.store.tables import User
from dosewise.trial import Actor, UnitOfWork
from dosewise.trial.access import Passwords
from dosewise.trial.esign import Signing
from dosewise.trial.services import dlt, dosing, participants, products, responses

ARM = "prior_sct_donor"
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


def _enroll_and_release(s: Seeder, sid: str, start: datetime) -> None:
    """Consent, screening, enrollment, the design's dose (confirmed) and a released product."""
    day = start.date()
    s.act(
        "coord1",
        start,
        lambda u: participants.record_consent(u, sid, _consent(day), consent_version="1.0"),
    )
    s.act("coord1", start, lambda u: participants.screen(u, sid, ARM, _screening(day)))
    s.act("coord1", start, lambda u: participants.enroll(u, sid, ARM))
    s.act("coord1", start, lambda u: dosing.assign_dose(u, sid))
    s.act("stat", start, lambda u: dosing.confirm_dose(u, s.signing(), sid))
    s.act(
        "coord1",
        start,
        lambda u: products.release_product(
            u, sid, lot=f"LOT-{sid}", certificate=CERTIFICATE, weight_kg=70.0, released_on=day
        ),
    )


def waiting_cohort(db: Database, settings: Settings, password: str) -> list[str]:
    """The three participants (study IDs); the third still needs its DLT adjudication."""
    s = Seeder(db, settings, password)
    # 04:00 UTC of yesterday: the same calendar day in UTC and at the site (Asia/Shanghai), so
    # the dates typed here (UTC) and the site's "today" defaults agree at any hour of the run.
    now = (datetime.now(UTC) - timedelta(days=1)).replace(hour=4, minute=0, second=0, microsecond=0)
    start = now - timedelta(days=45)
    ids = []
    for _ in range(3):
        p = s.act("coord1", start, lambda u: participants.register_participant(u, "S01"))
        sid = p.study_id  # type: ignore[attr-defined]
        ids.append(sid)
        _enroll_and_release(s, sid, start)
    ld_day = start + timedelta(days=2)
    infusion_day = start + timedelta(days=5)
    for sid in ids:
        s.act(
            "coord1",
            ld_day,
            lambda u, sid=sid: products.record_lymphodepletion(
                u, sid, regimen="Flu/Cy", agents=[], start_on=ld_day.date(), end_on=ld_day.date()
            ),
        )
        s.act(
            "coord1",
            infusion_day,
            lambda u, sid=sid: products.record_infusion(
                u, sid, infused_on=infusion_day.date(), infused_volume_ml=50.0
            ),
        )
    assessed = infusion_day + timedelta(days=28)
    marrow = {"blasts_pct": 2, "anc": 1.5, "platelets": 120}
    for sid in ids:
        s.act(
            "coord1",
            assessed,
            lambda u, sid=sid: responses.record_response(
                u, sid, assessed_on=assessed.date(), marrow=marrow, timepoint="day_28"
            ),
        )
    for sid in ids[:2]:
        s.act("inv1", now, lambda u, sid=sid: dlt.adjudicate_dlt(u, sid))
    return ids
