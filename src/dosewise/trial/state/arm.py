"""THE arm state: an arm's dose-finding state computed from its records, for every view.

:func:`arm_state` is the one function the API, the CLI, the services (dose assignment, phase 1
closure, BOP2 looks), the web pages and the DSMB report call. It returns counts per dose,
pending outcomes with the days left in their windows, desirability and admissibility, the next
decision and why, and the decision history. Nothing is stored: the state is derived each time
from enrollments, dose assignments, products, infusions, DLT adjudications and response
assessments (see :mod:`dosewise.trial.state.participant` for how each outcome is derived).

**Cohorts.** The design decides once per cohort (``cohort_size`` patients, 3 in NCT07070323):
the decision that opens cohort *c* gives its dose, and the next patients join that cohort at
that dose until it is full. A patient who turns out not evaluable does not fill a place: the
next patient replaces them at the same dose. Nor does a patient given a level outside the dose
finding (the fallback under ``dose_levels.fallback_policy`` ``safety_only``): they are followed
for safety only (``outside_doses``), and the next patient replaces them. When the cohort is
full, BOIN12 needs every outcome: while any is pending the next patient **must wait**, and the
state says until when.
(TITE-BOIN12 decides with pending outcomes and waits only when its suspension rule says so.)

**The outcome notation.** The complete outcomes are written as the ``escalation`` notation,
cohort by cohort in treatment order, each patient at the dose they were *analysed* at; within
a cohort, patients analysed at another dose (a fallback product) come first, so that the last
token is always the cohort's own dose — the design's current dose. The notation and the seed of
each decision are part of the state, and ``decide_command`` is the ``dosewise decide`` command
that reproduces the decision: the service's decision equals ``Boin12(params).decide(outcomes)``.

**Ties.** NCT07070323 breaks ties at random and names no seed; the seed of the decision that
opens cohort *c* is derived from the trial, the arm and *c*
(:func:`decision_seed`) and recorded.

**Counts per dose.** ``n``, ``dlt`` and ``responses`` are the design's data (participants with
both outcomes known, at the dose they are analysed at). ``treated`` counts every infused
participant analysed at the dose, ``evaluable`` those adjudicated evaluable for DLT, ``dlts``
those with a DLT, ``responders`` those with a best overall response of CR/CRi (as reported), and
``worst_ae`` the infused participants by their worst AE grade (1-5) in the protocol's AE window.
These pool phases 1 and 2; :meth:`ArmState.phase_doses` gives the same counts over one phase's
participants (the registry's phase 1 measures and phase 2 response are counted that way).
"""

from __future__ import annotations

import hashlib
import math
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from dosewise.design import Boin12, Boin12Params, Decision, TiteBoin12, TitePatient
from dosewise.design.tite import TiteDecision
from dosewise.protocol import Protocol
from dosewise.store.tables import Arm, Bop2Look, DoseAssignment, Phase1Closure
from dosewise.trial.calendar import site_zone
from dosewise.trial.refusals import refusal
from dosewise.trial.state.cache import records_cache
from dosewise.trial.state.later import (
    NextStep,
    closure_dict,
    history,
    next_later,
    phase2_counts,
    phase2_population,
    phase2_summary,
)
from dosewise.trial.state.participant import (
    ANY_AE,
    PatientOutcome,
    efficacy_rule,
    fills_place,
    patient_outcomes,
    replaced,
)
from dosewise.trial.state.reasons import nested, reason_text
from dosewise.trial.state.sources import arm_protocol
from dosewise.trial.uow import NotFound

#: ``dosewise decide`` options and the parameter each one sets.
CLI_OPTIONS = (
    ("--doses", "n_doses"),
    ("--phi-t", "phi_t"),
    ("--phi-e", "phi_e"),
    ("--u11", "u11"),
    ("--u00", "u00"),
    ("--c-t", "c_t"),
    ("--c-e", "c_e"),
    ("--n-star", "n_star"),
    ("--n2", "n2"),
    ("--cohort-size", "cohort_size"),
    ("--max-n", "max_n"),
    ("--n-earlystop", "n_earlystop"),
    ("--start-dose", "start_dose"),
    ("--tie-break", "tie_break"),
)


