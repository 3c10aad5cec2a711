"""A whole NCT07070323 trial, played through the trial's services on simulated time.

:func:`load_demo_trial`: 54 participants over the three arms and four sites, plus screen
failures; a fallback-dose product; DLTs, CRS and ICANS; responses; each arm's dose decisions as
its BOIN12 design makes them; phase 1 closed with an OBD per arm (e-signed); phase 2 at the RP2D
with BOP2 looks. Every act is done as the site's coordinator, investigator or the statistician
at a :class:`~dosewise.trial.demo.desk.Desk`: :class:`~dosewise.trial.demo.desk.ServiceDesk`
calls the services directly, one audited unit of work per act (a run takes seconds), so the
database holds what a real run would: the audit trail, the e-signatures, the decisions with
their state snapshots. ``dosewise demo-data`` (a database for demonstrations and screenshots)
and the DSMB report / SDTM export tests load this data; the whole-trial API test plays the same
script through HTTP.

The script (:mod:`dosewise.trial.demo.plan`) fixes each patient's outcome by arm and *analysed*
dose; the doses themselves come from the design through the services. The clock must be one the
script can move (``advance(days=...)``), e.g. :class:`DemoClock` or the tests' ``FakeClock``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select

from dosewise.protocol import default_protocol
from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.store.tables import Participant
from dosewise.trial import access
from dosewise.trial.audit import Actor
from dosewise.trial.demo import plan
from dosewise.trial.demo.desk import Desk, ServiceDesk
from dosewise.trial.uow import UnitOfWork


class MovableClock(Protocol):
    def __call__(self) -> datetime: ...

    def advance(self, **delta: float) -> None: ...


class DemoClock:
    """A clock the script moves by hand (simulated trial time)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class DemoError(RuntimeError):
    """The trial answered the script with something it did not expect."""


@dataclass
class Patient:
    """One participant of the script, and what happened to them."""

    study_id: str
    site: str
    arm: str
    n: int
    age: int
    weight: float
    sex: str
    phase: int = 1
    cohort: int | None = None
    dose: int | None = None
    analysed_dose: int | None = None
    letter: str | None = None
    infused_on: date | None = None
    fallback: bool = False
    dlt: bool = False
    responder: bool = False
    kind: int = 0


@dataclass
class DemoResult:
    """What the script did: users, participants, every dose decision, closures and looks."""

    password: str
    users: dict[str, str]
    patients: list[Patient] = field(default_factory=list)
    screen_failures: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    closures: dict[str, dict[str, Any]] = field(default_factory=dict)
    looks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    adjudications: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0  # acts done (each one an HTTP request when the API desk runs them)

    @property
    def enrolled(self) -> list[Patient]:
        return self.patients


# --------------------------------------------------------------------------- the script


def _demo_users() -> dict[str, tuple[str, str | None, str]]:
    users: dict[str, tuple[str, str | None, str]] = {}
    for site in plan.SITES:
        code = site.lower()
        users[f"inv.{code}"] = ("investigator", site, f"Investigator {site}")
        users[f"crc.{code}"] = ("coordinator", site, f"Coordinator {site}")
    users["stat.demo"] = ("statistician", None, "Trial Statistician")
    users["dsmb.demo"] = ("dsmb", None, "DSMB Chair")
    users["monitor.demo"] = ("monitor", None, "Clinical Monitor")
    return users


def _create_users(db: Database, settings: Settings, password: str) -> dict[str, str]:
    passwords = access.Passwords(settings)
    created = {}
    for username, (role, site, name) in _demo_users().items():
        with UnitOfWork(db, Actor.system("demo"), context={"via": "demo"}) as uow:
            access.create_user(
                uow,
                passwords,
                settings,
                username=username,
                full_name=name,
                role=role,
                site_id=site,
                password=password,
                one_time=False,  # demo accounts share a known password on purpose
            )
        created[username] = role
    return created


