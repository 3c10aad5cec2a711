"""The arm state: one function, derived from the records, that agrees with ``dosewise decide``.

Checks: the outcome notation holds exactly the complete outcomes at the dose each patient was
analysed at (a fallback product at its actual level, before the cohort's own dose); the state's
decision equals ``Boin12(params).decide(outcomes)`` and the CLI ``dosewise decide`` run with the
state's ``decide_command``; with a TITE-BOIN12 protocol the state equals
``TiteBoin12.decide`` on the state's own ``tite_input``.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from svc_helpers import Acts, outcome

from dosewise.cli.app import main
from dosewise.design import Boin12, TiteBoin12, TitePatient, parse_outcomes
from dosewise.protocol import default_protocol
from dosewise.settings import Settings
from dosewise.trial.arm_state import arm_state, decide_args, outcome_notation, seeded
from dosewise.trial.state import PatientOutcome

PROTOCOL = default_protocol()


def _patient(
    i: int, cohort: int, assigned: int, analysed: int, letter: str | None
) -> PatientOutcome:
    tox = None if letter is None else letter in "TB"
    eff = None if letter is None else letter in "EB"
    return PatientOutcome(
        participant_id=i,
        study_id=f"S01-{i:04d}",
        site_id="S01",
        sequence=i,
        phase=1,
        enrolled_on=date(2026, 1, 5),
        assignment_id=i,
        cohort=cohort,
        assigned_dose=assigned,
        analysed_dose=analysed,
        toxicity=tox,
        efficacy=eff,
        status="complete" if letter else "pending",
    )


cohorts = st.lists(
    st.tuples(
        st.integers(1, 3),
        st.lists(
            st.tuples(st.booleans(), st.sampled_from("NETB") | st.none()), min_size=1, max_size=4
        ),
    ),
    min_size=0,
    max_size=6,
)


@given(cohorts)
def test_the_notation_holds_every_complete_outcome_at_its_analysed_dose(data) -> None:  # type: ignore[no-untyped-def]
    patients, i = [], 0
    for c, (dose, members) in enumerate(data, start=1):
        for fallback, letter in members:
            i += 1
            analysed = 1 if fallback and dose > 1 else dose
            patients.append(_patient(i, c, dose, analysed, letter))
    notation = outcome_notation(patients)
    parsed = parse_outcomes(notation, 3)
    got = Counter((p.dose, p.letter) for cohort in parsed for p in cohort.patients)
    want = Counter((p.analysed_dose, p.letter) for p in patients if p.letter is not None)
    assert got == want
    # Each cohort's own dose comes last within it, so it is the design's current dose.
    by_cohort: dict[int, list[PatientOutcome]] = {}
    for p in patients:
        if p.letter:
            by_cohort.setdefault(p.cohort or 0, []).append(p)
    if by_cohort:
        last = by_cohort[max(by_cohort)]
        own = [p for p in last if p.analysed_dose == p.assigned_dose]
        if own:
            assert parsed[-1].dose == own[0].assigned_dose


def run_cohort(acts: Acts, letters: str, short: int | None = None) -> list[str]:
    """Recruit and treat one cohort, then record ``letters`` after day 31."""
    done = []
    for k, letter in enumerate(letters):
        site = ("S01", "S02")[k % 2]
        sid = acts.recruit(site)
        inf = acts.treat(sid, site, short=k == short)
        done.append((sid, site, inf.infused_on, letter))
    acts.advance(31)
    for sid, site, day0, letter in done:
        outcome(acts, sid, letter, day0, site)
    return [d[0] for d in done]


def test_the_state_agrees_with_the_design_and_the_cli(
    acts: Acts, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cohort(acts, "NEN")
    with acts.uow("stat", readonly=True) as uow:
        first = arm_state(uow.session, "autologous", as_of=acts.today)
    assert first.outcomes == "1NEN"  # DL1, design dose 1 (fallback_policy safety_only)
    params = seeded(PROTOCOL.design_params("autologous"), PROTOCOL, "autologous", 2)
    decision = Boin12(params).decide("1NEN")
    assert first.next.dose == decision.next_dose
    # The CLI, run with the command the state prints, gives the same decision.
    assert first.decide_command is not None and first.next.decision is not None
    args = decide_args(params, first.outcomes)
    assert shlex.split(first.decide_command) == ["dosewise", *args]
    main(args)
    cli = json.loads(capsys.readouterr().out)
    for key in ("next_dose", "rule", "tied", "reason", "admissible", "desirability"):
        assert cli[key] == first.next.decision[key], key
    # Cohort 2 at the decided dose, one product short of the plan: given at DL-1, outside the
    # dose finding, so followed for safety only; a fourth participant takes the place.
    run_cohort(acts, "EBEN", short=0)
    with acts.uow("stat", readonly=True) as uow:
        second = arm_state(uow.session, "autologous", as_of=acts.today)
    assert second.outcomes == f"1NEN {decision.next_dose}BEN"
    assert [(d.level, d.treated, d.n) for d in second.outside_doses] == [("DL-1", 1, 0)]
    params3 = seeded(PROTOCOL.design_params("autologous"), PROTOCOL, "autologous", 3)
    assert second.next.decision is not None
    assert second.next.decision["next_dose"] == Boin12(params3).decide(second.outcomes).next_dose
    rows = {d.dose: (d.n, d.dlt, d.responses) for d in second.doses}
    assert sum(n for n, _, _ in rows.values()) == 6
    assert [h["cohort"] for h in second.history] == [1, 2]


def test_a_tite_protocol_decides_with_pending_outcomes(acts: Acts) -> None:
    tite = PROTOCOL.model_copy(
        update={"design": PROTOCOL.design.model_copy(update={"method": "TITE-BOIN12"})}
    )
    sids = []
    for k in range(3):
        site = ("S01", "S02")[k % 2]
        sid = acts.recruit(site)
        acts.treat(sid, site)
        sids.append(sid)
    acts.advance(5)
    with acts.uow("stat", readonly=True) as uow:
        state = arm_state(uow.session, "autologous", as_of=acts.today, protocol=tite)
    assert state.tite_input is not None and state.next.action == "wait"
    params = seeded(PROTOCOL.design_params("autologous"), PROTOCOL, "autologous", 2)
    model = TiteBoin12(params, state.tite_input["tox_window"], state.tite_input["eff_window"])
    patients = [TitePatient(**p) for p in state.tite_input["patients"]]
    result = model.decide(patients, [], rng=np.random.default_rng(params.seed))
    assert result.wait and state.next.reason == result.reason
    assert [p.follow_up for p in patients] == [5.0, 5.0, 5.0]
    assert state.next.wait_until is not None
    assert (state.next.wait_until - acts.today).days == int(np.ceil(result.wait_days_max or 0))


def test_the_cli_shows_the_arm_state_and_the_arms(
    acts: Acts, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    import dosewise.cli.trial_acts  # noqa: F401  (registers `dosewise arm ...`)

    for site in ("S01", "S02", "S01"):
        sid = acts.recruit(site)
        acts.treat(sid, site)
    url = ["--database-url", settings.database_url]
    main(["arm", "state", "autologous", "--as-of", acts.day(3).isoformat(), *url])
    text = capsys.readouterr().out
    assert "next: wait" in text and "days left" in text and "DL1" in text
    main(["arm", "list", "--json", *url])
    arms = json.loads(capsys.readouterr().out)["arms"]
    assert {a["id"]: a["phase"] for a in arms} == {
        "autologous": "phase1",
        "new_donor": "phase1",
        "prior_sct_donor": "phase1",
    }
    with pytest.raises(SystemExit) as err:
        main(["arm", "state", "no_such_arm", *url])
    assert err.value.code == 2
    assert "no such arm" in capsys.readouterr().err


def test_a_tite_protocol_says_accrual_complete_not_wait(acts: Acts) -> None:
    """n_earlystop reached with outcomes pending: enrolment is over, awaiting follow-up."""
    design = PROTOCOL.design
    early = design.boin12.n_earlystop.model_copy(update={"value": 3})
    tite = PROTOCOL.model_copy(
        update={
            "design": design.model_copy(
                update={
                    "method": "TITE-BOIN12",
                    "boin12": design.boin12.model_copy(update={"n_earlystop": early}),
                }
            )
        }
    )
    for k in range(3):
        site = ("S01", "S02")[k % 2]
        sid = acts.recruit(site)
        acts.treat(sid, site)
    acts.advance(5)
    with acts.uow("stat", readonly=True) as uow:
        state = arm_state(uow.session, "autologous", as_of=acts.today, protocol=tite)
    assert state.tite_input is not None and state.next.action == "wait"
    params = seeded(tite.design_params("autologous"), tite, "autologous", 2)
    assert params.n_earlystop == 3
    model = TiteBoin12(params, state.tite_input["tox_window"], state.tite_input["eff_window"])
    patients = [TitePatient(**p) for p in state.tite_input["patients"]]
    result = model.decide(patients, [], rng=np.random.default_rng(params.seed))
    assert result.accrual_complete and not result.wait
    assert state.next.reason == result.reason
    assert state.next.reason.startswith("Accrual complete, awaiting follow-up")
    assert "must wait" not in state.next.reason
    assert state.next.decision is not None and state.next.decision["accrual_complete"] is True
    # The last outcome is due when the last efficacy window closes (follow-up 5 days now).
    assert state.next.wait_until is not None
    assert (state.next.wait_until - acts.today).days == int(np.ceil(result.due_days_max or 0))
    assert result.due_days_max == state.tite_input["eff_window"] - 5