@dataclass(frozen=True)
class DoseRow:
    """One design dose: what the data say about it now."""

    dose: int
    level: str
    cells_per_kg: float
    n: int
    dlt: int
    responses: int
    pending: int
    desirability: float
    admissible: bool
    eliminated: str | None
    treated: int = 0
    evaluable: int = 0
    dlts: int = 0
    responders: int = 0
    worst_ae: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dose": self.dose,
            "level": self.level,
            "cells_per_kg": self.cells_per_kg,
            "n": self.n,
            "dlt": self.dlt,
            "responses": self.responses,
            "pending": self.pending,
            "desirability": round(self.desirability, 10),
            "admissible": self.admissible,
            "eliminated": self.eliminated,
            "treated": self.treated,
            "evaluable": self.evaluable,
            "dlts": self.dlts,
            "responders": self.responders,
            "worst_ae": {str(g): n for g, n in enumerate(self.worst_ae, start=1)},
        }


@dataclass(frozen=True)
class ArmState:
    """An arm's dose-finding state on ``as_of`` (doses 1-based; see the module doc)."""

    arm_id: str
    label: str
    design: str
    phase: str
    version: int
    as_of: date
    params: dict[str, Any]
    dose_levels: tuple[dict[str, Any], ...]
    outcomes: str
    doses: tuple[DoseRow, ...]
    patients: tuple[PatientOutcome, ...]
    cohort: dict[str, Any] | None
    next: NextStep
    history: tuple[dict[str, Any], ...]
    decide_command: str | None = None
    tite_input: dict[str, Any] | None = None
    obd: dict[str, Any] | None = None
    closure: dict[str, Any] | None = None
    phase2: dict[str, Any] | None = None
    #: Notes on how the state is read, as reason codes with parameters (``reason_code``,
    #: ``reason_params``, and the English ``reason``), rendered in en/zh from
    #: :data:`~dosewise.trial.state.reasons.STEP_MESSAGES`; ``notes`` is their English text.
    note_codes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    #: The arm's design as a typed value (``params`` is its JSON form, with the method).
    design_params: Boin12Params | None = None
    #: Other sites' participants as counts, when the state was redacted for a site user
    #: (:func:`dosewise.trial.confidential.redact_for`); None: every participant is listed.
    other_sites: dict[str, int] | None = None
    #: Levels outside the dose finding (the fallback under ``safety_only``): safety counts only.
    outside_doses: tuple[DoseRow, ...] = ()
    #: Participants the trial replaces (:func:`replaced`), per phase: they take no place
    #: against the arm's phase 1 maximum or phase 2 size (not in :meth:`to_dict`: study IDs).
    replaced_by_phase: dict[int, int] = field(default_factory=dict)

    @property
    def notes(self) -> tuple[str, ...]:
        """The notes in English (the ``notes`` of the JSON, as before the codes)."""
        return tuple(str(n["reason"]) for n in self.note_codes)

    @property
    def pending(self) -> tuple[PatientOutcome, ...]:
        return tuple(p for p in self.patients if p.status == "pending")

    @property
    def needs_readjudication(self) -> tuple[PatientOutcome, ...]:
        """Participants whose final DLT adjudication was reopened: no dose until re-adjudicated."""
        return tuple(p for p in self.patients if p.needs_readjudication)

    def phase_doses(self, phase: int) -> dict[int, dict[str, Any]]:
        """Per dose (design doses, then levels outside the dose finding), the :func:`dose_tally`
        counts over ``phase``'s participants only.

        ``doses`` pools both phases (a phase 2 participant at the RP2D counts there too); the
        ClinicalTrials.gov phase 1 measures (DLT, AEs) and phase 2 response count one phase.
        """
        mine = [p for p in self.patients if p.phase == phase]
        return {d.dose: dose_tally(mine, d.dose) for d in (*self.doses, *self.outside_doses)}

    def snapshot(self) -> dict[str, Any]:
        """What a dose assignment keeps of the state it was made from (no history)."""
        data = self.to_dict()
        data.pop("history", None)
        return data

    def to_dict(self) -> dict[str, Any]:
        data = self._to_dict()
        if self.other_sites is not None:
            data["other_sites"] = dict(self.other_sites)
        return data

    def _to_dict(self) -> dict[str, Any]:
        return {
            "arm_id": self.arm_id,
            "label": self.label,
            "design": self.design,
            "phase": self.phase,
            "version": self.version,
            "as_of": self.as_of.isoformat(),
            "params": self.params,
            "dose_levels": list(self.dose_levels),
            "outcomes": self.outcomes,
            "decide_command": self.decide_command,
            "tite_input": self.tite_input,
            "doses": [d.to_dict() for d in self.doses],
            "outside_doses": [d.to_dict() for d in self.outside_doses],
            "cohort": self.cohort,
            "pending": [
                {
                    "study_id": p.study_id,
                    "dose": p.analysed_dose,
                    "waiting_for": list(p.waiting_for),
                    "known_by": None if p.known_by is None else p.known_by.isoformat(),
                    "days_left": p.days_left,
                }
                for p in self.pending
            ],
            "needs_readjudication": [p.study_id for p in self.needs_readjudication],
            "patients": [p.to_dict() for p in self.patients],
            "next": self.next.to_dict(),
            "obd": self.obd,
            "closure": self.closure,
            "phase2": self.phase2,
            "history": list(self.history),
            "notes": list(self.notes),
            "note_codes": [dict(n) for n in self.note_codes],
        }


