"""Adverse events (CTCAE; CRS/ICANS graded from ASTCT components), DLT adjudication under the
protocol's DLT definition, response assessments and the best overall response."""

from __future__ import annotations

from datetime import timedelta

import pytest
from svc_helpers import Acts

from dosewise.errors import InvalidInput
from dosewise.store.tables import AdverseEvent, AuditRecord, DltAdjudication
from dosewise.trial.access import Forbidden
from dosewise.trial.services import adverse_events, dlt, responses
from dosewise.trial.services.errors import WrongState
from dosewise.trial.uow import ConcurrencyConflict


def infused(acts: Acts, age: int = 34) -> tuple[str, object]:
    sid = acts.recruit("S01", age=age)
    return sid, acts.treat(sid).infused_on


def record(acts: Acts, sid: str, **kw: object) -> AdverseEvent:
    return acts.run("coord1", adverse_events.record_adverse_event, sid, **kw)  # type: ignore[arg-type]


def test_crs_is_graded_by_the_astct_rule_from_its_components(acts: Acts) -> None:
    sid, day0 = infused(acts)
    acts.advance(3)
    # Fever with hypotension needing one vasopressor is ASTCT grade 3 (Lee 2019, table 3).
    ae = record(
        acts,
        sid,
        term="CRS",
        onset_on=day0 + timedelta(days=1),
        crs={"fever": True, "hypotension": True, "vasopressors": 1},
    )
    assert (ae.term, ae.category, ae.scale, ae.grade) == (
        "Cytokine release syndrome",
        "crs",
        "ASTCT 2019",
        3,
    )
    assert ae.study_day == 1 and ae.components is not None
    assert ae.components["grading"]["determined_by"] == "hypotension"
    with pytest.raises(InvalidInput) as err:
        record(
            acts, sid, term="CRS", onset_on=day0, grade=2, crs={"fever": True, "vasopressors": 1}
        )
    assert err.value.field == "grade" and "ASTCT 2019 gives grade 3" in err.value.rule
    with pytest.raises(InvalidInput) as err:  # hypotension without fever is not CRS
        record(acts, sid, term="CRS", onset_on=day0, crs={"hypotension": True})
    assert err.value.field == "crs" and "grade of these components is 0" in err.value.rule
    with pytest.raises(InvalidInput) as err:
        record(acts, sid, term="Cytokine release syndrome", onset_on=day0, grade=2)
    assert err.value.field == "crs"


def test_icans_uses_the_capd_below_age_12_from_the_consent_age(acts: Acts) -> None:
    sid, day0 = infused(acts, age=10)
    acts.advance(5)
    ae = record(
        acts,
        sid,
        term="ICANS",
        onset_on=day0 + timedelta(days=4),
        icans={"capd_score": 12},
    )
    # CAPD >= 9 is grade 3 (ASTCT 2019 for children); the age came from the consent.
    assert ae.grade == 3 and ae.components is not None
    assert ae.components["astct"]["age_years"] == 10
    with pytest.raises(InvalidInput) as err:
        record(acts, sid, term="ICANS", onset_on=day0, icans={"ice_score": 5})
    assert err.value.field == "ice_score"


def test_a_ctcae_event_needs_its_grade_and_a_soc_for_unknown_terms(acts: Acts) -> None:
    sid, day0 = infused(acts)
    with pytest.raises(InvalidInput) as err:
        record(acts, sid, term="Nausea", onset_on=day0)
    assert err.value.field == "grade"
    with pytest.raises(InvalidInput) as err:
        record(acts, sid, term="Hiccups", onset_on=day0, grade=1)
    assert err.value.field == "soc"
    with pytest.raises(InvalidInput) as err:  # Nausea has no grade 4 in CTCAE v5.0
        record(acts, sid, term="Nausea", onset_on=day0, grade=4)
    assert err.value.field == "grade"
    ae = record(acts, sid, term="Hiccups", onset_on=day0, grade=1, soc="Gastrointestinal disorders")
    assert ae.scale == "CTCAE v5"