class _Script:
    def __init__(
        self,
        desk: Desk,
        clock: MovableClock,
        result: DemoResult,
        log: Callable[[str], None],
        progress: Callable[[int, int], None],
    ) -> None:
        self.desk = desk
        self.progress = progress
        self.clock = clock
        self.result = result
        self.log = log
        self.sites = itertools.cycle(plan.SITES)
        self.counter = itertools.count()
        self.analysed: dict[tuple[str, str], int] = {}
        protocol = default_protocol()
        self.ladder = protocol.dose_levels
        #: Each visit's study day (protocol ``visits``): the days the assessments are dated.
        self.day = {v.name: v.day for v in protocol.visit_schedule()}
        self.kinds = itertools.count()
        self.confirmers = itertools.cycle(("inv", "stat"))
        #: Response assessments a site records later, on their day: (day, order, patient,
        #: timepoint, marrow); :meth:`advance_to` records each as the clock reaches it.
        self.follow_ups: list[tuple[date, int, Patient, str, dict[str, Any]]] = []
        self.follow_order = itertools.count()

    def treated(self, p: Patient) -> None:
        """Count ``p`` among the participants treated (and move the progress bar)."""
        self.result.patients.append(p)
        self.progress(len(self.result.patients), plan.PARTICIPANTS)

    @property
    def today(self) -> date:
        return self.clock().date()

    def advance_to(self, day: date) -> None:
        """Move the clock to ``day``, recording on its day each follow-up assessment due by then."""
        while self.follow_ups and self.follow_ups[0][0] <= day:
            on, _, p, timepoint, marrow = heapq.heappop(self.follow_ups)
            self._forward(on)
            self._assess(p, on, timepoint, marrow)
        self._forward(day)

    def _forward(self, day: date) -> None:
        if day > self.today:
            self.clock.advance(days=(day - self.today).days)

    def _assess(self, p: Patient, on: date, timepoint: str, marrow: dict[str, Any]) -> None:
        self.desk.response(
            f"crc.{p.site.lower()}",
            p.study_id,
            {"assessed_on": on.isoformat(), "timepoint": timepoint, "marrow": marrow},
        )

    def follow_up(self, p: Patient, timepoint: str, marrow: dict[str, Any]) -> None:
        """Record ``p``'s ``timepoint`` assessment on the visit's day, when the clock gets there."""
        assert p.infused_on is not None
        on = p.infused_on + timedelta(days=self.day[timepoint])
        heapq.heappush(self.follow_ups, (on, next(self.follow_order), p, timepoint, marrow))

    # -- people ---------------------------------------------------------------------------
    def register(self, arm: str, site: str | None = None) -> Patient:
        site = site or next(self.sites)
        n = next(self.counter)
        age, weight, sex = plan.person(n)
        crc = f"crc.{site.lower()}"
        born = self.today.year - age
        sid = self.desk.register(crc, site, born)
        self.desk.consent(crc, sid, "v1.0", plan.consent_record(self.today, age))
        return Patient(sid, site, arm, n, age, weight, sex)

    def screen(self, p: Patient, change: dict[str, Any] | None = None) -> dict[str, Any]:
        record = plan.screening_record(self.today, p.age, p.sex, change)
        return self.desk.screen(f"crc.{p.site.lower()}", p.study_id, p.arm, record)

    def recruit(self, arm: str) -> Patient:
        """Register, consent, screen (eligible) and enroll one participant into ``arm``."""
        p = self.register(arm)
        screening = self.screen(p)
        if not screening["eligible"]:
            raise DemoError(f"{p.study_id} should be eligible: {screening['failed_criteria']}")
        self.desk.enroll(f"crc.{p.site.lower()}", p.study_id, arm)
        return p

    def screen_failure(self, site: str, arm: str, what: str, change: dict[str, Any]) -> None:
        p = self.register(arm, site)
        screening = self.screen(p, change)
        if screening["eligible"]:
            raise DemoError(f"{p.study_id} should fail screening ({what})")
        self.result.screen_failures.append(
            {
                "study_id": p.study_id,
                "arm": arm,
                "what": what,
                "failed": screening["failed_criteria"],
            }
        )

    # -- dosing ---------------------------------------------------------------------------
    def assign(self, p: Patient) -> dict[str, Any] | None:
        """Ask the design for a dose; None (and the refusal kept) when it says wait."""
        site = p.site.lower()
        state = self.desk.arm_state("stat.demo", p.arm)
        r = self.desk.assign(f"crc.{site}", p.study_id, state["version"])
        if "error" in r:
            if r["error"]["code"] != "must_wait":
                raise DemoError(f"assign {p.study_id}: {r}")
            self.result.refusals.append({"study_id": p.study_id, "arm": p.arm, **r["error"]})
            return None
        if r["decision"].get("new_decision"):
            self.result.states.append(state)
        self.result.assignments.append({**r, "site": p.site})
        p.cohort, p.dose, p.phase = r["cohort"], r["dose_index"], r["phase"]
        who = f"inv.{site}" if next(self.confirmers) == "inv" else "stat.demo"
        self.desk.confirm(who, p.study_id, "approval")
        return dict(r)

    def treat(self, group: list[tuple[Patient, bool]]) -> None:
        """Release (day +1), lymphodeplete (days +1..+3) and infuse (day +6) each patient."""
        start = self.today
        self.advance_to(start + timedelta(days=1))
        volumes = {}
        for p, short in group:
            assert p.dose is not None
            prod = self.desk.release(
                f"crc.{p.site.lower()}",
                p.study_id,
                {
                    "lot": f"CD5-{p.study_id}",
                    "certificate": plan.certificate(
                        self.ladder.by_index(p.dose).cells_per_kg, p.weight, short
                    ),
                    "weight_kg": p.weight,
                    "released_on": self.today.isoformat(),
                },
            )
            p.fallback = bool(prod["fallback"])
            volumes[p.study_id] = prod["volume_ml"]
        self.advance_to(start + timedelta(days=3))
        for p, _ in group:
            self.desk.lymphodeplete(
                f"crc.{p.site.lower()}",
                p.study_id,
                {
                    "regimen": "Flu/Cy",
                    "agents": [dict(agent) for agent in plan.LYMPHODEPLETION_AGENTS],
                    "start_on": (start + timedelta(days=1)).isoformat(),
                    "end_on": self.today.isoformat(),
                },
            )
        self.advance_to(start + timedelta(days=6))
        for p, _ in group:
            p.analysed_dose = self.desk.infuse(
                f"crc.{p.site.lower()}", p.study_id, self.today, volumes[p.study_id]
            )
            p.infused_on = self.today

    # -- outcomes -------------------------------------------------------------------------
    def phase1_letter(self, p: Patient) -> str:
        assert p.analysed_dose is not None
        key = (p.arm, self.ladder.by_index(p.analysed_dose).name)
        k = self.analysed.get(key, 0)
        self.analysed[key] = k + 1
        return plan.PHASE1_TRUTH[p.arm][key[1]][k]

    def record_outcomes(self, p: Patient, dlt: bool, responds: bool, late: bool = False) -> None:
        """AEs, the day-28 assessment (and months 2 and 3 when ``late``), then the DLT
        adjudication; months 2 and 3 otherwise follow on their days (:meth:`follow_up`)."""
        assert p.infused_on is not None
        kind = next(self.kinds)
        p.kind = kind
        crc, inv = f"crc.{p.site.lower()}", f"inv.{p.site.lower()}"
        events = (
            plan.toxicity_events(kind, p.infused_on, p.arm != "autologous", p.age)
            if dlt
            else plan.other_events(kind, p.infused_on, p.age)
        )
        for event in events:
            self.desk.adverse_event(crc, p.study_id, event)
        # The response visits of the protocol's schedule. Month 2 repeats the day-28 marrow (no
        # better than the best so far: neither the day-28 efficacy read-out nor the BOR moves);
        # month 3 gives the BOR. A ``late`` participant (phase 2, everything recorded at once
        # here) does not respond by day 28 and may respond by month 3.
        day28 = plan.marrow(False, 0) if late else plan.marrow(responds, kind)
        visits = {"day_28": day28, "month_2": day28, "month_3": plan.marrow(responds, kind)}
        for timepoint, marrow in visits.items():
            if late or timepoint == "day_28":
                self._assess(
                    p, p.infused_on + timedelta(days=self.day[timepoint]), timepoint, marrow
                )
            else:  # phase 1: the site records it on its day, as the clock reaches it
                self.follow_up(p, timepoint, marrow)
        adjudication = self.desk.adjudicate(inv, p.study_id)
        if adjudication["is_dlt"] != dlt:
            raise DemoError(f"{p.study_id}: the DLT rule gave {adjudication}, the script {dlt}")
        self.result.adjudications.append(adjudication)
        p.dlt, p.responder = dlt, responds