# --------------------------------------------------------------------------- notation


def outcome_notation(patients: Sequence[PatientOutcome]) -> str:
    """The complete phase 1 outcomes in the ``escalation`` notation (see the module doc)."""
    tokens: list[str] = []
    by_cohort: dict[int, list[PatientOutcome]] = {}
    for p in patients:
        if p.phase == 1 and p.cohort is not None and p.letter is not None:
            by_cohort.setdefault(p.cohort, []).append(p)
    for cohort in sorted(by_cohort):
        members = sorted(by_cohort[cohort], key=lambda p: p.assignment_id or 0)
        own = members[0].assigned_dose
        groups: dict[int, str] = {}
        for p in members:
            assert p.analysed_dose is not None and p.letter is not None
            groups[p.analysed_dose] = groups.get(p.analysed_dose, "") + p.letter
        order = sorted(groups, key=lambda d: (d == own, d))
        tokens += [f"{d}{groups[d]}" for d in order]
    return " ".join(tokens)


def decision_seed(nct_id: str, arm_id: str, cohort: int) -> int:
    """The seed of the random tie-break for the decision that opens ``cohort`` of an arm.

    The protocol breaks ties at random without a seed; the service derives one per decision
    from the trial, the arm and the cohort number, so every view (and ``dosewise decide
    --seed``) reproduces the same decision, and the seed is recorded with it.
    """
    digest = hashlib.sha256(f"{nct_id}:{arm_id}:{cohort}".encode()).hexdigest()
    return int(digest[:8], 16)


def seeded(params: Boin12Params, protocol: Protocol, arm_id: str, cohort: int) -> Boin12Params:
    """The arm's parameters with the seed of the decision that opens ``cohort``."""
    if params.seed is not None:
        return params
    return params.with_(seed=decision_seed(protocol.registry.nct_id, arm_id, cohort))


def decide_args(params: Boin12Params, outcomes: str) -> list[str]:
    """``dosewise decide`` arguments that reproduce a decision (``--json`` included)."""
    data = params.to_dict()
    args = ["decide"]
    for flag, key in CLI_OPTIONS:
        args += [flag, str(data[key])]
    if params.seed is not None:
        args += ["--seed", str(params.seed)]
    return [*args, "--outcomes", outcomes, "--json"]


def decide_command(params: Boin12Params, outcomes: str) -> str:
    return shlex.join(["dosewise", *decide_args(params, outcomes)])


