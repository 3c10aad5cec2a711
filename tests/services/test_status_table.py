"""A participant's status comes from one transition table: the services move a participant with
it and the data cut-off re-derives it with it, so the two never disagree (re-consent after a
screen failure was the case where they did)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from svc_helpers import COORD, Acts

from dosewise.report.trial_data import load_trial_data
from dosewise.store.tables import Participant
from dosewise.trial.demo import plan
from dosewise.trial.services import participants
from dosewise.trial.state import Step, next_status, participant_statuses, status_from_steps


def test_the_table_moves_a_participant_step_by_step() -> None:
    assert next_status("registered", "consent") == "consented"
    assert next_status("screen_failed", "consent") == "consented"
    assert next_status("eligible", "consent") == "eligible"
    assert next_status("enrolled", "screen_ineligible") == "enrolled"
    assert next_status("treated", "leave") == "off_study"
    assert next_status("off_study", "infuse") == "off_study"
    day = date(2026, 3, 2)
    at = [datetime(2026, 3, 2, h, tzinfo=UTC) for h in (9, 10, 11)]
    failed_then_reconsented = [
        Step.of("consent", day, at[0]),
        Step.of("screen_ineligible", day, at[1]),
        Step.of("consent", day, at[2]),
    ]
    assert status_from_steps(reversed(failed_then_reconsented)) == "consented"
    assert status_from_steps(failed_then_reconsented[:2]) == "screen_failed"
    # Steps of one day without moments follow the process order.
    assert status_from_steps([Step.of("infuse", day), Step.of("enroll", day)]) == "treated"


def test_reconsent_after_a_screen_failure_is_the_same_in_the_service_and_at_a_cut_off(
    acts: Acts,
) -> None:
    coord = COORD["S01"]
    sid = acts.register("S01")
    failed_on = acts.today
    record = plan.screening_record(acts.today, 34, "male", {"ecog": 3})
    screening = acts.run(coord, participants.screen, sid, "autologous", record)
    assert not screening.eligible
    acts.advance(2)
    acts.run(
        coord,
        participants.record_consent,
        sid,
        plan.consent_record(acts.today, 34),
        consent_version="v2",
    )
    with acts.uow("stat", readonly=True) as uow:
        stored = {p.id: p.status for p in uow.session.query(Participant)}
        assert participant_statuses(uow.session) == stored
        pid = next(p.id for p in uow.session.query(Participant) if p.study_id == sid)
    assert stored[pid] == "consented"
    reconsented_on = acts.today
    acts.advance(2)  # screened again, eligible: a step after the re-consent day
    record = plan.screening_record(acts.today, 34, "male")
    assert acts.run(coord, participants.screen, sid, "autologous", record).eligible
    with acts.db.sessions() as session:
        for day, expected in (
            (failed_on, "screen_failed"),
            (reconsented_on, "consented"),
            (acts.today, "eligible"),
        ):
            data = load_trial_data(session, as_of=day)
            row = data.participants.set_index("study_id").loc[sid]
            assert row["status"] == expected, day
