"""Every simulated trial replays decision by decision through dosewise.design (issue 4 item 7).

The engines keep a debug history (cohorts in the notation, the tie-break uniform and each
decision); ``Boin12.decide`` / ``TiteBoin12.decide`` must give the same rule and dose at every
step, and ``select_obd`` the same OBD at the end.
"""

from __future__ import annotations

import pytest
from sim_replay import patients_at, replay_boin12, replay_tite

from dosewise.design.params import Boin12Params
from dosewise.design.rule import Reason
from dosewise.design.tite import TiteBoin12
from dosewise.simulate.run import simulate_trials
from dosewise.simulate.scenario import Accrual, EventTimes, builtin_scenario, make_scenario

CASES = [
    ("five-umbrella", {}),
    ("five-all-toxic", {}),
    ("five-all-futile", {"tie_break": "higher"}),
    ("five-obd-2", {"n2": 0, "tie_break": "lower", "n_earlystop": 0}),
    ("three-obd-1", {"start_dose": 2, "cohort_size": 2, "max_n": 13}),
    # Non-integer utilities: desirability is computed directly, not from the table.
    ("five-plateau", {"u11": 55.5, "u00": 30.25, "phi_t": 0.3, "phi_e": 0.3}),
    ("three-all-toxic", {"tox_elim_min_dlt": 1, "c_e": 0.8}),
]


@pytest.mark.parametrize(("name", "changes"), CASES)
def test_boin12_engine_replays_through_design(name: str, changes: dict[str, object]) -> None:
    sc = builtin_scenario(name)
    params = Boin12Params(n_doses=sc.n_doses, max_n=changes.pop("max_n", 30), **changes)  # type: ignore[arg-type]
    results = simulate_trials(sc, params, 150, seed=11, debug=True)
    checked = replay_boin12(params, results)
    assert checked >= 150
    reasons = {Reason(h.steps[-1].reason) for h in results.histories}
    if name in ("five-all-toxic", "three-all-toxic"):
        assert reasons & {Reason.STOP_LOWEST_TOXIC, Reason.STOP_NO_LOWER_ELIMINATED}


TITE_CASES = [
    ("five-umbrella", Accrual(rate=3.0), EventTimes(), {}),
    ("five-obd-2", Accrual(rate=4.0, suspension="next_arrival"), EventTimes("weibull", 0.8, 0.3),
     {}),
    ("three-all-toxic", Accrual(rate=2.0, distribution="poisson"), EventTimes(), {}),
    ("nct07070323-dl1-best", Accrual(rate=1.0, distribution="poisson"), EventTimes("weibull"),
     {"start_dose": 2, "max_n": 18, "tie_break": "higher"}),
    ("five-all-futile", Accrual(rate=6.0), EventTimes(), {"maxpen": 0.34, "n2": 0}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "accrual", "events", "changes"), TITE_CASES)
def test_tite_engine_replays_through_design(
    name: str, accrual: Accrual, events: EventTimes, changes: dict[str, object]
) -> None:
    sc = builtin_scenario(name).with_(accrual=accrual, event_times=events)
    params = Boin12Params(n_doses=sc.n_doses, **changes)  # type: ignore[arg-type]
    results = simulate_trials(sc, params, 100, seed=5, tite=True, debug=True)
    checked, waits = replay_tite(params, results, sc.tox_window, sc.eff_window)
    assert checked >= 100
    assert waits > 0  # accrual was suspended and TiteBoin12 agreed it had to be
    for history, duration in zip(results.histories, results.duration, strict=True):
        assert duration == pytest.approx(history.steps[-1].time)
        assert max(history.entry) <= duration


def test_tite_waits_until_complete_follow_up_before_selecting() -> None:
    sc = make_scenario("s", [0.05, 0.1, 0.2], [0.3, 0.5, 0.6], accrual=Accrual(rate=30.0))
    params = Boin12Params(n_doses=3, max_n=9, n_earlystop=0)
    results = simulate_trials(sc, params, 50, seed=2, tite=True, debug=True)
    for history in results.histories:
        last = history.steps[-1]
        if Reason(last.reason).selects_obd:
            ends = [
                e + max(min(t, sc.tox_window), min(r, sc.eff_window))
                for e, t, r in zip(history.entry, history.tox_time, history.eff_time, strict=True)
            ]
            assert last.time == pytest.approx(max(ends))


def test_tite_stops_as_soon_as_the_data_show_it() -> None:
    """A stop that needs no complete data (§4 a, b) is dated at the DLT that shows it."""
    sc = builtin_scenario("five-all-toxic").with_(accrual=Accrual(rate=6.0))
    params = Boin12Params(n_doses=sc.n_doses)
    results = simulate_trials(sc, params, 200, seed=3, tite=True, debug=True)
    model = TiteBoin12(params, sc.tox_window, sc.eff_window)
    safety = (Reason.STOP_LOWEST_TOXIC, Reason.STOP_ALL_ELIMINATED)
    checked = 0
    for history in results.histories:
        last = history.steps[-1]
        if Reason(last.reason) not in safety:
            continue
        seen = [e + t for e, t in zip(history.entry, history.tox_time, strict=True)]
        assert last.time in seen or last.time >= max(history.entry), history
        if last.time in seen and last.time > max(history.entry):
            count = len(history.entry)
            just_before = patients_at(
                history, count, last.time - 1e-6, sc.tox_window, sc.eff_window
            )
            earlier = model.decide(just_before, eliminated=last.eliminated)
            assert earlier.decision is None or Reason[earlier.decision.rule] not in safety
            checked += 1
    assert checked > 20