# --------------------------------------------------------------------------- the state


def arm_state(
    session: Session, arm_id: str, *, as_of: date, protocol: Protocol | None = None
) -> ArmState:
    """The arm's dose-finding state on ``as_of`` (the service's calendar day).

    In a read-only unit of work the result is shared across requests and processes until a
    write changes the records (:mod:`dosewise.trial.state.cache`); it always equals
    :func:`compute_arm_state`.
    """
    arm = session.get(Arm, arm_id)
    if arm is None:
        raise refusal(NotFound, "arm_id", arm_id, "no_such_arm")
    stored = arm_protocol(session, arm)
    if protocol is not None and protocol is not stored:
        return compute_arm_state(session, arm_id, as_of=as_of, protocol=protocol)
    key = ("arm_state", arm.id, arm.version, arm.phase, arm.protocol_version_id, as_of)
    return records_cache(session).get(
        session, key, lambda: compute_arm_state(session, arm_id, as_of=as_of, protocol=stored)
    )


def compute_arm_state(
    session: Session, arm_id: str, *, as_of: date, protocol: Protocol | None = None
) -> ArmState:
    """The arm's state on ``as_of`` computed from the records now (never cached)."""
    arm = session.get(Arm, arm_id)
    if arm is None:
        raise refusal(NotFound, "arm_id", arm_id, "no_such_arm")
    protocol = protocol or arm_protocol(session, arm)
    params = protocol.design_params(arm_id)
    patients = patient_outcomes(session, arm, protocol, as_of)
    phase1 = [p for p in patients if p.phase == 1 and p.cohort is not None]
    notation = outcome_notation(phase1)
    openings = _cohort_openings(session, arm_id)
    closure = session.scalar(select(Phase1Closure).where(Phase1Closure.arm_id == arm_id))
    looks = list(
        session.scalars(select(Bop2Look).where(Bop2Look.arm_id == arm_id).order_by(Bop2Look.look))
    )
    doses = _dose_rows(params, protocol, notation, phase1, patients)
    cohort_info = _cohort_info(phase1, params)
    tite_input = None
    if arm.phase == "phase1":
        nxt, tite_input = _next_phase1(protocol, arm_id, params, phase1, notation, openings, as_of)
    else:
        nxt = next_later(arm, closure, patients, looks, protocol)
    command = None
    decision = nxt.decision or {}
    if protocol.design.method == "BOIN12" and decision.get("outcomes") is not None:
        used = params if params.seed is not None else params.with_(seed=decision.get("seed"))
        command = decide_command(used, decision["outcomes"])
    obd = None
    if nxt.decision is not None and nxt.action in ("select_obd", "stop"):
        obd = nxt.decision.get("obd_result")
    state = ArmState(
        arm_id=arm.id,
        label=arm.label,
        design=protocol.design.method,
        phase=arm.phase,
        version=arm.version,
        as_of=as_of,
        params={**params.to_dict(), "method": protocol.design.method},
        dose_levels=tuple(
            {"dose": d.dose, "level": d.level, "cells_per_kg": d.cells_per_kg} for d in doses
        ),
        outcomes=notation,
        doses=doses,
        patients=tuple(patients),
        cohort=cohort_info,
        next=nxt,
        history=tuple(history(openings, closure, looks)),
        decide_command=command,
        tite_input=tite_input,
        obd=obd,
        closure=None if closure is None else closure_dict(closure),
        phase2=phase2_summary(arm, closure, patients, looks),
        design_params=params,
        outside_doses=_outside_rows(protocol, patients),
        replaced_by_phase=dict(Counter(p.phase for p in patients if replaced(p, protocol))),
        note_codes=(
            _fallback_note(protocol),
            _note("note_calendar", zone=site_zone(session).key),
        ),
    )
    return state


def _note(code: str, **params: Any) -> dict[str, Any]:
    """A note as a reason code, its parameters and its English words."""
    return {"reason_code": code, "reason_params": params, "reason": reason_text(code, params)}


