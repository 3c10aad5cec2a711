"""``dosewise audit verify --deep``: replaying the trail names every row changed outside the
service (table, id, column, audited vs current value), and exits 1.

The finding (issue 15): direct edits of clinical tables (a DLT flag, 33 AE grades, a dose index)
all passed ``audit verify``, which checks only the trail's own hash chain.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from svc_helpers import Acts, outcome

from dosewise.cli.app import main
from dosewise.store.tables import AdverseEvent
from dosewise.trial import replay
from dosewise.trial.services import adverse_events, deviations
from dosewise.trial.services.deviations import DeviationIn
from pg import backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)


def _sql(acts: Acts, *statements: str) -> None:
    with acts.db.engine.begin() as c:
        for statement in statements:
            c.execute(text(statement))


def _deep(acts: Acts) -> replay.DeepReport:
    with acts.uow("stat", readonly=True) as uow:
        return replay.verify_deep(uow.session)


def _cli(acts: Acts, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    url = acts.db.url.render_as_string(hide_password=False)
    try:
        main(["audit", "verify", "--database-url", url, *extra])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


@pytest.fixture
def trial(acts: Acts) -> tuple[Acts, str]:
    """A participant treated, with an adverse event, a response and a DLT adjudication."""
    sid = acts.recruit("S01")
    day0 = acts.treat(sid).infused_on
    acts.advance(29)
    outcome(acts, sid, "T", day0)
    acts.run(
        "coord1",
        adverse_events.record_adverse_event,
        sid,
        term="Nausea",
        onset_on=day0 + timedelta(days=3),
        grade=1,
    )
    return acts, sid


def test_a_trail_written_by_the_service_matches_every_table(
    trial: tuple[Acts, str], capsys: pytest.CaptureFixture[str]
) -> None:
    acts, _sid = trial
    report = _deep(acts)
    assert report.ok, [d.detail for d in report.drifts]
    assert "dose_assignments" in report.tables and report.rows > 20
    code, out = _cli(acts, capsys, "--deep", "--json")
    assert code == 0 and json.loads(out)["deep"]["drift_count"] == 0


def test_direct_edits_are_named_by_table_row_and_column(
    trial: tuple[Acts, str], capsys: pytest.CaptureFixture[str]
) -> None:
    acts, _sid = trial
    with acts.uow("stat", readonly=True) as uow:
        ae_ids = list(uow.session.scalars(text("SELECT id FROM adverse_events ORDER BY id")))
        grades = {i: uow.get(AdverseEvent, i).grade for i in ae_ids}
    _sql(
        acts,
        "UPDATE dlt_adjudications SET is_dlt = NOT is_dlt",
        "UPDATE adverse_events SET grade = grade + 1",
        "UPDATE dose_assignments SET dose_index = 3",
    )
    report = _deep(acts)
    assert not report.ok and report.chain.ok  # the chain itself is intact
    changed = {(d.table, d.id, d.column): (d.audited, d.current) for d in report.drifts}
    assert changed[("dlt_adjudications", "1", "is_dlt")] == (True, False)
    for i, grade in grades.items():
        assert changed[("adverse_events", str(i), "grade")] == (grade, grade + 1)
    (a,) = [k for k in changed if k[0] == "dose_assignments"]
    assert a[2] == "dose_index" and changed[a][1] == 3
    assert all(d.kind == "changed" for d in report.drifts)

    code, out = _cli(acts, capsys, "--deep")
    assert code == 1
    assert "outside the service" in out and "adverse_events" in out and "is_dlt" in out
    code, _ = _cli(acts, capsys)  # plain verify checks the chain only, as before
    assert code == 0


def test_rows_inserted_or_deleted_outside_the_service_are_named(
    trial: tuple[Acts, str],
) -> None:
    acts, _sid = trial
    _sql(
        acts,
        "DELETE FROM response_assessments",
        "INSERT INTO sites (id, name, city, country, timezone, status, active, created_at) "
        "VALUES ('S99', 'Ghost', 'X', 'CN', 'UTC', 'recruiting', true, '2026-01-01 00:00:00')",
    )
    kinds = {(d.table, d.kind) for d in _deep(acts).drifts}
    assert ("response_assessments", "deleted_outside") in kinds
    assert ("sites", "not_in_trail") in kinds


def test_a_direct_edit_of_a_protocol_deviation_is_named(trial: tuple[Acts, str]) -> None:
    """Deviations are audited like every clinical record (``MODELS`` once left them out)."""
    acts, sid = trial
    acts.run(
        "inv1",
        deviations.record_deviation,
        sid,
        category="visit_window",
        description="Day 14 visit done on day 18",
        occurred_on=acts.today,
        deviation=DeviationIn(reason="Patient travelled", signing=acts.signing()),
    )
    assert _deep(acts).ok
    _sql(acts, "UPDATE protocol_deviations SET description = 'Nothing happened'")
    changed = {(d.table, d.column): d.current for d in _deep(acts).drifts}
    assert changed == {("protocol_deviations", "description"): "Nothing happened"}
