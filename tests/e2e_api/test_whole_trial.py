"""A whole trial as a test (issue 6, item 6): NCT07070323 run through the REST API on SQLite and
PostgreSQL — 54 participants in the design over three arms and four sites, screen failures, a
fallback-dose product (followed for safety only and replaced: the protocol's default
``fallback_policy``, so 55 treated), DLTs, CRS and ICANS, responses, each arm's dose decisions
on the registry's two design doses DL1 and DL2, phase 1 closed with an OBD per arm (e-signed)
and phase 2 with BOP2 looks.

At every decision the service's answer is compared with what the design gives for the same
outcomes: ``Boin12(params).decide(outcomes)`` (and the CLI ``dosewise decide`` for the last
decision of each arm), where the outcomes are rebuilt here from the script's own letters, not
read back from the service. The BOP2 looks are recomputed from the stored design.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from whole_trial_run import Trial, run_trial

import dosewise.cli.trial_acts  # noqa: F401  (registers `dosewise arm ...` for main())
from dosewise.cli.app import main
from dosewise.design import Boin12
from dosewise.design.bop2 import Bop2Design, ToxicityMonitoring, bop2_decision, optimise_bop2
from dosewise.protocol import default_protocol
from dosewise.server import create_app
from dosewise.store.tables import (
    AdverseEvent,
    Arm,
    AuditRecord,
    DltAdjudication,
    Enrollment,
    ESignature,
    Participant,
    Phase1Closure,
)
from dosewise.trial import audit, esign
from dosewise.trial.arm_state import arm_state, decide_args, seeded
from dosewise.trial.audit import Actor
from dosewise.trial.demo import Patient, plan
from dosewise.trial.uow import UnitOfWork
from pg import backend_params

PROTOCOL = default_protocol()
ARMS = ("autologous", "prior_sct_donor", "new_donor")
#: Treated: 54 in the design (12 per arm in phase 1, 6 in phase 2) and one fallback participant
#: followed for safety only (autologous, cohort 2), whose place the next participant took.
TREATED = 55
#: One participant per arm asks for a dose before cohorts 2-4 are decided and must wait, except
#: in autologous after cohort 2, where they take the fallback participant's place.
REFUSALS = 8


def read(trial: Trial) -> UnitOfWork:
    return UnitOfWork(trial.db, Actor.system("test"), clock=trial.clock, readonly=True)


def expected_notation(patients: list[Patient], arm: str, before_cohort: int) -> str:
    """The outcomes the design should see, from the script's letters (fallback first)."""
    tokens = []
    for cohort in range(1, before_cohort):
        members = [p for p in patients if p.arm == arm and p.phase == 1 and p.cohort == cohort]
        groups: dict[int, str] = {}
        for p in members:
            if p.analysed_dose == 0:  # a fallback participant: safety only, not in the design
                continue
            assert p.analysed_dose is not None and p.letter is not None
            groups[p.analysed_dose] = groups.get(p.analysed_dose, "") + p.letter
        own = members[0].dose
        tokens += [f"{d}{groups[d]}" for d in sorted(groups, key=lambda d: (d == own, d))]
    return " ".join(tokens)


def check_54_participants_over_three_arms_and_four_sites(trial: Trial) -> None:
    r = trial.result
    with read(trial) as uow:
        enrolled = Counter((e.arm_id, e.phase) for e in uow.session.scalars(select(Enrollment)))
        sites = set(uow.session.scalars(select(Enrollment.site_id)))
        statuses = Counter(uow.session.scalars(select(Participant.status)))
        registered = uow.session.scalar(select(func.count()).select_from(Participant))
    assert sum(enrolled.values()) == TREATED == len(r.patients)
    phase1 = {arm: 12 + (arm == "autologous") for arm in ARMS}  # + the fallback participant
    assert all(enrolled[(arm, 1)] == phase1[arm] and enrolled[(arm, 2)] == 6 for arm in ARMS)
    assert sites == set(plan.SITES)
    assert statuses["screen_failed"] == len(r.screen_failures) == 6
    assert registered == TREATED + 6
    assert {f["arm"] for f in r.screen_failures} == set(ARMS)
    assert all(not f["failed"][0].startswith("not assessed") for f in r.screen_failures)