def _fallback_note(protocol: Protocol) -> dict[str, Any]:
    """How the arm analyses a fallback product (``dose_levels.fallback_policy``)."""
    ladder = protocol.dose_levels
    fallback = next((lv for lv in ladder.levels if lv.role == "fallback"), None)
    if fallback is None:
        return _note("note_no_fallback")
    if not fallback.in_design:
        return _note("note_fallback_safety_only", level=fallback.name)
    return _note(
        "note_fallback_actual", level=fallback.name, design_dose=fallback.design_index.value
    )


def _outside_rows(protocol: Protocol, patients: Sequence[PatientOutcome]) -> tuple[DoseRow, ...]:
    """Safety counts at the levels outside the dose finding (no design data there)."""
    return tuple(
        DoseRow(
            dose=level.design_index.value,
            level=level.name,
            cells_per_kg=level.cells_per_kg,
            n=0,
            dlt=0,
            responses=0,
            pending=0,
            desirability=0.0,
            admissible=False,
            eliminated=None,
            **dose_tally(patients, level.design_index.value),
        )
        for level in protocol.dose_levels.outside
    )


def _cohort_openings(session: Session, arm_id: str) -> list[DoseAssignment]:
    """The first phase 1 assignment of each cohort: it carries the cohort's decision."""
    first: dict[int, DoseAssignment] = {}
    for a in session.scalars(
        select(DoseAssignment)
        .options(defer(DoseAssignment.state))
        .where(DoseAssignment.arm_id == arm_id, DoseAssignment.phase == 1)
        .order_by(DoseAssignment.id)
    ):
        first.setdefault(a.cohort, a)
    return [first[c] for c in sorted(first)]


def _dose_rows(
    params: Boin12Params,
    protocol: Protocol,
    notation: str,
    phase1: Sequence[PatientOutcome],
    patients: Sequence[PatientOutcome],
) -> tuple[DoseRow, ...]:
    design = Boin12(params)
    st = design.state(notation)
    prob = design.desirabilities(st)
    rows = []
    for j in range(params.n_doses):
        level = protocol.dose_levels.by_index(j + 1)
        why = (
            "toxicity"
            if st.tox_eliminated[j]
            else ("futility" if st.futility_eliminated[j] else None)
        )
        rows.append(
            DoseRow(
                dose=j + 1,
                level=level.name,
                cells_per_kg=level.cells_per_kg,
                n=int(st.counts.n[j]),
                dlt=int(st.counts.tox[j]),
                responses=int(st.counts.eff[j]),
                pending=sum(
                    1 for p in phase1 if p.status == "pending" and p.analysed_dose == j + 1
                ),
                desirability=float(prob[j]),
                admissible=why is None,
                eliminated=why,
                **dose_tally(patients, j + 1),
            )
        )
    return tuple(rows)


def dose_tally(patients: Sequence[PatientOutcome], dose: int) -> dict[str, Any]:
    """Treated, DLT-evaluable, DLTs, BOR responders and worst AE grades at one design dose.

    Every view that shows these counts reads them from here (phases 1 and 2 pooled: a
    participant counts at the dose they are analysed at).
    """
    treated = [p for p in patients if p.treated and p.analysed_dose == dose]
    grades = [p.worst_grade() for p in treated]
    return {
        "treated": len(treated),
        "evaluable": sum(1 for p in treated if p.dlt_evaluable),
        "dlts": sum(1 for p in treated if p.toxicity_status == "dlt"),
        "responders": sum(1 for p in treated if p.reported_responder),
        "worst_ae": tuple(sum(1 for g in grades if g == k) for k in range(1, 6)),
    }


def category_tally(patients: Sequence[PatientOutcome]) -> dict[str, tuple[int, ...]]:
    """Infused participants by AE category and worst grade (1-5) in the protocol's AE window.

    Each participant counts once per category, at their worst grade (categories sorted).
    """
    out: dict[str, list[int]] = {}
    for p in patients:
        if not p.treated:
            continue
        for category, grade in p.worst_grades:
            if category != ANY_AE and 1 <= grade <= 5:
                out.setdefault(category, [0] * 5)[grade - 1] += 1
    return {c: tuple(out[c]) for c in sorted(out)}