def test_dlt_adjudication_applies_the_protocols_definition(acts: Acts) -> None:
    sid, day0 = infused(acts)
    acts.advance(10)
    with pytest.raises(WrongState) as err:  # no DLT so far, window still open
        acts.run("inv1", dlt.adjudicate_dlt, sid)
    assert "pending" in err.value.rule
    # Grade 3 CRS improving to grade 2 within 48 h: not a DLT (rule crs_grade_3_persisting).
    record(
        acts,
        sid,
        term="CRS",
        onset_on=day0 + timedelta(days=1),
        crs={"fever": True, "hypotension": True, "vasopressors": 1},
        course=[
            {"date": (day0 + timedelta(days=1)).isoformat(), "grade": 3},
            {"date": (day0 + timedelta(days=3)).isoformat(), "grade": 2},
        ],
        resolved_on=day0 + timedelta(days=6),
    )
    acts.advance(20)
    row = acts.run("inv1", dlt.adjudicate_dlt, sid)
    assert (row.is_dlt, row.evaluable, row.rule_id) == (False, True, "0.1-template")
    assert row.evaluation is not None and row.evaluation["rule_status"] == "no_dlt"
    with pytest.raises(Forbidden):
        acts.run("coord1", dlt.adjudicate_dlt, sid)
    with pytest.raises(InvalidInput) as err:  # departing from the rule needs a rationale
        acts.run("inv1", dlt.adjudicate_dlt, sid, is_dlt=True)
    assert err.value.field == "rationale"
    again = acts.run(
        "inv1",
        dlt.adjudicate_dlt,
        sid,
        is_dlt=True,
        rationale="grade 3 hepatotoxicity reported late by the local lab",
    )
    assert again.is_dlt and again.evaluation is not None and again.evaluation["departs_from_rule"]
    with acts.uow("stat", readonly=True) as uow:
        rows = uow.session.query(DltAdjudication).order_by(DltAdjudication.id).all()
        audit = uow.session.query(AuditRecord).filter(AuditRecord.action == "dlt.adjudicate").all()
    assert [r.status for r in rows] == ["superseded", "final"]
    assert any(r.reason and "hepatotoxicity" in r.reason for r in audit)


def test_a_grade_4_crs_is_a_dlt_before_the_window_ends(acts: Acts) -> None:
    sid, day0 = infused(acts)
    acts.advance(4)
    record(
        acts,
        sid,
        term="CRS",
        onset_on=day0 + timedelta(days=2),
        crs={"fever": True, "hypotension": True, "vasopressors": 2},
    )
    row = acts.run("inv1", dlt.adjudicate_dlt, sid, signing=acts.signing())
    assert row.is_dlt and row.signature_id is not None
    assert row.evaluation is not None and row.evaluation["events"][0]["rules"] == [
        "crs_grade_4_or_5"
    ]


def test_responses_derive_the_best_overall_response(acts: Acts) -> None:
    sid, day0 = infused(acts)
    acts.advance(29)
    first = acts.run(
        "coord1",
        responses.record_response,
        sid,
        assessed_on=day0 + timedelta(days=28),
        marrow={"blasts_pct": 2, "anc": 0.6, "platelets": 50, "baseline_blasts_pct": 40},
    )
    assert first.response == "CRi" and first.study_day == 28
    acts.advance(70)
    acts.run(
        "coord1",
        responses.record_response,
        sid,
        assessed_on=day0 + timedelta(days=90),
        marrow={
            "blasts_pct": 1,
            "anc": 2.0,
            "platelets": 150,
            "mrd": {"value": 0, "sensitivity": 1e-4},
        },
    )
    bor = acts.run("coord1", responses.derive_best_response, sid)
    assert (bor.bor, bor.responder) == ("CR", True)
    assert bor.basis["mrd_negative"] is True and bor.basis["final"] is True
    with pytest.raises(InvalidInput):  # before the infusion (study day 0)
        acts.run(
            "coord1",
            responses.record_response,
            sid,
            assessed_on=day0 - timedelta(days=1),
            category="CR",
        )


def test_an_event_is_corrected_with_a_reason_and_the_version_seen(acts: Acts) -> None:
    sid, day0 = infused(acts)
    acts.advance(3)
    ae = record(acts, sid, term="Nausea", onset_on=day0 + timedelta(days=1), grade=2)
    with pytest.raises(ConcurrencyConflict):
        acts.run(
            "coord1",
            adverse_events.update_adverse_event,
            sid,
            ae.id,
            version=ae.version + 1,
            reason="x",
            resolved_on=day0 + timedelta(days=2),
        )
    fixed = acts.run(
        "coord1",
        adverse_events.update_adverse_event,
        sid,
        ae.id,
        version=ae.version,
        reason="resolution date from the nurse's notes",
        resolved_on=day0 + timedelta(days=2),
    )
    assert fixed.resolved_on == day0 + timedelta(days=2) and fixed.version == ae.version + 1
    with acts.uow("stat", readonly=True) as uow:
        rec = uow.session.query(AuditRecord).filter(AuditRecord.action == "ae.update").one()
    assert rec.reason == "resolution date from the nurse's notes"
