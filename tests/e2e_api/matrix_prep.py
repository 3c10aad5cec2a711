"""The clinical rows of the access-control matrix (``tests/api/test_api_matrix.py``) and the
participants they act on.

Each row is (name, method, path(user, site), body(user, site), users allowed, success status),
as in the foundation's matrix. A row whose act can be done once per participant (enroll,
assign, confirm, release, infuse, correct an event, take off study) gets a *fresh* participant
at the site for every call expected to succeed, and a shared one otherwise; repeatable acts
share one participant per site. Participants are built through the services as the site's
coordinator; only the dose assignments behind later stages are written directly (in the
``new_donor`` arm), because the design would — rightly — make a fourth patient of a cohort wait
for outcomes, and the matrix is about who may act, not about the design.

Allowed users are written out by hand from the issue's rules, not read from ``PERMISSIONS``:
site staff write at their own site; only investigators adjudicate DLTs; only the statistician or
an investigator confirms a dose or closes phase 1; only the statistician runs BOP2 looks; DSMB
members and monitors only read (a site monitor only its site); administrators see no clinical
data. Closing phase 1 and running a look are *allowed* but refused by the design in a fresh
trial (409), which is the success status of those rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select, text

from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.store.tables import DoseAssignment, Participant, User
from dosewise.trial.audit import Actor
from dosewise.trial.demo import plan
from dosewise.trial.services import adverse_events, participants, products
from dosewise.trial.uow import UnitOfWork
from pg import PASSWORD, FakeClock

STAFF = frozenset({"inv1", "inv2", "coord1", "coord2"})
INVESTIGATORS = frozenset({"inv1", "inv2"})
READERS = frozenset({"inv1", "inv2", "coord1", "coord2", "stat", "dsmb", "mon1", "monall", "dm1"})
#: Who reads data queries (site staff and a site monitor: their site) and who raises them.
QUERY_READERS = READERS - {"dsmb"}
QUERY_RAISERS = frozenset({"stat", "mon1", "monall", "dm1"})
COORD = {"S01": "coord1", "S02": "coord2"}
#: The arm a site's participants are assigned in (cohort places: two per arm at most).
ASSIGN_ARM = {"S01": "autologous", "S02": "prior_sct_donor"}
Expected = Callable[[str, str, str], int]


class Preparer:
    """Participants at each stage of the trial, per site, built on demand."""

    def __init__(
        self, db: Database, settings: Settings, clock: FakeClock, expected: Expected
    ) -> None:
        self.db, self.settings, self.clock, self.expected = db, settings, clock, expected
        self.shared: dict[tuple[str, str], str] = {}
        self.events: dict[str, int] = {}
        self.consents: dict[str, int] = {}
        self.volumes: dict[str, float] = {}
        self.last: dict[str, str] = {}
        self._actors: dict[str, Actor] = {}
        # The matrix enrols far more participants per arm than a phase 1 takes; the limits are
        # tested in tests/e2e_api/test_api_enforce.py, so here the arms take everyone.
        with db.engine.begin() as c:
            c.execute(text("UPDATE arms SET phase1_max_n = 1000, phase2_expansion = 1000"))

    @property
    def today(self) -> date:
        return self.clock().date()

    def _actor(self, username: str) -> Actor:
        if username not in self._actors:
            with UnitOfWork(self.db, Actor.system("matrix"), readonly=True) as uow:
                user = uow.session.scalar(select(User).where(User.username == username))
                assert user is not None
                self._actors[username] = Actor.of(user)
        return self._actors[username]

    def _run(self, username: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with UnitOfWork(self.db, self._actor(username), clock=self.clock) as uow:
            return fn(uow, *args, **kwargs)

    def participant(self, name: str, user: str, site: str, stage: str, once: bool) -> str:
        if once and self.expected(name, user, site) < 400:
            sid = self.make(stage, site)
        else:
            key = (stage, site)
            if key not in self.shared:
                self.shared[key] = self.make(stage, site)
            sid = self.shared[key]
        self.last[name] = sid
        return sid

    def make(self, stage: str, site: str) -> str:
        coord = COORD[site]
        sid: str = self._run(coord, participants.register_participant, site).study_id
        if stage == "registered":
            return sid
        if stage == "incomplete_consent":
            unsigned = {**plan.consent_record(self.today, 40), "signatures": []}
            consent = self._run(
                coord, participants.record_consent, sid, unsigned, consent_version="v0"
            )
            self.consents[sid] = consent.id
            return sid
        self._run(
            coord,
            participants.record_consent,
            sid,
            plan.consent_record(self.today, 40),
            consent_version="v1",
        )
        if stage == "consented":
            return sid
        arm = ASSIGN_ARM[site] if stage in ("eligible", "enrolled") else "new_donor"
        record = plan.screening_record(self.today, 40, "male")
        self._run(coord, participants.screen, sid, arm, record)
        if stage == "eligible":
            return sid
        self._run(coord, participants.enroll, sid, arm)
        if stage == "enrolled":
            return sid
        self._assignment(sid, "proposed" if stage == "assigned" else "confirmed")
        if stage in ("assigned", "confirmed"):
            return sid
        product = self._run(
            coord,
            products.release_product,
            sid,
            lot=f"M-{sid}",
            certificate=plan.certificate(1e6, 60.0, False),
            weight_kg=60.0,
            released_on=self.today,
        )
        self.volumes[sid] = product.feasibility["volume_ml"]
        self._run(
            coord,
            products.record_lymphodepletion,
            sid,
            regimen="Flu/Cy",
            agents=[],
            start_on=self.today,
            end_on=self.today,
        )
        if stage == "depleted":
            return sid
        self._run(
            coord,
            products.record_infusion,
            sid,
            infused_on=self.today,
            infused_volume_ml=self.volumes[sid],
        )
        if stage == "treated":
            return sid
        if stage == "ae":
            ae = self._run(
                coord,
                adverse_events.record_adverse_event,
                sid,
                term="Nausea",
                grade=1,
                onset_on=self.today,
            )
            self.events[sid] = ae.id
            return sid
        assert stage == "dlt", stage
        self._run(
            coord,
            adverse_events.record_adverse_event,
            sid,
            term="Cytokine release syndrome",
            onset_on=self.today,
            crs={"fever": True, "hypotension": True, "vasopressors": 2},
        )
        return sid

    def _assignment(self, sid: str, status: str) -> None:
        """A dose assignment written directly (see the module doc for why)."""
        actor = self._actor("stat")
        with UnitOfWork(self.db, actor, clock=self.clock) as uow:
            p = uow.session.scalar(select(Participant).where(Participant.study_id == sid))
            assert p is not None and p.arm_id is not None
            uow.act("test.setup", site_id=p.site_id)
            uow.add(
                DoseAssignment(
                    participant_id=p.id,
                    arm_id=p.arm_id,
                    phase=1,
                    cohort=1,
                    dose_index=2,
                    dose_level="DL1",
                    state={},
                    decision={"rule": "TEST", "reason": "matrix setup"},
                    rule_version="test",
                    status=status,
                    arm_version=0,
                    assigned_at=uow.now(),
                    assigned_by=actor.user_id or 0,
                    confirmed_at=uow.now() if status == "confirmed" else None,
                    confirmed_by=actor.user_id if status == "confirmed" else None,
                )
            )
            p.status = "dose_assigned"
            uow.commit()


_bound: list[Preparer] = []


def bind(preparer: Preparer | None) -> None:
    """Make ``preparer`` the one the rows below use (None: paths with placeholder IDs)."""
    _bound.clear()
    if preparer is not None:
        _bound.append(preparer)


def _prep() -> Preparer | None:
    return _bound[0] if _bound else None


def _sid(name: str, stage: str, once: bool = False) -> Callable[[str, str], str]:
    def path(user: str, site: str) -> str:
        prep = _prep()
        sid = "S01-9999" if prep is None else prep.participant(name, user, site, stage, once)
        return f"/participants/{sid}"

    return path


def _under(name: str, stage: str, tail: str, once: bool = False) -> Callable[[str, str], str]:
    base = _sid(name, stage, once)
    return lambda user, site: base(user, site) + tail


def _query_body(user: str, site: str) -> dict[str, object]:
    prep = _prep()
    sid = (
        "S01-9999"
        if prep is None
        else prep.participant("queries.raise", user, site, "registered", False)
    )
    return {
        "study_id": sid,
        "record_type": "participants",
        "field": "year_of_birth",
        "question": "?",
    }


def _today() -> str:
    prep = _prep()
    return (prep.today if prep is not None else date(2026, 1, 5)).isoformat()


def _ae_path(user: str, site: str) -> str:
    prep = _prep()
    if prep is None:
        return "/participants/S01-9999/adverse-events/1"
    sid = prep.participant("ae.update", user, site, "ae", True)
    return f"/participants/{sid}/adverse-events/{prep.events[sid]}"


def _consent_void_path(user: str, site: str) -> str:
    """An incomplete consent of a fresh participant (for a call expected to succeed)."""
    prep = _prep()
    if prep is None:
        return "/participants/S01-9999/consents/1/void"
    sid = prep.participant("consent.void", user, site, "incomplete_consent", True)
    return f"/participants/{sid}/consents/{prep.consents[sid]}/void"


def _infusion_body(user: str, site: str) -> dict[str, Any]:
    prep = _prep()
    volume = 10.0 if prep is None else prep.volumes[prep.last["infusion"]]
    return {"infused_on": _today(), "infused_volume_ml": volume}


Row = tuple[
    str,
    str,
    Callable[[str, str], str],
    Callable[[str, str], object] | None,
    frozenset[str],
    int,
]
CLINICAL_ENDPOINTS: list[Row] = [
    (
        "participants.register",
        "POST",
        lambda u, s: "/participants",
        lambda u, s: {"site_id": s},
        STAFF,
        201,
    ),
    (
        "participants.list.site",
        "GET",
        lambda u, s: f"/participants?site_id={s}",
        None,
        READERS,
        200,
    ),
    ("participants.get", "GET", _sid("participants.get", "consented"), None, READERS, 200),
    (
        "participants.casebook",
        "GET",
        _under("participants.casebook", "consented", "/casebook?format=html"),
        None,
        READERS,
        200,
    ),
    (
        "participants.off_study",
        "POST",
        _under("participants.off_study", "registered", "/off-study", once=True),
        lambda u, s: {"off_study_on": _today(), "reason_code": "withdrawal", "reason": "matrix"},
        STAFF,
        200,
    ),
    (
        "consent",
        "POST",
        _under("consent", "registered", "/consents", once=True),
        lambda u, s: {
            "consent_version": "v1",
            "record": plan.consent_record(date.fromisoformat(_today()), 40),
        },
        STAFF,
        201,
    ),
    (
        "screening",
        "POST",
        _under("screening", "consented", "/screenings"),
        lambda u, s: {
            "arm_id": "autologous",
            "record": plan.screening_record(date.fromisoformat(_today()), 40, "male"),
        },
        STAFF,
        201,
    ),
    (
        "enrollment",
        "POST",
        _under("enrollment", "eligible", "/enrollment", once=True),
        lambda u, s: {"arm_id": ASSIGN_ARM[s]},
        STAFF,
        201,
    ),
    (
        "dose.assign",
        "POST",
        _under("dose.assign", "enrolled", "/dose-assignment", once=True),
        lambda u, s: {},
        STAFF,
        201,
    ),
    (
        "dose.confirm",
        "POST",
        _under("dose.confirm", "assigned", "/dose-assignment/confirm", once=True),
        lambda u, s: {"password": PASSWORD},
        INVESTIGATORS | {"stat"},
        200,
    ),
    (
        "product.release",
        "POST",
        _under("product.release", "confirmed", "/products", once=True),
        lambda u, s: {
            "lot": "M-1",
            "certificate": plan.certificate(1e6, 60.0, False),
            "weight_kg": 60.0,
            "released_on": _today(),
        },
        STAFF,
        201,
    ),
    (
        "lymphodepletion",
        "POST",
        _under("lymphodepletion", "confirmed", "/lymphodepletion", once=True),
        lambda u, s: {"regimen": "Flu/Cy", "start_on": _today(), "end_on": _today()},
        STAFF,
        201,
    ),
    (
        "infusion",
        "POST",
        _under("infusion", "depleted", "/infusion", once=True),
        _infusion_body,
        STAFF,
        201,
    ),
    (
        "ae.record",
        "POST",
        _under("ae.record", "treated", "/adverse-events"),
        lambda u, s: {"term": "Nausea", "grade": 1, "onset_on": _today()},
        STAFF,
        201,
    ),
    (
        "ae.update",
        "PATCH",
        _ae_path,
        lambda u, s: {"version": 1, "reason": "resolved", "resolved_on": _today()},
        STAFF,
        200,
    ),
    (
        "dlt.adjudicate",
        "POST",
        _under("dlt.adjudicate", "dlt", "/dlt-adjudications"),
        lambda u, s: {"rationale": "matrix check"},
        INVESTIGATORS,
        201,
    ),
    (
        "response.record",
        "POST",
        _under("response.record", "treated", "/response-assessments"),
        lambda u, s: {"assessed_on": _today(), "category": "CR"},
        STAFF,
        201,
    ),
    ("bor.derive", "POST", _under("bor.derive", "treated", "/best-response"), None, STAFF, 200),
    ("deviations.list", "GET", lambda u, s: "/deviations", None, READERS, 200),
    (
        "deviations.get",
        "GET",
        _under("deviations.get", "consented", "/deviations"),
        None,
        READERS,
        200,
    ),
    (
        "deviation.record",
        "POST",
        _under("deviation.record", "registered", "/deviations"),
        lambda u, s: {
            "category": "other",
            "description": "matrix check",
            "occurred_on": _today(),
            "reason": "matrix check",
            "password": PASSWORD,
        },
        INVESTIGATORS,
        201,
    ),
    (
        "consent.void",
        "POST",
        _consent_void_path,
        lambda u, s: {"reason": "matrix check"},
        STAFF,
        200,
    ),
    ("arms.list", "GET", lambda u, s: "/arms", None, READERS, 200),
    ("arms.state", "GET", lambda u, s: "/arms/autologous/state", None, READERS, 200),
    ("arms.decisions", "GET", lambda u, s: "/arms/autologous/decisions", None, READERS, 200),
    ("arms.phase2", "GET", lambda u, s: "/arms/autologous/phase2", None, READERS, 200),
    (
        "arms.phase1_close",
        "POST",
        lambda u, s: "/arms/autologous/phase1-closure",
        lambda u, s: {"password": PASSWORD},
        INVESTIGATORS | {"stat"},
        409,
    ),
    (
        "arms.phase2_look",
        "POST",
        lambda u, s: "/arms/autologous/phase2/looks",
        lambda u, s: {},
        frozenset({"stat"}),
        409,
    ),
]
#: Rows confined to the participant's (or the named) site for site staff and site monitors.
CLINICAL_ENDPOINTS += [
    ("queries.raise", "POST", lambda u, s: "/queries", _query_body, QUERY_RAISERS, 201),
    ("queries.list.site", "GET", lambda u, s: f"/queries?site_id={s}", None, QUERY_READERS, 200),
    (
        "queries.summary.site",
        "GET",
        lambda u, s: f"/queries/summary?site_id={s}",
        None,
        QUERY_READERS,
        200,
    ),
]
#: (``GET /deviations`` lists the reader's own sites, so it is not refused at another site.)
CLINICAL_SITE_SCOPED = {
    name
    for name, *_ in CLINICAL_ENDPOINTS
    if not name.startswith("arms.") and name != "deviations.list"
}
API = "/api/v1"
#: Every clinical route of the OpenAPI schema, each tried by a row above.
CLINICAL_COVERED = {
    ("POST", f"{API}/queries"),
    ("GET", f"{API}/queries"),
    ("GET", f"{API}/queries/summary"),
    ("POST", f"{API}/participants"),
    ("GET", f"{API}/participants"),
    ("GET", f"{API}/participants/{{study_id}}"),
    ("GET", f"{API}/participants/{{study_id}}/casebook"),
    ("POST", f"{API}/participants/{{study_id}}/off-study"),
    ("POST", f"{API}/participants/{{study_id}}/consents"),
    ("POST", f"{API}/participants/{{study_id}}/screenings"),
    ("POST", f"{API}/participants/{{study_id}}/enrollment"),
    ("POST", f"{API}/participants/{{study_id}}/dose-assignment"),
    ("POST", f"{API}/participants/{{study_id}}/dose-assignment/confirm"),
    ("POST", f"{API}/participants/{{study_id}}/products"),
    ("POST", f"{API}/participants/{{study_id}}/lymphodepletion"),
    ("POST", f"{API}/participants/{{study_id}}/infusion"),
    ("POST", f"{API}/participants/{{study_id}}/adverse-events"),
    ("PATCH", f"{API}/participants/{{study_id}}/adverse-events/{{event_id}}"),
    ("POST", f"{API}/participants/{{study_id}}/dlt-adjudications"),
    ("POST", f"{API}/participants/{{study_id}}/response-assessments"),
    ("POST", f"{API}/participants/{{study_id}}/best-response"),
    ("GET", f"{API}/deviations"),
    ("GET", f"{API}/participants/{{study_id}}/deviations"),
    ("POST", f"{API}/participants/{{study_id}}/deviations"),
    ("POST", f"{API}/participants/{{study_id}}/consents/{{consent_id}}/void"),
    ("GET", f"{API}/arms"),
    ("GET", f"{API}/arms/{{arm_id}}/state"),
    ("GET", f"{API}/arms/{{arm_id}}/decisions"),
    ("GET", f"{API}/arms/{{arm_id}}/phase2"),
    ("POST", f"{API}/arms/{{arm_id}}/phase1-closure"),
    ("POST", f"{API}/arms/{{arm_id}}/phase2/looks"),
}