def check_every_dose_decision_equals_the_designs_for_the_same_outcomes(trial: Trial) -> None:
    r = trial.result
    decisions = [a for a in r.assignments if a["decision"].get("new_decision")]
    assert len(decisions) == 12  # four cohort decisions in each arm
    for a in decisions:
        arm, cohort = a["arm_id"], a["cohort"]
        outcomes = expected_notation(r.patients, arm, cohort)
        assert a["outcomes"] == outcomes, (arm, cohort)
        params = seeded(PROTOCOL.design_params(arm), PROTOCOL, arm, cohort)
        assert a["seed"] == params.seed
        design = Boin12(params).decide(outcomes)
        assert (a["dose_index"], a["rule"]) == (design.next_dose, design.rule), (arm, cohort)
        assert a["decision"]["tied"] == list(design.tied)
        assert a["dose_level"] == PROTOCOL.dose_levels.by_index(design.next_dose or 1).name
        assert a["dose_level"] in ("DL1", "DL2")  # the registry's design doses only
    # Cohort members after the first got the cohort's dose; nobody else got a dose in phase 1.
    for a in r.assignments:
        if a["phase"] == 1:
            opening = next(
                d for d in decisions if (d["arm_id"], d["cohort"]) == (a["arm_id"], a["cohort"])
            )
            assert a["dose_index"] == opening["dose_index"]
    rules = Counter(a["rule"] for a in decisions)
    assert rules["START"] == 3 and rules["DEESCALATE"] >= 1
    # Nobody was assigned the fallback level: it is outside the dose finding.
    assert all(a["dose_level"] != "DL-1" for a in r.assignments)


def check_the_cli_reproduces_each_arms_decisions(
    trial: Trial, capsys: pytest.CaptureFixture[str]
) -> None:
    for arm in ARMS:
        closure = trial.result.closures[arm]
        state = closure["state"]
        assert state["next"]["action"] == "select_obd"
        params = seeded(PROTOCOL.design_params(arm), PROTOCOL, arm, 5)
        main(decide_args(params, state["outcomes"]))
        cli = json.loads(capsys.readouterr().out)
        decision = state["next"]["decision"]
        for key in ("next_dose", "stop", "rule", "reason", "obd", "admissible", "desirability"):
            assert cli.get(key) == decision.get(key), (arm, key)


def check_phase_1_closes_with_the_designs_obd_e_signed(trial: Trial) -> None:
    r = trial.result
    with read(trial) as uow:
        closures = {c.arm_id: c for c in uow.session.scalars(select(Phase1Closure))}
        signatures = {
            c.arm_id: uow.session.get(ESignature, c.signature_id) for c in closures.values()
        }
        phases = {a.id: a.phase for a in uow.session.scalars(select(Arm))}
    for arm in ARMS:
        outcomes = expected_notation(r.patients, arm, 5)
        design = Boin12(seeded(PROTOCOL.design_params(arm), PROTOCOL, arm, 5)).decide(outcomes)
        assert design.select_obd and design.obd is not None
        c = closures[arm]
        assert c.basis["outcomes"] == outcomes
        assert c.obd_index == c.rp2d_index == design.obd.obd
        assert r.closures[arm]["obd_index"] == design.obd.obd
        sig = signatures[arm]
        assert sig is not None and sig.username == "stat.demo" and sig.meaning == "approval"
        assert esign.verify(sig).ok
        assert json.loads(sig.content)["obd_index"] == design.obd.obd
        assert phases[arm] == "closed"  # phase 2 ended at its final BOP2 look


