"""Worklists: what each site (and each user) has to do next, with due dates and overdue flags.

One list, derived here and nowhere else, for the web landing page, ``GET /api/v1/worklist`` and
``dosewise worklist``. Every clinical fact comes from the read model (:mod:`dosewise.trial.state`),
every window from the protocol file, every date from the site's calendar
(:mod:`dosewise.trial.calendar`):

- ``visit``: a visit inside its window (due by the window's last day) or, for a visit dosewise
  records (lymphodepletion, infusion, response visits), past it without a record (overdue) —
  :func:`dosewise.trial.state.participant_visits`, the participant page's timeline;
- ``dlt_adjudication``: an infused participant whose toxicity is still pending, once the DLT
  window closes within :data:`HORIZON_DAYS` (due on the window's last day);
- ``readjudication``: a final adjudication reopened by a later possible DLT (the arm waits);
- ``bor_assessment``: the BOR window (``windows.bor``) is open, or closed, without a final BOR
  (due on the window's last day); the BOR window's visit is this item, not a second ``visit``;
- ``signature``: a proposed dose that waits for its signed confirmation (due the day proposed);
- ``query``: an unresolved data query (open: the site answers; answered: the raiser closes),
  due :data:`QUERY_DUE_DAYS` days after it was raised (the queries' first age band);
- ``dose_decision``: an enrolled participant without a dose; due today (the day the design could
  first assign is not recorded, and waiting for the design is not being late), or on the day the
  design's wait ends.

Overdue: the due date is before today at the participant's site. Off-study participants have
no clinical items (their unresolved queries stay). A site user sees their own site only
(``participant.read``'s scope, as every read of participants); ``mine`` keeps the items the
user's role may act on at that site.

The values (the kinds, :class:`WorkItem`, :class:`Worklist`, :class:`WorklistFilter`,
:func:`narrow`) are :mod:`dosewise.trial.services.worklist_items`'s, re-exported here; this
module derives the items from the records.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from dosewise.errors import InvalidInput
from dosewise.protocol import Protocol
from dosewise.store.tables import Arm, DoseAssignment, Participant, Site
from dosewise.trial.access import Role, authorize, scope_of, visible_sites
from dosewise.trial.calendar import local_date, local_today, site_zone
from dosewise.trial.refusals import refusal
from dosewise.trial.services import queries
from dosewise.trial.services.worklist_items import (
    ACTS,
    HORIZON_DAYS,
    KINDS,
    QUERY_DUE_DAYS,
    WorkItem,
    Worklist,
    WorklistFilter,
    narrow,
)
from dosewise.trial.state import (
    NextStep,
    PatientOutcome,
    VisitRecords,
    arm_protocol,
    participant_visits,
    recorded_visits,
    trial_state,
)
from dosewise.trial.uow import UnitOfWork

__all__ = [
    "ACTS",
    "HORIZON_DAYS",
    "KINDS",
    "QUERY_DUE_DAYS",
    "WorkItem",
    "Worklist",
    "WorklistFilter",
    "narrow",
    "worklist",
]

_NO_RECORDS = VisitRecords()


def _check(uow: UnitOfWork, flt: WorklistFilter) -> None:
    if flt.kind is not None and flt.kind not in KINDS:
        raise refusal(
            InvalidInput, "kind", flt.kind, "one_of", choices=KINDS, choice_of="worklist_kind"
        )
    if flt.site_id is not None:
        authorize(uow.actor, "participant.read", flt.site_id)
        if uow.session.get(Site, flt.site_id) is None:
            raise refusal(InvalidInput, "site_id", flt.site_id, "no_such_site_any")


def worklist(uow: UnitOfWork, flt: WorklistFilter = WorklistFilter()) -> Worklist:
    """The actor's worklist (see the module doc); ``participant.read`` is required."""
    authorize(uow.actor, "participant.read")
    _check(uow, flt)
    visible = visible_sites(uow.actor, "participant.read")
    all_sites = tuple(uow.session.scalars(select(Site.id).order_by(Site.id)))
    sites = tuple(s for s in all_sites if visible is None or s in visible)
    wanted = {flt.site_id} if flt.site_id is not None else set(sites)
    builder = _Builder(uow, wanted)
    items = builder.clinical() + builder.queries(flt.site_id)
    items.sort(key=lambda i: (not i.overdue, i.due_on, KINDS.index(i.kind), i.study_id))
    return narrow(Worklist(local_today(uow), sites, tuple(items)), flt)