# --------------------------------------------------------------------------- the run


def load_demo_trial(
    db: Database,
    settings: Settings,
    clock: MovableClock,
    *,
    password: str | None = None,
    log: Callable[[str], None] = lambda _: None,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
    desk: Callable[[str], Desk] | None = None,
) -> DemoResult:
    """Run the scripted NCT07070323 trial on a migrated, empty trial database.

    Creates the demo users (one investigator and one coordinator per site, a statistician, a
    DSMB member and a monitor) with ``password`` (generated if not given), then plays the whole
    trial, moving ``clock`` forward (about a year of trial time). Each act is a direct service
    call (:class:`ServiceDesk`) unless ``desk`` makes another desk from the password (the API
    test's HTTP desk). ``progress(done, total)`` follows the participants treated.
    """
    with UnitOfWork(db, Actor.system("demo"), readonly=True) as uow:
        if uow.session.scalar(select(func.count()).select_from(Participant)):
            raise DemoError("the database already holds participants: use an empty trial")
    password = password or access.generate_password()
    result = DemoResult(password=password, users=_create_users(db, settings, password))
    acts = desk(password) if desk else ServiceDesk(db, settings, clock, password)
    script = _Script(acts, clock, result, log, progress)
    # An idle connection held open for the run: SQLite checkpoints and removes its WAL file
    # when the last connection closes, which would otherwise happen after every act.
    with db.engine.connect():
        _phase1(script)
        _phase2(script)
    result.requests = acts.acts
    return result