def _cohort_info(phase1: Sequence[PatientOutcome], params: Boin12Params) -> dict[str, Any] | None:
    if not phase1:
        return None
    number = max(p.cohort or 0 for p in phase1)
    members = [p for p in phase1 if p.cohort == number]
    filled = sum(1 for p in members if fills_place(p))
    return {
        "number": number,
        "dose": members[0].assigned_dose,
        "size": params.cohort_size,
        "filled": filled,
        "places_left": max(0, params.cohort_size - filled),
        "members": [p.study_id for p in members],
    }


def _decision_dict(decision: Decision) -> dict[str, Any]:
    data = decision.to_dict()
    if decision.obd is not None:
        data["obd_result"] = decision.obd.to_dict()
    return data


def _next_phase1(
    protocol: Protocol,
    arm_id: str,
    params: Boin12Params,
    phase1: Sequence[PatientOutcome],
    notation: str,
    openings: Sequence[DoseAssignment],
    as_of: date,
) -> tuple[NextStep, dict[str, Any] | None]:
    ladder = protocol.dose_levels
    if openings:
        last = openings[-1]
        members = [p for p in phase1 if p.cohort == last.cohort]
        filled = sum(1 for p in members if fills_place(p))
        if filled < params.cohort_size:
            join = {
                "cohort": last.cohort,
                "dose": last.dose_index,
                "level": last.dose_level,
                "filled": filled,
                "size": params.cohort_size,
                "decision": nested(last.decision),
            }
            step = NextStep.of(
                "assign",
                "join_cohort",
                join,
                phase=1,
                cohort=last.cohort,
                dose=last.dose_index,
                level=last.dose_level,
                decision=last.decision,
                seed=last.decision.get("seed"),
                outcomes=last.decision.get("outcomes"),
            )
            return step, None
    cohort = len(openings) + 1
    params_c = seeded(params, protocol, arm_id, cohort)
    if protocol.design.method == "TITE-BOIN12":
        return _next_tite(protocol, arm_id, params_c, phase1, openings, as_of, cohort)
    pending = [p for p in phase1 if p.status == "pending"]
    if pending:
        return _wait(pending, cohort), None
    decision = Boin12(params_c).decide(notation)
    return _step(decision, params_c, notation, cohort, ladder), None


def _wait(pending: Sequence[PatientOutcome], cohort: int) -> NextStep:
    dates = [p.known_by for p in pending]
    until = None if any(d is None for d in dates) else max(d for d in dates if d is not None)
    params: dict[str, Any] = {
        "cohort": cohort,
        "until": None if until is None else until.isoformat(),
        "count": len(pending),
        "pending": [
            {
                "study_id": p.study_id,
                "waiting_for": list(p.waiting_for),
                "known_by": None if p.known_by is None else p.known_by.isoformat(),
            }
            for p in pending
        ],
    }
    return NextStep.of("wait", "wait_pending", params, phase=1, cohort=cohort, wait_until=until)


def _step(
    decision: Decision, params: Boin12Params, notation: str, cohort: int, ladder: Any
) -> NextStep:
    data = {**_decision_dict(decision), "seed": params.seed, "outcomes": notation}
    if decision.select_obd:
        return NextStep.of(
            "select_obd",
            "close_obd",
            {"decision": nested(data)},
            phase=1,
            decision=data,
            seed=params.seed,
            outcomes=notation,
            new_decision=True,
        )
    if decision.stop or decision.next_dose is None:
        return NextStep.of(
            "stop",
            "close_no_obd",
            {"decision": nested(data)},
            phase=1,
            decision=data,
            seed=params.seed,
            outcomes=notation,
            new_decision=True,
        )
    return NextStep.of(
        "assign",
        str(decision.why.code),
        decision.why.params_dict(),
        phase=1,
        cohort=cohort,
        dose=decision.next_dose,
        level=ladder.by_index(decision.next_dose).name,
        decision=data,
        seed=params.seed,
        outcomes=notation,
        new_decision=True,
    )