def check_the_fallback_participant_is_followed_for_safety_and_replaced(trial: Trial) -> None:
    """fallback_policy safety_only: in no level's design data, its place taken by the next."""
    fallback = [p for p in trial.result.patients if p.fallback]
    assert len(fallback) == 1
    p = fallback[0]
    assert p.arm == "autologous" and p.analysed_dose == 0 and p.dose in (1, 2)
    with read(trial) as uow:
        state = arm_state(uow.session, p.arm, as_of=trial.clock().date())
    row = next(x for x in state.patients if x.study_id == p.study_id)
    assert (row.assigned_dose, row.analysed_dose, row.analysed_level, row.fallback) == (
        p.dose,
        0,
        "DL-1",
        True,
    )
    assert row.status == "safety_only" and row.letter is None
    assert row.toxicity_status in ("dlt", "no_dlt")  # still adjudicated and reported for safety
    # The cohort's design data hold three participants at its own dose, the replacement one.
    cohort = [
        q
        for q in trial.result.patients
        if q.arm == p.arm and q.phase == 1 and q.cohort == p.cohort and q is not p
    ]
    assert len(cohort) == 3 and all(q.analysed_dose == p.dose for q in cohort)
    tokens = state.outcomes.split()
    assert tokens[p.cohort - 1] == f"{p.dose}" + "".join(q.letter or "" for q in cohort)
    assert not any(t.startswith("0") for t in tokens)
    # Its safety counts are shown at DL-1, outside the design's doses.
    assert [d.level for d in state.doses] == ["DL1", "DL2"]
    (outside,) = state.outside_doses
    assert (outside.level, outside.n, outside.treated, outside.evaluable) == ("DL-1", 0, 1, 1)
    assert sum(d.treated for d in state.doses) + outside.treated == 19


def check_dlts_crs_and_icans_are_recorded_and_classified_by_the_protocols_rule(
    trial: Trial,
) -> None:
    r = trial.result
    with read(trial) as uow:
        events = list(uow.session.scalars(select(AdverseEvent)))
        adjudications = list(uow.session.scalars(select(DltAdjudication)))
    categories = Counter(e.category for e in events)
    assert categories["crs"] >= 40 and categories["icans"] >= 5 and categories["gvhd"] >= 1
    assert any(e.category == "crs" and e.grade == 4 for e in events)
    assert any(
        e.category == "icans" and (e.components or {})["astct"].get("capd_score") for e in events
    )
    assert all(e.scale == "ASTCT 2019" for e in events if e.category in ("crs", "icans"))
    assert len(adjudications) == TREATED and all(a.status == "final" for a in adjudications)
    assert not any(a.evaluation and a.evaluation["departs_from_rule"] for a in adjudications)
    want = sum(p.dlt for p in r.patients)
    assert sum(a.is_dlt for a in adjudications) == want > 0


def check_the_next_patient_had_to_wait_for_the_cohorts_outcomes(trial: Trial) -> None:
    r = trial.result
    assert len(r.refusals) == REFUSALS
    by_sid = {p.study_id: p for p in r.patients}
    for refusal in r.refusals:
        assert refusal["code"] == "must_wait"
        cohort = by_sid[refusal["study_id"]].cohort
        assert cohort is not None and cohort >= 2
        previous = [p for p in r.patients if p.arm == refusal["arm"] and p.cohort == cohort - 1]
        last_infusion = max(p.infused_on for p in previous if p.infused_on)
        assert refusal["field"] == "wait_until"
        # both outcomes are known by the later of the protocol's DLT window and read-out day
        windows = default_protocol().windows
        known = last_infusion + timedelta(days=max(windows.dlt_days, windows.efficacy_days.value))
        assert f"'{known.isoformat()}'" in refusal["message"]


def check_phase_2_looks_apply_the_bop2_design_fixed_at_closure(trial: Trial) -> None:
    r = trial.result
    for arm in ARMS:
        closure = r.closures[arm]
        design_doc = closure["phase2_design"]
        rp2d = closure["rp2d_index"]
        population = [p for p in r.patients if p.arm == arm and p.analysed_dose == rp2d]
        assert (
            design_doc["n_max"] == len(population) == sum(1 for p in population if p.phase == 1) + 6
        )
        tox = design_doc["toxicity"]
        design = Bop2Design(
            n_max=design_doc["n_max"],
            looks=tuple(design_doc["looks"]),
            p0=0.30,
            p1=0.60,
            alpha=0.10,
            toxicity=ToxicityMonitoring(tox["phi_t0"], tox["phi_t1"]),
        )
        result = optimise_bop2(design)
        assert (result.lambda_, result.gamma) == (design_doc["lambda"], design_doc["gamma"])
        looks = r.looks[arm]
        assert [look["n"] for look in looks] == list(design.looks)
        for look in looks:
            phase2_done = 3 * look["look"]
            members = [p for p in population if p.phase == 1] + [
                p for p in population if p.phase == 2
            ][:phase2_done]
            responses = sum(1 for p in members if (p.letter or "") in "EB" and p.phase == 1) + sum(
                1 for p in members if p.phase == 2 and p.responder
            )
            toxicities = sum(1 for p in members if p.dlt)
            assert (look["n"], look["responses"], look["toxicities"]) == (
                len(members),
                responses,
                toxicities,
            )
            decision = bop2_decision(result, look["n"], responses, toxicities)
            assert look["decision"] == decision.action, (arm, look["look"])
        assert looks[-1]["decision"] in ("promising", "not_promising")