class _Builder:
    """Reads the read model once and turns it into items for the ``sites`` asked for."""

    def __init__(self, uow: UnitOfWork, sites: set[str]) -> None:
        self.uow, self.sites = uow, sites
        self.zones = {s: site_zone(uow.session, s) for s in sites}
        self.today = {s: local_date(uow.now(), z) for s, z in self.zones.items()}
        self._protocols: dict[str, Protocol] = {}

    def _mine(self, action: str, site_id: str) -> bool:
        actor = self.uow.actor
        scope = scope_of(actor.role, action)
        return scope is not None and (actor.site_id is None or actor.site_id == site_id)

    def _item(
        self, kind: str, o: PatientOutcome, arm_id: str, due: date, **detail: Any
    ) -> WorkItem:
        action, section = ACTS[kind]
        return WorkItem(
            kind,
            o.site_id,
            o.study_id,
            arm_id,
            due,
            self.today[o.site_id],
            action,
            section,
            self._mine(action, o.site_id),
            detail,
        )

    def _protocol(self, arm_id: str) -> Protocol:
        if arm_id not in self._protocols:
            arm = self.uow.session.get(Arm, arm_id)
            assert arm is not None
            self._protocols[arm_id] = arm_protocol(self.uow.session, arm)
        return self._protocols[arm_id]

    def clinical(self) -> list[WorkItem]:
        if not self.sites:
            return []
        session = self.uow.session
        state = trial_state(session, as_of=local_today(self.uow))
        off = {
            pid
            for (pid,) in session.execute(
                select(Participant.id).where(Participant.off_study_on.is_not(None))
            )
        }
        patients = [
            (arm_id, o)
            for arm_id, arm in state.arms.items()
            for o in arm.patients
            if o.site_id in self.sites and o.participant_id not in off
        ]
        records = recorded_visits(session, [o.participant_id for _, o in patients])
        proposed = self._proposed()
        items: list[WorkItem] = []
        for arm_id, o in patients:
            protocol = self._protocol(arm_id)
            if o.infused_on is None:
                items += self._before_infusion(arm_id, o, state.arms[arm_id].next, proposed)
                continue
            items += self._dlt(arm_id, o, protocol)
            bor = self._bor(arm_id, o, protocol)
            items += bor
            today = self.today[o.site_id]
            for vs, shown in participant_visits(
                protocol, o.infused_on, today, records.get(o.participant_id, _NO_RECORDS)
            ):
                if shown not in ("due", "overdue"):
                    continue
                if bor and "response" in vs.visit.assessments and vs.window_end == bor[0].due_on:
                    continue  # the BOR window's visit is the BOR item
                items.append(
                    self._item(
                        "visit",
                        o,
                        arm_id,
                        vs.window_end,
                        visit=vs.visit.name,
                        label=vs.visit.label,
                        label_zh=vs.visit.zh or None,
                        study_day=vs.visit.day,
                        window_start=vs.window_start,
                        window_end=vs.window_end,
                    )
                )
        return items

    def _proposed(self) -> dict[int, tuple[int, str, date]]:
        """Proposed (unconfirmed) doses: participant id → (assignment id, level, day proposed)."""
        rows = self.uow.session.execute(
            select(
                DoseAssignment.participant_id,
                DoseAssignment.id,
                DoseAssignment.dose_level,
                DoseAssignment.assigned_at,
                Participant.site_id,
            )
            .join(Participant, Participant.id == DoseAssignment.participant_id)
            .where(DoseAssignment.status == "proposed")
        )
        return {
            pid: (aid, str(level), local_date(at, self.zones[site]))
            for pid, aid, level, at, site in rows
            if site in self.zones
        }

    def _before_infusion(
        self,
        arm_id: str,
        o: PatientOutcome,
        step: NextStep,
        proposed: dict[int, tuple[int, str, date]],
    ) -> list[WorkItem]:
        if o.participant_id in proposed:
            aid, level, on = proposed[o.participant_id]
            return [self._item("signature", o, arm_id, on, assignment_id=aid, level=level)]
        if o.assignment_status is not None:
            return []
        action = str(step.action)
        # When the design became able to assign is not recorded: a dose it can give is due
        # today, a wait with an end is due then; waiting is not being late.
        today = self.today[o.site_id]
        wait_until = step.wait_until if action == "wait" else None
        return [
            self._item(
                "dose_decision",
                o,
                arm_id,
                max(wait_until or today, today),
                arm_action=action,
                wait_until=wait_until,
                enrolled_on=o.enrolled_on,
            )
        ]

    def _dlt(self, arm_id: str, o: PatientOutcome, protocol: Protocol) -> list[WorkItem]:
        assert o.infused_on is not None
        window_end = o.infused_on + timedelta(days=protocol.dlt.window_days)
        if o.reopened is not None:
            return [
                self._item(
                    "readjudication",
                    o,
                    arm_id,
                    window_end,
                    window_end=window_end,
                    events=list(o.reopened.event_ids),
                )
            ]
        if o.toxicity_status != "pending":
            return []
        if window_end > self.today[o.site_id] + timedelta(days=HORIZON_DAYS):
            return []
        return [self._item("dlt_adjudication", o, arm_id, window_end, window_end=window_end)]

    def _bor(self, arm_id: str, o: PatientOutcome, protocol: Protocol) -> list[WorkItem]:
        assert o.infused_on is not None
        if o.bor_final:
            return []
        window = protocol.windows.bor
        first = o.infused_on + timedelta(days=window.first_day)
        last = o.infused_on + timedelta(days=window.last_day)
        if self.today[o.site_id] < first:
            return []
        return [
            self._item(
                "bor_assessment", o, arm_id, last, window_start=first, window_end=last, bor=o.bor
            )
        ]

    def queries(self, site_id: str | None) -> list[WorkItem]:
        actor = self.uow.actor
        if scope_of(actor.role, "query.read") is None or not self.sites:
            return []
        found = queries.list_queries(
            self.uow, queries.QueryFilter(site_id=site_id, status="unresolved")
        )
        items = []
        for q in found:
            if q["site_id"] not in self.sites:
                continue
            raised = local_date(q["raised_at"], self.zones[q["site_id"]])
            if q["status"] == "open":
                mine = self._mine("query.answer", q["site_id"])
            else:  # answered: the raiser (or a data manager) closes or re-opens it
                mine = q["raised_by"] == actor.username or actor.role == Role.DATA_MANAGER.value
            items.append(
                WorkItem(
                    "query",
                    q["site_id"],
                    q["study_id"],
                    None,
                    raised + timedelta(days=QUERY_DUE_DAYS),
                    self.today[q["site_id"]],
                    ACTS["query"][0] if q["status"] == "open" else "query.raise",
                    ACTS["query"][1],
                    mine,
                    {
                        "query_id": q["id"],
                        "status": q["status"],
                        "record_type": q["record_type"],
                        "field": q["field"],
                        "raised_by": q["raised_by"],
                        "raised_on": raised,
                        "age_days": q["age_days"],
                        "age": q["age"],
                    },
                )
            )
        return items