def _next_tite(
    protocol: Protocol,
    arm_id: str,
    params: Boin12Params,
    phase1: Sequence[PatientOutcome],
    openings: Sequence[DoseAssignment],
    as_of: date,
    cohort: int,
) -> tuple[NextStep, dict[str, Any]]:
    """TITE-BOIN12: decide with the pending outcomes (follow-up in days since infusion)."""
    tox_window = float(protocol.dlt.window_days)
    eff_window = float(efficacy_rule(protocol).by_day)
    patients = []
    for p in phase1:
        if not fills_place(p) or p.analysed_dose is None:
            continue
        follow = 0 if p.infused_on is None else max(0, (as_of - p.infused_on).days)
        patients.append(
            TitePatient(
                dose=p.analysed_dose,
                follow_up=float(follow),
                dlt=p.toxicity is True,
                response=p.efficacy is True,
                dlt_final=p.toxicity is False,
                response_final=p.efficacy is False,
            )
        )
    eliminated = sorted(
        {int(d) for a in openings for d in (a.decision or {}).get("eliminated", [])}
    )
    tite_input = {
        "patients": [
            {
                "dose": t.dose,
                "follow_up": t.follow_up,
                "dlt": t.dlt,
                "response": t.response,
                "dlt_final": t.dlt_final,
                "response_final": t.response_final,
            }
            for t in patients
        ],
        "eliminated": eliminated,
        "tox_window": tox_window,
        "eff_window": eff_window,
    }
    model = TiteBoin12(params, tox_window, eff_window)
    result = model.decide(patients, eliminated, rng=np.random.default_rng(params.seed))
    data = {**result.to_dict(), "seed": params.seed, "outcomes": None}
    if result.accrual_complete:
        return _accrual_complete(result, as_of, cohort, data), tite_input
    if result.wait or result.decision is None:
        until = as_of + timedelta(days=math.ceil(result.wait_days_max or 0))
        step = NextStep.of(
            "wait",
            str(result.why.code),
            result.why.params_dict(),
            phase=1,
            cohort=cohort,
            wait_until=until,
            decision=data,
        )
        return step, tite_input
    pending = [p for p in phase1 if p.status == "pending"]
    if result.decision.select_obd and pending:
        # Enrolment is over (n_earlystop or max_n); outcomes are still to be entered.
        waiting = _wait(pending, cohort)
        pending_params: dict[str, Any] = {"decision": nested(data), "count": len(pending)}
        step = NextStep.of("wait", "tite_accrual_pending", pending_params)
        return replace(
            waiting,
            reason=step.reason,
            reason_code=step.reason_code,
            reason_params=step.reason_params,
        ), tite_input
    step = _step(result.decision, params, "", cohort, protocol.dose_levels)
    merged = {**(step.decision or {}), **data}
    return replace(
        step,
        reason=result.reason,
        reason_code=str(result.why.code),
        reason_params=result.why.params_dict(),
        decision=merged,
        outcomes=None,
    ), tite_input


def _accrual_complete(
    result: TiteDecision, as_of: date, cohort: int, data: dict[str, Any]
) -> NextStep:
    """TITE-BOIN12 says enrolment is over: no next patient; the final decision follows the
    follow-up, the last outcome due on ``wait_until`` if no event occurs."""
    due = as_of + timedelta(days=math.ceil(result.due_days_max or 0))
    return NextStep.of(
        "wait",
        str(result.why.code),
        result.why.params_dict(),
        phase=1,
        cohort=cohort,
        wait_until=due,
        decision=data,
    )


__all__ = [
    "ArmState",
    "DoseRow",
    "NextStep",
    "arm_state",
    "category_tally",
    "compute_arm_state",
    "decide_args",
    "decide_command",
    "decision_seed",
    "dose_tally",
    "fills_place",
    "outcome_notation",
    "phase2_counts",
    "phase2_population",
    "seeded",
]