def check_the_audit_trail_holds_every_act_and_verifies(trial: Trial) -> None:
    with read(trial) as uow:
        report = audit.verify_chain(uow.session)
        actions = Counter(uow.session.scalars(select(AuditRecord.action)))
        assign_sites = set(
            uow.session.scalars(
                select(AuditRecord.site_id).where(AuditRecord.action == "dose.assign")
            )
        )
    assert report.ok, report.problems
    assert actions["participant.register"] == TREATED + 6
    assert actions["participant.enroll"] >= TREATED and actions["infusion.record"] >= TREATED
    assert actions["phase1.close"] >= 3 and actions["phase2.look"] >= 6
    assert actions["dose.assign_refused"] == REFUSALS
    assert assign_sites == set(plan.SITES)


def check_the_api_and_the_cli_show_the_same_arm_state(
    trial: Trial, capsys: pytest.CaptureFixture[str]
) -> None:
    day = trial.clock().date().isoformat()
    app = create_app(trial.settings, clock=trial.clock, db=trial.db)
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": "dsmb.demo", "password": trial.result.password}
        ).json()["access_token"]
        api = client.get(
            "/api/v1/arms/new_donor/state", headers={"Authorization": f"Bearer {token}"}
        ).json()
    main(
        [
            "arm",
            "state",
            "new_donor",
            "--as-of",
            day,
            "--database-url",
            trial.settings.database_url,
            "--json",
        ]
    )
    cli = json.loads(capsys.readouterr().out)
    assert api == cli
    assert api["outcomes"] == expected_notation(trial.result.patients, "new_donor", 5)
    assert api["phase2"]["looks"][-1]["decision"] == trial.result.looks["new_donor"][-1]["decision"]


def check_reports_read_the_trial_whole_and_at_a_cut_off(trial: Trial) -> None:
    """The report loader on this back end: whole, it counts every record and shows the arms'
    states; cut mid-trial, it counts only what happened by then (its own tests run on SQLite)."""
    from dosewise.report.cutoff import latest_record_day
    from dosewise.report.trial_data import load_trial_data
    from dosewise.store.tables import Infusion

    with read(trial) as uow:
        last = latest_record_day(uow.session)
        assert last is not None
        whole = load_trial_data(uow.session, as_of=last)
        days = sorted(uow.session.scalars(select(Infusion.infused_on)))
        mid = days[len(days) // 2]
        cut = load_trial_data(uow.session, as_of=mid)
        states = {a: arm_state(uow.session, a, as_of=last).to_dict() for a in ARMS}
    assert len(whole.treated) == TREATED and len(whole.participants) == TREATED + 6
    assert {a: s.to_dict() for a, s in whole.states.items()} == states
    assert len(cut.treated) == sum(d <= mid for d in days) < TREATED
    assert all(d <= mid for d in cut.adverse_events["onset_on"])


CHECKS = (
    check_54_participants_over_three_arms_and_four_sites,
    check_every_dose_decision_equals_the_designs_for_the_same_outcomes,
    check_phase_1_closes_with_the_designs_obd_e_signed,
    check_the_fallback_participant_is_followed_for_safety_and_replaced,
    check_dlts_crs_and_icans_are_recorded_and_classified_by_the_protocols_rule,
    check_the_next_patient_had_to_wait_for_the_cohorts_outcomes,
    check_phase_2_looks_apply_the_bop2_design_fixed_at_closure,
    check_the_audit_trail_holds_every_act_and_verifies,
    check_reports_read_the_trial_whole_and_at_a_cut_off,
)


@pytest.mark.parametrize("backend", backend_params())
def test_the_whole_trial_through_the_api(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One test per back end (the trial is run once, then every check reads it)."""
    with run_trial(backend, tmp_path) as trial:
        for check in CHECKS:
            check(trial)
        check_the_cli_reproduces_each_arms_decisions(trial, capsys)
        check_the_api_and_the_cli_show_the_same_arm_state(trial, capsys)
