"""Where the demo script does its acts: :class:`Desk`, and :class:`ServiceDesk` (the services).

The script (:mod:`dosewise.trial.demo`) acts as a named user — a site's coordinator or
investigator, the statistician — through a :class:`Desk`. :class:`ServiceDesk` calls the
trial's service functions directly, one audited unit of work per act as that user, exactly as
the API's routes do but without HTTP, sessions or logins: ``dosewise demo-data`` fills a
database in seconds. The whole-trial API test drives the same script through a desk that sends
each act as an HTTP request (``tests/e2e_api/whole_trial_run.py``), so both paths record the
same trial. Results are plain dicts with the field names of the API's responses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from dosewise.errors import InvalidInput
from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.store.tables import Arm, Phase1Closure, User
from dosewise.trial import access
from dosewise.trial.arm_state import arm_state
from dosewise.trial.audit import Actor
from dosewise.trial.esign import Signing
from dosewise.trial.services import adverse_events as aes
from dosewise.trial.services import dlt, dosing, participants, phases, products, responses
from dosewise.trial.services.calendar import today
from dosewise.trial.services.errors import MustWait
from dosewise.trial.uow import Clock, UnitOfWork

T = TypeVar("T")


class Desk(Protocol):
    """The acts of the demo script, each done as ``user`` (a username); ``acts`` counts them."""

    password: str
    acts: int

    def register(self, user: str, site_id: str, year_of_birth: int) -> str: ...
    def consent(self, user: str, study_id: str, version: str, record: dict[str, Any]) -> None: ...
    def screen(
        self, user: str, study_id: str, arm_id: str, record: dict[str, Any]
    ) -> dict[str, Any]: ...
    def enroll(self, user: str, study_id: str, arm_id: str) -> None: ...
    def arm_state(self, user: str, arm_id: str) -> dict[str, Any]: ...
    def assign(self, user: str, study_id: str, arm_version: int) -> dict[str, Any]: ...
    def confirm(self, user: str, study_id: str, meaning: str) -> None: ...
    def release(self, user: str, study_id: str, product: dict[str, Any]) -> dict[str, Any]: ...
    def lymphodeplete(self, user: str, study_id: str, course: dict[str, Any]) -> None: ...
    def infuse(
        self, user: str, study_id: str, infused_on: date, volume_ml: float
    ) -> int | None: ...
    def adverse_event(self, user: str, study_id: str, event: dict[str, Any]) -> None: ...
    def response(self, user: str, study_id: str, assessment: dict[str, Any]) -> None: ...
    def adjudicate(self, user: str, study_id: str) -> dict[str, Any]: ...
    def close_phase1(self, user: str, arm_id: str, arm_version: int) -> dict[str, Any]: ...
    def look(self, user: str, arm_id: str) -> dict[str, Any]: ...


class _CheckedOnce(access.Passwords):
    """Argon2 verification that remembers a (hash, password) pair it has accepted.

    The script signs about 110 times with the same few users' password; each Argon2 check
    costs 0.1-0.3 s at the production cost. Verifying a password against a stored hash is a
    pure function, so after one real check per user the answer is reused. Only the demo's
    desk, for its own password, in its own process, uses this.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._accepted: set[tuple[str, str]] = set()

    def verify(self, password_hash: str, password: str) -> bool:
        if (password_hash, password) in self._accepted:
            return True
        ok = super().verify(password_hash, password)
        if ok:
            self._accepted.add((password_hash, password))
        return ok


def _day(value: str | date) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _maybe_day(value: str | date | None) -> date | None:
    return None if value is None else _day(value)


