"""Replay simulated trials through dosewise.design, decision by decision (used by the tests)."""

from __future__ import annotations

from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params
from dosewise.design.rule import Reason
from dosewise.design.tite import TiteBoin12, TitePatient
from dosewise.simulate.results import TrialHistory, TrialResults


class FixedUniform:
    """Stands in for a Generator: returns the engine's tie-break uniform."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def replay_boin12(params: Boin12Params, results: TrialResults) -> int:
    """Assert every decision and every OBD equals Boin12's; return the decisions checked."""
    model = Boin12(params)
    checked = 0
    for i, history in enumerate(results.histories):
        for step in history.steps:
            d = model.decide(step.outcomes, rng=FixedUniform(step.tie_u))  # type: ignore[arg-type]
            assert Reason[d.rule] == step.reason, (i, step, d.reason)
            assert d.details["rule_dose"] == step.next_dose, (i, step, d.reason)
            checked += 1
        last = Reason(history.steps[-1].reason)
        if last.selects_obd:
            assert model.select_obd(history.outcomes).obd == history.selected, (i, history)
        else:
            assert history.selected is None
        state = model.state(history.outcomes)
        assert list(state.counts.n) == list(results.n[i])
        assert list(state.counts.tox) == list(results.tox[i])
        assert list(state.counts.eff) == list(results.eff[i])
    return checked


def patients_at(
    history: TrialHistory, count: int, t: float, tox_window: float, eff_window: float
) -> list[TitePatient]:
    """The first ``count`` patients as seen at time t (same float arithmetic as the engine)."""
    out = []
    for k in range(count):
        e = history.entry[k]
        dlt = e + history.tox_time[k] <= t
        resp = e + history.eff_time[k] <= t
        out.append(
            TitePatient(
                dose=history.doses[k],
                follow_up=t - e,
                dlt=dlt,
                response=resp,
                dlt_final=(not dlt) and e + tox_window <= t,
                response_final=(not resp) and e + eff_window <= t,
            )
        )
    return out


def replay_tite(
    params: Boin12Params, results: TrialResults, tox_window: float, eff_window: float
) -> tuple[int, int]:
    """Assert each TITE decision (and each suspension) equals TiteBoin12's."""
    model = TiteBoin12(params, tox_window, eff_window)
    checked = waits = 0
    for i, history in enumerate(results.histories):
        for step in history.steps:
            count = sum(len(c.lstrip("0123456789")) for c in step.outcomes.split())
            if step.wait_from is not None:
                early = patients_at(history, count, step.wait_from, tox_window, eff_window)
                assert model.decide(early, eliminated=step.eliminated).wait, (i, step)
                waits += 1
            patients = patients_at(history, count, step.time, tox_window, eff_window)
            rng = FixedUniform(step.tie_u)
            result = model.decide(patients, eliminated=step.eliminated, rng=rng)  # type: ignore[arg-type]
            assert not result.wait, (i, step, result.reason)
            assert result.decision is not None
            assert Reason[result.decision.rule] == step.reason, (i, step, result.reason)
            assert result.decision.details["rule_dose"] == step.next_dose, (i, step)
            checked += 1
        final = result.decision
        if Reason(history.steps[-1].reason).selects_obd:
            # The OBD is selected once every outcome is complete (the last step).
            assert final.obd is not None and final.obd.obd == history.selected, (i, history)
        else:
            assert history.selected is None
    return checked, waits
