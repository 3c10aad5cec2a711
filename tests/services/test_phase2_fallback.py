"""A phase 2 participant given the fallback level (DL-1, outside the dose finding under
``fallback_policy: safety_only``) is followed for safety and replaced in the phase 2 count
(``evaluation.phase2_fallback: replace``, assumption in docs/protocol.md): the expansion and the
arm's phase 2 size do not count them, so a replacement is enrolled; with ``count`` they take
their place like anyone else."""

from __future__ import annotations

from dataclasses import replace as replaced_outcome
from datetime import date

import pytest
from sqlalchemy import text
from svc_helpers import Acts
from test_phase_acts import ARM, run_to_the_end_of_phase_1

from dosewise.protocol import default_protocol
from dosewise.trial.arm_state import arm_state
from dosewise.trial.demo import plan
from dosewise.trial.services import participants, phases, products
from dosewise.trial.services._common import LimitReached
from dosewise.trial.state.participant import PatientOutcome, replaced

PROTOCOL = default_protocol()
FALLBACK_CELLS = next(
    lv.cells_per_kg for lv in PROTOCOL.dose_levels.levels if lv.role == "fallback"
)


def _with_phase2_fallback(value: str) -> object:
    evaluation = PROTOCOL.evaluation
    assert evaluation is not None
    rule = evaluation.phase2_fallback.model_copy(update={"value": value})
    return PROTOCOL.model_copy(
        update={"evaluation": evaluation.model_copy(update={"phase2_fallback": rule})}
    )


def test_the_replacement_rule_by_phase_and_setting() -> None:
    base = PatientOutcome(
        participant_id=1,
        study_id="S01-0001",
        site_id="S01",
        sequence=1,
        phase=2,
        enrolled_on=date(2026, 1, 5),
        status="safety_only",
    )
    assert PROTOCOL.evaluation is not None
    assert PROTOCOL.evaluation.phase2_fallback.value == "replace"
    assert PROTOCOL.evaluation.phase2_fallback.assumption
    assert replaced(base, PROTOCOL)
    assert not replaced(base, _with_phase2_fallback("count"))  # type: ignore[arg-type]
    assert not replaced(replaced_outcome(base, status="complete"), PROTOCOL)
    # phase 1: every participant who fills no cohort place, whatever the phase 2 setting
    for status in ("not_evaluable", "safety_only"):
        one = replaced_outcome(base, phase=1, status=status)
        assert replaced(one, PROTOCOL) and replaced(one, _with_phase2_fallback("count"))  # type: ignore[arg-type]
    assert not replaced(replaced_outcome(base, phase=1, status="pending"), PROTOCOL)


def test_a_phase2_fallback_participant_is_replaced_in_the_expansion_and_the_limit(
    acts: Acts,
) -> None:
    run_to_the_end_of_phase_1(acts)
    acts.run("inv1", phases.close_phase1, acts.signing(), ARM)
    sid = acts.recruit("S01", ARM)
    acts.assign(sid)
    acts.confirm(sid)
    # the manufactured cells reach only the fallback level
    product = acts.run(
        "coord1",
        products.release_product,
        sid,
        lot="LOT-SHORT",
        certificate=plan.certificate(FALLBACK_CELLS, 60.0, False),
        weight_kg=60.0,
        released_on=acts.today,
    )
    assert product.fallback and product.assigned_level == "DL-1"
    acts.infuse(sid, product.feasibility["volume_ml"])
    with acts.uow("stat", readonly=True) as uow:
        state = arm_state(uow.session, ARM, as_of=acts.today)
    (me,) = [p for p in state.patients if p.study_id == sid]
    assert (me.phase, me.status) == (2, "safety_only")
    assert state.replaced_by_phase == {2: 1}
    assert state.next.action == "assign" and state.next.reason_params["assigned"] == 0

    # a phase 2 size of 1: the fallback participant holds no place, so one more is enrolled,
    # and the next is refused naming the limit
    with acts.db.engine.begin() as c:
        c.execute(text("UPDATE arms SET phase2_expansion = 1 WHERE id = :a"), {"a": ARM})
    acts.recruit("S02", ARM)
    late = acts.register("S01")
    record = plan.screening_record(acts.today, 34, "male")
    assert acts.run("coord1", participants.screen, late, ARM, record).eligible
    with pytest.raises(LimitReached) as refused:
        acts.run("coord1", participants.enroll, late, ARM)
    assert "phase 2 size is reached (1 of 1" in refused.value.rule