def _phase1(s: _Script) -> None:
    arms = list(plan.PHASE1_TRUTH)
    waiting: dict[str, Patient] = {}
    failures = list(plan.SCREEN_FAILURES)
    cohort = 0
    while arms:
        cohort += 1
        start = s.today
        s.log(f"{start}: phase 1 cohort {cohort} for {', '.join(arms)}")
        group: list[tuple[Patient, bool]] = []
        for arm in list(arms):
            state = s.desk.arm_state("stat.demo", arm)
            if state["next"]["action"] in ("select_obd", "stop"):
                _close(s, arm, state)
                arms.remove(arm)
                continue
            for position in range(3):
                p = waiting.pop(arm, None) or s.recruit(arm)
                if s.assign(p) is None:
                    raise DemoError(f"{p.study_id} was refused a dose at a cohort start")
                s.treated(p)
                group.append((p, (arm, cohort, position) in plan.FALLBACK))
        if failures:
            s.screen_failure(*failures.pop(0))
            if failures:
                s.screen_failure(*failures.pop(0))
        if not group:
            break
        s.treat(group)
        infused = s.today
        # Two weeks on, a newly enrolled participant asks for a dose: the design says wait,
        # unless a place of the cohort is free (a fallback participant followed for safety
        # only): then they take it and are treated at the cohort's dose.
        s.advance_to(infused + timedelta(days=10))
        replacements: list[tuple[Patient, bool]] = []
        for arm in arms:
            if cohort < 4:
                waiting[arm] = s.recruit(arm)
                if s.assign(waiting[arm]) is not None:
                    p = waiting.pop(arm)
                    s.treated(p)
                    replacements.append((p, False))
        s.advance_to(infused + timedelta(days=31))
        for p, _ in group:
            letter = s.phase1_letter(p)
            p.letter = letter
            s.record_outcomes(p, letter in "TB", letter in "EB")
        if replacements:
            s.treat(replacements)
            s.advance_to(s.today + timedelta(days=31))
            for p, _ in replacements:
                p.letter = s.phase1_letter(p)
                s.record_outcomes(p, p.letter in "TB", p.letter in "EB")


def _close(s: _Script, arm: str, state: dict[str, Any]) -> None:
    closure = s.desk.close_phase1("stat.demo", arm, state["version"])
    s.result.closures[arm] = {**closure, "state": state}
    s.log(f"{s.today}: phase 1 of {arm} closed: OBD {closure['obd_level']}")


def _phase2(s: _Script) -> None:
    arms = [a for a, c in s.result.closures.items() if c["rp2d_index"] is not None]
    for batch in (0, 1):
        group: list[tuple[Patient, bool]] = []
        for arm in arms:
            for _ in range(3):
                p = s.recruit(arm)
                if s.assign(p) is None:
                    raise DemoError(f"{p.study_id} was refused a phase 2 dose")
                s.treated(p)
                group.append((p, False))
        s.log(f"{s.today}: phase 2 batch {batch + 1}")
        s.treat(group)
        infused = s.today
        s.advance_to(infused + timedelta(days=98))
        for p, _ in group:
            expansion = [q for q in s.result.patients if q.arm == p.arm and q.phase == 2]
            dlt, responds = plan.PHASE2_TRUTH[p.arm][expansion.index(p)]
            s.record_outcomes(p, dlt, responds, late=True)
        for arm in arms:
            look = s.desk.look("stat.demo", arm)
            s.result.looks.setdefault(arm, []).append(look)
            s.log(f"{s.today}: BOP2 look {look['look']} of {arm}: {look['decision']}")