class ServiceDesk:
    """The acts as direct service calls, one unit of work per act (context ``via: demo``)."""

    def __init__(self, db: Database, settings: Settings, clock: Clock, password: str) -> None:
        self.db = db
        self.clock = clock
        self.password = password
        self.settings = settings
        self.passwords = _CheckedOnce(settings)
        self._actors: dict[str, Actor] = {}
        self.acts = 0

    def _actor(self, user: str) -> Actor:
        if user not in self._actors:
            with UnitOfWork(self.db, Actor.system("demo"), readonly=True) as uow:
                row = uow.session.scalar(select(User).where(User.username == user))
                if row is None:
                    raise InvalidInput("user", user, "no such demo user")
                self._actors[user] = Actor.of(row)
        return self._actors[user]

    @contextmanager
    def _uow(self, user: str, readonly: bool = False) -> Iterator[UnitOfWork]:
        with UnitOfWork(
            self.db,
            self._actor(user),
            clock=self.clock,
            readonly=readonly,
            context={"via": "demo"},
        ) as uow:
            self.acts += 1
            yield uow

    def _do(self, user: str, act: Callable[[UnitOfWork], T]) -> T:
        with self._uow(user) as uow:
            return act(uow)

    def _signing(self, meaning: str = "approval") -> Signing:
        return Signing(self.passwords, self.settings, self.password, meaning)

    def register(self, user: str, site_id: str, year_of_birth: int) -> str:
        return self._do(
            user,
            lambda uow: (
                participants.register_participant(
                    uow, site_id, year_of_birth=year_of_birth
                ).study_id
            ),
        )

    def consent(self, user: str, study_id: str, version: str, record: dict[str, Any]) -> None:
        self._do(
            user,
            lambda uow: participants.record_consent(uow, study_id, record, consent_version=version),
        )

    def screen(
        self, user: str, study_id: str, arm_id: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        s = self._do(user, lambda uow: participants.screen(uow, study_id, arm_id, record))
        return {"eligible": s.eligible, "failed_criteria": list(s.failed_criteria)}

    def enroll(self, user: str, study_id: str, arm_id: str) -> None:
        self._do(user, lambda uow: participants.enroll(uow, study_id, arm_id))

    def arm_state(self, user: str, arm_id: str) -> dict[str, Any]:
        with self._uow(user, readonly=True) as uow:
            # The site calendar's day, as the API and the pages use it (not the UTC date).
            return arm_state(uow.session, arm_id, as_of=today(uow)).to_dict()

    def assign(self, user: str, study_id: str, arm_version: int) -> dict[str, Any]:
        """The assignment (API field names), or ``{"error": {...}}`` when the design says wait."""
        try:
            with self._uow(user, readonly=True) as uow:
                dosing.check_assignable(uow, study_id, expected_arm_version=arm_version)
        except MustWait as exc:
            return {"error": {"code": exc.code, "field": exc.field, "message": exc.message}}
        with self._uow(user) as uow:
            a = dosing.assign_dose(uow, study_id, expected_arm_version=arm_version)
            d: dict[str, Any] = dict(a.decision or {})
            return {
                "id": a.id,
                "study_id": study_id,
                "arm_id": a.arm_id,
                "phase": a.phase,
                "cohort": a.cohort,
                "dose_index": a.dose_index,
                "dose_level": a.dose_level,
                "status": a.status,
                "rule": d.get("rule"),
                "reason": d.get("reason"),
                "outcomes": d.get("outcomes"),
                "seed": d.get("seed"),
                "decision": d,
                "arm_version": a.arm_version,
            }

    def confirm(self, user: str, study_id: str, meaning: str) -> None:
        signing = self._signing(meaning)
        self._do(user, lambda uow: dosing.confirm_dose(uow, signing, study_id))

    def release(self, user: str, study_id: str, product: dict[str, Any]) -> dict[str, Any]:
        signing = self._signing()
        prod = self._do(
            user,
            lambda uow: products.release_product(
                uow,
                study_id,
                lot=product["lot"],
                certificate=product["certificate"],
                weight_kg=product["weight_kg"],
                released_on=_day(product["released_on"]),
                signing=signing,
            ),
        )
        return {"fallback": prod.fallback, "volume_ml": (prod.feasibility or {}).get("volume_ml")}

    def lymphodeplete(self, user: str, study_id: str, course: dict[str, Any]) -> None:
        self._do(
            user,
            lambda uow: products.record_lymphodepletion(
                uow,
                study_id,
                regimen=course["regimen"],
                agents=course["agents"],
                start_on=_day(course["start_on"]),
                end_on=_maybe_day(course.get("end_on")),
            ),
        )

    def infuse(self, user: str, study_id: str, infused_on: date, volume_ml: float) -> int | None:
        row = self._do(
            user,
            lambda uow: products.record_infusion(
                uow, study_id, infused_on=infused_on, infused_volume_ml=volume_ml
            ),
        )
        return row.actual_dose_index

    def adverse_event(self, user: str, study_id: str, event: dict[str, Any]) -> None:
        fields = dict(event)
        for key in ("onset_on", "resolved_on"):
            if key in fields:
                fields[key] = _maybe_day(fields[key])
        self._do(user, lambda uow: aes.record_adverse_event(uow, study_id, **fields))

    def response(self, user: str, study_id: str, assessment: dict[str, Any]) -> None:
        fields = {**assessment, "assessed_on": _day(assessment["assessed_on"])}
        self._do(user, lambda uow: responses.record_response(uow, study_id, **fields))

    def adjudicate(self, user: str, study_id: str) -> dict[str, Any]:
        row = self._do(user, lambda uow: dlt.adjudicate_dlt(uow, study_id))
        return {"study_id": study_id, "is_dlt": row.is_dlt, "evaluable": row.evaluable}

    def close_phase1(self, user: str, arm_id: str, arm_version: int) -> dict[str, Any]:
        signing = self._signing()

        def close(uow: UnitOfWork) -> dict[str, Any]:
            c: Phase1Closure = phases.close_phase1(
                uow, signing, arm_id, expected_arm_version=arm_version
            )
            basis: Mapping[str, Any] = c.basis or {}
            return {
                "arm_id": c.arm_id,
                "obd_index": c.obd_index,
                "obd_level": c.obd_level,
                "rp2d_index": c.rp2d_index,
                "rp2d_level": c.rp2d_level,
                "reason": basis.get("reason"),
                "outcomes": basis.get("outcomes"),
                "phase": uow.get(Arm, arm_id).phase,
            }

        return self._do(user, close)

    def look(self, user: str, arm_id: str) -> dict[str, Any]:
        row = self._do(user, lambda uow: phases.phase2_look(uow, arm_id))
        return {
            "arm_id": row.arm_id,
            "look": row.look,
            "n": row.n,
            "responses": row.responses,
            "toxicities": row.toxicities,
            "decision": row.decision,
            "reason": str((row.detail or {}).get("reason", "")),
        }
