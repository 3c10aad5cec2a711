"""Acting as the template users (tests/pg.py USERS) through the service functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select

from dosewise.protocol import default_protocol
from dosewise.settings import Settings
from dosewise.store.base import Base
from dosewise.store.session import Database
from dosewise.store.tables import User
from dosewise.trial.access import Passwords
from dosewise.trial.audit import Actor
from dosewise.trial.demo import plan
from dosewise.trial.esign import Signing
from dosewise.trial.services import dosing, participants, products
from dosewise.trial.uow import UnitOfWork
from pg import PASSWORD, FakeClock

T = TypeVar("T")
COORD = {"S01": "coord1", "S02": "coord2"}
INV = {"S01": "inv1", "S02": "inv2"}
#: Cells/kg of each design dose (the registry's reading: DL1 = 1, DL2 = 2; DL-1, outside the
#: dose finding, is 0).
LEVEL_CELLS = {
    lv.design_index.value: lv.cells_per_kg for lv in default_protocol().dose_levels.levels
}


class Acts:
    """Run service functions as a named user, in one unit of work each."""

    def __init__(self, db: Database, settings: Settings, clock: FakeClock) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.passwords = Passwords(settings)
        self._actors: dict[str, Actor] = {}

    @property
    def today(self) -> date:
        return self.clock().date()

    def actor(self, username: str) -> Actor:
        if username not in self._actors:
            with UnitOfWork(self.db, Actor.system("test"), readonly=True) as uow:
                user = uow.session.scalar(select(User).where(User.username == username))
                assert user is not None, username
                self._actors[username] = Actor.of(user)
        return self._actors[username]

    def uow(self, username: str, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.db, self.actor(username), clock=self.clock, readonly=readonly)

    def run(self, username: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.uow(username) as uow:
            return fn(uow, *args, **kwargs)

    def signing(self, password: str = PASSWORD) -> Signing:
        return Signing(self.passwords, self.settings, password)

    def count(self, model: type[Base]) -> int:
        with UnitOfWork(self.db, Actor.system("test"), readonly=True) as uow:
            return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)

    # -- building a participant up to a stage ----------------------------------------------
    def register(self, site: str = "S01", age: int = 34) -> str:
        coord = COORD[site]
        p = self.run(coord, participants.register_participant, site)
        self.run(
            coord,
            participants.record_consent,
            p.study_id,
            plan.consent_record(self.today, age),
            consent_version="v1",
        )
        return p.study_id

    def recruit(self, site: str = "S01", arm: str = "autologous", age: int = 34) -> str:
        sid = self.register(site, age)
        coord = COORD[site]
        record = plan.screening_record(self.today, age, "male")
        screening = self.run(coord, participants.screen, sid, arm, record)
        assert screening.eligible, screening.failed_criteria
        self.run(coord, participants.enroll, sid, arm)
        return sid

    def assign(self, sid: str, site: str = "S01") -> Any:
        return self.run(COORD[site], dosing.assign_dose, sid)

    def confirm(self, sid: str) -> Any:
        return self.run("stat", dosing.confirm_dose, self.signing(), sid)

    def release(
        self, sid: str, dose: int, site: str = "S01", weight: float = 60.0, short: bool = False
    ) -> Any:
        return self.run(
            COORD[site],
            products.release_product,
            sid,
            lot=f"LOT-{sid}",
            certificate=plan.certificate(LEVEL_CELLS[dose], weight, short),
            weight_kg=weight,
            released_on=self.today,
        )

    def infuse(self, sid: str, volume_ml: float, site: str = "S01") -> Any:
        coord = COORD[site]
        self.run(
            coord,
            products.record_lymphodepletion,
            sid,
            regimen="Flu/Cy",
            agents=[{"agent": "fludarabine", "dose": 30, "unit": "mg/m2/day"}],
            start_on=self.today,
            end_on=self.today,
        )
        return self.run(
            coord, products.record_infusion, sid, infused_on=self.today, infused_volume_ml=volume_ml
        )

    def treat(self, sid: str, site: str = "S01", short: bool = False) -> Any:
        """Assign, confirm, release, lymphodeplete and infuse (all today)."""
        a = self.assign(sid, site)
        self.confirm(sid)
        prod = self.release(sid, a.dose_index, site, short=short)
        return self.infuse(sid, prod.feasibility["volume_ml"], site)

    def advance(self, days: int) -> None:
        self.clock.advance(days=days)

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)


def outcome(acts: Acts, sid: str, letter: str, infused_on: date, site: str = "S01") -> Any:
    """Record what makes ``letter`` (N, E, T, B): a DLT-grade CRS or not, a CR or not at day 28,
    then the investigator's adjudication (the clock must be past day 28)."""
    from dosewise.trial.services import adverse_events, dlt, responses

    coord = COORD[site]
    tox, eff = letter in "TB", letter in "EB"
    crs = {"fever": True, "hypotension": True, "vasopressors": 2 if tox else 0}
    acts.run(
        coord,
        adverse_events.record_adverse_event,
        sid,
        term="Cytokine release syndrome",
        onset_on=infused_on + timedelta(days=2),
        crs=crs,
        resolved_on=infused_on + timedelta(days=9),
        attribution="definite",
    )
    acts.run(
        coord,
        responses.record_response,
        sid,
        assessed_on=infused_on + timedelta(days=28),
        marrow=plan.marrow(eff, 0),
    )
    return acts.run(INV[site], dlt.adjudicate_dlt, sid)
